/**
 * What each kind's security review writes into (pure): findings with a category, a severity, the
 * JSON pointer they concern and a message. Kinds compare canonical forms, so they see effective
 * states (a tool enabled by default counts as enabled), not raw arrays.
 */
import type { SecurityCategory, SecurityFinding } from "../plan/types.js";
import { isObj, type Obj } from "./values.js";

export class Findings {
  readonly list: SecurityFinding[] = [];
  add(category: SecurityCategory, severity: SecurityFinding["severity"], pointer: string, message: string): void {
    this.list.push({ category, severity, pointer, message });
  }
}

/** The value as an object, or an empty one. */
export function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

const POLICY_RANK: Record<string, number> = { always_ask: 0, auto: 1, always_allow: 2 };

export function rank(policy: unknown): number {
  return POLICY_RANK[String(policy)] ?? 0;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}
