/** The lockfile's entries for one kind (the map the kind's spec names), as one shape for all kinds. */
import { kindSpec } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import type { Lockfile } from "./types.js";

/** One lockfile entry: versioned kinds also record the version. */
export interface LockedEntry {
  id: string;
  version?: number;
  specDigest: string;
  liveDigest: string;
}

export function lockTable(lock: Lockfile, kind: ResourceKind): Record<string, LockedEntry> {
  return lock[kindSpec(kind).lockKey] as Record<string, LockedEntry>;
}
