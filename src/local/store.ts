/**
 * The local control plane's state: agents with every version, environments, skills (kept by
 * skills.ts), vaults with their credentials (kept by vaults.ts), memory stores (memory-stores.ts)
 * and deployments (deployments.ts). Records are kept in creation
 * order (which is also the list order) with a by-id index, so a list page costs O(page) and a
 * cursor is just a position (see records.ts and paging.ts).
 */
import { badRequest, conflict, notFound } from "./api-error.js";
import {
  checkAgentUpdateBody,
  resolveAgentCreate,
  resolveAgentUpdate,
  type AgentConfig,
  type RosterContext,
} from "./agent-config.js";
import {
  checkEnvironmentUpdateBody,
  resolveEnvironmentCreate,
  resolveEnvironmentUpdate,
  type EnvironmentConfig,
} from "./environment-config.js";
import { DeploymentStore, type DeploymentRecord, type DeploymentWorld } from "./deployments.js";
import { MemoryStores, type MemoryStoreRecord } from "./memory-stores.js";
import { createdWithin, decodeCursor, pageOf, scopedList, type ListQuery, type Page } from "./paging.js";
import { RecordTable } from "./records.js";
import { SkillStore, type SkillRecord } from "./skills.js";
import { canonicalJson, cloneJson, newId, type Obj } from "./util.js";
import { VaultStore, type VaultRecord } from "./vaults.js";

export type { Page } from "./paging.js";

interface AgentVersion {
  version: number;
  updated_at: string;
  config: AgentConfig;
}

interface AgentRecord {
  id: string;
  created_at: string;
  archived_at: string | null;
  versions: AgentVersion[];
}

interface EnvironmentRecord {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  env: EnvironmentConfig;
  /** Deleted records stay in the ordered array (as holes) so outstanding cursors keep their meaning. */
  deleted?: boolean;
}

/** The persisted form (see persist.ts). */
export interface StateSnapshot {
  format: "agentform-local-state";
  formatVersion: 1;
  agents: AgentRecord[];
  environments: EnvironmentRecord[];
  /**
   * Written only when there are skills, so a state file without skills stays exactly what
   * earlier versions of this server wrote and read.
   */
  skills?: SkillRecord[];
  /** Written only when there are vaults, for the same reason; credentials (secrets included) sit inside their vault. */
  vaults?: VaultRecord[];
  /** Written only when there are memory stores, for the same reason. */
  memory_stores?: MemoryStoreRecord[];
  /** Written only when there are deployments, for the same reason (repository tokens as digests). */
  deployments?: DeploymentRecord[];
}

/** The parsed query of `GET /v1/agents`. */
export type AgentListQuery = ListQuery;

/** Page size limits (the agents' maximum is documented; the environment maximum is this server's choice). */
export const AGENT_LIST_DEFAULT_LIMIT = 20;
export const AGENT_LIST_MAX_LIMIT = 100;
export const ENVIRONMENT_LIST_DEFAULT_LIMIT = 20;
export const ENVIRONMENT_LIST_MAX_LIMIT = 1000;

/** All resources of one control plane, with the API's write rules applied. */
export class Store {
  private readonly agents = new RecordTable<AgentRecord>("agent");
  private readonly environments = new RecordTable<EnvironmentRecord>("environment");
  /** Names of non-archived environments → id (the API refuses a duplicate name with 409). */
  private environmentNames = new Map<string, string>();

  /** Called after every committed change (persistence hooks in here). */
  onCommit: () => void = () => {};

  /** Skills and their versions; commits go through onCommit, which is replaced after construction. */
  readonly skills: SkillStore;
  /** Vaults and their credentials; commits go through onCommit too. */
  readonly vaults: VaultStore;
  /** Memory stores (the stores only, not their memories). */
  readonly memoryStores: MemoryStores;
  /** Deployments; they look agents, environments, vaults, memory stores and skills up through deploymentWorld(). */
  readonly deployments: DeploymentStore;

  constructor(private readonly now: () => Date = () => new Date()) {
    this.skills = new SkillStore(() => this.onCommit(), now);
    this.vaults = new VaultStore(() => this.onCommit(), now);
    this.memoryStores = new MemoryStores(() => this.onCommit(), now);
    this.deployments = new DeploymentStore(() => this.onCommit(), now, this.deploymentWorld());
  }

