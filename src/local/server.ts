/**
 * The HTTP face of the local control plane: routing, auth and beta checks, the error envelope,
 * fault injection around every /v1 request, the request log, and the `/_local/` admin paths.
 */
import { mkdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { ApiError, badRequest, errorTypeForStatus, notFound } from "./api-error.js";
import { FaultEngine, parseFaults, type FaultConfig } from "./faults.js";
import { acquireLock, loadState, releaseLock, StateWriter } from "./persist.js";
import {
  AGENT_LIST_DEFAULT_LIMIT,
  AGENT_LIST_MAX_LIMIT,
  ENVIRONMENT_LIST_DEFAULT_LIMIT,
  ENVIRONMENT_LIST_MAX_LIMIT,
  Store,
} from "./store.js";
import { newId } from "./util.js";

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

/** The beta every agent and environment request must name in `anthropic-beta`. */
export const REQUIRED_BETA = "managed-agents-2026-04-01";
const DEFAULT_API_KEY = "local-dev-key";
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** In-process access to a server's store, for seeding helpers (see seed.ts). */
export const storeOf = new WeakMap<LocalControlPlane, Store>();

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function envelope(err: ApiError, requestId: string): unknown {
  const error: Record<string, unknown> = { type: err.type, message: err.message };
  if (err.errorCode !== undefined) error.details = { error_code: err.errorCode };
  return { type: "error", error, request_id: requestId };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, "request_too_large", "request body is too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
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

/** Route one authenticated /v1 request to the store. */
function route(store: Store, method: string, pathname: string, q: URLSearchParams, body: () => unknown): Reply {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent); // ["v1", ...]
  const [, collection, id, sub, extra] = parts;
  const ok = (b: unknown): Reply => ({ status: 200, body: b });
  if (extra === undefined && collection === "agents") {
    if (id === undefined) {
      if (method === "GET") {
        return ok(
          store.listAgents({
            limit: parseLimit(q, AGENT_LIST_DEFAULT_LIMIT, AGENT_LIST_MAX_LIMIT),
            page: q.get("page"),
            includeArchived: parseBool(q, "include_archived"),
            createdGte: parseTime(q, "created_at[gte]"),
            createdLte: parseTime(q, "created_at[lte]"),
          }),
        );
      }
      if (method === "POST") return ok(store.createAgent(body()));
    } else if (sub === undefined) {
      if (method === "GET") {
        const raw = q.get("version");
        let version: number | null = null;
        if (raw !== null) {
          version = Number(raw);
          if (!Number.isInteger(version) || version < 1) throw badRequest("version: must be an integer ≥ 1");
        }
        return ok(store.getAgent(id, version));
      }
      if (method === "POST") return ok(store.updateAgent(id, body()));
    } else if (sub === "archive" && method === "POST") {
      return ok(store.archiveAgent(id));
    } else if (sub === "versions" && method === "GET") {
      return ok(store.listAgentVersions(id, parseLimit(q, AGENT_LIST_DEFAULT_LIMIT, AGENT_LIST_MAX_LIMIT), q.get("page")));
    }
  }
  if (extra === undefined && collection === "environments") {
    if (id === undefined) {
      if (method === "GET") {
        return ok(store.listEnvironments(parseLimit(q, ENVIRONMENT_LIST_DEFAULT_LIMIT, ENVIRONMENT_LIST_MAX_LIMIT), q.get("page"), parseBool(q, "include_archived")));
      }
      if (method === "POST") return ok(store.createEnvironment(body()));
    } else if (sub === undefined) {
      if (method === "GET") return ok(store.getEnvironment(id));
      if (method === "POST") return ok(store.updateEnvironment(id, body()));
      if (method === "DELETE") return ok(store.deleteEnvironment(id));
    } else if (sub === "archive" && method === "POST") {
      return ok(store.archiveEnvironment(id));
    }
  }
  throw notFound(`${method} ${pathname} is not an endpoint of the local control plane`);
}

function checkAuth(req: http.IncomingMessage, expected: string | undefined): void {
  const xKey = req.headers["x-api-key"];
  const auth = req.headers.authorization;
  const fail = (message: string) => new ApiError(401, "authentication_error", message);
  if (typeof xKey === "string" && xKey !== "" && typeof auth === "string" && auth !== "") {
    throw fail("send either x-api-key or Authorization, not both");
  }
  let key: string | undefined;
  if (typeof xKey === "string" && xKey !== "") key = xKey;
  else if (typeof auth === "string") {
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m) key = m[1];
  }
  if (!key) throw fail("missing credentials: send x-api-key or Authorization: Bearer");
  if (expected !== undefined && key !== expected) throw fail("invalid x-api-key");
}

function checkBeta(req: http.IncomingMessage): void {
  const raw = req.headers["anthropic-beta"];
  const values = (Array.isArray(raw) ? raw.join(",") : (raw ?? "")).split(",").map((s) => s.trim());
  if (!values.includes(REQUIRED_BETA)) {
    throw badRequest(`this endpoint is in beta: requests must send the anthropic-beta header with ${REQUIRED_BETA}`);
  }
}

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "request-id": requestId,
    ...reply.headers,
  });
  res.end(text);
}

