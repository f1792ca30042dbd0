/** Metadata rules shared by agents and environments (the API's documented limits). */
import { badRequest } from "./api-error.js";
import { isObj, type Obj } from "./util.js";

export const METADATA_MAX_KEYS = 16;
export const METADATA_MAX_KEY_LENGTH = 64;
export const METADATA_MAX_VALUE_LENGTH = 512;

/**
 * Check the limits. Environments answer with `invalid_metadata`; agents have no documented
 * error_code for any validation failure (the API defines none), so they get a plain 400.
 */
export function checkMetadataLimits(metadata: Record<string, string>, errorCode: string | undefined): void {
  const keys = Object.keys(metadata);
  const problems: string[] = [];
  if (keys.length > METADATA_MAX_KEYS) problems.push(`${keys.length} keys (at most ${METADATA_MAX_KEYS})`);
  for (const key of keys) {
    if (key.length === 0) problems.push("an empty key");
    if (key.length > METADATA_MAX_KEY_LENGTH) problems.push(`key "${key.slice(0, 20)}…" is longer than ${METADATA_MAX_KEY_LENGTH} characters`);
    if ((metadata[key] ?? "").length > METADATA_MAX_VALUE_LENGTH) {
      problems.push(`the value of "${key}" is longer than ${METADATA_MAX_VALUE_LENGTH} characters`);
    }
  }
  if (problems.length > 0) throw badRequest(`metadata: ${problems.join("; ")}`, errorCode);
}

/** Metadata on create: a plain string map. */
export function createMetadata(v: unknown, errorCode: string | undefined): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw badRequest("metadata: Input should be an object", errorCode);
  // Prototype-free, so a key named "__proto__" is stored like any other, not swallowed by a setter.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== "string") throw badRequest(`metadata.${k}: Input should be a string`, errorCode);
    out[k] = value;
  }
  checkMetadataLimits(out, errorCode);
  return out;
}

/**
 * Metadata on update is a patch: a string sets a key, null removes it, unmentioned keys stay.
 * For environments "" also removes a key; for agents the SDK documents only null (older API docs
 * said "" too), so "" is stored as a value. A null map is a no-op (its effect on the real API is
 * undocumented).
 */
export function patchMetadata(
  stored: Record<string, string>,
  v: unknown,
  errorCode: string | undefined,
  options: { emptyDeletes: boolean } = { emptyDeletes: true },
): Record<string, string> {
  if (v === undefined || v === null) return stored;
  if (!isObj(v)) throw badRequest("metadata: Input should be an object", errorCode);
  const out: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, stored);
  for (const [k, value] of Object.entries(v as Obj)) {
    if (value === null || (value === "" && options.emptyDeletes)) delete out[k];
    else if (typeof value === "string") out[k] = value;
    else throw badRequest(`metadata.${k}: Input should be a string or null`, errorCode);
  }
  checkMetadataLimits(out, errorCode);
  return out;
}
