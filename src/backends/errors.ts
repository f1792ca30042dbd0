/**
 * The one error type both backends raise for a failed API call, so the reconciler never
 * branches on which client it used. Built from the HTTP status and the error envelope
 * (the API's error envelope); the message never contains the API key.
 */
import { AgentformError, ExitCode } from "../errors.js";
import { inertText } from "../render/inert.js";

/**
 * A response agentform could not use, whatever its status: it is never trusted, and never
 * recorded in the lockfile. `timeout` and `incomplete` are transient (the connection failed
 * part-way); the others are how that server answers, so resending would only repeat them.
 */
export type ResponseProblem =
  | "too-large"
  | "timeout"
  | "incomplete"
  | "not-json"
  | "invalid"
  | "pagination-loop"
  | "page-limit"
  | "list-too-large"
  | "redirect";

const PROBLEM_CODES: Record<ResponseProblem, string> = {
  "too-large": "response-too-large",
  timeout: "response-timeout",
  incomplete: "response-incomplete",
  "not-json": "response-not-json",
  invalid: "response-invalid",
  "pagination-loop": "pagination-loop",
  "page-limit": "pagination-limit",
  "list-too-large": "list-too-large",
  redirect: "response-redirect",
};

const PROBLEM_HINTS: Record<ResponseProblem, string> = {
  "too-large":
    "Check that the target's base_url points at the Managed Agents API. If a legitimate response is this large, raise AGENTFORM_MAX_RESPONSE_BYTES.",
  timeout: "The server sent headers but not the body in time. Check the network and the target's base_url, or raise AGENTFORM_BODY_TIMEOUT_MS.",
  incomplete: "The connection broke part-way through the response. Check the network and the target's base_url; agentform retries this a few times itself.",
  "not-json": "Something other than the Managed Agents API answered (a proxy, captive portal or login page?). Check the target's base_url.",
  invalid: "The response does not have the shape the Managed Agents API sends. Check the target's base_url.",
  "pagination-loop": "The server sent a page cursor it had already sent, so listing would never end. Check the target's base_url.",
  "page-limit": "Listing did not end within the page limit. Check the target's base_url, or raise AGENTFORM_MAX_PAGES if the workspace really is that large.",
  "list-too-large":
    "One list's pages together exceeded the byte limit. Check the target's base_url, or raise AGENTFORM_MAX_LIST_BYTES if the workspace really is that large.",
  redirect:
    "Redirects are never followed: they would send the key and the request to another address. Set the target's base_url to the address that answers itself.",
};

export interface BackendErrorInit {
  /** HTTP status; undefined when no response arrived (connection reset, timeout). */
  status?: number | undefined;
  /** `error.type` of the envelope, e.g. "invalid_request_error". */
  type?: string | undefined;
  /** `error.details.error_code` when present, e.g. "environment_archived". */
  errorCode?: string | undefined;
  requestId?: string | undefined;
  /** Seconds from a `retry-after` header, when the server sent one. */
  retryAfterSeconds?: number | undefined;
  /** Set when the response itself was unusable (then `status` is undefined: it was not an answer). */
  problem?: ResponseProblem | undefined;
  /** What was being done, e.g. `update agent "triage" (agent_011…)`. */
  operation: string;
  /** The server's message (or the transport error's), already free of secrets. */
  serverMessage: string;
  cause?: unknown;
}

/** What a failed answer says when the server gave no message of its own (the same through every backend). */
export function answeredStatus(status: number): string {
  return `the server answered ${status}`;
}

export class BackendError extends AgentformError {
  readonly status: number | undefined;
  readonly type: string | undefined;
  readonly errorCode: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly operation: string;
  readonly problem: ResponseProblem | undefined;

  constructor(init: BackendErrorInit) {
    const where = init.problem !== undefined ? "unusable response" : init.status === undefined ? "no response" : `HTTP ${init.status}`;
    // A 409 says "conflict" whatever error.type the server chose.
    const code = init.errorCode ?? (init.status === 409 ? "conflict" : init.type) ?? (init.status === undefined ? "connection_error" : `http_${init.status}`);
    // One line, whatever the server put in its message (or a lockfile in an id): reportError keeps
    // a message's own line breaks, so a "\n" from a value could otherwise print a forged line.
    super(
      init.problem !== undefined ? PROBLEM_CODES[init.problem] : `api.${inertText(code)}`,
      inertText(`${init.operation} failed (${where}): ${init.serverMessage}${init.requestId ? ` [request ${init.requestId}]` : ""}`),
      init.status === 409 && init.problem === undefined ? ExitCode.refused : ExitCode.error,
      { cause: init.cause, hint: init.problem !== undefined ? PROBLEM_HINTS[init.problem] : hintFor(init) },
    );
    this.problem = init.problem;
    this.status = init.problem === undefined ? init.status : undefined;
    this.type = init.type;
    this.errorCode = init.errorCode;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.operation = init.operation;
  }

  /** 409: the resource changed under us (version mismatch, duplicate environment name). */
  get isConflict(): boolean {
    return this.status === 409;
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
  /**
   * The optimistic lock failed: the version sent is not the current one. The API's status for it
   * is undocumented, so besides a 409 a 400 that names the version counts, but not one about a
   * roster (a pinned version that does not exist is not a race).
   */
  get isVersionConflict(): boolean {
    if (this.isConflict) return true;
    return this.status === 400 && /\bversion\b/i.test(this.message) && !/(multiagent|roster|predefined|agents\[|has no version)/i.test(this.message);
  }
  /**
   * No usable response: the server may or may not have committed the write. Creates that fail
   * this way must be reconciled by listing, never blindly retried.
   */
  get isAmbiguous(): boolean {
    return this.status === undefined;
  }
  /** Transient: worth retrying with backoff (429 rate limits, 5xx, 408, no response). */
  get isRetryable(): boolean {
    // A body cut off or stalled is a network failure; an oversized, non-JSON or malformed answer,
    // or a list that never ends, is what that server does, and resending would only repeat it.
    if (this.problem !== undefined) return this.problem === "timeout" || this.problem === "incomplete";
    if (this.status === undefined) return true;
    // Spend and ramp limits are 429s that a retry will not fix.
    if (this.status === 429) return !SPEND_LIMIT_CODES.has(this.errorCode ?? "");
    return this.status === 408 || this.status >= 500;
  }
}

const SPEND_LIMIT_CODES = new Set(["enforced_spend_limit_reached", "contract_spend_limit_reached", "ramp_limit_exceeded"]);

function hintFor(init: BackendErrorInit): string | undefined {
  switch (init.status) {
    case undefined:
      return "Check the network and the target's base_url; agentform retries transient failures itself.";
    case 401:
      return "The API key was rejected: check the environment variable named by the target's api_key_env.";
    case 403:
      return "The key lacks permission for this workspace or operation.";
    case 404:
      return "The resource no longer exists; run `agentform plan` again.";
    case 409:
      return "It changed since it was read; run `agentform plan` again.";
    case 429:
      return "Rate limited; lower --concurrency or the target's writes_per_minute.";
    default:
      return undefined;
  }
}
