/**
 * The ant backend: the ControlPlane through the official `ant` CLI, for the kinds whose spec
 * names their ant commands (agents with their versions, and environments). Every other kind goes
 * through the SDK backend it is given: ant 1.20 speaks skills only in their legacy shape, and the
 * newer kinds' bodies gain nothing from a second client.
 *
 * What a server sends is held to the SDK backend's rules: lists are followed page by page here
 * (`--format raw` prints one page's envelope), so cursor loops, page limits and the list's byte
 * budget apply as they do there, and every resource is shape-checked. How one run of the binary
 * is made safe (stdin, environment, `@` escaping, caps, errors) is ant-process.ts; the loopback
 * relay its requests go through (no redirects, no resends of ant's own, the key kept from it) is
 * ant-relay.ts.
 */
import { AgentformError } from "../errors.js";
import { kindSpec } from "../kinds/index.js";
import type { AntCommand } from "../kinds/spec.js";
import { BackendError } from "./errors.js";
import { chargeListBudget, limitsWith, ResponseProblemError, type ResponseLimits } from "./http.js";
import { antBody, antFlagValue, runAnt, type AntCall, type AntProcessSettings } from "./ant-process.js";
import { startRelay, type Relay } from "./ant-relay.js";
import { listAll, listChecked, oldestFirst, PAGE_SIZE, type CursorPage, type PagedListOptions } from "./pages.js";
import { checkCreated, checkLive, describeName, isId, lockedBody } from "./shape.js";
import type { ConnectionSettings, ControlPlane, ListOptions, LiveOf, RequestBody, ResourceKind } from "./types.js";

export interface AntBackendOptions {
  /** The binary to run (see target.ts for how it is found). */
  antPath: string;
  /** The backend for the kinds ant does not handle: the SDK backend of the same target. */
  fallback: ControlPlane;
  /** Longest one request may take upstream; default 60 s, as for the SDK backend. */
  timeoutMs?: number | undefined;
  limits?: Partial<ResponseLimits> | undefined;
  /** Where the child's PATH, HOME and TMPDIR come from. */
  env: NodeJS.ProcessEnv;
}

/** A request's time upstream, as the SDK backend allows it. */
const DEFAULT_TIMEOUT_MS = 60_000;
/** ant's own start and finish around the one request it sends, on top of the request's time. */
const PROCESS_SLACK_MS = 15_000;

/** The ant backend; `close` stops its relay (the SDK backend it falls back to holds nothing). */
export interface AntControlPlane extends ControlPlane {
  close(): Promise<void>;
  unsendable(kind: ResourceKind, body: RequestBody): AgentformError | undefined;
}

export function createAntBackend(settings: ConnectionSettings, options: AntBackendOptions): AntControlPlane {
  const limits = limitsWith(options.limits);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Started with the first call, once: a relay for every run of this backend.
  let relay: Promise<Relay> | undefined;
  const proc: AntProcessSettings = {
    antPath: options.antPath,
    relay: () => (relay ??= startRelay({ upstream: settings.baseUrl, apiKey: settings.apiKey, limits, timeoutMs })),
    workspaceId: settings.workspaceId,
    timeoutMs: timeoutMs + limits.bodyTimeoutMs + PROCESS_SLACK_MS,
    maxResponseBytes: limits.maxResponseBytes,
    env: options.env,
  };
  const sdk = options.fallback;
  const commandOf = (kind: ResourceKind): AntCommand | undefined => kindSpec(kind).antCommand;
  const ant = antCalls(proc, limits);

  return {
    backend: "ant",
    baseUrl: settings.baseUrl,
    close: async () => {
      if (relay) await (await relay).close();
    },
    list: (kind, listOptions) => {
      const command = commandOf(kind);
      return command ? ant.list(kind, command, listOptions) : sdk.list(kind, listOptions);
    },
    get: (kind, id, getOptions) => {
      const command = commandOf(kind);
      return command ? ant.get(kind, command, id, getOptions?.version) : sdk.get(kind, id, getOptions);
    },
    create: (kind, body) => {
      const command = commandOf(kind);
      return command ? ant.create(kind, command, body) : sdk.create(kind, body);
    },
    update: (kind, id, body, updateOptions) => {
      const command = commandOf(kind);
      return command ? ant.update(kind, command, id, body, updateOptions) : sdk.update(kind, id, body, updateOptions);
    },
    archive: (kind, id) => {
      const command = commandOf(kind);
      return command ? ant.write(kind, command, "archive", id) : sdk.archive(kind, id);
    },
    delete: async (kind, id) => {
      const command = commandOf(kind);
      // A kind the API cannot delete is refused by the SDK backend, as it is there, unsent.
      if (!command || !kindSpec(kind).deletable) return sdk.delete(kind, id);
      await ant.write(kind, command, "delete", id);
    },
    unsendable: (kind, body) => {
      const command = commandOf(kind);
      if (!command) return undefined;
      try {
        antRequest(body, command, `${kind} ${describeName(kind, body)}`);
        return undefined;
      } catch (err) {
        if (err instanceof AgentformError) return err;
        throw err;
      }
    },
    // Nothing ant handles has content to read: its kinds' lists and reads are complete.
    detail: (kind, live) => sdk.detail(kind, live),
    files: (kind, live) => sdk.files(kind, live),
    listVersions: (kind, id) => {
      const command = commandOf(kind);
      return command?.versions ? ant.versions(kind, command, command.versions, id) : sdk.listVersions(kind, id);
    },
  };
}

