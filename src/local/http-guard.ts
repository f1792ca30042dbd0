/**
 * The local control plane's defences at the HTTP edge, applied before any request reaches the
 * store: the Host check (DNS rebinding), the request target and its percent-escapes, the API key
 * compared in constant time, and a body reader with a size limit and a deadline. Also the
 * "lingering close" that lets a client whose body was refused early read the answer instead of
 * a connection reset.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { ApiError, badRequest } from "./api-error.js";

/** Body limits of one server. */
export interface BodyLimits {
  /** Largest accepted body; more gets 413. */
  maxBytes: number;
  /** Time allowed for the whole body to arrive once the headers are in; past it → 408. */
  timeoutMs: number;
}

/** How long a refused request may keep sending (discarded) before its connection is cut. */
export const LINGER_MS = 2_000;

// Loopback names only, any port. A browser page on another origin that resolves its own name to
// 127.0.0.1 (DNS rebinding) still sends its own name in Host, so it is refused here.
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/** Refuse a request whose Host header is not a loopback name (421, the API error envelope). */
export function checkHost(req: http.IncomingMessage): void {
  const host = req.headers.host;
  if (typeof host === "string" && LOOPBACK_HOST.test(host)) return;
  const shown = host === undefined ? "(none)" : JSON.stringify(host.slice(0, 100));
  throw new ApiError(
    421,
    "invalid_request_error",
    `Host ${shown} is not a loopback name: the local control plane answers only 127.0.0.1, localhost and [::1]`,
  );
}

function decodeOrReject(text: string, what: string): void {
  try {
    decodeURIComponent(text);
  } catch {
    throw badRequest(`the request ${what} contains an invalid percent-escape (% must be followed by two hex digits of valid UTF-8)`);
  }
}

/**
 * Parse the request target. Only origin-form (`/path?query`) is accepted; the path and the query
 * must percent-decode cleanly, because URLSearchParams would silently keep a malformed escape and
 * decodeURIComponent would throw later. Prefixing the origin (instead of resolving against a
 * base) keeps a target like `//host/...` a path rather than an authority.
 */
export function parseTarget(raw: string | undefined): URL {
  const target = raw ?? "/";
  if (!target.startsWith("/")) throw badRequest("the request target must be a path starting with /");
  const q = target.indexOf("?");
  decodeOrReject(q < 0 ? target : target.slice(0, q), "path");
  if (q >= 0) decodeOrReject(target.slice(q + 1).replace(/\+/g, " "), "query");
  try {
    return new URL(`http://127.0.0.1${target}`);
  } catch {
    throw badRequest("the request target is not a valid path");
  }
}

/** One path segment, decoded; a malformed escape is the client's error, never a 500. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest("the request path contains an invalid percent-escape");
  }
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * Key comparison in constant time. Hashing first gives two equal-length buffers (timingSafeEqual
 * requires that) and hides the expected key's length as well as its content.
 */
export function keyMatches(sent: string, expected: string): boolean {
  return timingSafeEqual(digest(sent), digest(expected));
}

/** The credential of a request (x-api-key or Authorization: Bearer); throws 401 when absent or both. */
function sentKey(req: http.IncomingMessage): string {
  const xKey = req.headers["x-api-key"];
  const auth = req.headers.authorization;
  const fail = (message: string) => new ApiError(401, "authentication_error", message);
  if (typeof xKey === "string" && xKey !== "" && typeof auth === "string" && auth !== "") {
    throw fail("send either x-api-key or Authorization, not both");
  }
  if (typeof xKey === "string" && xKey !== "") return xKey;
  const m = typeof auth === "string" ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  if (!m?.[1]) throw fail("missing credentials: send x-api-key or Authorization: Bearer");
  return m[1];
}

/** Header-only auth: runs before a single body byte is read. `expected` undefined = any non-empty key. */
export function checkAuth(req: http.IncomingMessage, expected: string | undefined): void {
  const key = sentKey(req);
  if (expected !== undefined && !keyMatches(key, expected)) throw new ApiError(401, "authentication_error", "invalid x-api-key");
}

const tooLarge = (max: number) => new ApiError(413, "request_too_large", `request body is too large (the limit is ${max} bytes)`);

/**
 * Read the body within the limits, as bytes (multipart uploads are binary). A declared
 * Content-Length over the limit is refused before reading; a body that grows past it, or does not
 * finish in time, is refused as soon as that happens. The reader then stops listening; `send`
 * (with lingerOnEarlyReply) deals with the rest.
 */
export function readBodyBytes(req: http.IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (Number.isFinite(declared) && declared > limits.maxBytes) return reject(tooLarge(limits.maxBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: unknown, body?: Buffer) => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (err) reject(err);
      else resolve(body ?? Buffer.alloc(0));
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limits.maxBytes) settle(tooLarge(limits.maxBytes));
      else chunks.push(c);
    };
    const onEnd = () => settle(null, Buffer.concat(chunks));
    const onError = (err: Error) => settle(err);
    const onClose = () => settle(new Error("the client closed the connection before the body ended"));
    const timer = setTimeout(
      () => settle(new ApiError(408, "timeout_error", `the request body did not arrive within ${limits.timeoutMs} ms`)),
      limits.timeoutMs,
    );
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** readBodyBytes, decoded as UTF-8 (JSON bodies and the admin paths). */
export async function readBody(req: http.IncomingMessage, limits: BodyLimits): Promise<string> {
  return (await readBodyBytes(req, limits)).toString("utf8");
}

/**
 * Prepare the reply to a request whose body was not (fully) read: answer with
 * `Connection: close`, then half-close and keep discarding what the client still sends, for at
 * most LINGER_MS. Closing at once with unread bytes would make the kernel send a TCP reset, and
 * a client still writing its body would see ECONNRESET/EPIPE instead of our answer. Node's HTTP
 * server ends such a connection through `socket.destroySoon()`, so that is what is replaced, on
 * this one socket only.
 */
export function lingerOnEarlyReply(req: http.IncomingMessage, headers: Record<string, string>): void {
  if (req.complete) return;
  headers.connection = "close";
  const socket = req.socket;
  socket.destroySoon = function lingeringClose(this: typeof socket) {
    this.end();
    const cut = setTimeout(() => this.destroy(), LINGER_MS);
    cut.unref();
    this.once("close", () => clearTimeout(cut));
  };
  req.resume();
}
