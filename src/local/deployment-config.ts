/**
 * Deployment bodies → the stored deployment (docs/local-control-plane.md, "Deployments"). Pure
 * apart from the look-ups of agents and memory stores, which go through `DeploymentRefs` (the
 * store supplies the live ones; state-check.ts supplies ones built from the state file).
 *
 * A deployment is kept in two parts, as credentials are: `config`, exactly what responses show
 * (minus the computed schedule fields), and `tokens`, the write-only `authorization_token` of each
 * resource (by position; null where none was sent), which no view reads. No message here quotes
 * a token.
 */
import { badRequest } from "./api-error.js";
import { checkTimeZone, parseCron } from "./cron.js";
import { fileId, resolveInitialEvents, webUrl } from "./deployment-events.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import { checkKeys, cloneJson, expectArray, expectObj, expectOneOf, expectString, isObj, type Obj } from "./util.js";

/** An agent pinned to a concrete version, as every deployment response shows it. */
export interface AgentRef {
  type: "agent";
  id: string;
  version: number;
}

/** The mutable part of a deployment, as responses show it (the schedule without its computed fields). */
export interface DeploymentConfig {
  name: string;
  description: string | null;
  agent: AgentRef;
  environment_id: string;
  initial_events: Obj[];
  resources: Obj[];
  schedule: Obj | null;
  vault_ids: string[];
  budget: Obj | null;
  metadata: Record<string, string>;
}

/** The write-only token of each resource, by position in `resources`; null where none was sent. */
export type ResourceTokens = (string | null)[];

/** What resolution needs to know about the agents and memory stores a deployment names. */
export interface DeploymentRefs {
  agent(id: string): { latestVersion: number; archived: boolean } | undefined;
  memoryStore(id: string): { archived: boolean } | undefined;
}

/** Limits: the SDK documents the counts, the instructions and the token-less echo; the text limits are this server's choice. */
export const DEPLOYMENT_NAME_MAX = 256;
export const DEPLOYMENT_DESCRIPTION_MAX = 2048;
export const DEPLOYMENT_MAX_RESOURCES = 500;
export const DEPLOYMENT_MAX_VAULTS = 50;
export const MEMORY_STORE_INSTRUCTIONS_MAX = 4096;
/** A session mounts at most 8 memory stores, so a deployment attaching more could never start one. */
export const DEPLOYMENT_MAX_MEMORY_STORES = 8;
export const AUTHORIZATION_TOKEN_MAX = 64 * 1024;
const MOUNT_PATH_MAX = 1024;
const BRANCH_MAX = 255;

const KEYS = ["name", "agent", "environment_id", "initial_events", "schedule", "resources", "vault_ids", "budget", "description", "metadata"];
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// 1 to 20 digits without leading zeros, and not 0: minor units of USD.
const AMOUNT = /^[1-9][0-9]{0,19}$/;

function required(v: unknown, where: string): unknown {
  if (v === undefined || v === null) throw badRequest(`${where}: Field required`);
  return v;
}

/**
 * An id with the resource's prefix; existence is checked at fire time, not here (the real API
 * finds a missing environment, vault or file only when a run fires).
 */
function prefixedId(v: unknown, prefix: string, where: string): string {
  const s = expectString(required(v, where), where, { min: 1 });
  if (!new RegExp(`^${prefix}_[A-Za-z0-9_]{1,128}$`).test(s)) throw badRequest(`${where}: must be a ${prefix}_… id`);
  return s;
}

function resolveName(v: unknown): string {
  const name = expectString(required(v, "name"), "name", { min: 1, max: DEPLOYMENT_NAME_MAX });
  if (CONTROL.test(name)) throw badRequest("name: must not contain control characters");
  return name;
}

/** null and "" both mean no description (the SDK: "send empty string or null to clear"). */
function resolveDescription(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = expectString(v, "description", { max: DEPLOYMENT_DESCRIPTION_MAX });
  return s === "" ? null : s;
}

