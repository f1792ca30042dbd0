/**
 * Validation of a loaded state file, entry by entry, before anything reaches the store. The file
 * is meant to be written only by this server, so the rule is strict: every record must have the
 * exact shape the store writes, and every stored configuration must be a fixed point of the
 * same resolution the API applies to request bodies (resolving it again changes nothing). That
 * one check reuses every API validation rule instead of restating them.
 *
 * A bad entry refuses the whole file, naming the entry; it is not skipped. Skipping would lose
 * data silently, and the next save would erase the skipped entry from disk for good.
 */
import { ApiError } from "./api-error.js";
import { resolveAgentCreate, type RosterContext } from "./agent-config.js";
import { authWithSecrets, credentialKey, placeholderSecrets, resolveCredentialCreate, type CredentialSecrets } from "./credential-config.js";
import { deploymentCreateBody, resolveDeploymentCreate, type DeploymentConfig, type DeploymentRefs, type ResourceTokens } from "./deployment-config.js";
import { resolveEnvironmentCreate } from "./environment-config.js";
import { resolveMemoryStoreCreate } from "./memory-store-config.js";
import { resolveDisplayName, resolveSkillFiles } from "./skill-config.js";
import type { StateSnapshot } from "./store.js";
import { canonicalJson, isObj, type Obj } from "./util.js";
import { resolveVaultCreate } from "./vault-config.js";
import { VAULT_MAX_ACTIVE_CREDENTIALS } from "./vaults.js";

/** A problem with one entry; `where` is a path like `agents[2].versions[0].config.tools[1]`, or "" for the whole file. */
export class StateEntryError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
    this.name = "StateEntryError";
  }
}

const AGENT_KEYS = ["id", "created_at", "archived_at", "versions"];
const VERSION_KEYS = ["version", "updated_at", "config"];
const ENVIRONMENT_KEYS = ["id", "created_at", "updated_at", "archived_at", "env"];
const SKILL_KEYS = ["id", "created_at", "updated_at", "display_name", "name", "versions"];
const SKILL_VERSION_KEYS = ["id", "created_at", "description", "files"];
const SKILL_FILE_KEYS = ["path", "data"];
const VAULT_KEYS = ["id", "created_at", "updated_at", "archived_at", "display_name", "metadata", "credentials"];
const CREDENTIAL_KEYS = ["id", "created_at", "updated_at", "archived_at", "display_name", "metadata", "auth", "secrets"];
const MEMORY_STORE_KEYS = ["id", "created_at", "updated_at", "archived_at", "name", "description", "metadata"];
const DEPLOYMENT_KEYS = ["id", "created_at", "updated_at", "archived_at", "status", "paused_reason", "config", "tokens"];
const TOP_KEYS = ["format", "formatVersion", "agents", "environments"];
/** Absent from files written before skills (or vaults, memory stores, deployments) existed, and from files without any: all load. */
const OPTIONAL_TOP_KEYS = ["skills", "vaults", "memory_stores", "deployments"];
/** A digest as secretDigest writes it: `scrypt1$<N>$<r>$<p>$<salt>$<hash>`. */
const DIGEST = /^scrypt1\$\d{1,10}\$\d{1,4}\$\d{1,4}\$[A-Za-z0-9_-]{1,64}\$[A-Za-z0-9_-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ID_SHAPE = /^[A-Za-z0-9_]{1,128}$/;

function expectKeys(o: Obj, keys: readonly string[], where: string, optional: readonly string[] = []): void {
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) throw new StateEntryError(where, `unexpected key "${k.slice(0, 64)}"`);
  for (const k of keys) if (!Object.hasOwn(o, k)) throw new StateEntryError(where, `missing key "${k}"`);
}

function expectRecord(v: unknown, keys: readonly string[], where: string): Obj {
  if (!isObj(v)) throw new StateEntryError(where, "is not an object");
  expectKeys(v, keys, where);
  return v;
}

/** Timestamps are written by toISOString(); anything else was not written by this server. */
function expectTimestamp(v: unknown, where: string, nullable = false): void {
  if (nullable && v === null) return;
  if (typeof v !== "string" || Number.isNaN(Date.parse(v)) || new Date(v).toISOString() !== v) {
    throw new StateEntryError(where, "is not an ISO 8601 timestamp as this server writes them");
  }
}

