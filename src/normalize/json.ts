/** Canonical JSON and digests (pure): the one definition of "the same value" agentform uses. */
import { createHash } from "node:crypto";

type Obj = Record<string, unknown>;

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value ?? null);
  }
  // Loops and one string rather than map/filter/join: every plan digests and diffs every
  // resource, so this runs for each field of thousands of them.
  if (Array.isArray(value)) {
    let out = "[";
    // `?? ""`: as join wrote what JSON.stringify leaves undefined (a function), should one get here.
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + (canonicalJson(value[i] === undefined ? null : value[i]) ?? "");
    return out + "]";
  }
  const keys = Object.keys(value as Obj).sort();
  let out = "{";
  for (const k of keys) {
    const member = (value as Obj)[k];
    if (member === undefined) continue;
    out += (out.length === 1 ? "" : ",") + JSON.stringify(k) + ":" + canonicalJson(member);
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
