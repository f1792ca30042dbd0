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

const SUPPORTED_MAJOR = 1;
const DEFAULT_FILE = "agentform.lock.json";

interface RawEntry {
  id?: unknown;
  version?: unknown;
}

/**
 * Read the lockfile once and return a reader over it. The path defaults to
 * `agentform.lock.json` in the current directory; the AGENTFORM_LOCKFILE environment variable
 * overrides the default (an explicit argument wins over both).
 */
export function loadLock(file?: string): RuntimeLock {
  const resolved = path.resolve(file ?? process.env.AGENTFORM_LOCKFILE ?? DEFAULT_FILE);
  const data = readLockData(resolved);
  // Lockfiles written before a kind existed have no map for it: every name is then unknown.
  const entry = (map: string, kind: string, name: string, valid: (e: RawEntry) => boolean, add: string): RawEntry => {
    const table = asRecord(data[map]);
    const found = own(table, name);
    if (found && valid(found)) return found;
    throw new RuntimeLockError(`unknown-${kind.replace(/_/g, "-")}`, `The lockfile ${resolved} has no ${kind.replace(/_/g, " ")} named "${name}"${known(table)}. ${add} and run \`agentform apply\`, or fix the name.`);
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
      const e = entry("skills", "skill", name, (x) => hasId(x) && typeof x.version === "string", `Add skills/${name}/SKILL.md`);
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
  // Any minor of the major (1, 1.1, 1.2, ...): minors only add top-level maps, which this reader
  // ignores, so a service keeps working when a newer agentform rewrites the lockfile.
  const version = data.lockfileVersion;
  if (typeof version !== "number" || Math.floor(version) !== SUPPORTED_MAJOR) {
    throw new RuntimeLockError(
      "lockfile-version-unsupported",
      `The lockfile ${resolved} has lockfileVersion ${JSON.stringify(version)}, but this reader understands version ${SUPPORTED_MAJOR}.x. Upgrade the agentform package this service depends on to the version that wrote the lockfile.`,
    );
  }
  return data;
}

function asRecord(value: unknown): Record<string, RawEntry> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, RawEntry>) : {};
}

// Own properties only, so names like "constructor" or "__proto__" are just unknown names.
function own(record: Record<string, RawEntry>, name: string): RawEntry | undefined {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

function known(record: Record<string, RawEntry>): string {
  const names = Object.keys(record).sort();
  if (names.length === 0) return " (it lists none)";
  const shown = names.slice(0, 10).join(", ");
  return ` (it has: ${shown}${names.length > 10 ? ", …" : ""})`;
}
