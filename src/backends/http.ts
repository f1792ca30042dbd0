/**
 * The fetch the sdk backend hands to the SDK: the global fetch, bounded so that a hostile or
 * broken server (or whatever answers at a wrong base URL) cannot make agentform hold unbounded
 * memory, wait forever, or take an HTML page for an API answer.
 *
 * - Bodies are read here, in full, before the SDK sees the response, counting bytes as they
 *   arrive and cancelling the read past `maxResponseBytes`. A `content-length` above the cap is
 *   refused without reading at all.
 * - Headers are covered by the SDK's own request timeout; the body gets `bodyTimeoutMs` from
 *   the moment headers arrived, so a server that sends headers and then one byte a second is
 *   cut off, not waited on for minutes.
 * - A successful answer must be JSON (`application/json` or `+json`), or, for the one client
 *   that downloads content (a skill version's zip), one of the media types it names; 204s carry
 *   no body at all.
 * - A connection that breaks mid-body is reported as such, distinctly from one that never
 *   answered, because a write may have committed either way.
 * - Redirects are never followed: fetch would resend the request, its body, the key and any
 *   custom headers to whatever host a `Location` names, past the allowed-hosts check
 *   (key-destination.ts). Any 3xx is refused instead.
 * - All the pages of one list call share a byte budget (`maxListBytes`): the per-response cap
 *   alone lets 10,000 pages of 16 MiB each accumulate. The budget is found through
 *   AsyncLocalStorage because the SDK, not agentform, calls this fetch for each page.
 *
 * Problems are thrown as ResponseProblemError; the SDK wraps errors thrown by fetch in an
 * APIConnectionError with this one as its `cause`, and sdk.ts turns that into a coded
 * BackendError.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ResponseProblem } from "./errors.js";

export interface ResponseLimits {
  /** Largest response body read, in bytes. */
  maxResponseBytes: number;
  /** Longest time for a body to arrive once the headers have, in milliseconds. */
  bodyTimeoutMs: number;
  /** Most pages one list call follows. */
  maxPages: number;
  /** Most response bytes one list call reads, all its pages together. */
  maxListBytes: number;
}

/**
 * 16 MiB: a page of 100 agents is usually well under 1 MiB, but the API lets each system prompt
 * reach 100,000 characters, so a legitimate full page can approach 10 MiB. Still a bound.
 */
export const DEFAULT_LIMITS: ResponseLimits = {
  maxResponseBytes: 16 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  maxPages: 10_000,
  // Far above any real workspace (thousands of agents with long prompts), far below what would
  // exhaust memory; items of a list are all held until the list ends.
  maxListBytes: 256 * 1024 * 1024,
};

/** The limits with `partial`'s defined values over the defaults (`{ maxPages: undefined }` keeps the default). */
export function limitsWith(partial: Partial<ResponseLimits> | undefined): ResponseLimits {
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(partial ?? {}).filter(([, v]) => v !== undefined)) };
}

/** Bytes read so far by one list call, against its limit. */
interface ListBudget {
  used: number;
  readonly limit: number;
}

const listBudget = new AsyncLocalStorage<ListBudget>();

/**
 * Run `fn` (one list call and every page request it makes) against a fresh budget of `limit`
 * response bytes; boundedFetch charges every body read inside it.
 */
export function withListBudget<T>(limit: number, fn: () => Promise<T>): Promise<T> {
  return listBudget.run({ used: 0, limit }, fn);
}

/**
 * Charge `bytes` read outside boundedFetch (a page an `ant` process printed) to the list call
 * running now, if any: the list-too-large problem once its budget is spent.
 */
export function chargeListBudget(bytes: number): void {
  const budget = listBudget.getStore();
  if (budget === undefined) return;
  budget.used += bytes;
  if (budget.used > budget.limit) throw new ResponseProblemError("list-too-large", `the list's responses add up to more than ${budget.limit} bytes`);
}