/**
 * The id string pins the agent's latest version; the object form must carry both id and version
 * (the deployment docs say so, although the shared param type marks version optional). The agent
 * must exist and not be archived: this is checked at write time, as the real API does for agents.
 */
export function resolveAgentRef(v: unknown, refs: DeploymentRefs): AgentRef {
  let id: string;
  let version: number | undefined;
  if (typeof v === "string") {
    id = expectString(v, "agent", { min: 1 });
  } else {
    const o = expectObj(required(v, "agent"), "agent");
    checkKeys(o, ["type", "id", "version"], "agent");
    expectOneOf(o.type, ["agent"] as const, "agent.type");
    id = expectString(required(o.id, "agent.id"), "agent.id", { min: 1 });
    if (o.version === undefined || o.version === null) throw badRequest("agent.version: Field required; send the agent id as a string to pin its latest version");
    if (typeof o.version !== "number" || !Number.isInteger(o.version) || o.version < 1) throw badRequest("agent.version: must be an integer ≥ 1");
    version = o.version;
  }
  const target = refs.agent(id);
  if (!target) throw badRequest(`agent: agent ${id} does not exist`);
  if (target.archived) throw badRequest(`agent: agent ${id} is archived and cannot be deployed`);
  if (version !== undefined && version > target.latestVersion) throw badRequest(`agent: agent ${id} has no version ${version}`);
  return { type: "agent", id, version: version ?? target.latestVersion };
}

/** An absolute path inside the container, or null (the container's default). */
function mountPath(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  const s = expectString(v, where, { min: 1, max: MOUNT_PATH_MAX });
  if (!s.startsWith("/") || CONTROL.test(s)) throw badRequest(`${where}: must be an absolute path without control characters`);
  return s;
}

function checkout(v: unknown, where: string): Obj | null {
  if (v === undefined || v === null) return null;
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["branch", "commit"] as const, `${where}.type`);
  if (type === "branch") {
    checkKeys(o, ["type", "name"], where);
    const name = expectString(required(o.name, `${where}.name`), `${where}.name`, { min: 1, max: BRANCH_MAX });
    if (/[\s\u0000-\u001f\u007f-\u009f]/.test(name)) throw badRequest(`${where}.name: must not contain spaces or control characters`);
    return { type, name };
  }
  checkKeys(o, ["type", "sha"], where);
  const sha = expectString(required(o.sha, `${where}.sha`), `${where}.sha`);
  if (!SHA.test(sha)) throw badRequest(`${where}.sha: must be a full commit SHA (40 or 64 lowercase hex digits)`);
  return { type, sha };
}

/** A GitHub repository; its token goes to `tokens`, never into the echoed resource. */
function githubRepository(o: Obj, where: string, tokens: ResourceTokens): Obj {
  checkKeys(o, ["type", "url", "authorization_token", "checkout", "mount_path"], where);
  const url = webUrl(required(o.url, `${where}.url`), `${where}.url`);
  const token = o.authorization_token;
  tokens.push(token === undefined || token === null ? null : expectString(token, `${where}.authorization_token`, { min: 1, max: AUTHORIZATION_TOKEN_MAX }));
  return { type: "github_repository", url, checkout: checkout(o.checkout, `${where}.checkout`), mount_path: mountPath(o.mount_path, `${where}.mount_path`) };
}

/** A memory store must exist and not be archived when the deployment is written (the SDK: "must belong to the caller's organization"). */
function memoryStoreResource(o: Obj, where: string, refs: DeploymentRefs): Obj {
  checkKeys(o, ["type", "memory_store_id", "access", "instructions"], where);
  const id = expectString(required(o.memory_store_id, `${where}.memory_store_id`), `${where}.memory_store_id`, { min: 1 });
  const store = refs.memoryStore(id);
  if (!store) throw badRequest(`${where}.memory_store_id: memory store ${id.slice(0, 100)} does not exist`);
  if (store.archived) throw badRequest(`${where}.memory_store_id: memory store ${id} is archived and cannot be attached`);
  const access = o.access === undefined || o.access === null ? null : expectOneOf(o.access, ["read_write", "read_only"] as const, `${where}.access`);
  const instructions = o.instructions === undefined || o.instructions === null ? null : expectString(o.instructions, `${where}.instructions`, { max: MEMORY_STORE_INSTRUCTIONS_MAX });
  return { type: "memory_store", memory_store_id: id, access, instructions };
}

