/**
 * Helpers the kinds share to build canonical forms (pure): the small rules every kind applies
 * the same way (empty strings, sets, server-defaulted policies, keyed collections, metadata).
 */
import { RESERVED_METADATA_KEYS, SECRET_DIGEST_KEY } from "../manifest/types.js";
import { canonicalJson } from "../normalize/json.js";

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function nullIfEmpty(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

export function sortedSet(v: unknown): string[] {
  return [...new Set(asArray(v).filter((x): x is string => typeof x === "string"))].sort();
}

/** Policy object or string → its type string; absent → the given default. */
export function policyOf(v: unknown, fallback: string): string {
  if (typeof v === "string") return v;
  if (isObj(v) && typeof v.type === "string") return v.type;
  return fallback;
}

export function boolOr(v: unknown, fallback: boolean): boolean {
  return typeof v === "boolean" ? v : fallback;
}

/** Keyed collection helper: a repeated key gets "#2", "#3"... so nothing is silently dropped. */
export function putKeyed(target: Obj, key: string, value: unknown): void {
  let k = key;
  for (let n = 2; k in target; n++) k = `${key}#${n}`;
  target[k] = value;
}

/** The digest of the secrets agentform last sent, as a live resource's metadata records it (undefined: none). */
export function storedSecretDigest(live: unknown): string | undefined {
  const metadata = isObj(live) ? live.metadata : undefined;
  const value = isObj(metadata) ? metadata[SECRET_DIGEST_KEY] : undefined;
  return typeof value === "string" ? value : undefined;
}

export function canonicalMetadata(v: unknown): Obj {
  const out: Obj = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    // agentform's own keys (the ownership marker, a secret's digest) are checked by the planner,
    // never diffed. "" is kept: on agents it is a stored value (only null deletes), so a live ""
    // must show up as a difference.
    if (RESERVED_METADATA_KEYS.has(k) || val === null || val === undefined) continue;
    out[k] = val;
  }
  return out;
}

/**
 * Stored metadata after an update's patch, as the API applies it: null deletes a key, and so
 * does "" for kinds whose spec says so (the one copy of that rule outside the local server).
 */
export function applyMetadataPatch(stored: unknown, patch: unknown, emptyDeletes: boolean): Obj {
  const merged: Obj = { ...(isObj(stored) ? stored : {}) };
  for (const [k, v] of Object.entries(isObj(patch) ? patch : {})) {
    if (v === null || (emptyDeletes && v === "")) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

/**
 * A create body's fields: the spec's defined fields as written, except those `mapped` turns into
 * the form the API wants sent (spelled out completely, for instance).
 */
export function createFieldsOf(spec: Obj, mapped: Readonly<Record<string, (value: unknown) => unknown>>): Obj {
  const body: Obj = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    body[k] = Object.hasOwn(mapped, k) ? (mapped[k] as (value: unknown) => unknown)(v) : v;
  }
  return body;
}

/**
 * A minimal manifest for a live resource (the live → manifest conversion import needs): its
 * create fields, without the ownership marker, each left out when the canonical form is the same
 * without it (a server default). When even the full copy does not reproduce the live canonical
 * form, the full copy is returned: a visible difference beats a silently lost field.
 */
export function minimalManifest(live: Obj, fields: readonly string[], desired: (spec: Obj) => Obj, liveCanonical: Obj): Obj {
  const spec: Obj = {};
  for (const f of fields) {
    const v = live[f];
    if (v !== null && v !== undefined) spec[f] = v;
  }
  if (isObj(spec.metadata)) {
    const rest = Object.fromEntries(Object.entries(spec.metadata).filter(([k]) => !RESERVED_METADATA_KEYS.has(k)));
    if (Object.keys(rest).length > 0) spec.metadata = rest;
    else delete spec.metadata;
  }
  const target = canonicalJson(liveCanonical);
  if (canonicalJson(desired(spec)) !== target) return spec;
  for (const f of Object.keys(spec)) {
    if (f === "name") continue;
    const { [f]: _dropped, ...without } = spec;
    if (canonicalJson(desired(without)) === target) delete spec[f];
  }
  return spec;
}
