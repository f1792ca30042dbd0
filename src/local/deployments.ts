/**
 * Deployments on the local control plane (`/v1/deployments…`). There is no delete: archive is the
 * end state, after which every change is refused. Schedules never fire here (no sessions exist),
 * so `last_run_at` stays null; `upcoming_runs_at` is computed from the cron at read time.
 *
 * `authorization_token`s are write-only: a record keeps only a slow salted digest of each (as
 * credential secrets are kept, see vaults.ts), and no view reads them.
 */
import { badRequest } from "./api-error.js";
import { parseCron, upcomingRuns } from "./cron.js";
import { resolveDeploymentCreate, resolveDeploymentUpdate, type DeploymentConfig, type DeploymentRefs, type ResourceTokens } from "./deployment-config.js";
import { createdWithin, decodeCursor, pageOf, type ListQuery, type Page } from "./paging.js";
import { RecordStore } from "./records.js";
import { canonicalJson, cloneJson, newId, type Obj } from "./util.js";
import { localSecretDigest } from "./vaults.js";

export type DeploymentStatus = "active" | "paused";

export interface DeploymentRecord {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  status: DeploymentStatus;
  /** Non-null exactly when paused: `{type: "manual"}` (only manual pauses happen here). */
  paused_reason: Obj | null;
  config: DeploymentConfig;
  /** The digest of each resource's authorization_token, by position; null where none. No view reads this. */
  tokens: ResourceTokens;
}

/** What a run needs to know about the rest of the control plane, beyond what writes check. */
export interface DeploymentWorld extends DeploymentRefs {
  environment(id: string): { archived: boolean; selfHosted: boolean } | undefined;
  vault(id: string): { archived: boolean } | undefined;
  /** A custom skill the agent version names that no longer exists, or null. */
  missingSkill(agentId: string, version: number): string | null;
}

/** The parsed query of `GET /v1/deployments`. */
export interface DeploymentListQuery extends ListQuery {
  agentId: string | null;
  status: DeploymentStatus | null;
}

/** Page sizes: the documented default 20 and maximum 100. */
export const DEPLOYMENT_LIST_DEFAULT_LIMIT = 20;
export const DEPLOYMENT_LIST_MAX_LIMIT = 100;
/** How many upcoming fire times a schedule shows (the SDK: "up to 5"). */
export const UPCOMING_RUNS = 5;

const digestAll = (tokens: ResourceTokens): ResourceTokens => tokens.map((t) => (t === null ? null : localSecretDigest(t)));

/** The deployments of one control plane. `commit` is called after every change (persistence hooks in there). */
export class DeploymentStore extends RecordStore<DeploymentRecord> {
  constructor(
    commit: () => void,
    now: () => Date,
    private readonly world: DeploymentWorld,
  ) {
    super("deployment", commit, now);
  }

  /** Archive is terminal: every change afterwards is a 400 (not 409, which both SDKs would retry in vain). */
  private active(id: string, what: string): DeploymentRecord {
    const record = this.records.get(id);
    if (record.archived_at !== null) throw badRequest(`deployment ${id} is archived and can no longer be ${what}`);
    return record;
  }

  /** The schedule as responses show it: the stored cron plus the computed `last_run_at` and `upcoming_runs_at`. */
  private scheduleView(r: DeploymentRecord): Obj | null {
    const s = r.config.schedule;
    if (s === null) return null;
    // The SDK: non-empty for active and paused deployments, empty once archived.
    const upcoming = r.archived_at === null ? upcomingRuns(parseCron(s.expression as string), s.timezone as string, this.now(), UPCOMING_RUNS) : [];
    return { ...cloneJson(s), last_run_at: null, upcoming_runs_at: upcoming };
  }

  /** Built field by field from the public parts; `tokens` is never read here. `budget` is left out when unset, as the SDK documents. */
  protected view(r: DeploymentRecord): Obj {
    const c = cloneJson(r.config);
    const out: Obj = {
      id: r.id,
      type: "deployment",
      name: c.name,
      description: c.description,
      agent: c.agent,
      environment_id: c.environment_id,
      initial_events: c.initial_events,
      resources: c.resources,
      schedule: this.scheduleView(r),
      vault_ids: c.vault_ids,
      metadata: { ...c.metadata },
    };
    if (c.budget !== null) out.budget = c.budget;
    Object.assign(out, { status: r.status, paused_reason: cloneJson(r.paused_reason), created_at: r.created_at, updated_at: r.updated_at, archived_at: r.archived_at });
    return out;
  }

  create(body: unknown): Obj {
    const now = this.now();
    const { config, tokens } = resolveDeploymentCreate(body, this.world, now);
    const at = now.toISOString();
    const record: DeploymentRecord = { id: newId("depl"), created_at: at, updated_at: at, archived_at: null, status: "active", paused_reason: null, config, tokens: digestAll(tokens) };
    return this.insert(record);
  }

