/**
 * Reading and writing the lockfile (docs/lockfile.md). Writing is deterministic (sorted keys,
 * 2-space indent, trailing newline, no timestamps) so every change is a readable diff, and
 * atomic (temp file, fsync, rename) so a crash mid-write never leaves a torn lockfile.
 *
 * Compatibility: any 1.x lockfile is read. Top-level fields this agentform does not know (the
 * maps of resource kinds a newer minor added) are kept on the parsed object as they are and
 * written back unchanged, so an older agentform applying does not erase another kind's entries.
 */
import { createHash } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ConfigError, OperationalError, SafetyError } from "../errors.js";
import { inertText } from "../render/inert.js";
import { nullRecord } from "../util/record.js";
import { KIND_ORDER, kindSpec } from "../kinds/index.js";
import { LOCK_MAPS_SINCE_1_0, LOCKFILE_MAJOR, LOCKFILE_VERSION, MAX_PREVIOUS_NAME_LENGTH, MAX_PREVIOUS_NAMES, type LockedEntry, type Lockfile, type LockTables } from "./types.js";

/**
 * The lockfile as text: recursively sorted keys, 2-space indent, trailing newline. The version
 * written is always this writer's LOCKFILE_VERSION, whatever was read: a 1.0 file is upgraded on
 * its next write, and a file from a newer minor says, once rewritten here, that its last writer
 * did not maintain the newer minor's maps (it only carried them over).
 */
export function serializeLock(lock: Lockfile): string {
  const out: Record<string, unknown> = { ...lock, lockfileVersion: LOCKFILE_VERSION };
  // An empty map of a kind added after 1.0 is left out: a fleet without skills keeps the very
  // lockfile it had, byte for byte, and reading treats an absent map as empty.
  for (const kind of KIND_ORDER) {
    const key = kindSpec(kind).lockKey;
    if (!LOCK_MAPS_SINCE_1_0.has(key) && Object.keys(lock[key] ?? {}).length === 0) delete out[key];
  }
  return JSON.stringify(sortKeys(out), null, 2) + "\n";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out = nullRecord<unknown>();
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      // A prototype-free record: plain assignment makes an own property, "__proto__" included.
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** A lockfile with no resources yet, for the first apply of a target. */
export function emptyLock(project: string, target: string, origin: Lockfile["origin"]): Lockfile {
  return {
    lockfileVersion: LOCKFILE_VERSION,
    project,
    target,
    origin: { baseUrl: origin.baseUrl, workspaceId: origin.workspaceId },
    ...tables(() => nullRecord()),
  };
}

/** One prototype-free map per kind, made by `make`. */
function tables(make: (key: keyof LockTables) => Record<string, LockedEntry>): LockTables {
  return Object.fromEntries(KIND_ORDER.map((k) => [kindSpec(k).lockKey, make(kindSpec(k).lockKey)])) as LockTables;
}

/** A deep copy that keeps name-keyed tables prototype-free (structuredClone would not). */
export function cloneLock(lock: Lockfile): Lockfile {
  const copy = structuredClone(lock);
  return { ...copy, ...tables((key) => nullRecord(Object.entries(copy[key]))) };
}

/**
 * Read and validate a lockfile. Returns null when the file does not exist; anything unreadable
 * (bad JSON, a `lockfileVersion` that is not 1.x, a wrong shape) is a ConfigError naming the file.
 */
export async function readLock(file: string): Promise<Lockfile | null> {
  return (await readLockFile(file))?.lock ?? null;
}

/**
 * {@link readLock}, with the sha256 of the lockfile's text (what a saved plan records of it):
 * the text itself, megabytes for thousands of resources, need not be kept.
 */
export async function readLockFile(file: string): Promise<{ lock: Lockfile; sha256: string } | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ConfigError("lockfile-unreadable", `Cannot read the lockfile ${file}: ${(err as Error).message}`, {
      hint: "Check the file's permissions.",
    });
  }
  return { lock: parseLock(text, file), sha256: createHash("sha256").update(text, "utf8").digest("hex") };
}

