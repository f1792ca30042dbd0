/**
 * The HTTP face of the local control plane: routing, the beta check, the error envelope, fault
 * injection around every /v1 request, the request log, and the `/_local/` admin paths. The
 * defences at the edge (Host, request target, key, body limits) are in http-guard.ts; skill
 * uploads are parsed by multipart.ts and checked by skill-config.ts; vaults and credentials are
 * kept by vaults.ts, memory stores by memory-stores.ts, deployments by deployments.ts.
 */
import http from "node:http";
import path from "node:path";
import { ApiError, badRequest, errorTypeForStatus, notFound } from "./api-error.js";
import { DEPLOYMENT_LIST_DEFAULT_LIMIT, DEPLOYMENT_LIST_MAX_LIMIT, type DeploymentListQuery, type DeploymentStore } from "./deployments.js";
import { FaultEngine, parseFaults, type FaultConfig } from "./faults.js";
import { checkAuth, checkHost, decodeSegment, lingerOnEarlyReply, parseTarget, readBody, readBodyBytes, type BodyLimits } from "./http-guard.js";
import { MEMORY_STORE_LIST_DEFAULT_LIMIT, MEMORY_STORE_LIST_MAX_LIMIT, type MemoryStores } from "./memory-stores.js";
import type { ListQuery } from "./paging.js";
import { boundaryOf, parseMultipart, type FormPart } from "./multipart.js";
import { acquireLock, loadState, releaseLock, removeLeftoverTemps, StateWriter } from "./persist.js";
import {
  AGENT_LIST_DEFAULT_LIMIT,
  AGENT_LIST_MAX_LIMIT,
  ENVIRONMENT_LIST_DEFAULT_LIMIT,
  ENVIRONMENT_LIST_MAX_LIMIT,
  Store,
} from "./store.js";
import { readSkillForm, resolveSkillFiles, SKILL_FORM_LIMITS } from "./skill-config.js";
import {
  SKILL_LIST_DEFAULT_LIMIT,
  SKILL_LIST_MAX_LIMIT,
  SKILL_SOURCES,
  SKILL_VERSION_LIST_DEFAULT_LIMIT,
  SKILL_VERSION_LIST_MAX_LIMIT,
  type SkillSourceType,
  type SkillStore,
} from "./skills.js";
import { newId } from "./util.js";
import {
  CREDENTIAL_LIST_DEFAULT_LIMIT,
  CREDENTIAL_LIST_MAX_LIMIT,
  VAULT_LIST_DEFAULT_LIMIT,
  VAULT_LIST_MAX_LIMIT,
  type VaultStore,
} from "./vaults.js";

/** One /v1 request as the server saw it. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  query: string;
  /** null = connection dropped without a response. */
  status: number | null;
  durationMs: number;
  write: boolean;
  fault?: string;
}

export interface LocalServerOptions {
  port?: number;
  stateFile?: string;
  faults?: Partial<FaultConfig>;
  /** accepted credential; default: any non-empty key */
  apiKey?: string;
  /** Largest request body accepted (default 32 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Time for a request body to arrive once the headers are in (default 30 s); then 408. */
  bodyTimeoutMs?: number;
}

export interface LocalControlPlane {
  /** e.g. http://127.0.0.1:54321 */
  readonly baseUrl: string;
  /** A key the server accepts, for clients. */
  readonly apiKey: string;
  /** Copy of the log of /v1 requests (admin requests excluded). */
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  /** Replaces the given fields; resets the script counters. */
  setFaults(faults: Partial<FaultConfig>): void;
  resetFaults(): void;
  /** Stops the server, flushes the state file. */
  close(): Promise<void>;
}

/** The beta every agent, environment, vault, credential and deployment request must name in `anthropic-beta` (skills are GA and need none). */
export const REQUIRED_BETA = "managed-agents-2026-04-01";
/** Memory stores take either this beta (what the SDK sends for them) or REQUIRED_BETA, as the SDK documents. */
export const MEMORY_BETA = "agent-memory-2026-07-22";
const DEFAULT_API_KEY = "local-dev-key";
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const BODY_TIMEOUT_MS = 30_000;

