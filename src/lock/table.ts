/** The lockfile's entries for one kind (the map the kind's spec names), as one shape for all kinds. */
import { addressOf, KIND_ORDER, kindSpec, versionOf } from "../kinds/index.js";
import type { LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import { ConfigError } from "../errors.js";
import { inertText } from "../render/inert.js";
import { MAX_PREVIOUS_NAME_LENGTH, MAX_PREVIOUS_NAMES, type LockedEntry, type Lockfile } from "./types.js";

export type { LockedEntry } from "./types.js";

export function lockTable(lock: Lockfile, kind: ResourceKind): Record<string, LockedEntry> {
  return lock[kindSpec(kind).lockKey];
}

/** A lockfile entry pinning a numbered version of a resource that is live. */
export interface LockedVersion {
  kind: ResourceKind;
  address: string;
  id: string;
  version: number;
  /** Whether live is still at that version (versions only go up: then it surely exists). */
  current: boolean;
}

/**
 * Every lockfile entry that pins a numbered version of a live resource, and whether live is still
 * at it: what `lock verify` checks exists and what a prune must not break, computed once.
 */
export function lockedVersions(lock: Lockfile, live: LiveSets): LockedVersion[] {
  return KIND_ORDER.flatMap((kind) => {
    const byId = new Map((live[kind] as LiveResource[]).map((l) => [l.id, l] as const));
    return Object.entries(lockTable(lock, kind)).flatMap(([name, e]) => {
      const found = byId.get(e.id);
      if (!found || typeof e.version !== "number") return [];
      return [{ kind, address: addressOf(kind, name), id: e.id, version: e.version, current: versionOf(kind, found) === e.version }];
    });
  });
}

/**
 * A manifest's previous names as its lockfile entry records them: sorted, without duplicates,
 * undefined when there are none. The same list is what plan compares the entry against, so
 * recording it and comparing it can never disagree. Beyond the bounds every lockfile reader
 * enforces, it throws: agentform must not write a lockfile it (or a runtime) would refuse.
 */
export function previousNamesToRecord(address: string, names: readonly string[]): string[] | undefined {
  const unique = [...new Set(names)].sort();
  if (unique.length === 0) return undefined;
  const tooLong = unique.find((n) => n.length > MAX_PREVIOUS_NAME_LENGTH);
  if (unique.length > MAX_PREVIOUS_NAMES || tooLong !== undefined) {
    throw new ConfigError(
      "lock-previous-names-limit",
      tooLong !== undefined
        ? `${inertText(address)} lists a previous name of ${tooLong.length} characters; the lockfile records names of at most ${MAX_PREVIOUS_NAME_LENGTH}.`
        : `${inertText(address)} lists ${unique.length} previous names; the lockfile records at most ${MAX_PREVIOUS_NAMES} per resource.`,
      { hint: "Remove from `agentform.previous_names` the names no caller uses any more (a name longer than the API allows never named a resource)." },
    );
  }
  return unique;
}

/** Whether a lockfile entry records exactly these previous names (as previousNamesToRecord gives them). */
export function samePreviousNames(recorded: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  const a = recorded ?? [];
  const b = wanted ?? [];
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * The entries of one kind's map that list `oldName` in their previous_names, by current name: how
 * a caller still using a name from before a rename is answered. An entry under `oldName` itself
 * always wins over these; the caller decides what to do with none, one or several.
 */
export function entriesRenamedFrom(table: Record<string, LockedEntry>, oldName: string): Array<[string, LockedEntry]> {
  return Object.entries(table)
    .filter(([, e]) => Array.isArray(e.previous_names) && e.previous_names.includes(oldName))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
