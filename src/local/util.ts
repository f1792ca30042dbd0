/** Small helpers shared by the local control plane's modules. */
import { randomBytes } from "node:crypto";
import { badRequest } from "./api-error.js";

/** A parsed JSON object. */
export type Obj = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * An id shaped like the real ones (`agent_011C…`, `env_011C…`): the prefix, `011`, then random
 * base62. Random rather than sequential so nothing can depend on id order.
 */
export function newId(prefix: string, length = 21): string {
  const bytes = randomBytes(length);
  let out = `${prefix}_011`;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

/** JSON with object keys sorted, so two resolved resources compare by content only. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObj(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Reject keys the API does not define, naming them: silently dropping them would hide client bugs. */
export function checkKeys(obj: Obj, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw badRequest(`${where}.${key}: Extra inputs are not permitted`);
  }
}

/** The value as an object, or a 400 naming `where`. */
export function expectObj(v: unknown, where: string): Obj {
  if (!isObj(v)) throw badRequest(`${where}: Input should be an object`);
  return v;
}

/** The value as an array, or a 400 naming `where`. */
export function expectArray(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw badRequest(`${where}: Input should be a list`);
  return v;
}

/** The value as a string within the length bounds, or a 400 naming `where`. */
export function expectString(v: unknown, where: string, opts: { min?: number; max?: number } = {}): string {
  if (typeof v !== "string") throw badRequest(`${where}: Input should be a string`);
  // Characters are code points (an emoji is one), the way agentform's own checks count them.
  const length = opts.min === undefined && opts.max === undefined ? 0 : [...v].length;
  if (opts.min !== undefined && length < opts.min) {
    throw badRequest(`${where}: must be at least ${opts.min} character${opts.min === 1 ? "" : "s"}`);
  }
  if (opts.max !== undefined && length > opts.max) throw badRequest(`${where}: must be at most ${opts.max} characters`);
  return v;
}

/** The value as a boolean, or a 400 naming `where`. */
export function expectBoolean(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") throw badRequest(`${where}: Input should be a valid boolean`);
  return v;
}

/** The value as one of `options`, or a 400 listing them. */
export function expectOneOf<T extends string>(v: unknown, options: readonly T[], where: string): T {
  if (typeof v !== "string" || !(options as readonly string[]).includes(v)) {
    throw badRequest(`${where}: Input should be ${options.map((o) => `'${o}'`).join(", ")}`);
  }
  return v as T;
}

/** Deep copy of plain JSON data, so stored state never aliases request bodies or responses. */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}