function expectId(v: unknown, prefix: string, where: string, seen: Set<string>): string {
  if (typeof v !== "string" || !v.startsWith(`${prefix}_`) || !ID_SHAPE.test(v)) {
    throw new StateEntryError(where, `is not a ${prefix} id (${prefix}_ followed by letters, digits and _)`);
  }
  if (seen.has(v)) throw new StateEntryError(where, `${v} appears more than once`);
  seen.add(v);
  return v;
}

/**
 * The head of a record that can be archived (environments, vaults, credentials, memory stores,
 * deployments): exact keys, an id with its prefix seen once, and the three timestamps. Returns the
 * record and its id.
 */
function expectArchivable(v: unknown, keys: readonly string[], prefix: string, where: string, ids: Set<string>): { record: Obj; id: string } {
  const record = expectRecord(v, keys, where);
  const id = expectId(record.id, prefix, `${where}.id`, ids);
  expectTimestamp(record.created_at, `${where}.created_at`);
  expectTimestamp(record.updated_at, `${where}.updated_at`);
  expectTimestamp(record.archived_at, `${where}.archived_at`, true);
  return { record, id };
}

/** The first path where two JSON values differ, for a message that points at the field. */
function firstDifference(a: unknown, b: unknown, where: string): string {
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (canonicalJson(a[k]) !== canonicalJson(b[k])) return firstDifference(a[k], b[k], `${where}.${k}`);
    }
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (canonicalJson(a[i]) !== canonicalJson(b[i])) return firstDifference(a[i], b[i], `${where}[${i}]`);
  }
  return where;
}

/**
 * `stored` must resolve to itself; an API validation failure is reported at its field. Anything
 * else thrown (a RangeError from absurdly deep nesting, say) is still this entry's problem.
 */
function expectFixedPoint(stored: unknown, resolve: (v: unknown) => unknown, where: string): void {
  try {
    const again = resolve(stored);
    if (canonicalJson(again) !== canonicalJson(stored)) {
      throw new StateEntryError(firstDifference(stored, again, where), "is not in the form this server stores");
    }
  } catch (err) {
    if (err instanceof StateEntryError) throw err;
    if (err instanceof ApiError) throw new StateEntryError(where, err.message.replace(/^body[.:]\s*/, ""));
    throw new StateEntryError(where, `could not be checked (${(err as Error).message})`);
  }
}

/**
 * Rosters are checked against the agents of the same file: a referenced agent must exist and
 * have the pinned version. Archived state and multiagent are not checked: they may have changed
 * after the roster was saved, which the API allows. `versions` (id → latest version) is built
 * once per file by the caller: building it per version made loading quadratic (8,000 agents
 * took seconds).
 */
function rosterContext(versions: ReadonlyMap<string, number>, selfId: string, selfVersion: number): RosterContext {
  return {
    selfId,
    selfVersion,
    lookup: (id) => {
      const latestVersion = versions.get(id);
      return latestVersion === undefined ? undefined : { latestVersion, archived: false, hasMultiagent: false };
    },
  };
}

function checkAgentShape(v: unknown, where: string, ids: Set<string>): Obj {
  const record = expectRecord(v, AGENT_KEYS, where);
  expectId(record.id, "agent", `${where}.id`, ids);
  expectTimestamp(record.created_at, `${where}.created_at`);
  expectTimestamp(record.archived_at, `${where}.archived_at`, true);
  if (!Array.isArray(record.versions) || record.versions.length === 0) throw new StateEntryError(`${where}.versions`, "is not a non-empty list");
  record.versions.forEach((ver, i) => {
    const w = `${where}.versions[${i}]`;
    const o = expectRecord(ver, VERSION_KEYS, w);
    if (o.version !== i + 1) throw new StateEntryError(`${w}.version`, `must be ${i + 1} (versions are numbered from 1 without gaps)`);
    expectTimestamp(o.updated_at, `${w}.updated_at`);
    if (!isObj(o.config)) throw new StateEntryError(`${w}.config`, "is not an object");
  });
  return record;
}