/** Parse and validate lockfile text; `file` is only used in messages. */
export function parseLock(text: string, file: string): Lockfile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("lockfile-invalid-json", `The lockfile ${file} is not valid JSON: ${(err as Error).message}`, {
      hint: "Restore it from git (e.g. resolve a merge conflict by taking one side), then run `agentform apply` to rewrite it.",
    });
  }
  const problem = shapeProblem(data);
  if (problem === "version") throw versionError((data as { lockfileVersion?: unknown }).lockfileVersion, file);
  if (problem !== null) {
    throw new ConfigError("lockfile-invalid", `The lockfile ${file} is malformed: ${problem}.`, {
      hint: "Restore it from git; agentform writes it, so it should not be edited by hand.",
    });
  }
  // The spread keeps unknown top-level fields (a newer minor's maps) so they are written back.
  // Each table is the object JSON.parse just made, only without a prototype (so "constructor" is
  // an entry like any other): not copied, as thousands of entries would be twice.
  const lock = data as Lockfile;
  return { ...lock, ...tables((key) => (lock[key] === undefined ? nullRecord() : (Object.setPrototypeOf(lock[key], null) as Record<string, LockedEntry>))) };
}

/** Whether `version` is a minor of the major this agentform reads (1 ≤ v < 2 for major 1). */
function isReadableVersion(version: unknown): version is number {
  return typeof version === "number" && version >= LOCKFILE_MAJOR && version < LOCKFILE_MAJOR + 1;
}

function versionError(version: unknown, file: string): ConfigError {
  // A higher major was written by a newer agentform; anything else (0.9, "1.1") was never
  // written by any agentform, so upgrading would not help.
  const newer = typeof version === "number" && version >= LOCKFILE_MAJOR + 1;
  return new ConfigError(
    "lockfile-version-unsupported",
    `The lockfile ${file} has lockfileVersion ${JSON.stringify(version)}; this agentform reads lockfileVersion ${LOCKFILE_MAJOR}.x (a number from ${LOCKFILE_MAJOR} up to, not including, ${LOCKFILE_MAJOR + 1}) and writes ${LOCKFILE_VERSION}.`,
    {
      hint: newer
        ? "Upgrade agentform to the version that wrote this lockfile."
        : "No agentform wrote this version (agentform writes a number such as 1.2): restore the lockfile from git, then run `agentform apply` to rewrite it.",
    },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;

function shapeProblem(data: unknown): string | null {
  if (!isObject(data)) return "the top level is not an object";
  if (!isReadableVersion(data.lockfileVersion)) return "version";
  if (!isString(data.project)) return "`project` is missing";
  if (!isString(data.target)) return "`target` is missing";
  const origin = data.origin;
  if (!isObject(origin) || !isString(origin.baseUrl) || !(origin.workspaceId === null || isString(origin.workspaceId))) {
    return "`origin` must be {baseUrl, workspaceId}";
  }
  for (const kind of KIND_ORDER) {
    const spec = kindSpec(kind);
    if (data[spec.lockKey] === undefined && !LOCK_MAPS_SINCE_1_0.has(spec.lockKey)) continue;
    const problem = tableProblem(data[spec.lockKey], spec.lockKey, spec.lockVersion);
    if (problem !== null) return problem;
  }
  return null;
}

const VERSION_RULE = { integer: "version (integer), ", id: "version (a version id), ", none: "" } as const;

/** One kind's map: an object of complete entries, each with the version its kind records. */
function tableProblem(table: unknown, key: string, lockVersion: keyof typeof VERSION_RULE): string | null {
  if (!isObject(table)) return `\`${key}\` is not an object`;
  for (const [rawName, entry] of Object.entries(table)) {
    // The name is the lockfile's (a pull request's) text, printed in the error: one inert line.
    const name = inertText(rawName);
    if (!isObject(entry)) return `${key}.${name} must have id, ${VERSION_RULE[lockVersion]}specDigest and liveDigest`;
    const e = entry as Partial<LockedEntry>;
    const versionOk = lockVersion === "integer" ? Number.isInteger(e.version) : lockVersion === "id" ? isString(e.version) : true;
    const filesOk = e.files === undefined || (isObject(e.files) && Object.values(e.files).every(isString));
    if (!isString(e.id) || !versionOk || !filesOk || !isString(e.specDigest) || !isString(e.liveDigest)) {
      return `${key}.${name} must have id, ${VERSION_RULE[lockVersion]}specDigest and liveDigest`;
    }
    if (!previousNamesOk(e.previous_names)) {
      return `${key}.${name}.previous_names must be a list of at most ${MAX_PREVIOUS_NAMES} names, each 1 to ${MAX_PREVIOUS_NAME_LENGTH} characters`;
    }
  }
  return null;
}

/**
 * An entry's previous_names (format 1.2): absent, or a bounded list of bounded strings. Runtimes
 * resolve old names through it, so a hostile value (an object, a number, a megabyte string) is
 * refused here rather than interpreted.
 */
function previousNamesOk(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value) || value.length > MAX_PREVIOUS_NAMES) return false;
  return value.every((n) => isString(n) && n.length <= MAX_PREVIOUS_NAME_LENGTH);
}