function resource(v: unknown, where: string, refs: DeploymentRefs, tokens: ResourceTokens): Obj {
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["github_repository", "file", "memory_store"] as const, `${where}.type`);
  if (type === "github_repository") return githubRepository(o, where, tokens);
  tokens.push(null);
  if (type === "memory_store") return memoryStoreResource(o, where, refs);
  checkKeys(o, ["type", "file_id", "mount_path"], where);
  return { type, file_id: fileId(required(o.file_id, `${where}.file_id`), `${where}.file_id`), mount_path: mountPath(o.mount_path, `${where}.mount_path`) };
}

/** Up to 500 resources; a memory store at most once, and at most 8 of them (a session's limit). */
function resolveResources(v: unknown, refs: DeploymentRefs): { resources: Obj[]; tokens: ResourceTokens } {
  const tokens: ResourceTokens = [];
  if (v === undefined || v === null) return { resources: [], tokens };
  const list = expectArray(v, "resources");
  if (list.length > DEPLOYMENT_MAX_RESOURCES) throw badRequest(`resources: at most ${DEPLOYMENT_MAX_RESOURCES} resources`);
  const resources = list.map((r, i) => resource(r, `resources[${i}]`, refs, tokens));
  const stores = resources.filter((r) => r.type === "memory_store").map((r) => r.memory_store_id as string);
  if (new Set(stores).size !== stores.length) throw badRequest("resources: a memory store is attached more than once");
  if (stores.length > DEPLOYMENT_MAX_MEMORY_STORES) throw badRequest(`resources: at most ${DEPLOYMENT_MAX_MEMORY_STORES} memory stores (a session mounts no more)`);
  return { resources, tokens };
}

/**
 * `{type: "cron", expression, timezone}`, checked by the shared rules (src/kinds/deployment/cron.ts,
 * through ./cron.ts): an expression that would never fire (Feb 30) is refused there too.
 */
export function resolveSchedule(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  const o = expectObj(v, "schedule");
  checkKeys(o, ["type", "expression", "timezone"], "schedule");
  expectOneOf(o.type, ["cron"] as const, "schedule.type");
  const expression = expectString(required(o.expression, "schedule.expression"), "schedule.expression", { min: 1, max: 256 });
  const timezone = checkTimeZone(expectString(required(o.timezone, "schedule.timezone"), "schedule.timezone", { min: 1, max: 256 }));
  parseCron(expression);
  return { type: "cron", expression, timezone };
}

function resolveVaultIds(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = expectArray(v, "vault_ids");
  if (list.length > DEPLOYMENT_MAX_VAULTS) throw badRequest(`vault_ids: at most ${DEPLOYMENT_MAX_VAULTS} vaults`);
  const ids = list.map((id, i) => prefixedId(id, "vlt", `vault_ids[${i}]`));
  if (new Set(ids).size !== ids.length) throw badRequest("vault_ids: a vault is listed more than once");
  return ids;
}

/** `{type: "limit", max_list_cost: {amount, currency: "USD"}}`; whether the agent's model has a list price is not checked here. */
function resolveBudget(v: unknown): Obj | null {
  if (v === undefined || v === null) return null;
  const o = expectObj(v, "budget");
  checkKeys(o, ["type", "max_list_cost"], "budget");
  expectOneOf(o.type, ["limit"] as const, "budget.type");
  const cost = expectObj(required(o.max_list_cost, "budget.max_list_cost"), "budget.max_list_cost");
  checkKeys(cost, ["amount", "currency"], "budget.max_list_cost");
  const amount = expectString(required(cost.amount, "budget.max_list_cost.amount"), "budget.max_list_cost.amount");
  if (!AMOUNT.test(amount)) throw badRequest("budget.max_list_cost.amount: must be a whole number of cents as a string, above 0 and without leading zeros (\"2500\" is $25.00)");
  const currency = expectOneOf(cost.currency, ["USD"] as const, "budget.max_list_cost.currency");
  return { type: "limit", max_list_cost: { amount, currency } };
}

