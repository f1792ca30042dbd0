/** Counts per kind for summaries ("5 agents and 2 environments"), most dependent kinds first. */
import { KIND_ORDER } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";

/** One phrase per kind, in display order: the kinds a user writes most (agents) first. */
export function kindCounts(phrase: (kind: ResourceKind) => string): string[] {
  return [...KIND_ORDER].reverse().map(phrase);
}

/** "a, b and c". */
export function joinAnd(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}
