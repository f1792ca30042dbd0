/** The lockfile's entries for one kind (the map the kind's spec names), as one shape for all kinds. */
import { addressOf, KIND_ORDER, kindSpec, versionOf } from "../kinds/index.js";
import type { LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import type { LockedEntry, Lockfile } from "./types.js";

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