function errorReply(err: unknown, requestId: string): Reply {
  const apiErr = err instanceof ApiError ? err : new ApiError(500, "api_error", "internal error in the local control plane");
  return { status: apiErr.status, body: envelope(apiErr, requestId), headers: apiErr.headers };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Start a local control plane on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startLocalControlPlane(options: LocalServerOptions = {}): Promise<LocalControlPlane> {
  const store = new Store();
  const faults = new FaultEngine();
  if (options.faults) faults.set(options.faults);
  let lockFile: string | null = null;
  let writer: StateWriter | null = null;
  if (options.stateFile !== undefined) {
    const stateFile = path.resolve(options.stateFile);
    mkdirSync(path.dirname(stateFile), { recursive: true });
    lockFile = acquireLock(stateFile);
    try {
      loadState(stateFile, store);
    } catch (err) {
      releaseLock(lockFile);
      throw err;
    }
    const w = new StateWriter(stateFile, store);
    writer = w;
    store.onCommit = () => w.schedule();
  }

  let log: RequestLogEntry[] = [];
  let seq = 0;

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    const write = method === "POST" || method === "DELETE";
    const entry: RequestLogEntry = { seq: ++seq, method, path: url.pathname, query: url.search.replace(/^\?/, ""), status: null, durationMs: 0, write };
    const requestId = newId("req");
    const finish = (status: number | null) => {
      entry.status = status;
      entry.durationMs = performance.now() - started;
      log.push(entry);
    };
    const isEnvironment = url.pathname === "/v1/environments" || url.pathname.startsWith("/v1/environments/");
    let holdsSlot = false;
    try {
      if (isEnvironment) {
        if (!faults.acquireEnvironment()) {
          entry.fault = "environmentConcurrency";
          throw new ApiError(429, "rate_limit_error", "too many concurrent environment requests", undefined, { "retry-after": "1" });
        }
        holdsSlot = true;
      }
      const bodyText = await readBody(req);
      const delay = faults.latency();
      if (delay > 0) await sleep(delay);
      checkAuth(req, options.apiKey);
      checkBeta(req);
      const decision = faults.decide(write);
      if (decision.fault) entry.fault = decision.fault;
      if (decision.kind === "error") {
        const headers: Record<string, string> = decision.retryAfterSeconds !== undefined ? { "retry-after": String(decision.retryAfterSeconds) } : {};
        throw new ApiError(decision.status, errorTypeForStatus(decision.status), `injected fault (${decision.fault})`, undefined, headers);
      }
      if (decision.kind === "dropBeforeCommit") {
        finish(null);
        req.socket.destroy();
        return;
      }
      const reply = route(store, method, url.pathname, url.searchParams, () => parseJsonBody(bodyText));
      if (decision.dropAfterCommit) {
        finish(null);
        req.socket.destroy();
        return;
      }
      send(res, reply, requestId);
      finish(reply.status);
    } catch (err) {
      const reply = errorReply(err, requestId);
      send(res, reply, requestId);
      finish(reply.status);
    } finally {
      if (holdsSlot) faults.releaseEnvironment();
    }
  }

  async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const requestId = newId("req");
    const method = req.method ?? "GET";
    try {
      const bodyText = await readBody(req);
      const key = `${method} ${url.pathname}`;
      let reply: Reply;
      if (key === "GET /_local/health") reply = { status: 200, body: { status: "ok", agents: store.agentCount, environments: store.environmentCount } };
      else if (key === "GET /_local/log") reply = { status: 200, body: { data: log.map((e) => ({ ...e })) } };
      else if (key === "DELETE /_local/log") {
        log = [];
        reply = { status: 200, body: { data: [] } };
      } else if (key === "PUT /_local/faults") {
        try {
          faults.set(parseFaults(parseJsonBody(bodyText)));
        } catch (err) {
          throw err instanceof ApiError ? err : badRequest((err as Error).message);
        }
        reply = { status: 200, body: { faults: faults.settings } };
      } else if (key === "DELETE /_local/faults") {
        faults.reset();
        reply = { status: 200, body: { faults: faults.settings } };
      } else if (key === "GET /_local/faults") reply = { status: 200, body: { faults: faults.settings } };
      else throw notFound(`${key} is not an admin endpoint`);
      send(res, reply, requestId);
    } catch (err) {
      send(res, errorReply(err, requestId), requestId);
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handler = url.pathname.startsWith("/_local/") ? handleAdmin : url.pathname.startsWith("/v1/") ? handleApi : null;
    if (handler) {
      // Handlers answer their own errors; this only catches a failure to write the answer.
      handler(req, res, url).catch(() => res.destroy());
      return;
    }
    const requestId = newId("req");
    send(res, errorReply(notFound(`${url.pathname} is not an endpoint of the local control plane`), requestId), requestId);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    if (lockFile) releaseLock(lockFile);
    throw err;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  let closed: Promise<void> | null = null;
  const cp: LocalControlPlane = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: options.apiKey ?? DEFAULT_API_KEY,
    requestLog: () => log.map((e) => ({ ...e })),
    clearRequestLog: () => {
      log = [];
    },
    setFaults: (partial) => faults.set(partial),
    resetFaults: () => faults.reset(),
    close: () => {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        try {
          if (writer) await writer.close();
        } finally {
          // A request cut off mid-flight may still commit in memory; it must not write after the lock is gone.
          store.onCommit = () => {};
          if (lockFile) releaseLock(lockFile);
        }
      })();
      return closed;
    },
  };
  storeOf.set(cp, store);
  return cp;
}