/** In-process access to a server's store, for seeding helpers (see seed.ts). */
export const storeOf = new WeakMap<LocalControlPlane, Store>();

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A binary answer (a skill version's zip) sent instead of `body` as JSON; headers carry its type. */
  raw?: Uint8Array;
}

/** The body of a /v1 request, parsed only by the endpoint that needs it, in the form it takes. */
interface RequestBody {
  json(): unknown;
  form(): FormPart[];
}

function envelope(err: ApiError, requestId: string): unknown {
  const error: Record<string, unknown> = { type: err.type, message: err.message };
  if (err.errorCode !== undefined) error.details = { error_code: err.errorCode };
  return { type: "error", error, request_id: requestId };
}

/** Deeper bodies are refused: nothing in the API nests this far, and deep values overflow recursive code. */
const MAX_JSON_DEPTH = 100;

/** Whether a parsed JSON value nests deeper than `max`; walked without recursion (the input may be hostile). */
function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) throw badRequest(`request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

function parseLimit(q: URLSearchParams, def: number, max: number): number {
  const raw = q.get("limit");
  if (raw === null) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`limit: must be an integer between 1 and ${max}`);
  return n;
}

function parseBool(q: URLSearchParams, key: string): boolean {
  const raw = q.get(key);
  if (raw === null) return false;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw badRequest(`${key}: must be true or false`);
}

function parseTime(q: URLSearchParams, key: string): number | null {
  const raw = q.get(key);
  if (raw === null) return null;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw badRequest(`${key}: must be an RFC 3339 timestamp`);
  return t;
}

/** `source` of `GET /v1/skills`: one of the SDK's SkillSource types; empty (the SDK's `null`) means no filter. */
function parseSource(q: URLSearchParams): SkillSourceType | null {
  const raw = q.get("source");
  if (raw === null || raw === "") return null;
  if (!(SKILL_SOURCES as readonly string[]).includes(raw)) throw badRequest(`source: must be one of ${SKILL_SOURCES.join(", ")}`);
  return raw as SkillSourceType;
}

/** A create or new-version form, parsed and checked; `display_name` is allowed on create only. */
function skillUpload(body: RequestBody, allowDisplayName: boolean) {
  const { files, displayName } = readSkillForm(body.form(), allowDisplayName);
  return { resolved: resolveSkillFiles(files), displayName };
}

/** `/v1/skills…` below the collection: `rest` is [id, "versions", version, "content"], as far as given. */
function routeSkills(skills: SkillStore, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  const [id, sub, version, extra] = rest;
  const ok = (b: unknown): Reply => ({ status: 200, body: b });
  if (rest.length > 4) return null;
  if (id === undefined) {
    if (method === "GET") return ok(skills.list(parseLimit(q, SKILL_LIST_DEFAULT_LIMIT, SKILL_LIST_MAX_LIMIT), q.get("page"), parseSource(q)));
    if (method === "POST") {
      const upload = skillUpload(body, true);
      return ok(skills.create(upload.resolved, upload.displayName));
    }
  } else if (sub === undefined) {
    if (method === "GET") return ok(skills.get(id));
    if (method === "DELETE") return ok(skills.delete(id));
  } else if (sub === "versions" && version === undefined) {
    if (method === "GET") return ok(skills.listVersions(id, parseLimit(q, SKILL_VERSION_LIST_DEFAULT_LIMIT, SKILL_VERSION_LIST_MAX_LIMIT), q.get("page")));
    if (method === "POST") {
      skills.get(id); // an unknown skill is a 404 whatever the upload holds
      return ok(skills.createVersion(id, skillUpload(body, false).resolved));
    }
  } else if (sub === "versions" && version !== undefined && extra === undefined) {
    if (method === "GET") return ok(skills.getVersion(id, version));
    if (method === "DELETE") return ok(skills.deleteVersion(id, version));
  } else if (sub === "versions" && version !== undefined && extra === "content" && method === "GET") {
    const archive = skills.archive(id, version);
    const headers = { "content-type": "application/zip", "content-disposition": `attachment; filename="${archive.filename}"` };
    return { status: 200, body: null, raw: archive.bytes, headers };
  }
  return null;
}

/**
 * The endpoints of one collection, keyed by method: `collection` at `/v1/<name>`, `member` at
 * `/v1/<name>/{id}`, `actions` at `/v1/<name>/{id}/<action>` keyed "METHOD action". Most
 * collections have this shape, so one router reads their paths the same way.
 */
interface Endpoints {
  collection: Record<string, () => unknown>;
  member: Record<string, (id: string) => unknown>;
  actions: Record<string, (id: string) => unknown>;
}

/** `rest` is the path below the collection, [id, action] as far as given. null: no endpoint (a deeper path, another method). */
function routeEndpoints(method: string, rest: readonly string[], endpoints: Endpoints): Reply | null {
  const [id, action] = rest;
  // Own keys only: a path segment is never taken for something an object inherits.
  const pick = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);
  if (rest.length > 2) return null;
  if (id === undefined) {
    const list = pick(endpoints.collection, method);
    return list ? { status: 200, body: list() } : null;
  }
  const one = action === undefined ? pick(endpoints.member, method) : pick(endpoints.actions, `${method} ${action}`);
  return one ? { status: 200, body: one(id) } : null;
}

/** `/v1/vaults/{vault_id}/credentials…`: `rest` is [credential_id, action], as far as given. */
function routeCredentials(vaults: VaultStore, vaultId: string, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  return routeEndpoints(method, rest, {
    collection: {
      GET: () => vaults.listCredentials(vaultId, parseLimit(q, CREDENTIAL_LIST_DEFAULT_LIMIT, CREDENTIAL_LIST_MAX_LIMIT), q.get("page"), parseBool(q, "include_archived")),
      POST: () => vaults.createCredential(vaultId, body.json()),
    },
    member: {
      GET: (id) => vaults.getCredential(vaultId, id),
      POST: (id) => vaults.updateCredential(vaultId, id, body.json()),
      DELETE: (id) => vaults.deleteCredential(vaultId, id),
    },
    actions: {
      "POST archive": (id) => vaults.archiveCredential(vaultId, id),
      "POST mcp_oauth_validate": (id) => vaults.validateCredential(vaultId, id),
    },
  });
}

/** `/v1/vaults…` below the collection: `rest` is [vault_id, "archive" | "credentials", …], as far as given. */
function routeVaults(vaults: VaultStore, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  const [id, sub] = rest;
  if (rest.length > 4) return null;
  if (id !== undefined && sub === "credentials") return routeCredentials(vaults, id, method, rest.slice(2), q, body);
  return routeEndpoints(method, rest, {
    collection: {
      GET: () => vaults.list(parseLimit(q, VAULT_LIST_DEFAULT_LIMIT, VAULT_LIST_MAX_LIMIT), q.get("page"), parseBool(q, "include_archived")),
      POST: () => vaults.create(body.json()),
    },
    member: { GET: (id) => vaults.get(id), POST: (id) => vaults.update(id, body.json()), DELETE: (id) => vaults.delete(id) },
    actions: { "POST archive": (id) => vaults.archive(id) },
  });
}

/** `created_at[gte]` and `created_at[lte]`, shared by the lists that take them. */
function parseCreatedRange(q: URLSearchParams) {
  return { createdGte: parseTime(q, "created_at[gte]"), createdLte: parseTime(q, "created_at[lte]") };
}

/** The query of a list that filters on archived and on created_at, its parameters checked in this order. */
function parseListQuery(q: URLSearchParams, defaultLimit: number, maxLimit: number): ListQuery {
  return { limit: parseLimit(q, defaultLimit, maxLimit), page: q.get("page"), includeArchived: parseBool(q, "include_archived"), ...parseCreatedRange(q) };
}

/** `/v1/memory_stores…` below the collection: `rest` is [id, "archive"], as far as given. Memories are not modelled. */
function routeMemoryStores(stores: MemoryStores, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  return routeEndpoints(method, rest, {
    collection: {
      GET: () => stores.list(parseListQuery(q, MEMORY_STORE_LIST_DEFAULT_LIMIT, MEMORY_STORE_LIST_MAX_LIMIT)),
      POST: () => stores.create(body.json()),
    },
    member: { GET: (id) => stores.get(id), POST: (id) => stores.update(id, body.json()), DELETE: (id) => stores.delete(id) },
    actions: { "POST archive": (id) => stores.archive(id) },
  });
}

/** The query of `GET /v1/deployments`; `status` cannot be combined with `include_archived=true` (the SDK says so). */
function parseDeploymentList(q: URLSearchParams): DeploymentListQuery {
  const rawStatus = q.get("status");
  if (rawStatus !== null && rawStatus !== "active" && rawStatus !== "paused") throw badRequest("status: must be active or paused");
  const includeArchived = parseBool(q, "include_archived");
  if (rawStatus !== null && includeArchived) throw badRequest("status cannot be combined with include_archived=true");
  const agentId = q.get("agent_id");
  return {
    ...parseListQuery(q, DEPLOYMENT_LIST_DEFAULT_LIMIT, DEPLOYMENT_LIST_MAX_LIMIT),
    agentId: agentId === null || agentId === "" ? null : agentId,
    status: rawStatus,
  };
}

/** `/v1/deployments…` below the collection: `rest` is [id, action], as far as given. There is no DELETE. */
function routeDeployments(deployments: DeploymentStore, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  return routeEndpoints(method, rest, {
    collection: { GET: () => deployments.list(parseDeploymentList(q)), POST: () => deployments.create(body.json()) },
    member: { GET: (id) => deployments.get(id), POST: (id) => deployments.update(id, body.json()) },
    actions: {
      "POST archive": (id) => deployments.archive(id),
      "POST pause": (id) => deployments.pause(id),
      "POST unpause": (id) => deployments.unpause(id),
      "POST run": (id) => deployments.run(id),
    },
  });
}

/** `?version=` of `GET /v1/agents/{id}`: null for the latest. */
function parseAgentVersion(q: URLSearchParams): number | null {
  const raw = q.get("version");
  if (raw === null) return null;
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1) throw badRequest("version: must be an integer ≥ 1");
  return version;
}

/** `/v1/agents…` below the collection: `rest` is [id, "archive" | "versions"], as far as given. Agents are never deleted. */
function routeAgents(store: Store, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  return routeEndpoints(method, rest, {
    collection: { GET: () => store.listAgents(parseListQuery(q, AGENT_LIST_DEFAULT_LIMIT, AGENT_LIST_MAX_LIMIT)), POST: () => store.createAgent(body.json()) },
    member: { GET: (id) => store.getAgent(id, parseAgentVersion(q)), POST: (id) => store.updateAgent(id, body.json()) },
    actions: {
      "POST archive": (id) => store.archiveAgent(id),
      "GET versions": (id) => store.listAgentVersions(id, parseLimit(q, AGENT_LIST_DEFAULT_LIMIT, AGENT_LIST_MAX_LIMIT), q.get("page")),
    },
  });
}

/** `/v1/environments…` below the collection: `rest` is [id, "archive"], as far as given. */
function routeEnvironments(store: Store, method: string, rest: readonly string[], q: URLSearchParams, body: RequestBody): Reply | null {
  return routeEndpoints(method, rest, {
    collection: {
      GET: () => store.listEnvironments(parseLimit(q, ENVIRONMENT_LIST_DEFAULT_LIMIT, ENVIRONMENT_LIST_MAX_LIMIT), q.get("page"), parseBool(q, "include_archived")),
      POST: () => store.createEnvironment(body.json()),
    },
    member: { GET: (id) => store.getEnvironment(id), POST: (id) => store.updateEnvironment(id, body.json()), DELETE: (id) => store.deleteEnvironment(id) },
    actions: { "POST archive": (id) => store.archiveEnvironment(id) },
  });
}

/** Route one authenticated /v1 request to the store. */
function route(store: Store, method: string, pathname: string, q: URLSearchParams, body: RequestBody): Reply {
  const parts = pathname.split("/").filter(Boolean).map(decodeSegment); // ["v1", collection, ...rest]
  const [, collection] = parts;
  const rest = parts.slice(2);
  const routers: Record<string, () => Reply | null> = {
    skills: () => routeSkills(store.skills, method, rest, q, body),
    vaults: () => routeVaults(store.vaults, method, rest, q, body),
    memory_stores: () => routeMemoryStores(store.memoryStores, method, rest, q, body),
    deployments: () => routeDeployments(store.deployments, method, rest, q, body),
    agents: () => routeAgents(store, method, rest, q, body),
    environments: () => routeEnvironments(store, method, rest, q, body),
  };
  const reply = collection !== undefined && Object.hasOwn(routers, collection) ? (routers[collection] as () => Reply | null)() : null;
  if (reply) return reply;
  throw notFound(`${method} ${pathname} is not an endpoint of the local control plane`);
}

const under = (pathname: string, collection: string) => pathname === collection || pathname.startsWith(`${collection}/`);

/**
 * The betas of which a request must name one. Skills are GA: none (one sent anyway, e.g. by
 * `client.beta.skills`, is ignored). Memory stores: their own beta or the managed-agents one.
 */
function acceptedBetas(pathname: string): readonly string[] {
  if (under(pathname, "/v1/skills")) return [];
  if (under(pathname, "/v1/memory_stores")) return [MEMORY_BETA, REQUIRED_BETA];
  return [REQUIRED_BETA];
}

function checkBeta(req: http.IncomingMessage, pathname: string): void {
  const accepted = acceptedBetas(pathname);
  if (accepted.length === 0) return;
  const raw = req.headers["anthropic-beta"];
  const values = (Array.isArray(raw) ? raw.join(",") : (raw ?? "")).split(",").map((s) => s.trim());
  if (!accepted.some((beta) => values.includes(beta))) {
    throw badRequest(`this endpoint is in beta: requests must send the anthropic-beta header with ${accepted.join(" or ")}`);
  }
}

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
  const payload = reply.raw ?? Buffer.from(JSON.stringify(reply.body), "utf8");
  const headers: Record<string, string> = { "content-type": "application/json", "request-id": requestId, ...reply.headers, "content-length": String(payload.byteLength) };
  // An answer given before the body was read (refused early, too large, too slow) closes the
  // connection, gently: see lingerOnEarlyReply.
  lingerOnEarlyReply(res.req, headers);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function errorReply(err: unknown, requestId: string): Reply {
  const apiErr = err instanceof ApiError ? err : new ApiError(500, "api_error", "internal error in the local control plane");
  return { status: apiErr.status, body: envelope(apiErr, requestId), headers: apiErr.headers };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The state file side of a server: lock, loaded store, writer. */
interface StateHandle {
  lockFile: string;
  writer: StateWriter;
}

/** Take the lock, load the file (validated entry by entry) and hook the writer to commits. */
function openState(stateFileOption: string, store: Store): StateHandle {
  const stateFile = path.resolve(stateFileOption);
  const lockFile = acquireLock(stateFile);
  try {
    removeLeftoverTemps(stateFile);
    loadState(stateFile, store);
  } catch (err) {
    releaseLock(lockFile);
    throw err;
  }
  const writer = new StateWriter(stateFile, store);
  store.onCommit = () => writer.schedule();
  return { lockFile, writer };
}

/** Request handling of one server: the store, the faults, the request log. */
class Handler {
  log: RequestLogEntry[] = [];
  private seq = 0;

  constructor(
    readonly store: Store,
    readonly faults: FaultEngine,
    private readonly apiKey: string | undefined,
    private readonly limits: BodyLimits,
  ) {}

  /**
   * A request sent with `Expect: 100-continue`. Node's default writes "100 Continue" before any
   * handler runs, inviting the body before Host, key or size were looked at. Here the header
   * checks run first; only a request that passes them is invited. One that fails goes to
   * dispatch uninvited, which refuses it with the same checks (and `Connection: close`, since
   * its body was never read).
   */
  checkContinue(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.headersAcceptable(req)) res.writeContinue();
    this.dispatch(req, res);
  }

  /** Every check dispatch and the handlers make before reading a body, as a yes or no. */
  private headersAcceptable(req: http.IncomingMessage): boolean {
    try {
      checkHost(req);
      const url = parseTarget(req.url);
      const api = url.pathname.startsWith("/v1/");
      if (!api && !url.pathname.startsWith("/_local/")) return false;
      if (api) {
        checkAuth(req, this.apiKey);
        checkBeta(req, url.pathname);
      }
      const declared = Number(req.headers["content-length"] ?? "0");
      return !(Number.isFinite(declared) && declared > this.limits.maxBytes);
    } catch {
      return false;
    }
  }

  /** Entry point for every request: Host and target checks first, for every path. */
  dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      checkHost(req);
      url = parseTarget(req.url);
    } catch (err) {
      const requestId = newId("req");
      send(res, errorReply(err, requestId), requestId);
      return;
    }
    const handler = url.pathname.startsWith("/_local/") ? this.handleAdmin : url.pathname.startsWith("/v1/") ? this.handleApi : null;
    if (handler) {
      // Handlers answer their own errors; this only catches a failure to write the answer.
      handler.call(this, req, res, url).catch(() => res.destroy());
      return;
    }
    const requestId = newId("req");
    send(res, errorReply(notFound(`${url.pathname} is not an endpoint of the local control plane`), requestId), requestId);
  }

  /**
   * One /v1 request. Order matters: header checks (auth, beta) come before the body is read, so
   * an unauthenticated sender is answered at once and never holds an environment slot; the slot
   * is taken only once the body is in, so a slow sender holds none either.
   */
  private async handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    const write = method === "POST" || method === "DELETE";
    const entry: RequestLogEntry = { seq: ++this.seq, method, path: url.pathname, query: url.search.replace(/^\?/, ""), status: null, durationMs: 0, write };
    const requestId = newId("req");
    const finish = (status: number | null) => {
      entry.status = status;
      entry.durationMs = performance.now() - started;
      this.log.push(entry);
    };
    const isEnvironment = url.pathname === "/v1/environments" || url.pathname.startsWith("/v1/environments/");
    let holdsSlot = false;
    try {
      checkAuth(req, this.apiKey);
      checkBeta(req, url.pathname);
      const bodyBytes = await readBodyBytes(req, this.limits);
      if (isEnvironment) {
        holdsSlot = this.faults.acquireEnvironment();
        if (!holdsSlot) {
          entry.fault = "environmentConcurrency";
          throw new ApiError(429, "rate_limit_error", "too many concurrent environment requests", undefined, { "retry-after": "1" });
        }
      }
      const delay = this.faults.latency();
      if (delay > 0) await sleep(delay);
      const status = this.decideAndRoute(req, res, url, entry, bodyBytes, requestId);
      finish(status);
    } catch (err) {
      if (req.socket.destroyed) return finish(null); // the client went away: nobody to answer
      const reply = errorReply(err, requestId);
      send(res, reply, requestId);
      finish(reply.status);
    } finally {
      if (holdsSlot) this.faults.releaseEnvironment();
    }
  }

  /** Faults, then the store. Returns the status sent, or null when the connection was dropped. */
  private decideAndRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry, bodyBytes: Buffer, requestId: string): number | null {
    const decision = this.faults.decide(entry.write);
    if (decision.fault) entry.fault = decision.fault;
    if (decision.kind === "error") {
      const headers: Record<string, string> = decision.retryAfterSeconds !== undefined ? { "retry-after": String(decision.retryAfterSeconds) } : {};
      throw new ApiError(decision.status, errorTypeForStatus(decision.status), `injected fault (${decision.fault})`, undefined, headers);
    }
    if (decision.kind === "dropBeforeCommit") {
      req.socket.destroy();
      return null;
    }
    const body: RequestBody = {
      json: () => parseJsonBody(bodyBytes.toString("utf8")),
      form: () => parseMultipart(bodyBytes, boundaryOf(req.headers["content-type"]), SKILL_FORM_LIMITS),
    };
    const reply = route(this.store, entry.method, url.pathname, url.searchParams, body);
    if (decision.dropAfterCommit) {
      req.socket.destroy();
      return null;
    }
    send(res, reply, requestId);
    return reply.status;
  }

  /** `/_local/*`: no key (see docs), but the same Host check and body limits as /v1. */
  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const requestId = newId("req");
    try {
      const bodyText = await readBody(req, this.limits);
      send(res, this.admin(`${req.method ?? "GET"} ${url.pathname}`, bodyText), requestId);
    } catch (err) {
      if (!req.socket.destroyed) send(res, errorReply(err, requestId), requestId);
    }
  }

  private admin(key: string, bodyText: string): Reply {
    const faults = () => ({ status: 200, body: { faults: this.faults.settings } });
    switch (key) {
      case "GET /_local/health":
        return { status: 200, body: { status: "ok", agents: this.store.agentCount, environments: this.store.environmentCount } };
      case "GET /_local/log":
        return { status: 200, body: { data: this.log.map((e) => ({ ...e })) } };
      case "DELETE /_local/log":
        this.log = [];
        return { status: 200, body: { data: [] } };
      case "PUT /_local/faults":
        try {
          this.faults.set(parseFaults(parseJsonBody(bodyText)));
        } catch (err) {
          throw err instanceof ApiError ? err : badRequest((err as Error).message);
        }
        return faults();
      case "DELETE /_local/faults":
        this.faults.reset();
        return faults();
      case "GET /_local/faults":
        return faults();
      default:
        throw notFound(`${key} is not an admin endpoint`);
    }
  }
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/** Start a local control plane on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startLocalControlPlane(options: LocalServerOptions = {}): Promise<LocalControlPlane> {
  const store = new Store();
  const faults = new FaultEngine();
  if (options.faults) faults.set(options.faults);
  const state = options.stateFile !== undefined ? openState(options.stateFile, store) : null;
  const limits: BodyLimits = { maxBytes: options.maxBodyBytes ?? MAX_BODY_BYTES, timeoutMs: options.bodyTimeoutMs ?? BODY_TIMEOUT_MS };
  const handler = new Handler(store, faults, options.apiKey, limits);
  const server = http.createServer((req, res) => handler.dispatch(req, res));
  server.on("checkContinue", (req: http.IncomingMessage, res: http.ServerResponse) => handler.checkContinue(req, res));
  let port: number;
  try {
    port = await listen(server, options.port ?? 0);
  } catch (err) {
    if (state) releaseLock(state.lockFile);
    throw err;
  }
  let closed: Promise<void> | null = null;
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    try {
      if (state) await state.writer.close();
    } finally {
      // A request cut off mid-flight may still commit in memory; it must not write after the lock is gone.
      store.onCommit = () => {};
      if (state) releaseLock(state.lockFile);
    }
  };
  const cp: LocalControlPlane = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: options.apiKey ?? DEFAULT_API_KEY,
    requestLog: () => handler.log.map((e) => ({ ...e })),
    clearRequestLog: () => {
      handler.log = [];
    },
    setFaults: (partial) => faults.set(partial),
    resetFaults: () => faults.reset(),
    close: () => (closed ??= close()),
  };
  storeOf.set(cp, store);
  return cp;
}