  /** Live look-ups for deployments: writes check the agent and memory stores, runs check everything a fire would. */
  private deploymentWorld(): DeploymentWorld {
    return {
      agent: (id) => {
        const record = this.agents.find(id);
        return record ? { latestVersion: this.latest(record).version, archived: record.archived_at !== null } : undefined;
      },
      memoryStore: (id) => this.memoryStores.status(id),
      environment: (id) => {
        const record = this.environments.find(id);
        return record ? { archived: record.archived_at !== null, selfHosted: record.env.config.type === "self_hosted" } : undefined;
      },
      vault: (id) => this.vaults.status(id),
      missingSkill: (agentId, version) => {
        const config = this.agents.find(agentId)?.versions[version - 1]?.config;
        const custom = (config?.skills ?? []).filter((s) => s.type === "custom").map((s) => s.skill_id as string);
        return custom.find((id) => !this.skills.exists(id)) ?? null;
      },
    };
  }

  get agentCount(): number {
    return this.agents.count;
  }

  get environmentCount(): number {
    return this.environments.count;
  }

  // -- agents ----------------------------------------------------------------------------------

  private rosterContext(selfId: string, selfVersion: number): RosterContext {
    return {
      selfId,
      selfVersion,
      lookup: (id) => {
        const record = this.agents.find(id);
        if (!record) return undefined;
        const latest = record.versions[record.versions.length - 1] as AgentVersion;
        return { latestVersion: latest.version, archived: record.archived_at !== null, hasMultiagent: latest.config.multiagent !== null };
      },
    };
  }

  private agentView(record: AgentRecord, v: AgentVersion): Obj {
    const c = cloneJson(v.config);
    return {
      id: record.id,
      type: "agent",
      name: c.name,
      description: c.description,
      system: c.system,
      model: c.model,
      tools: c.tools,
      mcp_servers: c.mcp_servers,
      skills: c.skills,
      multiagent: c.multiagent,
      execution_identity: c.execution_identity,
      metadata: c.metadata,
      version: v.version,
      created_at: record.created_at,
      updated_at: v.updated_at,
      archived_at: record.archived_at,
    };
  }

  private latest(record: AgentRecord): AgentVersion {
    return record.versions[record.versions.length - 1] as AgentVersion;
  }

  createAgent(body: unknown): Obj {
    const id = newId("agent");
    const config = resolveAgentCreate(body, this.rosterContext(id, 1));
    const at = this.now().toISOString();
    const record: AgentRecord = { id, created_at: at, archived_at: null, versions: [{ version: 1, updated_at: at, config }] };
    this.agents.add(record);
    this.onCommit();
    return this.agentView(record, this.latest(record));
  }

  getAgent(id: string, version: number | null): Obj {
    const record = this.agents.get(id);
    if (version === null) return this.agentView(record, this.latest(record));
    const v = record.versions[version - 1];
    if (!v) throw notFound(`agent ${id} has no version ${version}`);
    return this.agentView(record, v);
  }

  /**
   * Update with the API's agent update rules (docs/local-control-plane.md, "Update"). A result
   * equal to the stored configuration (compared after resolution) is a no-op: same version, same
   * updated_at, nothing written.
   */
  updateAgent(id: string, body: unknown): Obj {
    const b = checkAgentUpdateBody(body);
    const record = this.agents.get(id);
    if (record.archived_at !== null) throw badRequest(`agent ${id} is archived and can no longer be updated`);
    const current = this.latest(record);
    if (b.version !== undefined && b.version !== current.version) {
      throw conflict(`version ${String(b.version)} does not match the current version ${current.version} of agent ${id}`);
    }
    // `self` resolves to the agent's version after this save, which is only known once we know
    // whether the save changes anything: first try "unchanged", then "one more".
    const unchanged = resolveAgentUpdate(current.config, b, this.rosterContext(id, current.version));
    if (canonicalJson(unchanged) === canonicalJson(current.config)) return this.agentView(record, current);
    const config = resolveAgentUpdate(current.config, b, this.rosterContext(id, current.version + 1));
    const next: AgentVersion = { version: current.version + 1, updated_at: this.now().toISOString(), config };
    record.versions.push(next);
    this.onCommit();
    return this.agentView(record, next);
  }

  /** Archive is one-way; archiving again returns the agent unchanged. Version and updated_at stay. */
  archiveAgent(id: string): Obj {
    const record = this.agents.get(id);
    if (record.archived_at === null) {
      record.archived_at = this.now().toISOString();
      this.onCommit();
    }
    return this.agentView(record, this.latest(record));
  }

  listAgents(q: AgentListQuery): Page {
    const start = decodeCursor("agents", q.page);
    return pageOf(
      this.agents.all,
      start,
      q.limit,
      (r) => (q.includeArchived || r.archived_at === null) && createdWithin(r.created_at, q),
      (r) => this.agentView(r, this.latest(r)),
      "agents",
    );
  }

  /** Every version as a full agent object, oldest first (the real order is not documented). */
  listAgentVersions(id: string, limit: number, page: string | null): Page {
    const record = this.agents.get(id);
    const list = scopedList("versions", id);
    return pageOf(record.versions, decodeCursor(list, page), limit, () => true, (v) => this.agentView(record, v), list);
  }