/** Each agent id of the file → its latest version. */
function latestVersions(agents: unknown[]): Map<string, number> {
  return new Map((agents as Obj[]).map((a) => [a.id as string, (a.versions as unknown[]).length]));
}

function checkAgents(list: unknown[]): void {
  const ids = new Set<string>();
  const records = list.map((v, i) => checkAgentShape(v, `agents[${i}]`, ids));
  const versions = latestVersions(records);
  records.forEach((record, i) => {
    (record.versions as Obj[]).forEach((ver, j) => {
      const ctx = rosterContext(versions, record.id as string, j + 1);
      expectFixedPoint(ver.config, (c) => resolveAgentCreate(c, ctx), `agents[${i}].versions[${j}].config`);
    });
  });
}

function checkEnvironments(list: unknown[]): void {
  const ids = new Set<string>();
  const liveNames = new Map<string, string>();
  list.forEach((v, i) => {
    const where = `environments[${i}]`;
    const { record, id } = expectArchivable(v, ENVIRONMENT_KEYS, "env", where, ids);
    expectFixedPoint(record.env, resolveEnvironmentCreate, `${where}.env`);
    const name = (record.env as Obj).name as string;
    const holder = liveNames.get(name);
    if (holder !== undefined) throw new StateEntryError(`${where}.env.name`, `"${name}" is also the name of ${holder}; names are unique among non-archived environments`);
    if (record.archived_at === null) liveNames.set(name, id);
  });
}

/** An API rule broken by a stored value, reported at the entry; anything else thrown is still this entry's problem. */
function asEntryError(err: unknown, where: string): StateEntryError {
  if (err instanceof StateEntryError) return err;
  if (err instanceof ApiError) return new StateEntryError(where, err.message);
  return new StateEntryError(where, `could not be checked (${(err as Error).message})`);
}

/** A file of a stored version: exact keys, a string path (checked with the upload rules later), canonical base64. */
function skillFile(v: unknown, where: string): { path: string; data: Buffer } {
  const f = expectRecord(v, SKILL_FILE_KEYS, where);
  if (typeof f.path !== "string") throw new StateEntryError(`${where}.path`, "is not a string");
  const data = f.data;
  // Buffer.from(…, "base64") skips what it does not understand; only the canonical text round-trips.
  if (typeof data !== "string" || !BASE64.test(data) || Buffer.from(data, "base64").toString("base64") !== data) {
    throw new StateEntryError(`${where}.data`, "is not base64 as this server writes it");
  }
  return { path: f.path, data: Buffer.from(data, "base64") };
}

/**
 * One stored version: its files must pass every rule an upload passes (paths, SKILL.md, limits),
 * and the slug and description read from them must be the ones stored.
 */
function checkSkillVersion(v: unknown, where: string, name: string, ids: Set<string>): void {
  const ver = expectRecord(v, SKILL_VERSION_KEYS, where);
  expectId(ver.id, "skver", `${where}.id`, ids);
  expectTimestamp(ver.created_at, `${where}.created_at`);
  if (!Array.isArray(ver.files)) throw new StateEntryError(`${where}.files`, "is not a list");
  const files = ver.files.map((f, i) => skillFile(f, `${where}.files[${i}]`));
  let resolved: { name: string; description: string };
  try {
    resolved = resolveSkillFiles(files);
  } catch (err) {
    throw asEntryError(err, `${where}.files`);
  }
  if (resolved.name !== name) throw new StateEntryError(`${where}.files`, `SKILL.md names the skill "${resolved.name}", not "${name}"`);
  if (ver.description !== resolved.description) throw new StateEntryError(`${where}.description`, "is not the description of the version's SKILL.md");
}

