/** Canonical JSON and digests (pure): the one definition of "the same value" agentform uses. */
import { createHash } from "node:crypto";

type Obj = Record<string, unknown>;

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  // Every plan digests every live resource and every manifest: JSON.stringify over a view whose
  // objects list their keys sorted writes the same text several times faster than joining it
  // here, and with a fraction of the garbage. Values it would write differently take the walk.
  const view = value === undefined ? null : sortedView(value);
  return view === NOT_PLAIN ? walkedJson(value) : JSON.stringify(view);
}

/** A value JSON.stringify would not write as {@link walkedJson} does. */
const NOT_PLAIN: unique symbol = Symbol("not plain JSON data");

/** An own key JSON.stringify writes before every other key, whatever order it was added in. */
const INDEX_LIKE = /^(?:0|[1-9][0-9]*)$/;

/**
 * `value` itself when every object in it already lists its keys sorted, else a copy whose
 * objects do; NOT_PLAIN for anything but plain JSON data (a function, a Date, a class instance,
 * a bigint) and for an unsorted object with integer-like keys, which no object lists in sorted
 * order. `undefined` members stay: JSON.stringify drops them (writes null in arrays) as the walk does.
 */
function sortedView(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean") return value;
  if (type !== "object") return NOT_PLAIN;
  if (Array.isArray(value)) return arrayView(value);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const obj = value as Obj;
  const keys = Object.keys(obj);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = (keys[i - 1] as string) < (keys[i] as string);
  if (!sorted) {
    keys.sort();
    if (keys.some((k) => INDEX_LIKE.test(k))) return NOT_PLAIN;
  }
  // A copy as soon as one member differs (or at once, when the keys need sorting); null-prototype
  // so that a "__proto__" key stays a key.
  let copy: Obj | null = sorted ? null : Object.create(null);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const member = obj[k];
    const view = sortedView(member);
    if (view === NOT_PLAIN) return NOT_PLAIN;
    if (copy === null && view !== member) {
      copy = Object.create(null) as Obj;
      for (let j = 0; j < i; j++) copy[keys[j] as string] = obj[keys[j] as string];
    }
    if (copy !== null) copy[k] = view;
  }
  return copy ?? obj;
}

function arrayView(value: readonly unknown[]): unknown {
  let copy: unknown[] | null = null;
  for (let i = 0; i < value.length; i++) {
    const member = value[i];
    const view = sortedView(member);
    if (view === NOT_PLAIN) return NOT_PLAIN;
    if (copy === null && view !== member) copy = value.slice(0, i);
    if (copy !== null) copy.push(view);
  }
  return copy ?? value;
}

/** The canonical text written member by member: for what JSON.stringify would write otherwise. */
function walkedJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) {
    let out = "[";
    // `?? ""`: as join wrote what JSON.stringify leaves undefined (a function), should one get here.
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + (walkedJson(value[i] === undefined ? null : value[i]) ?? "");
    return out + "]";
  }
  const keys = Object.keys(value as Obj).sort();
  let out = "{";
  for (const k of keys) {
    const member = (value as Obj)[k];
    if (member === undefined) continue;
    out += (out.length === 1 ? "" : ",") + JSON.stringify(k) + ":" + walkedJson(member);
  }
  return out + "}";
}

/** `sha256:` + hex digest of canonicalJson(value). */
export function digest(value: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(value), "utf8").digest("hex")}`;
}

/** Deep copy with object keys sorted; the planner never diffs or mutates its inputs. */
export function sortedCopy<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}