  /**
   * Omitted keeps, lists are replaced whole, metadata is a patch (docs/local-control-plane.md,
   * "Update" under "Deployments"); the pause state is not touched. updated_at moves when a
   * returned field changed, or when `resources` was sent and a token was sent or a stored one
   * dropped (tokens are never compared).
   */
  update(id: string, body: unknown): Obj {
    const record = this.active(id, "updated");
    const now = this.now();
    const { config, tokens } = resolveDeploymentUpdate(record.config, body, this.world, now);
    const tokensChanged = tokens !== null && [...tokens, ...record.tokens].some((t) => t !== null);
    if (!tokensChanged && canonicalJson(config) === canonicalJson(record.config)) return this.view(record);
    record.config = config;
    if (tokens !== null) record.tokens = digestAll(tokens);
    record.updated_at = now.toISOString();
    this.commit();
    return this.view(record);
  }

  list(q: DeploymentListQuery): Page {
    const keep = (r: DeploymentRecord) =>
      (q.includeArchived || r.archived_at === null) &&
      (q.status === null || r.status === q.status) &&
      (q.agentId === null || r.config.agent.id === q.agentId) &&
      createdWithin(r.created_at, q);
    return pageOf(this.records.all, decodeCursor("deployments", q.page), q.limit, keep, (r) => this.view(r), "deployments");
  }

  /**
   * Terminal. An archived deployment reports `status: "active"` with `archived_at` set (the SDK
   * says so), so a pause is lifted. updated_at moves with it, as for memory stores. Again: a no-op.
   */
  archive(id: string): Obj {
    const record = this.records.get(id);
    if (record.archived_at === null) {
      const at = this.now().toISOString();
      Object.assign(record, { archived_at: at, updated_at: at, status: "active", paused_reason: null });
      this.commit();
    }
    return this.view(record);
  }

  /** Pausing a paused deployment (or unpausing an active one) is a no-op; a real change moves updated_at. */
  private setPaused(id: string, paused: boolean): Obj {
    const record = this.active(id, paused ? "paused" : "unpaused");
    if ((record.status === "paused") !== paused) {
      Object.assign(record, { status: paused ? "paused" : "active", paused_reason: paused ? { type: "manual" } : null, updated_at: this.now().toISOString() });
      this.commit();
    }
    return this.view(record);
  }

  pause(id: string): Obj {
    return this.setPaused(id, true);
  }

  /** Resumes from the next occurrence: nothing missed is run (there is no backfill). */
  unpause(id: string): Obj {
    return this.setPaused(id, false);
  }

  /**
   * "Run now": allowed while paused, refused once archived. No session is really started (sessions
   * are not modelled): the run checks what a fire would check and reports either a made-up
   * session id or the first error. Runs are not kept, and a failed manual run does not pause the
   * deployment (the SDK ties auto-pauses to scheduled fires).
   */
  run(id: string): Obj {
    const record = this.active(id, "run");
    const error = this.fireError(record.config);
    return {
      id: newId("drun"),
      type: "deployment_run",
      agent: cloneJson(record.config.agent),
      created_at: this.now().toISOString(),
      deployment_id: record.id,
      error,
      session_id: error === null ? newId("sesn") : null,
      trigger_context: { type: "manual" },
    };
  }

  /** The first reason a session could not be created now, in the SDK's run error shape, or null. */
  private fireError(c: DeploymentConfig): Obj | null {
    const fail = (type: string, message: string): Obj => ({ type, message });
    if (this.world.agent(c.agent.id)?.archived !== false) return fail("agent_archived_error", `agent ${c.agent.id} is archived`);
    const env = this.world.environment(c.environment_id);
    if (!env) return fail("environment_not_found_error", `environment ${c.environment_id} does not exist`);
    if (env.archived) return fail("environment_archived_error", `environment ${c.environment_id} is archived`);
    if (env.selfHosted && c.resources.length > 0) return fail("self_hosted_resources_unsupported_error", `environment ${c.environment_id} is self-hosted and cannot mount resources`);
    for (const vaultId of c.vault_ids) {
      const vault = this.world.vault(vaultId);
      if (!vault) return fail("vault_not_found_error", `vault ${vaultId} does not exist`);
      if (vault.archived) return fail("vault_archived_error", `vault ${vaultId} is archived`);
    }
    for (const r of c.resources) {
      if (r.type !== "memory_store") continue;
      const store = this.world.memoryStore(r.memory_store_id as string);
      // No memory_store_not_found error type exists; the SDK's catch-all for a vanished resource is this one.
      if (!store) return fail("session_resource_not_found_error", `memory store ${String(r.memory_store_id)} does not exist`);
      if (store.archived) return fail("memory_store_archived_error", `memory store ${String(r.memory_store_id)} is archived`);
    }
    const skill = this.world.missingSkill(c.agent.id, c.agent.version);
    return skill === null ? null : fail("skill_not_found_error", `skill ${skill} used by agent ${c.agent.id} version ${c.agent.version} does not exist`);
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Every deployment as plain data (tokens as digests, never the values). */
  snapshot(): DeploymentRecord[] {
    return [...this.records.all];
  }

  /** Replace the deployments with checked records (see state-check.ts). */
  load(records: readonly DeploymentRecord[]): void {
    this.records.load(cloneJson([...records]));
  }
}
