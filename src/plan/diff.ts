/**
 * Structural diff of two canonical forms, as JSON-pointer field changes (pure).
 * Objects are walked key by key; arrays and scalars compare as whole values, because the
 * canonical form only keeps arrays whose order matters or which are already sorted sets.
 * Below MAX_DIFF_DEPTH levels objects also compare as whole values: manifests never nest that
 * deep (validation refuses it), so only a hostile or broken server reaches it, and a walk that
 * followed it would build pointers of unbounded length and could overflow the stack.
 */
import { canonicalJson } from "../normalize/index.js";
import type { FieldChange } from "./types.js";

export { escapePointer, pointerSegments, unescapePointer } from "../util/pointer.js";
import { escapePointer, pointerSegments } from "../util/pointer.js";
import { isObj } from "../kinds/values.js";

export const MAX_DIFF_DEPTH = 64;

/** Every difference between `before` and `after`, sorted by pointer. Inputs are not mutated. */
export function diffCanonical(before: unknown, after: unknown, base = ""): FieldChange[] {
  // Most resources of most plans are unchanged: one walk without allocations says so.
  if (sameJson(before, after, 0)) return [];
  const out: FieldChange[] = [];
  walk(before, after, base, out, 0);
  return out.sort((a, b) => (a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : 0));
}

function walk(before: unknown, after: unknown, pointer: string, out: FieldChange[], depth: number): void {
  // The same value (or the same object) has no differences: most fields of most resources.
  if (before === after) return;
  if (isObj(before) && isObj(after) && depth < MAX_DIFF_DEPTH) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of [...keys].sort()) {
      const p = `${pointer}/${escapePointer(k)}`;
      // Own properties only: on a plain object `k in` also finds inherited names ("constructor").
      const inB = Object.hasOwn(before, k) && before[k] !== undefined;
      const inA = Object.hasOwn(after, k) && after[k] !== undefined;
      if (inB && !inA) out.push({ pointer: p, op: "remove", before: clone(before[k]) });
      else if (!inB && inA) out.push({ pointer: p, op: "add", after: clone(after[k]) });
      else if (inB && inA) walk(before[k], after[k], p, out, depth + 1);
    }
    return;
  }
  if (canonicalJson(before) !== canonicalJson(after)) {
    out.push({ pointer, op: "replace", before: clone(before), after: clone(after) });
  }
}

/**
 * Whether two values are equal member by member (undefined members count as absent, as in
 * canonical JSON), so that they have no differences at all; false when unsure (deeper than
 * MAX_DIFF_DEPTH), and then the full walk decides.
 */
function sameJson(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth > MAX_DIFF_DEPTH) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i], depth + 1)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let members = 0;
  // for…in with an own-property check, not Object.keys: the same keys, without an array per
  // object of every resource of every plan.
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    members++;
    if (!Object.hasOwn(y, k) || !sameJson(x[k], y[k], depth + 1)) return false;
  }
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) members--;
  return members === 0;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(canonicalJson(v)) as T);
}

/** True when `pointer` is `prefix` itself or lies below it. */
export function isUnder(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(`${prefix}/`) || prefix === "";
}

/** Read a value at a pointer of a plain object (undefined when absent). */
export function getAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const seg of pointerSegments(pointer)) {
    if (!isObj(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}
