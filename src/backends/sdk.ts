/**
 * The sdk backend: the ControlPlane over the official @anthropic-ai/sdk client.
 *
 * The SDK's own retries are switched off (`maxRetries: 0` on every call): it would resend a
 * version-conflict 409 twice and blindly retry a create whose response was lost, making a
 * duplicate. agentform's retry policy lives in resilient.ts instead, where
 * an ambiguous create is reconciled by listing first.
 *
 * Nothing a server sends is taken on trust: bodies go through the bounded fetch of http.ts
 * (size, time, content type), lists stop on a repeated cursor or past a page limit, every
 * resource is shape-checked (shape.ts) before the reconciler sees it, and a skill's content zip
 * is unpacked under limits of its own (skill-content.ts).
 */
import Anthropic, { APIError, toFile } from "@anthropic-ai/sdk";
import { AgentformError, redactSecrets, SafetyError } from "../errors.js";
import type { LiveSkill } from "../kinds/types.js";
import { isObj } from "../kinds/values.js";
import { answeredStatus, BackendError } from "./errors.js";
import { boundedFetch, limitsWith, ResponseProblemError, retryAfterSeconds, withListBudget, type ResponseLimits } from "./http.js";
import { followPages, listAll, listChecked, oldestFirst, PAGE_SIZE, type CursorPage, type PagedListOptions } from "./pages.js";
import { checkCreated, checkLive, describeName, isId, lockedBody } from "./shape.js";
import { contentDigests, contentFiles, uploadDigests } from "./skill-content.js";
import { credentialOps } from "./sdk-credentials.js";
import { deploymentOps } from "./sdk-deployments.js";
import type {
  ConnectionSettings,
  ControlPlane,
  ListOptions,
  LiveOf,
  ParentRef,
  RequestBody,
  ResourceKind,
} from "./types.js";

export type { CursorPage, PagedListOptions } from "./pages.js";

export interface SdkBackendOptions {
  /** Per-request timeout; a timed-out request is ambiguous (the server may have committed it). */
  timeoutMs?: number;
  /** Bounds on what a server can send; each defaults to DEFAULT_LIMITS. */
  limits?: Partial<ResponseLimits> | undefined;
}

/**
 * Create the sdk backend for one target. Every failed request is raised as a BackendError; a
 * body refused before sending (an upload whose bytes do not match their digest) as a SafetyError.
 */
/** Run one SDK call, turning what the SDK raised into a BackendError with the secrets scrubbed. */
async function callWith<T>(secrets: readonly string[], operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // A body refused before anything was sent (an upload whose bytes do not match) already
    // carries its own code; only what the SDK raised is turned into a BackendError.
    if (err instanceof AgentformError && !(err instanceof BackendError)) throw err;
    throw toBackendError(err, operation, secrets);
  }
}

export function createSdkBackend(settings: ConnectionSettings, options: SdkBackendOptions = {}): ControlPlane {
  const limits = limitsWith(options.limits);
  const client = sdkClient(settings, options, limits);
  const secrets = [settings.apiKey];
  const req = { maxRetries: 0 } as const;

  const call = <T>(operation: string, fn: () => Promise<T>): Promise<T> => callWith(secrets, operation, fn);

  // The one binary download (a skill version's content) gets its own client, bounded the same way.
  const downloads = client.withOptions({ fetch: boundedFetch(limits, (input, init) => fetch(input, init), BINARY_TYPES) });
  const ops = kindOps(client, downloads, req, limits);

  const backend: ControlPlane = {
    backend: "sdk",
    baseUrl: settings.baseUrl,

    async list<K extends ResourceKind>(kind: K, listOptions: ListOptions = {}): Promise<LiveOf<K>[]> {
      const operation = `list ${kind}s`;
      const { pageSize, list, listEvery } = ops[kind];
      const includeArchived = listOptions.includeArchived ?? false;
      return call(operation, async () => {
        if (!listEvery) return listChecked(kind, operation, (listOptions as PagedListOptions).onPage, (page) => listAll(limits, operation, pageSize, () => list(pageSize, includeArchived), page));
        const items = await withListBudget(limits.maxListBytes, () => listEvery((size, first) => followPages(limits, operation, size, first), includeArchived, listOptions.parents));
        return items.map((item) => checkLive(kind, item, operation));
      });
    },

    async get<K extends ResourceKind>(kind: K, id: string, getOptions: { version?: number } = {}): Promise<LiveOf<K>> {
      const what = `get ${kind} ${id}${getOptions.version !== undefined ? ` version ${getOptions.version}` : ""}`;
      return call(what, async () => {
        const live = checkLive(kind, await ops[kind].retrieve(id, getOptions.version), what, id);
        const detail = ops[kind].detail;
        return detail ? detail(live) : live;
      });
    },

    async detail<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<LiveOf<K>> {
      const detail = ops[kind].detail;
      if (!detail) return live;
      return call(`read the content of ${kind} ${live.id}`, () => detail(live));
    },

    async files<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<Record<string, Uint8Array>> {
      const files = ops[kind].files ?? (() => Promise.reject(new Error(`a ${kind} has no files`)));
      return call(`read the files of ${kind} ${live.id}`, () => files(live));
    },

    async create<K extends ResourceKind>(kind: K, body: RequestBody): Promise<LiveOf<K>> {
      const operation = `create ${kind} ${describeName(kind, body)}`;
      return call(operation, async () => checkCreated(kind, checkLive(kind, await ops[kind].create(body, operation), operation), body, operation));
    },

    async update<K extends ResourceKind>(kind: K, id: string, body: RequestBody, updateOptions: { expectedVersion?: number } = {}): Promise<LiveOf<K>> {
      const operation = `update ${kind} ${id}`;
      return call(operation, async () => checkLive(kind, await ops[kind].update(id, body, updateOptions.expectedVersion, operation), operation, id));
    },

    async archive<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>> {
      const operation = `archive ${kind} ${id}`;
      return call(operation, async () => checkLive(kind, await ops[kind].archive(id), operation, id));
    },

    async delete(kind: ResourceKind, id: string): Promise<void> {
      await call(`delete ${kind} ${id}`, () => ops[kind].remove(id));
    },

    async listVersions<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>[]> {
      const operation = `list versions of ${kind} ${id}`;
      const { pageSize, listVersions } = ops[kind];
      return call(operation, async () => {
        const items = await listAll(limits, operation, pageSize, () => listVersions(id, pageSize));
        return oldestFirst(kind, items.map((item) => checkLive(kind, item, operation, id)));
      });
    },
  };
  return backend;
}