/** Statuses whose responses never have a body (fetch refuses to build one for them). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Why a response could not be used; carried to sdk.ts as the `cause` of the SDK's error. */
export class ResponseProblemError extends Error {
  constructor(
    readonly problem: ResponseProblem,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    // Not "AbortError", and no "timed out" in the message: the SDK would then replace this error
    // with its generic timeout error and the reason would be lost.
    this.name = "ResponseProblemError";
  }
}

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Wrap `base` (the global fetch by default) with the limits above. `binary` names the media
 * types a successful answer may have besides JSON (none, except for content downloads).
 */
export function boundedFetch(limits: ResponseLimits, base: Fetch = (input, init) => fetch(input, init), binary: ReadonlySet<string> = new Set()): Fetch {
  return async (input, init) => {
    const response = await base(input, { ...init, redirect: "manual" });
    const status = response.status;
    if (status >= 300 && status < 400) {
      await discard(response);
      throw new ResponseProblemError("redirect", `the server answered ${status}, a redirect; agentform never follows redirects`, status);
    }
    if (response.body === null || NULL_BODY_STATUSES.has(status)) return response;
    if (response.ok && !isJson(response.headers.get("content-type")) && !binary.has(mediaOf(response.headers.get("content-type")))) {
      await discard(response);
      const type = response.headers.get("content-type") ?? "none";
      throw new ResponseProblemError("not-json", `the server answered ${status} with content-type ${printable(type)}, not JSON`, status);
    }
    const declared = Number(response.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > limits.maxResponseBytes) {
      await discard(response);
      throw tooLarge(limits, status);
    }
    const bytes = await readCapped(response, limits, listBudget.getStore());
    return new Response(bytes, { status, statusText: response.statusText, headers: response.headers });
  };
}

function mediaOf(contentType: string | null): string {
  return contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
}

function isJson(contentType: string | null): boolean {
  const media = mediaOf(contentType);
  return media === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(media);
}

/** Read the whole body, or fail: too large, too slow, or cut off. */
async function readCapped(response: Response, limits: ResponseLimits, budget: ListBudget | undefined): Promise<Uint8Array> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => undefined);
  }, limits.bodyTimeoutMs);
  const slow = () =>
    new ResponseProblemError("timeout", `the response body was not complete ${limits.bodyTimeoutMs} ms after its headers`, response.status);
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        if (timedOut) throw slow();
        // The SDK's own timeout (or the caller) aborted: let the SDK report that as it does.
        if ((err as { name?: unknown } | null)?.name === "AbortError") throw err;
        throw new ResponseProblemError("incomplete", `the connection broke after ${total} bytes of a ${response.status} response`, response.status);
      }
      if (timedOut) throw slow();
      if (step.done) break;
      total += step.value.byteLength;
      if (total > limits.maxResponseBytes) {
        reader.cancel().catch(() => undefined);
        throw tooLarge(limits, response.status);
      }
      if (budget !== undefined) {
        // Charged as bytes arrive, so the page that crosses the budget is not read to its end.
        budget.used += step.value.byteLength;
        if (budget.used > budget.limit) {
          reader.cancel().catch(() => undefined);
          throw new ResponseProblemError("list-too-large", `the list's responses add up to more than ${budget.limit} bytes`, response.status);
        }
      }
      chunks.push(step.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return concat(chunks, total);
}

function tooLarge(limits: ResponseLimits, status: number): ResponseProblemError {
  return new ResponseProblemError("too-large", `the ${status} response body is larger than ${limits.maxResponseBytes} bytes`, status);
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * The media type as it may appear in a message: a plain `type/subtype` of sane length, or
 * nothing. Never a cut-off part of the header, which a server could have filled with anything
 * (a reflected credential cut short would escape redaction).
 */
function printable(value: string): string {
  const media = value.split(";")[0]?.trim() ?? "";
  return media.length <= 80 && /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(media) ? JSON.stringify(media) : "(unrecognised)";
}

/** Seconds a server asks a client to wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date). */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  if (!headers || typeof headers.get !== "function") return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms) / 1000;
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - Date.now()) / 1000);
}
