/**
 * agentform/runtime: the data-plane reader of the lockfile. Runtime services use it to create
 * sessions pinned to the exact agent version a reviewed apply produced, never "latest":
 *
 * ```ts
 * import { loadLock } from "agentform/runtime";
 * const lock = loadLock();
 * await client.beta.sessions.create({ agent: lock.agent("triage"), environment_id: lock.environmentId("python-sandbox") });
 * ```
 *
 * It imports nothing but node built-ins so it stays cheap to load and safe to bundle; it must
 * not import the rest of agentform (a static test enforces this).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** A session's agent reference, pinned to one version. */
export interface AgentPin {
  type: "agent";
  id: string;
  version: number;
}

/** An agent's reference to a custom skill, pinned to one version. */
export interface SkillPin {
  type: "custom";
  skill_id: string;
  version: string;
}

/**
 * Every accessor also answers a name from before a rename, while the resource's manifest lists it
 * in `agentform.previous_names` (recorded in the lockfile since format 1.2), and reports it
 * through `onWarning`; two entries listing the same old name throw `ambiguous-previous-name`.
 */
export interface RuntimeLock {
  /** The pin for an agent by its manifest name; throws when the lockfile has no such agent. */
  agent(name: string): AgentPin;
  /** The pin for a skill by its folder name; throws when the lockfile has no such skill. */
  skill(name: string): SkillPin;
  /** The id of a vault by its display_name, for a session's or deployment's `vault_ids`; throws when the lockfile has no such vault. */
  vaultId(name: string): string;
  /** A session's or deployment's `vault_ids` for these vaults, in order; throws for a name the lockfile lacks. */
  vaultIds(...names: string[]): string[];
  /** The id of an environment by its manifest name; throws when the lockfile has no such environment. */
  environmentId(name: string): string;
  /** The id of a memory store by its manifest name, for a session's `resources` ({type: memory_store, memory_store_id}). */
  memoryStoreId(name: string): string;
  /** The id of a deployment by its manifest name (to run it now, or read its runs). */
  deploymentId(name: string): string;
  readonly project: string;
  readonly target: string;
}

/** Why the lockfile could not be used; `code` is stable, the message says what to do. */
export class RuntimeLockError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "RuntimeLockError";
    this.code = code;
  }
}

/** How `loadLock` finds the lockfile, and where it reports names answered through a rename. */
export interface LoadLockOptions {
  /** The lockfile's path (as the string argument): wins over `target`, `dir` and AGENTFORM_LOCKFILE. */
  file?: string;
  /**
   * The target whose lockfile to read: `agentform.lock.json` for "default",
   * `agentform.<target>.lock.json` for any other (letters, digits, `_` and `-`). The lockfile
   * must also say it was written for that target.
   */
  target?: string;
  /** The folder holding the lockfile (default: the current directory); it is not searched upward. */
  dir?: string;
  /**
   * Called when a name is answered through an entry's previous_names (a caller still using the
   * name from before a rename), once per name. Default: process.emitWarning with the code
   * AGENTFORM_RENAMED.
   */
  onWarning?: (message: string) => void;
}

const SUPPORTED_MAJOR = 1;
const DEFAULT_FILE = "agentform.lock.json";
/** Target names as agentform.yaml allows them: no separator or dot, so no path can be built from one. */
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
/** The bounds agentform writes within (src/lock/types.ts; this file imports nothing of agentform). */
const MAX_PREVIOUS_NAMES = 1000;
const MAX_PREVIOUS_NAME_LENGTH = 1024;
/** The maps this reader answers from; previous_names are checked in these only. */
const READ_MAPS = ["agents", "skills", "vaults", "environments", "memory_stores", "deployments"];

interface RawEntry {
  id?: unknown;
  version?: unknown;
  previous_names?: unknown;
}

/**
 * Read the lockfile once and return a reader over it. With no argument: `agentform.lock.json`
 * in the current directory, or the file AGENTFORM_LOCKFILE names. A string is the lockfile's
 * path; options pick a target's lockfile in a folder (see LoadLockOptions). Explicit arguments
 * win over AGENTFORM_LOCKFILE.
 */