/** The SDK client for one target: no retries of its own, every response through boundedFetch. */
function sdkClient(settings: ConnectionSettings, options: SdkBackendOptions, limits: ResponseLimits): Anthropic {
  return new Anthropic({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl,
    maxRetries: 0,
    // Covers the headers and, since boundedFetch reads the body before returning, the body too.
    timeout: options.timeoutMs ?? 60_000,
    fetch: boundedFetch(limits),
    defaultHeaders: settings.workspaceId ? { "anthropic-workspace-id": settings.workspaceId } : undefined,
    // Never the SDK's own request logging (ANTHROPIC_LOG=debug prints request bodies, and a body
    // can carry a credential's secret); agentform reports what it sends itself.
    logLevel: "warn",
  });
}

/** Every item of a paged list (bounded like every list): what a kind with several lists calls for each. */
export type PageLister = (pageSize: number, first: () => Promise<CursorPage>) => Promise<unknown[]>;

/** The SDK calls of one kind; `L` is its live resource. */
export interface KindOps<L> {
  pageSize: number;
  list(limit: number, includeArchived: boolean): Promise<CursorPage>;
  /** Kinds listed in several lists (credentials: one per vault) gather them themselves, instead of `list`. */
  listEvery?(pages: PageLister, includeArchived: boolean, parents: readonly ParentRef[] | undefined): Promise<unknown[]>;
  retrieve(id: string, version: number | undefined): Promise<unknown>;
  /**
   * Kinds whose read lacks what comparison needs (a skill's file digests): the checked live
   * resource completed by further reads. Writes complete their answers themselves.
   */
  detail?(live: L): Promise<L>;
  /** Kinds kept as a folder (skills): the latest version's files, path inside the folder → bytes. */
  files?(live: L): Promise<Record<string, Uint8Array>>;
  /** `operation` names the call in errors raised before anything is sent. */
  create(body: RequestBody, operation: string): Promise<unknown>;
  /** `expectedVersion` is sent as the body's `version` (the optimistic lock) by versioned kinds. */
  update(id: string, body: RequestBody, expectedVersion: number | undefined, operation: string): Promise<unknown>;
  archive(id: string): Promise<unknown>;
  remove(id: string): Promise<unknown>;
  listVersions(id: string, limit: number): Promise<CursorPage>;
}

type Unsupported = (what: string) => () => Promise<never>;