/** The ControlPlane calls of a kind that goes through ant, given its commands. */
function antCalls(proc: AntProcessSettings, limits: ResponseLimits) {
  const run = (call: AntCall) => runAnt(proc, call);
  /** `--agent-id=…`: the `=` form, so an id can never be read as a flag of its own. */
  const idArg = (command: AntCommand, id: string, operation: string) => {
    if (!isId(id)) throw new BackendError({ operation, problem: "invalid", serverMessage: `${JSON.stringify(String(id).slice(0, 100))} is not an id` });
    return `${command.idFlag}=${id}`;
  };
  /** The first page of a list; each page knows how to get the next. */
  const firstPage = (operation: string, args: readonly string[], limit: number) => {
    const page = async (cursor: string | undefined): Promise<CursorPage> => {
      const cursorArg = cursor === undefined ? [] : [`--page=${antFlagValue(cursor, operation)}`];
      const answer = await run({ operation, args: [...args, `--limit=${limit}`, ...cursorArg], format: "raw" });
      charge(answer.bytes, operation);
      const body = answer.value;
      // followPages checked this page's cursor before it asks for the next.
      return { body, getNextPage: () => page((body as { next_page: string }).next_page) } as CursorPage;
    };
    return () => page(undefined);
  };

  return {
    async list<K extends ResourceKind>(kind: K, command: AntCommand, options: ListOptions = {}): Promise<LiveOf<K>[]> {
      const operation = `list ${kind}s`;
      const limit = PAGE_SIZE[kind as keyof typeof PAGE_SIZE];
      const args = [command.resource, "list", ...(options.includeArchived ? ["--include-archived"] : [])];
      const first = firstPage(operation, args, limit);
      return listChecked(kind, operation, (options as PagedListOptions).onPage, (onPage) => listAll(limits, operation, limit, first, onPage));
    },
    async versions<K extends ResourceKind>(kind: K, command: AntCommand, resource: string, id: string): Promise<LiveOf<K>[]> {
      const operation = `list versions of ${kind} ${id}`;
      const limit = PAGE_SIZE[kind as keyof typeof PAGE_SIZE];
      const first = firstPage(operation, [resource, "list", idArg(command, id, operation)], limit);
      const items = await listAll(limits, operation, limit, first);
      return oldestFirst(kind, items.map((item) => checkLive(kind, item, operation, id)));
    },
    async get<K extends ResourceKind>(kind: K, command: AntCommand, id: string, version: number | undefined): Promise<LiveOf<K>> {
      const operation = `get ${kind} ${id}${version !== undefined ? ` version ${version}` : ""}`;
      const args = [command.resource, "retrieve", idArg(command, id, operation), ...(version !== undefined ? [`--version=${version}`] : [])];
      return checkLive(kind, (await run({ operation, args, format: "jsonl" })).value, operation, id);
    },
    async create<K extends ResourceKind>(kind: K, command: AntCommand, body: RequestBody): Promise<LiveOf<K>> {
      const operation = `create ${kind} ${describeName(kind, body)}`;
      const { piped, flags } = antRequest(body, command, operation);
      const { value } = await run({ operation, args: [command.resource, "create", ...flags], body: piped, format: "jsonl" });
      return checkCreated(kind, checkLive(kind, value, operation), body, operation);
    },
    async update<K extends ResourceKind>(kind: K, command: AntCommand, id: string, body: RequestBody, options: { expectedVersion?: number } | undefined): Promise<LiveOf<K>> {
      const operation = `update ${kind} ${id}`;
      const locked = kindSpec(kind).concurrency === "version" ? lockedBody(body, options?.expectedVersion) : body;
      const { piped, flags } = antRequest(locked, command, operation);
      const { value } = await run({ operation, args: [command.resource, "update", idArg(command, id, operation), ...flags], body: piped, format: "jsonl" });
      return checkLive(kind, value, operation, id);
    },
    async write<K extends ResourceKind>(kind: K, command: AntCommand, action: "archive" | "delete", id: string): Promise<LiveOf<K>> {
      const operation = `${action} ${kind} ${id}`;
      const { value } = await run({ operation, args: [command.resource, action, idArg(command, id, operation)], format: "jsonl" });
      // A delete answers {id, type: "…_deleted"} or nothing; only an archive answers the resource.
      return (action === "archive" ? checkLive(kind, value, operation, id) : value) as LiveOf<K>;
    },
  };
}

/**
 * A write's body as ant takes it: escaped (antBody), with the kind's flag fields moved out of the
 * piped body into `--field=<json>` flags, which ant takes whole.
 */
function antRequest(body: RequestBody, command: AntCommand, operation: string): { piped: Record<string, unknown>; flags: string[] } {
  // Keys a piped body must not have: ant would take them as the command's id or beta header.
  const reserved = ["id", "anthropic-beta", command.idFlag.replace(/^--/, "").replaceAll("-", "_")];
  const piped = antBody(body, reserved, operation);
  const flags: string[] = [];
  for (const field of command.flagFields ?? []) {
    if (!Object.hasOwn(piped, field)) continue;
    flags.push(`--${field.replaceAll("_", "-")}=${JSON.stringify(piped[field])}`);
    delete piped[field];
  }
  return { piped, flags };
}

/** A page's bytes against the list's budget, as boundedFetch charges the SDK's pages. */
function charge(bytes: number, operation: string): void {
  try {
    chargeListBudget(bytes);
  } catch (err) {
    if (err instanceof ResponseProblemError) throw new BackendError({ operation, problem: err.problem, serverMessage: err.message });
    throw err;
  }
}
