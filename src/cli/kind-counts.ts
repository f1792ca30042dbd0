/** Counts per kind for summaries ("5 agents, 1 skill and 2 environments"), most dependent kinds first. */
import { KIND_ORDER } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";

/**
 * One phrase per kind that has any, in display order: the kinds a user writes most (agents)
 * first. Kinds a project does not use stay out of its summaries; with none at all, `none`.
 */
export function kindCounts(count: (kind: ResourceKind) => number, phrase: (kind: ResourceKind, n: number) => string, none: string): string[] {
  const used = [...KIND_ORDER].reverse().filter((kind) => count(kind) > 0);
  return used.length > 0 ? used.map((kind) => phrase(kind, count(kind))) : [none];
}

/** "a, b and c". */
export function joinAnd(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? "") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

/** A kind as a word in a sentence ("memory store"). */
export function kindNoun(kind: ResourceKind): string {
  return kind.replace(/_/g, " ");
}
