/**
 * The lockfile (docs/lockfile.md): written by apply, read by plan (drift, prune inventory)
 * and by runtime services (src/lock/runtime.ts, which must not import this module's siblings).
 */
import type { LockKeyOf, ResourceKind } from "../kinds/types.js";

/**
 * The format version this agentform writes. The integer part is the major: a reader refuses a
 * major it does not know. The fraction is the minor: a minor only adds (new top-level maps for
 * new resource kinds, new optional entry fields), so every reader of the same major reads every
 * minor. 1 (that is, 1.0) is what 0.1.0 wrote; 1.1 added the maps of the kinds after agents and
 * environments; 1.2 added entries' optional `previous_names`. Every reader of major 1 ignores
 * entry fields it does not know (the runtime reader reads only id and version), which is what
 * lets 1.2 stay major 1; the minor still moves so that a 1.2 file rewritten by an older writer
 * (which drops the field from the entries it records) says so by its version.
 */
export const LOCKFILE_VERSION = 1.2;

/** The major this agentform reads: any lockfileVersion v with LOCKFILE_MAJOR ≤ v < LOCKFILE_MAJOR + 1. */
export const LOCKFILE_MAJOR = 1;

/** One lockfile entry: versioned kinds also record the version, skills their version id and files. */
export interface LockedEntry {
  id: string;
  /** The version apply left live: a number (agents), or the version id references pin (skills). */
  version?: number | string;
  /** Skills: the sha256 of each file of the recorded version (path relative to the skill's folder). */
  files?: Record<string, string>;
  /** sha256 of the canonical desired spec that was applied. */
  specDigest: string;
  /** sha256 of the canonical live resource after apply. */
  liveDigest: string;
  /**
   * The manifest's `agentform.previous_names` (format 1.2): names callers may still ask for
   * after a rename. Sorted, without duplicates, and absent when there are none.
   */
  previous_names?: string[];
}

/**
 * Bounds on an entry's previous_names, checked when reading (a lockfile comes from a pull request)
 * and when recording, so agentform never writes a lockfile it would refuse to read. The longest
 * name any kind can have is a credential's `<vault>/<local name>` (255 + 1 + 255 characters):
 * a longer name never named anything.
 */
export const MAX_PREVIOUS_NAMES = 1000;
export const MAX_PREVIOUS_NAME_LENGTH = 1024;

/** Each kind's top-level map: its name plus "s" (agents, environments), by name. */
export type LockTables = { [K in ResourceKind as LockKeyOf<K>]: Record<string, LockedEntry> };

/**
 * The fields this agentform understands. A lockfile written by a newer minor may carry more
 * top-level fields (another kind's map); parseLock keeps them as extra own properties of this
 * object and the writer writes them back unchanged, so an older agentform applying never erases
 * entries it cannot interpret.
 */
export type Lockfile = LockTables & {
  /** As read; the writer always writes LOCKFILE_VERSION. */
  lockfileVersion: number;
  project: string;
  target: string;
  origin: { baseUrl: string; workspaceId: string | null };
};

/**
 * The maps every lockfile has had since format 1.0; the maps of kinds added later may be absent
 * (read as empty), so a lockfile written before a kind existed stays valid.
 */
export const LOCK_MAPS_SINCE_1_0: ReadonlySet<string> = new Set(["agents", "environments"]);

/** `agentform.lock.json` for the default target, `agentform.<target>.lock.json` otherwise. */
export function lockfileName(target: string): string {
  return target === "default" ? "agentform.lock.json" : `agentform.${target}.lock.json`;
}
