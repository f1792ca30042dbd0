/**
 * The loopback relay every `ant` run talks to: ant builds each request (path, query, headers,
 * body) and sends it to 127.0.0.1, and the relay sends it on to the target under the rules the
 * SDK backend keeps (boundedFetch: size and time bounds, no redirects). Without it:
 *
 * - ant's Go client follows redirects and sends its `X-Api-Key` header to whatever host a
 *   `Location` names, past the allowed-hosts check, and its debug dumps do not even show that
 *   it happened;
 * - ant resends 408, 409, 429, 5xx and lost answers up to twice on its own, with no flag to stop
 *   it: a create whose answer was lost was sent again blindly (a duplicate), a version conflict
 *   three times, a lost update answered 409 although it had landed.
 *
 * So every answer the relay gives carries `x-should-retry: false` (ant's client honours it over
 * the status), and agentform's own policy (resilient.ts) decides about retries, as for the SDK.
 * An answer that did not come (no response, a timeout, a redirect, a body too large) is sent to
 * ant as a 502 whose envelope names the problem under a type only this relay knows, so a server
 * cannot forge one.
 *
 * The key never reaches ant: each run gets a token of its own as its API key, which the relay
 * swaps for the real key. The token also tells the relay which run a request belongs to, so a
 * run knows how many requests ant sent (none: ant refused before sending) and another local
 * user cannot use the relay.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { boundedFetch, ResponseProblemError, retryAfterSeconds, type ResponseLimits } from "./http.js";
import type { ResponseProblem } from "./errors.js";
// The local control plane's bounded body reader: the relay is a server at the same edge.
import { ApiError } from "../local/api-error.js";
import { readBodyBytes } from "../local/http-guard.js";

export interface RelaySettings {
  /** Where requests go: the target's base URL, without a trailing slash. */
  upstream: string;
  apiKey: string;
  limits: ResponseLimits;
  /** Longest one request may take upstream, headers and body. */
  timeoutMs: number;
}

/** What the relay saw of one run's requests. */
export interface RunRecord {
  requests: number;
  /** What ant's error output does not carry: the last answer's status, wait and request id. */
  status?: number;
  retryAfterSeconds?: number | undefined;
  requestId?: string | undefined;
}

/** What a relay's 502 says went wrong: a problem of the answer, or none came at all. */
export type RelayFailure = { problem: ResponseProblem; message: string } | { problem: "no-response"; message: string };

export interface Relay {
  readonly url: string;
  /** The error type of the relay's own 502s (unguessable per relay). */
  readonly marker: string;
  /** A new run: the token ant sends as its key, and what the relay sees of it until `end`. */
  begin(): { token: string; end(): RunRecord };
  close(): Promise<void>;
}

/** Most bytes of a request body the relay reads from ant: far above any agent or environment. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** Headers that belong to one connection, never relayed; and the key, which the relay sets. */
const NOT_RELAYED = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding", "x-api-key", "authorization", "proxy-authorization", "upgrade", "te", "trailer"]);
/** Answer headers ant may see: what errors and pacing read. */
const ANSWER_HEADERS = ["content-type", "request-id", "retry-after", "retry-after-ms"];

export async function startRelay(settings: RelaySettings): Promise<Relay> {
  const runs = new Map<string, RunRecord>();
  const marker = `agentform_relay_${randomBytes(8).toString("hex")}`;
  const fetchBounded = boundedFetch(settings.limits);
  const server: Server = createServer((req, res) => {
    relay(req, res, { settings, runs, marker, fetchBounded }).catch(() => fail(res, marker, { problem: "no-response", message: "the relay failed" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // Never what keeps agentform running.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    marker,
    begin: () => {
      const token = `agentform-run-${randomBytes(24).toString("hex")}`;
      const record: RunRecord = { requests: 0 };
      runs.set(token, record);
      return {
        token,
        end: () => {
          runs.delete(token);
          return record;
        },
      };
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface RelayContext {
  settings: RelaySettings;
  runs: Map<string, RunRecord>;
  marker: string;
  fetchBounded: ReturnType<typeof boundedFetch>;
}

async function relay(req: IncomingMessage, res: ServerResponse, ctx: RelayContext): Promise<void> {
  const record = ctx.runs.get(String(req.headers["x-api-key"] ?? ""));
  if (!record) {
    res.writeHead(401, { "content-type": "application/json", "x-should-retry": "false" }).end('{"type":"error","error":{"type":"authentication_error","message":"not a run of this agentform"}}');
    return;
  }
  record.requests++;
  let body: Buffer;
  try {
    body = await readBodyBytes(req, { maxBytes: MAX_REQUEST_BYTES, timeoutMs: ctx.settings.limits.bodyTimeoutMs });
  } catch (err) {
    if (err instanceof ApiError && err.status === 413) return fail(res, ctx.marker, { problem: "too-large", message: `ant sent a body over ${MAX_REQUEST_BYTES} bytes` });
    throw err;
  }
  let answer: Response;
  try {
    answer = await ctx.fetchBounded(`${ctx.settings.upstream}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers: relayedHeaders(req, ctx.settings.apiKey),
      body: body.byteLength > 0 ? body : undefined,
      signal: AbortSignal.timeout(ctx.settings.timeoutMs),
    });
  } catch (err) {
    if (err instanceof ResponseProblemError) return fail(res, ctx.marker, { problem: err.problem, message: err.message });
    const timedOut = (err as { name?: unknown } | null)?.name === "TimeoutError";
    return fail(res, ctx.marker, { problem: "no-response", message: timedOut ? `no answer within ${ctx.settings.timeoutMs} ms` : "the connection failed" });
  }
  record.status = answer.status;
  record.retryAfterSeconds = retryAfterSeconds(answer.headers);
  record.requestId = answer.headers.get("request-id") ?? undefined;
  const headers: Record<string, string> = { "x-should-retry": "false" };
  for (const name of ANSWER_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  res.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
}

function relayedHeaders(req: IncomingMessage, apiKey: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (NOT_RELAYED.has(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  headers.set("x-api-key", apiKey);
  return headers;
}

function fail(res: ServerResponse, marker: string, failure: RelayFailure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const envelope = { type: "error", error: { type: marker, message: JSON.stringify(failure) } };
  res.writeHead(502, { "content-type": "application/json", "x-should-retry": "false" }).end(JSON.stringify(envelope));
}

/** A relay 502's failure, when `type` is this relay's marker and the message is its own. */
export function relayFailure(marker: string, type: string | undefined, message: string | undefined): RelayFailure | undefined {
  if (type !== marker || message === undefined) return undefined;
  try {
    const parsed = JSON.parse(message) as RelayFailure;
    return typeof parsed.problem === "string" && typeof parsed.message === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}
