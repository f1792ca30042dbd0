/**
 * One apply per target and project folder at a time (`ant apply` must never run twice at once;
 * agentform refuses instead). Only folders that share a filesystem are guarded: separate CI
 * checkouts are not (see docs/apply.md "Concurrent applies").
 *
 * A lease with a fencing check:
 * - The lock file appears atomically with its content (written to a temp file, then hard-linked
 *   into place, which fails if the lock exists). It holds a random token, the pid, the hostname
 *   and when it was taken; its mtime is the heartbeat, touched every few seconds. The heartbeat
 *   is the mtime and not a field because rewriting the content needs a replace, and a replace
 *   that races a successor would overwrite the successor's lock; a touch never changes owner.
 * - The holder calls `verify()` before every write: the file must still carry its token. A
 *   holder that was paused (laptop sleep, SIGSTOP, a blocked event loop) and lost the lock
 *   meanwhile stops there instead of writing alongside the new holder.
 * - A lock is taken over automatically only when its heartbeat is stale AND its owner is a
 *   process of this machine that no longer runs. A live pid (possibly paused) or another host's
 *   lock is never taken: `agentform lock break` is for those, by a person who knows.
 * - Anything at the lock's path that is not a regular file (a symlink, a FIFO, a directory) was
 *   not made by agentform. It is never opened through (a FIFO would block the open forever, a
 *   symlink could point anywhere): apply refuses it as `run-lock-invalid`, and `lock break`
 *   removes the entry itself.
 * - A temp file or a moved-aside lock left by a killed apply carries its own random token in its
 *   name, so it never collides with a later run; it is only litter in .agentform/.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync, type Stats } from "node:fs";
import { link, lstat, mkdir, open, rename, rmdir, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { AgentformError, ConfigError, OperationalError, SafetyError } from "../errors.js";
import { processAlive } from "../util/pid.js";

/** What a lock file says about its holder. */
export interface RunLockOwner {
  token: string;
  pid: number;
  host: string;
  /** When the lock was taken (ISO 8601), or null if the file does not say. */
  since: string | null;
}

/** A look at an existing lock: its owner (null when the content is not agentform's) and heartbeat age. */
export interface RunLockState {
  owner: RunLockOwner | null;
  ageMs: number;
  /** The raw content, to check that what a takeover or break moved is what was judged. */
  text: string;
  /** Set when the path holds something other than a regular file (then `owner` is null and `text` ""). */
  notAFile?: NotAFile;
}

/** What can sit at the lock's path instead of a lock file. */
export type NotAFile = "symbolic link" | "FIFO" | "directory" | "special file";

export interface RunLockOptions {
  /** A heartbeat older than this is stale (default 60 s; env AGENTFORM_RUN_LOCK_STALE_SECONDS). */
  staleAfterMs?: number;
  /** How often the holder touches the lock (default: 10 s, or a quarter of staleAfterMs if shorter). */
  heartbeatMs?: number;
  /** The target's name, so hints can spell out the `agentform lock break` command. */
  target?: string;
}

/** A held lock. */
export interface RunLock {
  readonly file: string;
  /**
   * The fence: resolves (and refreshes the heartbeat) while the lock file still carries our
   * token; otherwise throws SafetyError `run-lock-lost`, and keeps throwing.
   */
  verify(): Promise<void>;
  /** Removes the lock only if it is still ours. */
  release(): Promise<void>;
  /** Synchronous release for signal handlers. */
  releaseSync(): void;
}

