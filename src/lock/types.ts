/**
 * The lockfile (DESIGN.md "Lockfile"): written by apply, read by plan (drift, prune inventory)
 * and by runtime services (src/lock/runtime.ts, which must not import this module's siblings).
 */

export const LOCKFILE_VERSION = 1;

export interface LockedAgent {
  id: string;
  version: number;
  /** sha256 of the canonical desired spec that was applied. */
  specDigest: string;
  /** sha256 of the canonical live resource after apply. */
  liveDigest: string;
}

export interface LockedEnvironment {
  id: string;
  specDigest: string;
  liveDigest: string;
}

export interface Lockfile {
  lockfileVersion: 1;
  project: string;
  target: string;
  origin: { baseUrl: string; workspaceId: string | null };
  agents: Record<string, LockedAgent>;
  environments: Record<string, LockedEnvironment>;
}

/** `agentform.lock.json` for the default target, `agentform.<target>.lock.json` otherwise. */
export function lockfileName(target: string): string {
  return target === "default" ? "agentform.lock.json" : `agentform.${target}.lock.json`;
}
