/** The lockfile's entries for one kind (the map the kind's spec names), as one shape for all kinds. */
import { kindSpec } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import type { LockedEntry, Lockfile } from "./types.js";

export type { LockedEntry } from "./types.js";

export function lockTable(lock: Lockfile, kind: ResourceKind): Record<string, LockedEntry> {
  return lock[kindSpec(kind).lockKey];
}
