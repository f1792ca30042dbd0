/**
 * The local control plane's state file: loaded at start, rewritten atomically (temp file in the
 * same directory, then rename) after committed writes, and guarded by `<state>.lock` so two
 * processes never share one file.
 *
 * Writes are coalesced: a commit schedules a flush at most every FLUSH_DELAY_MS, and close()
 * flushes whatever is pending. A commit is visible to clients immediately (memory is the source
 * of truth); a crash loses at most the commits of the last FLUSH_DELAY_MS.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { OperationalError } from "../errors.js";
import { processAlive } from "../util/pid.js";
import { checkSnapshot, StateEntryError } from "./state-check.js";
import type { StateSnapshot, Store } from "./store.js";

/** Longest delay between a committed write and the state file write that includes it. */
export const FLUSH_DELAY_MS = 50;

/** Take `<stateFile>.lock` (exclusive create holding our pid); a lock left by a dead process is replaced. */
export function acquireLock(stateFile: string): string {
  const lockFile = `${stateFile}.lock`;
  try {
    mkdirSync(path.dirname(stateFile), { recursive: true });
  } catch (err) {
    throw new OperationalError("local-state-unwritable", `cannot create the folder of the local state file ${stateFile}: ${(err as Error).message}`, {
      hint: "every folder on its path must be a folder (not a file) you can write to; `state_file` in agentform.yaml can move it",
      cause: err,
    });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return lockFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OperationalError("local-state-unwritable", `cannot create the lock file ${lockFile}: ${(err as Error).message}`, {
          hint: "check that the state file's directory exists and is writable",
          cause: err,
        });
      }
      let holder = NaN;
      try {
        holder = Number.parseInt(readFileSync(lockFile, "utf8").trim(), 10);
      } catch {
        // Vanished between open and read: just try again.
      }
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new OperationalError("local-state-locked", `the local state file ${stateFile} is in use by process ${holder}`, {
          hint: `stop the other local control plane (pid ${holder}) or use another --state file; if that process is gone, delete ${lockFile}`,
        });
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new OperationalError("local-state-locked", `could not take the lock ${lockFile}`, { hint: `delete ${lockFile} if no local control plane is running` });
}

/** Remove the lock file taken by acquireLock. */
export function releaseLock(lockFile: string): void {
  rmSync(lockFile, { force: true });
}

/** Read the state file into the store, checked entry by entry; a missing file means an empty state. */
export function loadState(stateFile: string, store: Store): void {
  let text: string;
  try {
    text = readFileSync(stateFile, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new OperationalError("local-state-unreadable", `cannot read the local state file ${stateFile}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OperationalError("local-state-corrupt", `the local state file ${stateFile} is not valid JSON`, {
      hint: "restore it from a backup, or delete it to start with an empty control plane",
      cause: err,
    });
  }
  let snapshot: StateSnapshot;
  try {
    snapshot = checkSnapshot(parsed);
  } catch (err) {
    if (!(err instanceof StateEntryError)) throw err;
    if (err.where === "") {
      throw new OperationalError("local-state-corrupt", `${stateFile} ${err.message}`, {
        hint: "point --state at a file written by `agentform local serve`, or at a path that does not exist yet",
      });
    }
    throw new OperationalError("local-state-corrupt", `the local state file ${stateFile} has a bad entry: ${err.where}: ${err.message}`, {
      hint: "fix or remove that entry (or restore the file from a backup, or point --state at a new path); the server refuses the file rather than drop the entry, because its next save would erase it",
      details: { file: stateFile, entry: err.where },
    });
  }
  store.load(snapshot);
}

/** The temporary file a writer in process `pid` writes the state to before renaming it into place. */
function tempFileOf(stateFile: string, pid: number): string {
  return path.join(path.dirname(stateFile), `.${path.basename(stateFile)}.${pid}.tmp`);
}

/**
 * Remove the temporary files of writers that were killed between write and rename (Ctrl-C during
 * an apply): with the lock held, no other process writes this state file, so each is left over.
 */
export function removeLeftoverTemps(stateFile: string): void {
  const prefix = `.${path.basename(stateFile)}.`;
  for (const name of readdirSync(path.dirname(stateFile))) {
    if (name.startsWith(prefix) && /^\d+\.tmp$/.test(name.slice(prefix.length))) rmSync(path.join(path.dirname(stateFile), name), { force: true });
  }
}

/** Coalesces state writes; one write in flight at a time. */
export class StateWriter {
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly stateFile: string,
    private readonly store: Store,
  ) {}

  /** A commit happened: make sure a flush follows soon. */
  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  /** Write the current state if anything changed since the last write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      // Serialize synchronously so the file holds one consistent moment of the state.
      const text = JSON.stringify(this.store.snapshot(), null, 2) + "\n";
      const temp = tempFileOf(this.stateFile, process.pid);
      try {
        await mkdir(path.dirname(this.stateFile), { recursive: true });
        // Owner-only: the file holds what the workspace holds (digests of credential secrets, never
        // the secrets). `mode` applies only to a file
        // writeFile creates, so a temp file left by a crash goes first; the rename keeps the mode.
        await rm(temp, { force: true });
        await writeFile(temp, text, { encoding: "utf8", mode: 0o600 });
        await rename(temp, this.stateFile);
      } catch (err) {
        this.failure = err;
        this.dirty = true;
        await rm(temp, { force: true });
      }
    });
    return this.writing;
  }

  /** Flush what is pending; surfaces a write failure that happened in the background. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.flush();
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      throw new OperationalError("local-state-unwritable", `could not write the local state file ${this.stateFile}: ${(err as Error).message}`, { cause: err });
    }
  }
}