export const STALE_ENV = "AGENTFORM_RUN_LOCK_STALE_SECONDS";
const DEFAULT_STALE_MS = 60_000;
/** Lock files are a few hundred bytes; anything bigger is not ours and is not read whole. */
const MAX_LOCK_BYTES = 4096;
/**
 * How a lock is opened: never through a symlink, and without blocking should a FIFO appear at
 * the path between the lstat and the open (the fstat after the open then refuses it).
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

export function runLockFile(root: string, target: string): string {
  return path.join(root, ".agentform", `apply-${target}.lock`);
}

/** The staleness threshold from the environment (tests shorten it; slow shared disks may lengthen it). */
export function runLockOptionsFromEnv(env: NodeJS.ProcessEnv): Pick<RunLockOptions, "staleAfterMs"> {
  const raw = env[STALE_ENV];
  if (raw === undefined || raw === "") return {};
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 86_400 || raw.trim() !== raw) {
    throw new ConfigError("invalid-env", `${STALE_ENV} must be a number of seconds from 0.1 to 86400, not "${raw.slice(0, 40)}".`, {
      hint: `Unset it for the default (60), or e.g. ${STALE_ENV}=120.`,
    });
  }
  return { staleAfterMs: Math.round(seconds * 1000) };
}

export async function acquireRunLock(file: string, options: RunLockOptions = {}): Promise<RunLock> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  const heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.min(10_000, Math.floor(staleAfterMs / 4)));
  const me: RunLockOwner = { token: randomBytes(16).toString("hex"), pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const tmp = `${file}.${me.token}.tmp`;
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
      const seen = await readRunLock(file);
      if (seen === null) continue;
      if (seen.notAFile !== undefined) throw notALockFile(file, seen.notAFile, options.target);
      const verdict = judgeRunLock(seen, { staleAfterMs, host: me.host, alive: processAlive });
      if (verdict !== "take-over") throw inProgress(file, seen, verdict, staleAfterMs, options.target);
      await moveAside(file, seen, me.token, () => inProgress(file, null, "fresh", staleAfterMs, options.target));
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

export type RunLockVerdict = "take-over" | "unreadable" | "fresh" | "remote" | "alive";

/**
 * The lease rules, as a function of what was seen. Unreadable content names no owner, so only a
 * person can judge it; a fresh heartbeat means someone is working (even if the pid looks gone:
 * the same hostname in another pid namespace, e.g. two containers sharing a volume); another
 * host's process cannot be checked; a live pid may be a paused apply that will resume.
 */
export function judgeRunLock(
  seen: Pick<RunLockState, "owner" | "ageMs">,
  here: { staleAfterMs: number; host: string; alive: (pid: number) => boolean },
): RunLockVerdict {
  const { owner } = seen;
  if (owner === null) return "unreadable";
  if (seen.ageMs <= here.staleAfterMs) return "fresh";
  if (owner.host !== here.host) return "remote";
  if (here.alive(owner.pid)) return "alive";
  return "take-over";
}

/**
 * The current lock, or null if there is none. Reads at most a few KB whatever the file holds,
 * and never opens anything but a regular file (see OPEN_FLAGS).
 */
async function readRunLock(file: string): Promise<RunLockState | null> {
  let info: Stats;
  try {
    info = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  if (!info.isFile()) return oddEntry(info);
  let handle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    // Replaced by a symlink since the lstat (O_NOFOLLOW refuses it with ELOOP).
    if (code === "ELOOP") return { owner: null, ageMs: 0, text: "", notAFile: "symbolic link" };
    throw err;
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) return oddEntry(opened);
    const buffer = Buffer.alloc(MAX_LOCK_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = bytesRead > MAX_LOCK_BYTES ? "" : buffer.subarray(0, bytesRead).toString("utf8");
    return { owner: parseOwner(text), ageMs: Math.max(0, Date.now() - opened.mtimeMs), text };
  } finally {
    await handle.close();
  }
}

function oddEntry(info: Stats): RunLockState {
  const notAFile: NotAFile = info.isSymbolicLink() ? "symbolic link" : info.isFIFO() ? "FIFO" : info.isDirectory() ? "directory" : "special file";
  return { owner: null, ageMs: Math.max(0, Date.now() - info.mtimeMs), text: "", notAFile };
}

function readBoundedSync(file: string): string {
  // Called from signal handlers: must never block on a FIFO or read through a symlink.
  const fd = openSync(file, OPEN_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) return "";
    const buffer = Buffer.alloc(MAX_LOCK_BYTES + 1);
    const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
    return bytesRead > MAX_LOCK_BYTES ? "" : buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function parseOwner(text: string): RunLockOwner | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object") return null;
  // `nonce` is what locks written by earlier agentform versions call the token.
  const token = typeof v.token === "string" ? v.token : v.nonce;
  const { pid, host, since } = v;
  if (typeof token !== "string" || token === "" || typeof host !== "string" || host === "") return null;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return null;
  const when = typeof since === "string" && !Number.isNaN(Date.parse(since)) ? new Date(since).toISOString() : null;
  return { token, pid, host, since: when };
}

function held(file: string, me: RunLockOwner, heartbeatMs: number): RunLock {
  let lost = false;
  const ours = async () => (await readRunLock(file).catch(() => null))?.owner?.token === me.token;
  const touch = () => {
    const now = new Date();
    return utimes(file, now, now).catch(() => undefined);
  };
  // The heartbeat touches only a lock that is still ours: a holder resuming after a pause must
  // not keep a successor's lock looking fresh. (Touching someone else's lock in the instant
  // between the check and the touch would only delay its staleness: harmless.)
  const timer = setInterval(() => {
    void ours().then((yes) => (yes && !lost ? touch() : undefined));
  }, heartbeatMs);
  timer.unref();
  return {
    file,
    async verify() {
      if (!lost && (await ours())) {
        await touch();
        return;
      }
      lost = true;
      clearInterval(timer);
      throw lockLost(file, await readRunLock(file).catch(() => null));
    },
    async release() {
      clearInterval(timer);
      if (await ours()) await unlink(file).catch(() => undefined);
    },
    releaseSync() {
      clearInterval(timer);
      try {
        if (parseOwner(readBoundedSync(file))?.token === me.token) unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
}

/**
 * Remove the lock we judged (takeover or break) by renaming it aside first: if what moved is
 * not what we judged (someone took the lock between our look and our rename), put it back and
 * refuse, so we never delete a lock we did not look at.
 */
async function moveAside(file: string, judged: RunLockState, tag: string, changed: () => AgentformError): Promise<boolean> {
  const aside = `${file}.${tag}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const moved = await readRunLock(aside).catch(() => null);
  if (moved === null || moved.text !== judged.text) {
    await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    throw changed();
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

/**
 * `agentform lock break`: remove the lock whatever its heartbeat, except that a lock whose pid
 * still runs on this machine needs `force` (it is most likely a paused apply that will resume
 * and, fenced, stop; but if the pid was reused by another program, only a person can tell).
 * Returns what was removed, or null when there was no lock.
 */
export async function breakRunLock(file: string, options: { force?: boolean; target?: string } = {}): Promise<RunLockState | null> {
  try {
    return await breakLock(file, options);
  } catch (err) {
    if (err instanceof AgentformError) throw err;
    throw new OperationalError("run-lock-unwritable", `Cannot remove the apply lock ${file}: ${(err as Error).message}`, {
      hint: "Check that the project folder (and its .agentform/) is readable and writable.",
    });
  }
}

async function breakLock(file: string, options: { force?: boolean; target?: string }): Promise<RunLockState | null> {
  const seen = await readRunLock(file);
  if (seen === null) return null;
  if (seen.notAFile !== undefined) return removeOddEntry(file, seen, seen.notAFile, options.target);
  const owner = seen.owner;
  if (owner !== null && owner.host === hostname() && processAlive(owner.pid) && !options.force) {
    throw new SafetyError("run-lock-held", `The apply lock ${file} belongs to pid ${owner.pid}, which is still running on this machine.`, {
      hint: `If it is a paused apply, resume it (kill -CONT ${owner.pid}) or stop it (kill ${owner.pid}). If that pid is not an agentform apply, run \`${breakCommand(options.target)} --force\`.`,
    });
  }
  const removed = await moveAside(file, seen, `break-${randomBytes(8).toString("hex")}`, () => lockChanged(file, options.target));
  return removed ? seen : null;
}

/**
 * Remove what sits at the lock's path instead of a lock file, never following it: a directory
 * with rmdir (which cannot remove a lock file, so needs no check, and refuses a non-empty one:
 * that content is for a person to look at), anything else by moving it aside, checking that
 * what moved is still not a lock file (an apply may have taken the path just now), and
 * unlinking it. unlink removes a symlink itself, not what it points at.
 */
async function removeOddEntry(file: string, seen: RunLockState, kind: NotAFile, target: string | undefined): Promise<RunLockState | null> {
  if (kind === "directory") {
    try {
      await rmdir(file);
      return seen;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      throw new SafetyError("run-lock-invalid", `The apply lock path ${file} is a directory with files in it; \`agentform lock break\` removes only an empty one.`, {
        hint: "agentform never makes a directory there. Look at what it holds, remove it by hand, then run apply again.",
      });
    }
  }
  const aside = `${file}.break-${randomBytes(8).toString("hex")}.stale`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const moved = await lstat(aside);
  if (moved.isFile() || moved.isDirectory()) {
    // Not what was judged: put it back (link fails rather than replace a newer lock) and refuse.
    await (moved.isFile() ? link(aside, file).then(() => unlink(aside)) : rename(aside, file)).catch(() => undefined);
    throw lockChanged(file, target);
  }
  await unlink(aside);
  return seen;
}

function lockChanged(file: string, target: string | undefined): SafetyError {
  return new SafetyError("run-lock-changed", `The apply lock ${file} changed while it was being removed; it was left in place.`, {
    hint: `Another apply took it just now. Check it, then run \`${breakCommand(target)}\` again if needed.`,
  });
}

function notALockFile(file: string, kind: NotAFile, target: string | undefined): SafetyError {
  return new SafetyError("run-lock-invalid", `The apply lock path ${file} is a ${kind}, not a lock file: agentform never makes one, so it does not know whether an apply is running.`, {
    hint: `Check that no agentform apply of this target is running, then run \`${breakCommand(target)}\`, which removes it (a symbolic link is removed itself, never what it points at).`,
  });
}

function breakCommand(target: string | undefined): string {
  return `agentform lock break${target !== undefined ? ` --target ${target}` : ""}`;
}

/** Lock content is input like any other: show it without control characters, and not at length. */
export function describeOwner(owner: RunLockOwner | null): string {
  if (owner === null) return "unknown owner (not in agentform's format)";
  const host = owner.host.replace(/[^\x20-\x7e]/g, "?").slice(0, 100);
  return owner.host === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on ${host}`;
}

export function formatAge(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function inProgress(file: string, seen: RunLockState | null, verdict: RunLockVerdict, staleAfterMs: number, target?: string): SafetyError {
  const who = describeOwner(seen?.owner ?? null);
  const age = seen ? `, last heartbeat ${formatAge(seen.ageMs)} ago` : "";
  const command = breakCommand(target);
  const hints: Record<RunLockVerdict, string> = {
    "take-over": "Run again.",
    unreadable: `Once you are sure no agentform apply of this target is running, run \`${command}\`.`,
    fresh: `Wait for it to finish and run again. A lock whose process has ended frees itself ${formatAge(staleAfterMs)} after its last heartbeat; if you are sure no apply is running, \`${command}\` frees it now.`,
    remote: `This machine cannot tell whether it still runs there. Once you are sure it does not, run \`${command}\`.`,
    alive: `That process still runs but has stopped refreshing the lock: a paused apply (laptop sleep, SIGSTOP, a debugger) resumes where it was, so it is not taken over. Resume or stop it; if that pid is not an agentform apply, run \`${command} --force\`.`,
  };
  return new SafetyError("apply-in-progress", `Another agentform apply holds the run lock ${file}: ${who}${age}.`, {
    hint: hints[verdict],
    details: { verdict },
  });
}

function lockLost(file: string, now: RunLockState | null): SafetyError {
  const holder = now === null ? "it was removed (`agentform lock break`?)" : `${describeOwner(now.owner)} holds it now`;
  return new SafetyError("run-lock-lost", `This apply no longer holds its run lock ${file}: ${holder}. It stopped before its next write and left the lockfile to the current holder.`, {
    hint: "It was probably paused (laptop sleep, SIGSTOP) while the lock was broken, and another apply may have run since. Writes made before this point carry the ownership marker; run `agentform plan` to see where things stand, then apply again.",
  });
}
