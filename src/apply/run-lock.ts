/**
 * One apply per target and project folder at a time (`ant apply` must never run twice at once;
 * agentform refuses instead). Only folders that share a filesystem are guarded: separate CI
 * checkouts are not (see docs/apply.md "Concurrent applies").
 *
 * The lock file appears atomically with its content (written to a temp file, then hard-linked
 * into place, which fails if the lock exists), and its holder touches it every few seconds. A
 * lock is held while it is fresh and its owner may be running; a stale one (owner gone, or no
 * heartbeat for `staleAfterMs`: a crash, a cancelled CI job, a reused pid in a container) is
 * taken over by renaming it aside and checking that what was moved is the stale lock.
 */
import { randomBytes } from "node:crypto";
import { unlinkSync, readFileSync } from "node:fs";
import { link, mkdir, readFile, rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { AgentformError, OperationalError, SafetyError } from "../errors.js";
import { processAlive } from "../util/pid.js";

interface Owner {
  pid: number;
  host: string;
  nonce: string;
}

export interface RunLockOptions {
  /** A lock untouched this long is stale whoever holds it (default 60 s). */
  staleAfterMs?: number;
  /** How often the holder touches the lock (default 10 s). */
  heartbeatMs?: number;
}

/** A held lock; `release` removes it only if it is still ours. */
export interface RunLock {
  release(): Promise<void>;
  /** Synchronous release for signal handlers. */
  releaseSync(): void;
}

export async function acquireRunLock(file: string, options: RunLockOptions = {}): Promise<RunLock> {
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const me: Owner = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString("hex") };
  const tmp = `${file}.${me.nonce}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify(me) + "\n");
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, file);
        return held(file, me, heartbeatMs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const seen = await inspect(file);
      if (seen === "gone") continue;
      if (!isStale(seen, staleAfterMs)) throw inProgress(file, seen.owner);
      await takeOver(file, seen.owner, me.nonce);
    }
    throw new SafetyError("apply-in-progress", `Another agentform apply keeps taking ${file}.`, { hint: "Wait for it to finish and run again." });
  } catch (err) {
    if (err instanceof AgentformError) throw err;
    throw new OperationalError("run-lock-unwritable", `Cannot take the apply lock ${file}: ${(err as Error).message}`, {
      hint: "Check that the project folder (and its .agentform/) is writable.",
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function held(file: string, me: Owner, heartbeatMs: number): RunLock {
  const timer = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, heartbeatMs);
  timer.unref();
  const ours = (text: string) => {
    try {
      return (JSON.parse(text) as Partial<Owner>).nonce === me.nonce;
    } catch {
      return false;
    }
  };
  return {
    async release() {
      clearInterval(timer);
      const text = await readFile(file, "utf8").catch(() => "");
      if (ours(text)) await unlink(file).catch(() => undefined);
    },
    releaseSync() {
      clearInterval(timer);
      try {
        if (ours(readFileSync(file, "utf8"))) unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
}

type Seen = "gone" | { owner: Owner | null; ageMs: number };

async function inspect(file: string): Promise<Seen> {
  try {
    const [info, text] = await Promise.all([stat(file), readFile(file, "utf8")]);
    let owner: Owner | null = null;
    try {
      const v = JSON.parse(text) as Partial<Owner>;
      if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.nonce === "string") owner = { pid: v.pid, host: v.host, nonce: v.nonce };
    } catch {
      // Unreadable content: judged by age alone.
    }
    return { owner, ageMs: Date.now() - info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
}

function isStale(seen: { owner: Owner | null; ageMs: number }, staleAfterMs: number): boolean {
  if (seen.ageMs > staleAfterMs) return true;
  const { owner } = seen;
  // A fresh lock whose owner is a process of this machine that no longer runs.
  return owner !== null && owner.host === hostname() && !processAlive(owner.pid);
}

/** Move the stale lock aside; if what moved is not the lock we judged stale, put it back. */
async function takeOver(file: string, stale: Owner | null, nonce: string): Promise<void> {
  const aside = `${file}.${nonce}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  let movedNonce: string | undefined;
  try {
    movedNonce = (JSON.parse(moved) as Partial<Owner>).nonce;
  } catch {
    movedNonce = undefined;
  }
  if (stale !== null && movedNonce !== stale.nonce) {
    // Someone took the lock between our look and our rename: give it back and refuse.
    await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    throw inProgress(file, null);
  }
  await unlink(aside).catch(() => undefined);
}

function inProgress(file: string, owner: Owner | null): SafetyError {
  const who = owner ? (owner.host === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.host}`) : "another process";
  return new SafetyError("apply-in-progress", `Another agentform apply (${who}) is running for this target.`, {
    hint: `Wait for it to finish. A lock whose apply died frees itself within a minute; or delete ${file} if you are sure none is running.`,
  });
}