  // -- environments ----------------------------------------------------------------------------

  private environmentView(r: EnvironmentRecord): Obj {
    const e = cloneJson(r.env);
    const out: Obj = {
      id: r.id,
      type: "environment",
      name: e.name,
      description: e.description,
      config: e.config,
      metadata: e.metadata,
    };
    if (e.scope !== undefined) out.scope = e.scope;
    out.created_at = r.created_at;
    out.updated_at = r.updated_at;
    out.archived_at = r.archived_at;
    return out;
  }

  private checkEnvironmentName(name: string, selfId: string | null): void {
    const holder = this.environmentNames.get(name);
    if (holder !== undefined && holder !== selfId) {
      throw conflict(`an environment named "${name}" already exists (${holder})`);
    }
  }

  createEnvironment(body: unknown): Obj {
    const env = resolveEnvironmentCreate(body);
    this.checkEnvironmentName(env.name, null);
    const at = this.now().toISOString();
    const record: EnvironmentRecord = { id: newId("env"), created_at: at, updated_at: at, archived_at: null, env };
    this.environments.add(record);
    this.environmentNames.set(env.name, record.id);
    this.onCommit();
    return this.environmentView(record);
  }

  getEnvironment(id: string): Obj {
    return this.environmentView(this.environments.get(id));
  }

  /**
   * Environment update rules (docs/local-control-plane.md, "Environments"). updated_at moves only
   * when the stored environment actually changes.
   */
  updateEnvironment(id: string, body: unknown): Obj {
    const b = checkEnvironmentUpdateBody(body);
    const record = this.environments.get(id);
    if (record.archived_at !== null) throw badRequest(`environment ${id} is archived and cannot be updated`, "environment_archived");
    const next = resolveEnvironmentUpdate(record.env, b);
    if (canonicalJson(next) === canonicalJson(record.env)) return this.environmentView(record);
    if (next.name !== record.env.name) {
      this.checkEnvironmentName(next.name, id);
      this.environmentNames.delete(record.env.name);
      this.environmentNames.set(next.name, id);
    }
    record.env = next;
    record.updated_at = this.now().toISOString();
    this.onCommit();
    return this.environmentView(record);
  }

  /** One-way; again is a no-op. The name becomes free for a new environment. */
  archiveEnvironment(id: string): Obj {
    const record = this.environments.get(id);
    if (record.archived_at === null) {
      record.archived_at = this.now().toISOString();
      if (this.environmentNames.get(record.env.name) === id) this.environmentNames.delete(record.env.name);
      this.onCommit();
    }
    return this.environmentView(record);
  }

  deleteEnvironment(id: string): Obj {
    const record = this.environments.get(id);
    this.environments.delete(record);
    if (this.environmentNames.get(record.env.name) === id) this.environmentNames.delete(record.env.name);
    this.onCommit();
    return { id, type: "environment_deleted" };
  }

  listEnvironments(limit: number, page: string | null, includeArchived: boolean): Page {
    const start = decodeCursor("environments", page);
    return pageOf(
      this.environments.all,
      start,
      limit,
      (r) => r.deleted !== true && (includeArchived || r.archived_at === null),
      (r) => this.environmentView(r),
      "environments",
    );
  }

  // -- persistence -----------------------------------------------------------------------------

  /** The whole state as plain data (deleted environments, skills, skill versions, vaults, credentials and memory stores left out). */
  snapshot(): StateSnapshot {
    const snapshot: StateSnapshot = {
      format: "agentform-local-state",
      formatVersion: 1,
      agents: [...this.agents.all],
      environments: this.environments.all.filter((r) => r.deleted !== true),
    };
    const skills = this.skills.snapshot();
    if (skills.length > 0) snapshot.skills = skills;
    const vaults = this.vaults.snapshot();
    if (vaults.length > 0) snapshot.vaults = vaults;
    const memoryStores = this.memoryStores.snapshot();
    if (memoryStores.length > 0) snapshot.memory_stores = memoryStores;
    const deployments = this.deployments.snapshot();
    if (deployments.length > 0) snapshot.deployments = deployments;
    return snapshot;
  }

  /** Replace the state with a loaded snapshot (already checked by the caller). */
  load(snapshot: StateSnapshot): void {
    this.agents.load(cloneJson(snapshot.agents));
    const environments = cloneJson(snapshot.environments);
    this.environments.load(environments);
    this.environmentNames = new Map(environments.filter((r) => r.archived_at === null).map((r) => [r.env.name, r.id]));
    this.skills.load(snapshot.skills ?? []);
    this.vaults.load(snapshot.vaults ?? []);
    this.memoryStores.load(snapshot.memory_stores ?? []);
    this.deployments.load(snapshot.deployments ?? []);
  }
}