export function loadLock(fileOrOptions?: string | LoadLockOptions): RuntimeLock {
  const options: LoadLockOptions = typeof fileOrOptions === "string" ? { file: fileOrOptions } : (fileOrOptions ?? {});
  const resolved = lockPath(options);
  const data = readLockData(resolved);
  checkTarget(data, options.target, resolved);
  checkPreviousNames(data, resolved);
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, { code: "AGENTFORM_RENAMED" }));
  const warned = new Set<string>();
  // Lockfiles written before a kind existed have no map for it: every name is then unknown.
  const entry = (map: string, kind: string, name: string, valid: (e: RawEntry) => boolean, add: string): RawEntry => {
    const table = asRecord(data[map]);
    const found = lookup(table, kind, name, resolved);
    if (found && valid(found.entry)) {
      // Never silently: the caller is using a name that stops working once it leaves previous_names.
      if (found.name !== name && !warned.has(`${map}\u0000${name}`)) {
        warned.add(`${map}\u0000${name}`);
        warn(`${noun(kind)} "${printable(name)}" was renamed to "${printable(found.name)}" (lockfile ${resolved}); update the caller (the old name works while it stays in previous_names)`);
      }
      return found.entry;
    }
    throw new RuntimeLockError(`unknown-${kind.replace(/_/g, "-")}`, `The lockfile ${resolved} has no ${noun(kind)} named "${printable(name)}"${known(table)}. ${add} and run \`agentform apply\`, or fix the name.`);
  };
  const hasId = (e: RawEntry) => typeof e.id === "string";
  return {
    project: typeof data.project === "string" ? data.project : "",
    target: typeof data.target === "string" ? data.target : "",
    agent(name: string): AgentPin {
      const e = entry("agents", "agent", name, (x) => hasId(x) && typeof x.version === "number", "Add a manifest for it");
      return { type: "agent", id: e.id as string, version: e.version as number };
    },
    skill(name: string): SkillPin {
      const e = entry("skills", "skill", name, (x) => hasId(x) && typeof x.version === "string", `Add skills/${printable(name)}/SKILL.md`);
      return { type: "custom", skill_id: e.id as string, version: e.version as string };
    },
    vaultId: (name: string) => entry("vaults", "vault", name, hasId, "Add a manifest for it under vaults/").id as string,
    // What a session or deployment takes as `vault_ids`: in the order given (the first vault
    // holding a credential for a URL wins), each name checked.
    vaultIds: (...names: string[]) => names.map((name) => entry("vaults", "vault", name, hasId, "Add a manifest for it under vaults/").id as string),
    environmentId: (name: string) => entry("environments", "environment", name, hasId, "Add a manifest for it").id as string,
    memoryStoreId: (name: string) => entry("memory_stores", "memory_store", name, hasId, "Add a manifest for it under memory_stores/").id as string,
    deploymentId: (name: string) => entry("deployments", "deployment", name, hasId, "Add a manifest for it under deployments/").id as string,
  };
}

/** The lockfile's path: an explicit file, else a target's lockfile in a folder, else AGENTFORM_LOCKFILE or the default. */
function lockPath(options: LoadLockOptions): string {
  if (options.target !== undefined && (typeof options.target !== "string" || !TARGET_NAME.test(options.target))) {
    // A target is only ever a file name's middle part: "../x" or "a/b" must not pick another file.
    throw new RuntimeLockError("invalid-target", `"${printable(String(options.target))}" is not a target name: use letters, digits, _ and - (up to 40, starting with a letter or digit), as in agentform.yaml.`);
  }
  if (options.file !== undefined) return path.resolve(options.file);
  if (options.target !== undefined || options.dir !== undefined) {
    const target = options.target ?? "default";
    return path.resolve(options.dir ?? process.cwd(), target === "default" ? DEFAULT_FILE : `agentform.${target}.lock.json`);
  }
  return path.resolve(process.env.AGENTFORM_LOCKFILE ?? DEFAULT_FILE);
}

/** Asked for a target's lockfile: one written for another target (copied, or renamed) is refused. */
function checkTarget(data: Record<string, unknown>, target: string | undefined, resolved: string): void {
  if (target === undefined || data.target === target) return;
  throw new RuntimeLockError(
    "lockfile-target-mismatch",
    `The lockfile ${resolved} was written for target "${printable(String(data.target))}", not "${target}". Use the target's own lockfile (agentform apply --target ${target} writes it).`,
  );
}

/**
 * Every previous_names list in the maps this reader answers from: absent, or at most
 * MAX_PREVIOUS_NAMES strings of 1 to MAX_PREVIOUS_NAME_LENGTH characters. Checked at load, so a
 * service fails at start-up on a hostile or broken lockfile, not on the first old name it asks for.
 */
