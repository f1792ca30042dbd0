/**
 * The least a response must look like before agentform relies on it. Everything else about a
 * live resource is compared, not trusted, by src/normalize; but an id, a name and the version
 * (or the version id references pin) go into plans and the lockfile as they are, so a create
 * answered with `{}` (or a list item without an id) must be an error, never a lockfile entry
 * without an id.
 */
import { nestingExceeds } from "../util/depth.js";
import { kindSpec } from "../kinds/index.js";
import type { Obj } from "../kinds/values.js";
import { BackendError } from "./errors.js";
import type { LiveOf, RequestBody, ResourceKind } from "./types.js";

/**
 * Deepest nesting accepted in a live resource. Manifests are capped at 64 levels; a deeper live
 * value (only a broken or hostile server sends one) would overflow the recursive canonical forms.
 */
const MAX_LIVE_NESTING = 256;

/**
 * What an id may look like. Real ids are a prefix and base62 (`agent_011CZkYpogX7uDKUyvBTophP`,
 * `env_011…`); the local control plane makes the same. Ids go into the lockfile, URL paths and
 * terminal output as they are, so an id with control characters, bidi overrides, slashes or
 * spaces is refused rather than carried along.
 */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Longest page cursor accepted: real ones are short tokens; it is sent back in a URL. */
const MAX_CURSOR_LENGTH = 4096;

/**
 * `value` as a live resource of `kind`, or a `response-invalid` BackendError. The raw response is
 * checked first, then completed by the kind's `fromApi` (a skill's `name` is its display_name),
 * then checked for what every kind's live resource must carry: a name, and the version or pin
 * its concurrency model relies on.
 */
export function checkLive<K extends ResourceKind>(kind: K, value: unknown, operation: string, expectedId?: string): LiveOf<K> {
  const raw = rawProblem(value, expectedId);
  if (raw !== undefined) throw invalid(operation, `the ${kind} in the response ${raw}`);
  const spec = kindSpec(kind);
  const live = spec.fromApi ? spec.fromApi(value as Obj) : (value as LiveOf<K>);
  const problem = liveProblem(kind, live);
  if (problem !== undefined) throw invalid(operation, `the ${kind} in the response ${problem}`);
  return live;
}

/**
 * A create's answer must describe what was asked for: a resource of another name is not the one
 * requested (a confused proxy, a broken server), and recording it under this name would be wrong.
 */
export function checkCreated<K extends ResourceKind>(kind: K, live: LiveOf<K>, body: RequestBody, operation: string): LiveOf<K> {
  const asked = bodyName(kind, body);
  const got = (live as unknown as { name: string }).name;
  if (asked !== undefined && got !== asked) throw invalid(operation, `the ${kind} in the response is named ${JSON.stringify(got.slice(0, 100))}, not ${JSON.stringify(asked.slice(0, 100))} as requested`);
  return live;
}

/** Whether `value` looks like an id (see ID_PATTERN): checked before one goes into a request path. */
export function isId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

function rawProblem(value: unknown, expectedId: string | undefined): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return `is ${describe(value)}, not an object`;
  const obj = value as Record<string, unknown>;
  if (typeof obj.id !== "string" || obj.id === "") return "has no id";
  if (!ID_PATTERN.test(obj.id)) return `has an id that is not 1 to 128 letters, digits, "_" or "-": ${JSON.stringify(obj.id.slice(0, 100))}`;
  if (expectedId !== undefined && obj.id !== expectedId) return `has id ${JSON.stringify(obj.id.slice(0, 100))}, not the one requested`;
  if (obj.metadata !== undefined && obj.metadata !== null && (typeof obj.metadata !== "object" || Array.isArray(obj.metadata))) {
    return "has metadata that is not an object";
  }
  if (nestingExceeds(obj, MAX_LIVE_NESTING)) return `nests values more than ${MAX_LIVE_NESTING} levels deep`;
  return undefined;
}

function liveProblem<K extends ResourceKind>(kind: K, live: LiveOf<K>): string | undefined {
  const spec = kindSpec(kind);
  const obj = live as unknown as Record<string, unknown>;
  if (typeof obj.name !== "string") return "has no name";
  const own = spec.shapeProblem?.(obj);
  if (own !== undefined) return own;
  if (spec.concurrency === "version" && !(Number.isSafeInteger(obj.version) && (obj.version as number) >= 1)) return "has no valid version";
  if (spec.concurrency === "pin") {
    // What references pin and apply compares before each write: a version id (the API's is a string).
    if (!isId(spec.pinOf(live))) return "has no valid latest version";
  }
  return undefined;
}

/**
 * One page of a list: `data` an array of at most `limit` items (more than we asked for is not
 * the API's paging), and `next_page` null, absent or a cursor of sane length.
 */
export function checkPage(body: unknown, limit: number, operation: string): { data: unknown[]; next: string | null } {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid(operation, `a page is ${describe(body)}, not an object`);
  const { data, next_page: next } = body as Record<string, unknown>;
  if (!Array.isArray(data)) throw invalid(operation, "a page has no data array");
  if (data.length > limit) throw invalid(operation, `a page has ${data.length} items, more than the ${limit} asked for`);
  if (next === undefined || next === null || next === "") return { data, next: null };
  if (typeof next !== "string" || next.length > MAX_CURSOR_LENGTH) throw invalid(operation, "a page has an unusable next_page cursor");
  return { data, next };
}

function invalid(operation: string, what: string): BackendError {
  return new BackendError({ operation, problem: "invalid", serverMessage: what });
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value === "" ? "empty" : "a string";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The name a request body gives its resource, as the live resource will carry it: the body is in
 * the API's field names, so the kind's `fromApi` maps it the way it maps a response (a skill's
 * `display_name` is its name). Undefined when the body names nothing (the server then picks one).
 */
export function bodyName(kind: ResourceKind, body: RequestBody): string | undefined {
  const fromApi = kindSpec(kind).fromApi;
  const named = (fromApi ? fromApi(body) : body) as { name?: unknown };
  return typeof named.name === "string" ? named.name : undefined;
}

/** A body's name for messages: quoted, or "(unnamed)" when it has none. */
export function describeName(kind: ResourceKind, body: RequestBody): string {
  const name = bodyName(kind, body);
  return name !== undefined ? JSON.stringify(name) : "(unnamed)";
}

/**
 * An update body with the optimistic lock set: `version` is the version the update was planned
 * against (a mismatch is a 409), never whatever the body happened to carry.
 */
export function lockedBody(body: RequestBody, expectedVersion: number | undefined): RequestBody {
  const params: RequestBody = { ...body };
  delete params.version;
  if (expectedVersion !== undefined) params.version = expectedVersion;
  return params;
}