/** Each kind's endpoints in the SDK, keyed by kind (a kind without them does not compile). */
function kindOps(client: Anthropic, downloads: Anthropic, req: { maxRetries: 0 }, limits: ResponseLimits): { [K in ResourceKind]: KindOps<LiveOf<K>> } {
  const agents = client.beta.agents;
  const unsupported: Unsupported = (what) => () => Promise.reject(new BackendError({ operation: what, status: 400, serverMessage: `${what} is not supported` }));
  return {
    agent: {
      pageSize: PAGE_SIZE.agent,
      list: (limit, includeArchived) => agents.list({ limit, include_archived: includeArchived }, req),
      retrieve: (id, version) => agents.retrieve(id, version !== undefined ? { version } : {}, req),
      create: (body) => agents.create(body as unknown as Anthropic.Beta.AgentCreateParams, req),
      update: (id, body, expectedVersion) => agents.update(id, lockedBody(body, expectedVersion) as unknown as Anthropic.Beta.AgentUpdateParams, req),
      archive: (id) => agents.archive(id, {}, req),
      remove: unsupported("delete agent"),
      listVersions: (id, limit) => agents.versions.list(id, { limit }, req),
    },
    // The API answers an environment's delete with either {id, type: "environment_deleted"} or 204.
    environment: archivableOps(client.beta.environments, PAGE_SIZE.environment, req, unsupported("list versions of an environment")),
    skill: skillOps(client, downloads, req, unsupported),
    vault: archivableOps(client.beta.vaults, PAGE_SIZE.vault, req, unsupported("list versions of a vault")),
    credential: credentialOps(client, req, (size, first) => withListBudget(limits.maxListBytes, () => followPages(limits, "find the vault of a credential", size, first))),
    memory_store: archivableOps(client.beta.memoryStores, PAGE_SIZE.memory_store, req, unsupported("list versions of a memory store")),
    deployment: deploymentOps(client, req),
  };
}

/**
 * An SDK resource whose endpoints all take the same arguments: a paged list with
 * include_archived, create and update with a body, retrieve, archive and delete by id. `C` and
 * `U` are its own create and update params; the kind has built and checked the body already.
 */
interface ArchivableResource<C, U> {
  list(params: { limit: number; include_archived: boolean }, options: { maxRetries: 0 }): Promise<CursorPage>;
  retrieve(id: string, params: object, options: { maxRetries: 0 }): Promise<unknown>;
  create(params: C, options: { maxRetries: 0 }): Promise<unknown>;
  update(id: string, params: U, options: { maxRetries: 0 }): Promise<unknown>;
  archive(id: string, params: object, options: { maxRetries: 0 }): Promise<unknown>;
  delete(id: string, params: object, options: { maxRetries: 0 }): Promise<unknown>;
}

/** The calls of an unversioned kind whose SDK resource is an ArchivableResource (environments, vaults, memory stores). */
function archivableOps<L, C, U>(resource: ArchivableResource<C, U>, pageSize: number, req: { maxRetries: 0 }, listVersions: () => Promise<never>): KindOps<L> {
  return {
    pageSize,
    list: (limit, includeArchived) => resource.list({ limit, include_archived: includeArchived }, req),
    retrieve: (id) => resource.retrieve(id, {}, req),
    create: (body) => resource.create(body as unknown as C, req),
    update: (id, body) => resource.update(id, body as unknown as U, req),
    archive: (id) => resource.archive(id, {}, req),
    remove: (id) => resource.delete(id, {}, req),
    listVersions,
  };
}

/**
 * Skills, through the GA client (no beta header). There is no update endpoint: a changed skill
 * uploads a new version. Responses carry no file digests, which comparison needs: `get` reads
 * them from the latest version's content, and a write takes them from the bytes it uploaded, so
 * no download follows a write.
 */
function skillOps(client: Anthropic, downloads: Anthropic, req: { maxRetries: 0 }, unsupported: Unsupported): KindOps<LiveSkill> {
  const skills = client.skills;
  // Only the beta client has the download method; the path is the GA one and no beta header is sent.
  const download = async (skillId: string, versionId: string) => new Uint8Array(await (await downloads.beta.skills.versions.download(versionId, { skill_id: skillId }, req)).arrayBuffer());
  const versionFiles = async (skillId: string, versionId: string) => contentDigests(await download(skillId, versionId), `read the files of skill ${skillId} version ${versionId}`);
  return {
    pageSize: PAGE_SIZE.skill,
    // The workspace's own skills: Anthropic's are not agentform's to manage.
    list: (limit) => skills.list({ limit, source: "custom" }, req),
    retrieve: (id) => skills.retrieve(id, {}, req),
    detail: async (live) => ({ ...live, files: await versionFiles(live.id, live.latest_version_id) }),
    files: async (live) => contentFiles(await download(live.id, live.latest_version_id), `read the files of skill ${live.id} version ${live.latest_version_id}`),
    create: async (body, operation) => {
      const upload = await skillUpload(body, ["display_name", "files"], operation);
      const displayName = body.display_name === undefined ? {} : { display_name: body.display_name as string };
      return withFiles(await skills.create({ ...displayName, files: upload.files }, req), upload.digests);
    },
    update: async (id, body, _expectedVersion, operation) => {
      const upload = await skillUpload(body, ["files"], operation);
      const version: unknown = await skills.versions.create(id, { files: upload.files }, req);
      // The version's answer is not the skill: read the skill, whose latest version is now ours...
      const skill: unknown = await skills.retrieve(id, {}, req);
      const latest = isObj(skill) ? skill.latest_version_id : undefined;
      if (isObj(version) && latest === version.id) return withFiles(skill, upload.digests);
      // ...unless another upload landed right after it: the live resource describes the latest.
      // (A latest_version_id that is no id is not followed: checkLive refuses the answer.)
      return isId(latest) ? withFiles(skill, await versionFiles(id, latest)) : skill;
    },
    // Skills are deleted, never archived.
    archive: unsupported("archive a skill"),
    // Deletes every version with it.
    remove: (id) => skills.delete(id, {}, req),
    // A skill version is not a skill (no display_name, no latest_version_id), and skills are not
    // versioned the way agents are: references pin a version id read from the skill itself.
    listVersions: unsupported("list versions of a skill"),
  };
}

