/** Canonical JSON and digests (pure): the one definition of "the same value" agentform uses. */
import { createHash } from "node:crypto";

type Obj = Record<string, unknown>;

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  }
  const keys = Object.keys(value as Obj)
    .filter((k) => (value as Obj)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Obj)[k])}`).join(",")}}`;
}

/** `sha256:` + hex digest of canonicalJson(value). */
export function digest(value: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(value), "utf8").digest("hex")}`;
}

/** Deep copy with object keys sorted; the planner never diffs or mutates its inputs. */
export function sortedCopy<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}