function checkPreviousNames(data: Record<string, unknown>, resolved: string): void {
  for (const map of READ_MAPS) {
    const table = asRecord(data[map]);
    for (const name of Object.keys(table)) {
      const e = own(table, name);
      const names = isObject(e) ? e.previous_names : undefined;
      if (names === undefined) continue;
      const ok = Array.isArray(names) && names.length <= MAX_PREVIOUS_NAMES && names.every((n) => typeof n === "string" && n.length > 0 && n.length <= MAX_PREVIOUS_NAME_LENGTH);
      if (ok) continue;
      throw new RuntimeLockError(
        "lockfile-invalid",
        `The lockfile ${resolved} is malformed: ${map}.${printable(name)}.previous_names must be a list of at most ${MAX_PREVIOUS_NAMES} names, each 1 to ${MAX_PREVIOUS_NAME_LENGTH} characters. Restore it from git or rerun \`agentform apply\`.`,
      );
    }
  }
}

/**
 * The entry named `name`; failing that, the one entry whose previous_names list it (a caller
 * from before a rename). An entry under the name itself always wins. Two entries claiming one
 * old name is refused: either answer could be the wrong pin.
 */
function lookup(table: Record<string, RawEntry>, kind: string, name: string, resolved: string): { name: string; entry: RawEntry } | undefined {
  const exact = own(table, name);
  if (exact !== undefined) return isObject(exact) ? { name, entry: exact } : undefined;
  const renamed = Object.keys(table)
    .filter((n) => {
      const e = own(table, n);
      return isObject(e) && Array.isArray(e.previous_names) && e.previous_names.includes(name);
    })
    .sort();
  if (renamed.length > 1) {
    throw new RuntimeLockError(
      "ambiguous-previous-name",
      `The lockfile ${resolved} has no ${noun(kind)} named "${printable(name)}", and ${renamed.length} list it as a previous name (${renamed.map(printable).join(", ")}). Ask for the current name; only one ${noun(kind)} can be renamed from a name, so run \`agentform apply\` to rewrite the lockfile.`,
    );
  }
  return renamed.length === 1 ? { name: renamed[0] as string, entry: own(table, renamed[0] as string) as RawEntry } : undefined;
}

/** The lockfile's top-level object, read and checked (JSON, an object, a major this reader knows). */
function readLockData(resolved: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolved, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuntimeLockError(
      "lockfile-missing",
      code === "ENOENT"
        ? `No lockfile at ${resolved}. Run \`agentform apply\` and commit the lockfile it writes, or point AGENTFORM_LOCKFILE at it.`
        : `Cannot read the lockfile ${resolved} (${code ?? "error"}). Check the path and its permissions.`,
    );
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new RuntimeLockError("lockfile-invalid", `The lockfile ${resolved} is not valid JSON. Restore it from git or rerun \`agentform apply\`.`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new RuntimeLockError("lockfile-invalid", `The lockfile ${resolved} is not a JSON object. Restore it from git.`);
  }
  // Any minor of the major (1, 1.1, 1.2, ...): minors only add (top-level maps, entry fields),
  // and this reader ignores what it does not know, so a service keeps working when a newer
  // agentform rewrites the lockfile.
  const version = data.lockfileVersion;
  if (typeof version !== "number" || Math.floor(version) !== SUPPORTED_MAJOR) {
    throw new RuntimeLockError(
      "lockfile-version-unsupported",
      `The lockfile ${resolved} has lockfileVersion ${printable(String(JSON.stringify(version)))}, but this reader understands version ${SUPPORTED_MAJOR}.x. Upgrade the agentform package this service depends on to the version that wrote the lockfile.`,
    );
  }
  return data;
}

function asRecord(value: unknown): Record<string, RawEntry> {
  return isObject(value) ? (value as Record<string, RawEntry>) : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** "memory_store" → "memory store", for messages. */
function noun(kind: string): string {
  return kind.replace(/_/g, " ");
}

/**
 * Lockfile text (a pull request can edit it) made one inert line for logs and terminals: C0 and
 * C1 controls, DEL and bidi controls become visible escapes. The same characters agentform's own
 * output escapes; repeated here because this file imports nothing of agentform.
 */
function printable(s: string): string {
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// Own properties only, so names like "constructor" or "__proto__" are just unknown names.
function own(record: Record<string, RawEntry>, name: string): RawEntry | undefined {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

function known(record: Record<string, RawEntry>): string {
  const names = Object.keys(record).sort();
  if (names.length === 0) return " (it lists none)";
  const shown = names.slice(0, 10).map(printable).join(", ");
  return ` (it has: ${shown}${names.length > 10 ? ", …" : ""})`;
}