function checkSkills(list: unknown[]): void {
  const ids = new Set<string>();
  const versionIds = new Set<string>();
  list.forEach((v, i) => {
    const where = `skills[${i}]`;
    const record = expectRecord(v, SKILL_KEYS, where);
    expectId(record.id, "skill", `${where}.id`, ids);
    expectTimestamp(record.created_at, `${where}.created_at`);
    expectTimestamp(record.updated_at, `${where}.updated_at`);
    if (typeof record.display_name !== "string") throw new StateEntryError(`${where}.display_name`, "is not a string");
    try {
      resolveDisplayName(record.display_name);
    } catch (err) {
      throw asEntryError(err, `${where}.display_name`);
    }
    if (typeof record.name !== "string") throw new StateEntryError(`${where}.name`, "is not a string");
    // A skill always holds at least one version (the API refuses to delete the last one).
    if (!Array.isArray(record.versions) || record.versions.length === 0) throw new StateEntryError(`${where}.versions`, "is not a non-empty list");
    record.versions.forEach((ver, j) => checkSkillVersion(ver, `${where}.versions[${j}]`, record.name as string, versionIds));
  });
}

/**
 * One stored credential. An active one must hold its secrets, an archived one none (archiving
 * erases them; it is checked with stand-ins). Either way, a create body rebuilt from the stored
 * parts must resolve to exactly those parts, so every API rule applies; `expires_at` is not
 * required to be in the future, since time has passed since it was saved. No message quotes a
 * secret: API messages never do, and a difference is reported by its path only.
 */
function checkCredential(v: unknown, where: string, vaultArchived: boolean, ids: Set<string>, activeKeys: Map<string, string>): void {
  const { record, id } = expectArchivable(v, CREDENTIAL_KEYS, "vcrd", where, ids);
  const archived = record.archived_at !== null;
  if (vaultArchived && !archived) throw new StateEntryError(`${where}.archived_at`, "is null, but the vault is archived (archiving a vault archives its credentials)");
  if (!isObj(record.auth)) throw new StateEntryError(`${where}.auth`, "is not an object");
  if (archived && record.secrets !== null) throw new StateEntryError(`${where}.secrets`, "must be null: archiving a credential erases its secrets");
  if (!archived && !isObj(record.secrets)) throw new StateEntryError(`${where}.secrets`, "is not an object");
  const auth = record.auth;
  const secrets = (archived ? placeholderSecrets(auth) : record.secrets) as CredentialSecrets;
  const stored = { display_name: record.display_name, metadata: record.metadata, auth, secrets };
  expectFixedPoint(stored, () => resolveCredentialCreate({ display_name: record.display_name, metadata: record.metadata, auth: authWithSecrets(auth, secrets) }, null), where);
  if (archived) return;
  const key = credentialKey(auth);
  const holder = activeKeys.get(key);
  if (holder !== undefined) throw new StateEntryError(`${where}.auth`, `${key} is also the key of ${holder}; keys are unique among a vault's active credentials`);
  activeKeys.set(key, id);
  if (activeKeys.size > VAULT_MAX_ACTIVE_CREDENTIALS) throw new StateEntryError(where, `is one active credential too many: a vault holds at most ${VAULT_MAX_ACTIVE_CREDENTIALS}`);
}

function checkVaults(list: unknown[]): void {
  const ids = new Set<string>();
  const credentialIds = new Set<string>();
  list.forEach((v, i) => {
    const where = `vaults[${i}]`;
    const { record } = expectArchivable(v, VAULT_KEYS, "vlt", where, ids);
    expectFixedPoint({ display_name: record.display_name, metadata: record.metadata }, resolveVaultCreate, where);
    if (!Array.isArray(record.credentials)) throw new StateEntryError(`${where}.credentials`, "is not a list");
    const activeKeys = new Map<string, string>();
    record.credentials.forEach((c, j) => checkCredential(c, `${where}.credentials[${j}]`, record.archived_at !== null, credentialIds, activeKeys));
  });
}

function checkMemoryStores(list: unknown[]): void {
  const ids = new Set<string>();
  list.forEach((v, i) => {
    const where = `memory_stores[${i}]`;
    const { record } = expectArchivable(v, MEMORY_STORE_KEYS, "memstore", where, ids);
    expectFixedPoint({ name: record.name, description: record.description, metadata: record.metadata }, resolveMemoryStoreCreate, where);
  });
}