/**
 * The files of a skill write, checked before anything is sent: only `allowed` keys (the API has
 * no way to change a skill's display_name after create), and every file's bytes matching its
 * sha256. The parts keep the `<name>/` prefix the API requires in each filename.
 */
async function skillUpload(body: RequestBody, allowed: readonly string[], operation: string): Promise<{ files: File[]; digests: Record<string, string> }> {
  // Refused here, not by the server: a SafetyError of its own, never a BackendError that would
  // print like the API's answer ("failed (HTTP 400)") and send people looking at the server.
  const refuse = (code: string, what: string, hint: string) => new SafetyError(code, `${operation}: agentform refused the request before sending it: ${what}; nothing was sent`, { hint });
  const bug = "Run `agentform plan` again; if this repeats, it is a bug in agentform.";
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.includes("display_name") && !allowed.includes("display_name")) {
    throw refuse("skill-rename-unsupported", "the body changes display_name, but a skill cannot be renamed (a new version takes only files)", "Remove previous_names from SKILL.md; to rename a skill, create it under the new name and remove the old one.");
  }
  if (extra.length > 0) {
    throw refuse("upload-invalid", `the body has ${extra.map((k) => JSON.stringify(k)).join(", ")}, but this request takes only ${allowed.join(" and ")}`, bug);
  }
  if (body.display_name !== undefined && typeof body.display_name !== "string") throw refuse("upload-invalid", "display_name is not a string", bug);
  const { parts, digests } = uploadDigests(body.files, operation);
  return { files: await Promise.all(parts.map((p) => toFile(p.bytes, p.path))), digests };
}

/** A write's answer with the digests of what it uploaded (left alone when it is not an object: checkLive says why). */
function withFiles(raw: unknown, files: Record<string, string>): unknown {
  return isObj(raw) ? { ...raw, files } : raw;
}

/** Media types a content download may answer with: the local control plane sends application/zip. */
const BINARY_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/octet-stream"]);

/** Map anything the SDK throws to a BackendError, keeping status, codes and retry-after. */
export function toBackendError(err: unknown, operation: string, secrets: readonly string[] = []): BackendError {
  if (err instanceof BackendError) return err;
  const problem = responseProblem(err);
  if (problem) {
    return new BackendError({ operation, problem: problem.problem, serverMessage: redactSecrets(problem.message, secrets), cause: err });
  }
  if (err instanceof SyntaxError) {
    // A body labelled JSON that does not parse: the SDK's response.json() threw.
    return new BackendError({ operation, problem: "invalid", serverMessage: "the response body is not valid JSON", cause: err });
  }
  if (err instanceof APIError && err.status !== undefined) {
    const headers = err.headers as Headers | undefined;
    return new BackendError({
      status: err.status,
      type: err.type ?? undefined,
      errorCode: err.errorCode ?? undefined,
      requestId: err.requestID ?? headers?.get("request-id") ?? undefined,
      retryAfterSeconds: retryAfterSeconds(headers),
      operation,
      serverMessage: redactSecrets(err.apiMessage ?? answeredStatus(err.status), secrets),
      cause: err,
    });
  }
  // APIConnectionError, timeouts, aborted or unparseable responses: no usable response, so the
  // server may or may not have acted on the request.
  const message = err instanceof Error ? err.message : String(err);
  return new BackendError({
    status: undefined,
    operation,
    serverMessage: redactSecrets(message || "connection failed", secrets),
    cause: err,
  });
}

/** The ResponseProblemError behind an SDK error (the SDK wraps what fetch throws as `cause`). */
function responseProblem(err: unknown): ResponseProblemError | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ResponseProblemError) return e;
  }
  return undefined;
}