/**
 * Resolve a create body; `tokens` holds the write-only values as sent (the store digests them).
 * `_now` is not needed any more (whether a schedule ever fires does not depend on the clock) and
 * stays for the callers.
 */
export function resolveDeploymentCreate(body: unknown, refs: DeploymentRefs, _now: Date): { config: DeploymentConfig; tokens: ResourceTokens } {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  const name = resolveName(b.name);
  const agent = resolveAgentRef(required(b.agent, "agent"), refs);
  const environment_id = prefixedId(b.environment_id, "env", "environment_id");
  const initial_events = resolveInitialEvents(b.initial_events);
  const { resources, tokens } = resolveResources(b.resources, refs);
  const config: DeploymentConfig = {
    name,
    description: resolveDescription(b.description),
    agent,
    environment_id,
    initial_events,
    resources,
    schedule: resolveSchedule(b.schedule),
    vault_ids: resolveVaultIds(b.vault_ids),
    budget: resolveBudget(b.budget),
    metadata: createMetadata(b.metadata, undefined),
  };
  return { config, tokens };
}

/** Fields that cannot be cleared: null is a 400, like an empty name. */
function notNull(b: Obj, key: string): void {
  if (b[key] === null) throw badRequest(`${key}: cannot be cleared; leave it out to keep the stored value`);
}

/**
 * A partial update with the API's rules for deployments (no version lock): omitted keeps;
 * `schedule`, `resources`, `vault_ids`, `budget` and `description` clear with null (and
 * `[]`/`""`); `name`, `agent`, `environment_id` and `initial_events` cannot be cleared; lists are
 * replaced whole; `metadata` is a patch.
 * `tokens` is null when `resources` was not sent (the stored tokens stay). `_now` as for create.
 */
export function resolveDeploymentUpdate(stored: DeploymentConfig, body: unknown, refs: DeploymentRefs, _now: Date): { config: DeploymentConfig; tokens: ResourceTokens | null } {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  for (const key of ["name", "agent", "environment_id", "initial_events"]) notNull(b, key);
  const has = (key: string) => b[key] !== undefined;
  const sentResources = has("resources") ? resolveResources(b.resources, refs) : null;
  const config: DeploymentConfig = {
    name: has("name") ? resolveName(b.name) : stored.name,
    description: has("description") ? resolveDescription(b.description) : stored.description,
    agent: has("agent") ? resolveAgentRef(b.agent, refs) : cloneJson(stored.agent),
    environment_id: has("environment_id") ? prefixedId(b.environment_id, "env", "environment_id") : stored.environment_id,
    initial_events: has("initial_events") ? resolveInitialEvents(b.initial_events) : cloneJson(stored.initial_events),
    resources: sentResources ? sentResources.resources : cloneJson(stored.resources),
    schedule: has("schedule") ? resolveSchedule(b.schedule) : cloneJson(stored.schedule),
    vault_ids: has("vault_ids") ? resolveVaultIds(b.vault_ids) : [...stored.vault_ids],
    budget: has("budget") ? resolveBudget(b.budget) : cloneJson(stored.budget),
    metadata: patchMetadata(stored.metadata, b.metadata, undefined, { emptyDeletes: false }),
  };
  return { config, tokens: sentResources ? sentResources.tokens : null };
}

/** The create body a stored deployment came from: its config with each stored token put back (for state-check.ts). */
export function deploymentCreateBody(config: DeploymentConfig, tokens: ResourceTokens): Obj {
  const body: Obj = cloneJson(config) as unknown as Obj;
  body.resources = config.resources.map((r, i) => {
    const out = cloneJson(r);
    const token = tokens[i];
    if (token !== null && token !== undefined && isObj(out)) out.authorization_token = token;
    return out;
  });
  return body;
}