let tempCounter = 0;

/**
 * Write the lockfile atomically: readers (and a crash) see either the old or the new file,
 * never a partial one. The temp file lives beside the target so rename stays on one filesystem.
 */
export async function writeLock(file: string, lock: Lockfile): Promise<void> {
  const text = serializeLock(lock);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++tempCounter}.tmp`);
  try {
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new OperationalError("lockfile-unwritable", `Cannot write the lockfile ${file}: ${(err as Error).message}`, {
      hint: "Check that the project folder is writable; the resources already written are safe and the next apply records them.",
    });
  }
  // Persist the rename itself; some filesystems do not support fsync on a directory.
  try {
    const dirHandle = await open(dir, "r");
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch {
    // best effort
  }
}

/**
 * Refuse to use a lockfile written for another project, target or workspace: its ids would
 * point at resources this target does not own.
 */
export function checkLockOrigin(lock: Lockfile, origin: Lockfile["origin"], project: string, target: string): void {
  const hint =
    "Each target has its own lockfile (agentform.<target>.lock.json). If the target really moved, delete the lockfile and run `agentform apply --adopt` to rebuild it.";
  // Every value is made one line where it is interpolated: error output keeps a message's own
  // line breaks, and the lockfile (from a pull request) could otherwise print a forged line.
  const t = inertText;
  if (lock.project !== project) {
    throw new SafetyError("lock-origin-mismatch", `The lockfile belongs to project "${t(lock.project)}", not "${t(project)}".`, {
      hint: `If the project was renamed, \`agentform state transfer --from-project ${t(lock.project)}\` takes its resources over (shown as a plan first); otherwise restore \`project: ${t(lock.project)}\` in agentform.yaml.`,
    });
  }
  if (lock.target !== target) {
    throw new SafetyError("lock-origin-mismatch", `The lockfile was written for target "${t(lock.target)}", not "${t(target)}".`, { hint });
  }
  if (lock.origin.baseUrl !== origin.baseUrl) {
    throw new SafetyError(
      "lock-origin-mismatch",
      `The lockfile was written against ${t(lock.origin.baseUrl)}, but target "${t(target)}" points at ${t(origin.baseUrl)}.`,
      { hint },
    );
  }
  if ((lock.origin.workspaceId ?? null) !== (origin.workspaceId ?? null)) {
    throw new SafetyError(
      "lock-origin-mismatch",
      `The lockfile was written for workspace ${t(lock.origin.workspaceId ?? "(none)")}, but target "${t(target)}" uses ${t(origin.workspaceId ?? "(none)")}.`,
      { hint },
    );
  }
}