/**
 * Look-ups for a stored deployment: its agent must be in the file with the pinned version, but
 * may have been archived since. A memory store may have been archived or deleted since, which the
 * API allows (the deployment's runs then fail), so any memory store id is accepted.
 */
function storedRefs(versions: ReadonlyMap<string, number>): DeploymentRefs {
  return {
    agent: (id) => {
      const latestVersion = versions.get(id);
      return latestVersion === undefined ? undefined : { latestVersion, archived: false };
    },
    memoryStore: () => ({ archived: false }),
  };
}

/** Status and pause reason as this server writes them: paused only by hand, and never once archived. */
function checkPauseState(record: Obj, where: string): void {
  if (record.status !== "active" && record.status !== "paused") throw new StateEntryError(`${where}.status`, "must be active or paused");
  if (record.status === "paused" && record.archived_at !== null) throw new StateEntryError(`${where}.status`, "must be active: an archived deployment reports active");
  const reason = record.status === "paused" ? { type: "manual" } : null;
  if (canonicalJson(record.paused_reason) !== canonicalJson(reason)) {
    throw new StateEntryError(`${where}.paused_reason`, record.status === "paused" ? 'must be {"type":"manual"}' : "must be null while the deployment is active");
  }
}

/**
 * One stored deployment: its tokens are digests (never a token itself; no message quotes one),
 * and the create body rebuilt from its parts, tokens put back in place, resolves to exactly
 * those parts, so every API rule applies (the schedule is checked against today's clock).
 */
function checkDeployment(v: unknown, where: string, refs: DeploymentRefs, ids: Set<string>, now: Date): void {
  const { record } = expectArchivable(v, DEPLOYMENT_KEYS, "depl", where, ids);
  checkPauseState(record, where);
  if (!isObj(record.config) || !Array.isArray(record.config.resources)) throw new StateEntryError(`${where}.config`, "is not an object with a resources list");
  if (!Array.isArray(record.tokens)) throw new StateEntryError(`${where}.tokens`, "is not a list");
  record.tokens.forEach((t, j) => {
    if (t !== null && (typeof t !== "string" || !DIGEST.test(t))) throw new StateEntryError(`${where}.tokens[${j}]`, "is neither null nor a digest (scrypt1$…) as this server writes them");
  });
  const stored = { config: record.config, tokens: record.tokens };
  const config = record.config as unknown as DeploymentConfig;
  expectFixedPoint(stored, () => resolveDeploymentCreate(deploymentCreateBody(config, record.tokens as ResourceTokens), refs, now), where);
}

function checkDeployments(list: unknown[], agents: unknown[]): void {
  const ids = new Set<string>();
  const refs = storedRefs(latestVersions(agents));
  const now = new Date();
  list.forEach((v, i) => checkDeployment(v, `deployments[${i}]`, refs, ids, now));
}

/** Check a parsed state file; throws StateEntryError naming the first bad entry. */
export function checkSnapshot(parsed: unknown): StateSnapshot {
  if (!isObj(parsed) || parsed.format !== "agentform-local-state" || parsed.formatVersion !== 1) {
    throw new StateEntryError("", "is not an agentform local state file (format version 1)");
  }
  expectKeys(parsed, TOP_KEYS, "the top level", OPTIONAL_TOP_KEYS);
  if (!Array.isArray(parsed.agents)) throw new StateEntryError("agents", "is not a list");
  if (!Array.isArray(parsed.environments)) throw new StateEntryError("environments", "is not a list");
  for (const key of OPTIONAL_TOP_KEYS) if (Object.hasOwn(parsed, key) && !Array.isArray(parsed[key])) throw new StateEntryError(key, "is not a list");
  checkAgents(parsed.agents);
  checkEnvironments(parsed.environments);
  checkSkills((parsed.skills as unknown[] | undefined) ?? []);
  checkVaults((parsed.vaults as unknown[] | undefined) ?? []);
  checkMemoryStores((parsed.memory_stores as unknown[] | undefined) ?? []);
  checkDeployments((parsed.deployments as unknown[] | undefined) ?? [], parsed.agents);
  return parsed as unknown as StateSnapshot;
}
