/**
 * The run lock of a command that writes (apply, lock refresh), as openWorkspace takes it: once
 * the target is open and the lockfile checked, before the first request, so live state is only
 * ever read under it, and held until the lockfile is written. Two such commands for one target
 * on this machine never interleave.
 */
import { acquireRunLock, runLockFile, runLockOptionsFromEnv, type RunLock } from "../apply/run-lock.js";

export interface RunLockHolder {
  /** The lock, once taken. */
  readonly lock: RunLock | null;
  /** openWorkspace's `beforeRequests`: take the target's lock. */
  take(at: { root: string; target: string }): Promise<void>;
  /** Release the lock (when it was taken) and stop listening for signals. */
  release(): Promise<void>;
}

/** Listens for Ctrl+C and SIGTERM from now on; call `release` when done, whatever happened. */
export function runLockHolder(env: NodeJS.ProcessEnv): RunLockHolder {
  let lock: RunLock | null = null;
  // Interrupted (Ctrl+C, a cancelled CI job): free the run lock before dying. Every write so far
  // is in the lockfile or findable by name and marker, so the next run picks up from there.
  const onSignal = (signal: NodeJS.Signals) => {
    lock?.releaseSync();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    get lock() {
      return lock;
    },
    take: async ({ root, target }) => {
      lock = await acquireRunLock(runLockFile(root, target), { ...runLockOptionsFromEnv(env), target });
    },
    release: async () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (lock) await lock.release();
    },
  };
}
