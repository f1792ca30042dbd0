/**
 * The deployment kind over plain data: canonical forms of a manifest and of a deployment as the
 * API returns it (server defaults, read-only schedule fields, `paused` from the status, a pause
 * the server made for an error), references and re-pins through the planner, create and update
 * bodies with repository tokens as placeholders, the security review, the rules, and prune
 * refusing to archive what a live deployment still uses.
 */
import { describe, expect, it } from "vitest";
import type { BetaManagedAgentsDeployment } from "@anthropic-ai/sdk/resources/beta/deployments";
import type { BetaManagedAgentsMemoryStore } from "@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores";
import { KINDS } from "../../src/kinds/index.js";
import { placeholdersIn } from "../../src/apply/secrets.js";
import { resourcesBody, tokenEnvNames, tokenPointers } from "../../src/kinds/deployment/body.js";
import { canonicalDeploymentLive, serverPauseReason, TOKEN_AS_SENT } from "../../src/kinds/deployment/canonical.js";
import { deploymentFindings } from "../../src/kinds/deployment/security.js";
import { Findings } from "../../src/kinds/findings.js";
import { KNOWN_AFTER_APPLY, SECRET_STATUS_KEY, type DesiredContext } from "../../src/kinds/spec.js";
import type { KindRef, LiveAgent, LiveEnvironment, LiveVault } from "../../src/kinds/types.js";
import { checkRules } from "../../src/manifest/index.js";
import type { Diagnostic, LoadedManifest } from "../../src/manifest/types.js";
import { liveDigest, specDigest } from "../../src/normalize/index.js";
import { buildCreateBody } from "../../src/plan/body.js";
import { buildPlan, buildUpdateBody, diffCanonical, reviewSecurity } from "../../src/plan/index.js";
import type { Plan, PlanInput, PlannedResource } from "../../src/plan/types.js";
import { emptyByKind, liveAgent, liveEnvironment, lockfile, manifest, MARKER, planInput, PROJECT } from "../plan/helpers.js";

type Obj = Record<string, unknown>;
type LiveDeployment = BetaManagedAgentsDeployment;

const deployment = KINDS.deployment;

const AGENT_ID = "agent_011triage";
const ENV_ID = "env_011supportlockeddown";
const VAULT_ID = "vlt_011githubtools";
const OTHER_VAULT_ID = "vlt_011npmtools";
const STORE_ID = "memstore_011supportnotes";
const OTHER_STORE_ID = "memstore_011runbooks";
const DEPLOYMENT_ID = "depl_011nightlytriage";
const REPO = "https://github.com/example/support-bots";

const DESCRIPTION = "Every weekday at 07:00 Paris time, triage the overnight support queue.";
const INSTRUCTIONS = "Record each recurring issue and its resolution; read it before triaging.";
const MESSAGE = { type: "user.message", content: [{ type: "text", text: "Triage the support tickets opened since the last run and route each one." }] };
const SCHEDULE = { type: "cron", expression: "0 7 * * 1-5", timezone: "Europe/Paris" };
const BUDGET = { type: "limit", max_list_cost: { amount: "500", currency: "USD" } };

/** The manifest of deployments/nightly-triage.yaml, as the loader reads it. */
const nightlySpec = (over: Obj = {}): Obj => ({
  name: "nightly-triage",
  description: DESCRIPTION,
  agent: { ref: "triage" },
  environment_id: { ref: "support-locked-down" },
  vault_ids: [{ ref: "github-tools" }],
  resources: [{ type: "memory_store", ref: "support-notes", access: "read_write", instructions: INSTRUCTIONS }],
  initial_events: [MESSAGE],
  schedule: { ...SCHEDULE },
  budget: BUDGET,
  metadata: { team: "support-platform" },
  paused: false,
  ...over,
});

/** A deployment as the API returns it for nightlySpec(): ids, the agent at a concrete version, the schedule's run times. */
function liveDeployment(over: Obj = {}): LiveDeployment {
  return {
    id: DEPLOYMENT_ID,
    type: "deployment",
    name: "nightly-triage",
    description: DESCRIPTION,
    agent: { type: "agent", id: AGENT_ID, version: 3 },
    environment_id: ENV_ID,
    vault_ids: [VAULT_ID],
    resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: INSTRUCTIONS }],
    initial_events: [MESSAGE],
    schedule: { ...SCHEDULE, last_run_at: "2026-11-02T06:00:04Z", upcoming_runs_at: ["2026-11-03T06:00:00Z", "2026-11-04T06:00:00Z"] },
    budget: BUDGET,
    metadata: { ...MARKER, team: "support-platform" },
    status: "active",
    paused_reason: null,
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    ...over,
  } as unknown as LiveDeployment;
}

const IDS: Record<string, Record<string, string>> = {
  agent: { triage: AGENT_ID },
  environment: { "support-locked-down": ENV_ID },
  vault: { "github-tools": VAULT_ID, "npm-tools": OTHER_VAULT_ID },
  memory_store: { "support-notes": STORE_ID, runbooks: OTHER_STORE_ID },
};
/** Every target known, the agent at version 3 unless pinned. */
const resolveAll = (target: KindRef) => {
  const id = IDS[target.kind]?.[target.name];
  if (id === undefined) return undefined;
  return target.kind === "agent" ? { id, version: target.version ?? 3 } : { id };
};
const resolved: DesiredContext = { resolveRef: resolveAll };
const desired = (spec: Obj): Obj => deployment.canonicalDesired(spec, resolved);

// ------------------------------------------------------------------------------------------------
// The fleet the deployment uses, for the planner

const settings = (over: Partial<LoadedManifest["settings"]> = {}): LoadedManifest["settings"] => ({ previous_names: [], adopt: false, ignore: [], ...over });
const locate = () => ({ line: 1, column: 1 });

function deploymentManifest(spec: Obj, over: Partial<LoadedManifest["settings"]> = {}): LoadedManifest {
  return { kind: "deployment", name: String(spec.name), file: `deployments/${String(spec.name)}.yaml`, spec, settings: settings(over), locate };
}
function storeManifest(name: string): LoadedManifest {
  return { kind: "memory_store", name, file: `memory_stores/${name}.yaml`, spec: { name }, settings: settings(), locate };
}
function vaultManifest(name: string): LoadedManifest {
  return { kind: "vault", name, file: `vaults/${name}.yaml`, spec: { display_name: name }, settings: settings(), locate };
}

const triageLive = (over: Obj = {}): LiveAgent => liveAgent({ id: AGENT_ID, name: "triage", version: 3, ...over });
const envLive = (): LiveEnvironment => liveEnvironment({ id: ENV_ID, name: "support-locked-down" });
function vaultLive(name = "github-tools", id = VAULT_ID): LiveVault {
  return { id, type: "vault", display_name: name, name, metadata: { ...MARKER }, created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z", archived_at: null } as unknown as LiveVault;
}
function storeLive(name = "support-notes", id = STORE_ID): BetaManagedAgentsMemoryStore {
  return { id, type: "memory_store", name, description: "", metadata: { ...MARKER }, created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z", archived_at: null };
}

interface Fleet {
  agents?: LoadedManifest[];
  liveAgents?: LiveAgent[];
  environments?: LoadedManifest[];
  liveEnvironments?: LiveEnvironment[];
  vaults?: LoadedManifest[];
  liveVaults?: LiveVault[];
  stores?: LoadedManifest[];
  liveStores?: BetaManagedAgentsMemoryStore[];
  deployments?: LoadedManifest[];
  liveDeployments?: LiveDeployment[];
  lock?: PlanInput["lock"];
  prune?: boolean;
}

/** By default: every target live (none with a manifest), the deployment's manifest, no live deployment. */
function fleet(f: Fleet = {}): PlanInput {
  const base = planInput({
    agents: f.agents ?? [],
    liveAgents: f.liveAgents ?? [triageLive()],
    environments: f.environments ?? [],
    liveEnvironments: f.liveEnvironments ?? [envLive()],
    lock: f.lock ?? null,
    options: { prune: f.prune ?? false, allowEmpty: true },
  });
  return {
    ...base,
    manifests: { ...base.manifests, vault: f.vaults ?? [], memory_store: f.stores ?? [], deployment: f.deployments ?? [deploymentManifest(nightlySpec())] },
    live: { ...base.live, vault: f.liveVaults ?? [vaultLive()], memory_store: f.liveStores ?? [storeLive()], deployment: f.liveDeployments ?? [] },
  };
}

const entry = (plan: Plan, address: string): PlannedResource => {
  const found = plan.resources.find((r) => r.address === address);
  expect(found, `${address} in ${plan.resources.map((r) => r.address).join(", ")}`).toBeDefined();
  return found as PlannedResource;
};
const NIGHTLY = "deployment.nightly-triage";
/** The triage agent's manifest: equal to triageLive() as it is, a new version with a system prompt. */
const triageManifest = (over: Obj = {}) => manifest("agent", { name: "triage", model: "claude-sonnet-5-5", ...over });

// ------------------------------------------------------------------------------------------------

describe("canonical forms", () => {
  it("the desired form: references as ids, the agent as {<id>: version}, defaults spelled out", () => {
    expect(desired(nightlySpec())).toEqual({
      name: "nightly-triage",
      description: DESCRIPTION,
      initial_events: [MESSAGE],
      schedule: SCHEDULE,
      budget: BUDGET,
      metadata: { team: "support-platform" },
      agent: { [AGENT_ID]: 3 },
      environment_id: ENV_ID,
      vault_ids: [VAULT_ID],
      resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: INSTRUCTIONS }],
      paused: false,
    });
  });

  it("without a resolver, references stay by name", () => {
    const c = deployment.canonicalDesired(nightlySpec());
    expect(c.agent).toEqual({ "ref:triage": null });
    expect(c.environment_id).toBe("ref:support-locked-down");
    expect(c.vault_ids).toEqual(["ref:github-tools"]);
    expect((c.resources as Obj[])[0]?.memory_store_id).toBe("ref:support-notes");
    expect(deployment.canonicalDesired(nightlySpec({ agent: { ref: "triage", version: 2 } })).agent).toEqual({ "ref:triage": 2 });
  });

  it("the live form of a deployment made from the manifest equals the desired form", () => {
    const live = liveDeployment();
    expect(deployment.canonicalLive(live, desired(nightlySpec()))).toEqual(desired(nightlySpec()));
    expect(diffCanonical(deployment.canonicalLive(live, desired(nightlySpec())), desired(nightlySpec()))).toEqual([]);
  });

  it("the agent is always {type, id, version} live, and {<id>: version} canonically", () => {
    expect(deployment.canonicalLive(liveDeployment({ agent: { type: "agent", id: AGENT_ID, version: 7 } })).agent).toEqual({ [AGENT_ID]: 7 });
    // The API's id form pinned in a manifest (an agent this project does not manage).
    expect(desired(nightlySpec({ agent: { type: "agent", id: "agent_011other", version: 2 } })).agent).toEqual({ agent_011other: 2 });
    expect(diffCanonical(deployment.canonicalLive(liveDeployment()), desired(nightlySpec({ agent: { ref: "triage", version: 2 } })))).toEqual([
      { pointer: `/agent/${AGENT_ID}`, op: "replace", before: 3, after: 2 },
    ]);
  });

  it("drops the schedule's read-only run times", () => {
    expect(deployment.canonicalLive(liveDeployment()).schedule).toEqual(SCHEDULE);
    const later = liveDeployment({ schedule: { ...SCHEDULE, last_run_at: "2026-11-09T06:00:02Z", upcoming_runs_at: ["2026-11-10T06:00:00Z"] } });
    expect(liveDigest("deployment", later)).toBe(liveDigest("deployment", liveDeployment()));
    expect(deployment.canonicalLive(liveDeployment({ schedule: null })).schedule).toBeNull();
    expect(desired(nightlySpec({ schedule: undefined })).schedule).toBeNull();
  });

  it("a define_outcome's max_iterations left out or null is the API's default, 3", () => {
    const outcome = { type: "user.define_outcome", description: "A routed queue.", rubric: { type: "text", content: "Every ticket has a team." } };
    const spec = nightlySpec({ initial_events: [MESSAGE, outcome] });
    expect((desired(spec).initial_events as Obj[])[1]).toEqual({ ...outcome, max_iterations: 3 });
    for (const max_iterations of [null, 3]) {
      const live = liveDeployment({ initial_events: [MESSAGE, { ...outcome, max_iterations }] });
      expect(diffCanonical(deployment.canonicalLive(live, desired(spec)), desired(spec))).toEqual([]);
    }
    const five = liveDeployment({ initial_events: [MESSAGE, { ...outcome, max_iterations: 5 }] });
    // Arrays are compared whole: the change names the list.
    expect(diffCanonical(deployment.canonicalLive(five, desired(spec)), desired(spec))).toEqual([
      { pointer: "/initial_events", op: "replace", before: [MESSAGE, { ...outcome, max_iterations: 5 }], after: [MESSAGE, { ...outcome, max_iterations: 3 }] },
    ]);
  });

  it("a memory store's access left out (or null) is read_write; its instructions null", () => {
    const spec = nightlySpec({ resources: [{ type: "memory_store", ref: "support-notes" }] });
    expect((desired(spec).resources as Obj[])[0]).toEqual({ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null });
    const live = liveDeployment({ resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: null, instructions: null }] });
    expect(diffCanonical(deployment.canonicalLive(live, desired(spec)), desired(spec))).toEqual([]);
    const readOnly = liveDeployment({ resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_only" }] });
    expect(diffCanonical(deployment.canonicalLive(readOnly, desired(spec)), desired(spec))).toEqual([
      {
        pointer: "/resources",
        op: "replace",
        before: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_only", instructions: null }],
        after: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null }],
      },
    ]);
  });

  it("a description \"\" or left out is null, as the API stores it", () => {
    expect(desired(nightlySpec({ description: "" })).description).toBeNull();
    expect(desired(nightlySpec({ description: undefined })).description).toBeNull();
    expect(desired(nightlySpec({ description: null })).description).toBeNull();
    expect(deployment.canonicalLive(liveDeployment({ description: null })).description).toBeNull();
    expect(deployment.canonicalLive(liveDeployment({ description: "" })).description).toBeNull();
    const spec = nightlySpec({ description: "" });
    expect(diffCanonical(deployment.canonicalLive(liveDeployment({ description: null }), desired(spec)), desired(spec))).toEqual([]);
  });

  it("a mount_path the manifest leaves out is whatever the server answers; one it names is compared", () => {
    const repo = { type: "github_repository", url: REPO };
    const spec = nightlySpec({ resources: [repo] });
    const live = liveDeployment({ resources: [{ type: "github_repository", url: REPO, checkout: null, mount_path: "/workspace/support-bots" }] });
    expect(diffCanonical(deployment.canonicalLive(live, desired(spec)), desired(spec))).toEqual([]);
    // Without a hint, the live form keeps what the server stored.
    expect((deployment.canonicalLive(live).resources as Obj[])[0]?.mount_path).toBe("/workspace/support-bots");
    const named = nightlySpec({ resources: [{ ...repo, mount_path: "/src" }] });
    expect(diffCanonical(deployment.canonicalLive(live, desired(named)), desired(named))).toEqual([
      {
        pointer: "/resources",
        op: "replace",
        before: [{ type: "github_repository", url: REPO, checkout: null, mount_path: "/workspace/support-bots" }],
        after: [{ type: "github_repository", url: REPO, checkout: null, mount_path: "/src" }],
      },
    ]);
  });

  it("a repository token is shown as sent on both sides, or as resent when its variable rotated", () => {
    const spec = nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "TRIAGE_GITHUB_TOKEN" }] });
    // Tokens were sent: the deployment carries the digest apply records with them.
    const live = liveDeployment({ resources: [{ type: "github_repository", url: REPO, checkout: null, mount_path: "/workspace/support-bots" }], metadata: { ...MARKER, team: "support-platform", "agentform.secret_digest": "scrypt1$x" } });
    expect((desired(spec).resources as Obj[])[0]).toEqual({ type: "github_repository", url: REPO, checkout: null, mount_path: null, authorization_token: TOKEN_AS_SENT });
    expect(diffCanonical(deployment.canonicalLive(live, desired(spec)), desired(spec))).toEqual([]);
    const rotated = desired({ ...spec, [SECRET_STATUS_KEY]: "rotated" });
    const repo = (authorization_token: string) => ({ type: "github_repository", url: REPO, checkout: null, mount_path: null, authorization_token });
    expect(diffCanonical(deployment.canonicalLive(live, rotated), rotated)).toEqual([
      { pointer: "/resources", op: "replace", before: [repo(TOKEN_AS_SENT)], after: [repo("(rotated: the variable changed)")] },
    ]);
    const forced = desired({ ...spec, [SECRET_STATUS_KEY]: "forced" });
    expect(((forced.resources as Obj[])[0] as Obj).authorization_token).toBe("(resent: --rotate)");
    for (const status of ["current", "missing", "unrecorded"]) expect(((desired({ ...spec, [SECRET_STATUS_KEY]: status }).resources as Obj[])[0] as Obj).authorization_token).toBe(TOKEN_AS_SENT);
  });

  it("paused comes from the status: active is false, paused (by a person) is true", () => {
    expect(deployment.canonicalLive(liveDeployment()).paused).toBe(false);
    const manual = liveDeployment({ status: "paused", paused_reason: { type: "manual" } });
    expect(deployment.canonicalLive(manual).paused).toBe(true);
    expect(deployment.canonicalLive(manual, desired(nightlySpec())).paused).toBe(true);
    expect(desired(nightlySpec({ paused: undefined })).paused).toBe(false);
    expect(desired(nightlySpec({ paused: true })).paused).toBe(true);
  });

  it("a deployment the server paused for an error reads as the manifest wants it, but not in its digest", () => {
    const errored = liveDeployment({ status: "paused", paused_reason: { type: "error", error: { type: "environment_archived_error" } } });
    expect(deployment.canonicalLive(errored, desired(nightlySpec({ paused: false }))).paused).toBe(false);
    expect(deployment.canonicalLive(errored, desired(nightlySpec({ paused: true }))).paused).toBe(true);
    // Without a hint (the digest), it is paused: drift against what was applied.
    expect(deployment.canonicalLive(errored).paused).toBe(true);
    expect(liveDigest("deployment", errored)).not.toBe(liveDigest("deployment", liveDeployment()));
    expect(canonicalDeploymentLive(errored as unknown as Obj)).toEqual({ ...deployment.canonicalLive(liveDeployment()), paused: true });
  });

  it("says why the server paused it, and nothing for a manual pause or an active deployment", () => {
    const errored = liveDeployment({ status: "paused", paused_reason: { type: "error", error: { type: "environment_archived_error" } } });
    expect(serverPauseReason(errored as unknown as Obj)).toBe("environment_archived_error");
    expect(deployment.serverDrift?.(errored)).toBe("paused by the server (environment_archived_error); agentform does not un-pause it: fix the cause, then un-pause it in the Console");
    expect(serverPauseReason(liveDeployment({ status: "paused", paused_reason: { type: "error" } }) as unknown as Obj)).toBe("unknown_error");
    expect(deployment.serverDrift?.(liveDeployment({ status: "paused", paused_reason: { type: "manual" } }))).toBeUndefined();
    expect(deployment.serverDrift?.(liveDeployment())).toBeUndefined();
  });

  it("imports a live deployment as a manifest that reproduces it, without server defaults or the marker", () => {
    // An active deployment without a schedule (see the report: a schedule's run times and a pause are not handled).
    const live = liveDeployment({ description: null, budget: null, schedule: null, resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null }] });
    const m = deployment.toManifest(live);
    expect(m).toEqual({
      name: "nightly-triage",
      agent: { type: "agent", id: AGENT_ID, version: 3 },
      environment_id: ENV_ID,
      initial_events: [MESSAGE],
      // Only top-level fields are left out; a resource keeps what the server answered.
      resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null }],
      vault_ids: [VAULT_ID],
      metadata: { team: "support-platform" },
    });
    expect(deployment.canonicalDesired(m)).toEqual(deployment.canonicalLive(live));
  });
});

describe("the planner: a deployment and the server's state", () => {
  it("a deployment created from the manifest plans noop, with every target live", () => {
    const plan = buildPlan(fleet({ liveDeployments: [liveDeployment()] }));
    const e = entry(plan, NIGHTLY);
    expect(e).toMatchObject({ action: "noop", impact: "none", request: null, changes: [], security: [], dependsOn: [], id: DEPLOYMENT_ID });
    expect(e.notes).toBeUndefined();
    expect(e.basis).toEqual({ kind: "deployment", liveDigest: liveDigest("deployment", liveDeployment()) });
  });

  it("…and with every target managed by manifests too", () => {
    const plan = buildPlan(
      fleet({
        agents: [triageManifest()],
        vaults: [vaultManifest("github-tools")],
        stores: [storeManifest("support-notes")],
        liveDeployments: [liveDeployment()],
      }),
    );
    expect(plan.resources.map((r) => `${r.address} ${r.action}`)).toEqual(["vault.github-tools noop", "memory_store.support-notes noop", "agent.triage noop", "deployment.nightly-triage noop"]);
    expect(plan.refusals).toEqual([]);
  });

  it("a deployment with every server default filled in plans noop", () => {
    const outcome = { type: "user.define_outcome", description: "A routed queue.", rubric: { type: "text", content: "Every ticket has a team." } };
    const spec = nightlySpec({
      description: "",
      resources: [{ type: "memory_store", ref: "support-notes" }, { type: "github_repository", url: REPO, authorization_token_env: "TRIAGE_GITHUB_TOKEN" }],
      initial_events: [MESSAGE, outcome],
    });
    const live = liveDeployment({
      description: null,
      metadata: { ...MARKER, team: "support-platform", "agentform.secret_digest": "scrypt1$x" },
      resources: [
        { type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null },
        { type: "github_repository", url: REPO, checkout: null, mount_path: "/workspace/support-bots" },
      ],
      initial_events: [MESSAGE, { ...outcome, max_iterations: null }],
    });
    const e = entry(buildPlan(fleet({ deployments: [deploymentManifest(spec)], liveDeployments: [live] })), NIGHTLY);
    expect(e.changes).toEqual([]);
    expect(e.action).toBe("noop");
  });

  it("a deployment paused by the server for an error, while the manifest says paused: false, plans noop with a note", () => {
    const errored = liveDeployment({ status: "paused", paused_reason: { type: "error", error: { type: "environment_archived_error" } } });
    const e = entry(buildPlan(fleet({ liveDeployments: [errored] })), NIGHTLY);
    expect(e).toMatchObject({ action: "noop", request: null, changes: [], security: [] });
    expect(e.notes).toEqual(["paused by the server (environment_archived_error); agentform does not un-pause it: fix the cause, then un-pause it in the Console"]);
    expect(e.notes?.[0]).toMatch(/^paused by the server \(environment_archived_error\)/);
    expect(e.basis?.liveDigest).toBe(liveDigest("deployment", errored));
    expect(e.basis?.liveDigest).not.toBe(liveDigest("deployment", liveDeployment()));
  });

  it("against a lockfile recording what was applied: current is a plain noop; a Console edit is drift", () => {
    const applied = { id: DEPLOYMENT_ID, specDigest: specDigest(deploymentManifest(nightlySpec())), liveDigest: liveDigest("deployment", liveDeployment()) };
    const current = buildPlan(fleet({ liveDeployments: [liveDeployment()], lock: lockfile({ deployments: { "nightly-triage": applied } }) }));
    const e = entry(current, NIGHTLY);
    expect(e.action).toBe("noop");
    expect(e.lockOnly).toBeUndefined();
    expect(e.drift).toEqual({ detected: false, lockedLiveDigest: applied.liveDigest, liveDigest: applied.liveDigest });
    const edited = liveDeployment({ budget: { type: "limit", max_list_cost: { amount: "9000", currency: "USD" } } });
    const drifted = buildPlan(fleet({ liveDeployments: [edited], lock: lockfile({ deployments: { "nightly-triage": applied } }) }));
    const d = entry(drifted, NIGHTLY);
    expect(d.action).toBe("update");
    expect(d.drift).toEqual({ detected: true, lockedLiveDigest: applied.liveDigest, liveDigest: liveDigest("deployment", edited) });
    expect(drifted.driftDetected).toBe(true);
    expect(d.request).toEqual({ method: "update", body: { budget: BUDGET } });
  });

  it("a server-paused deployment whose manifest changes is updated without un-pausing it", () => {
    const errored = liveDeployment({ status: "paused", paused_reason: { type: "error", error: { type: "vault_archived_error" } } });
    const e = entry(buildPlan(fleet({ deployments: [deploymentManifest(nightlySpec({ description: "Triage." }))], liveDeployments: [errored] })), NIGHTLY);
    expect(e.action).toBe("update");
    expect(e.request).toEqual({ method: "update", body: { description: "Triage." } });
    expect(e.notes).toEqual(["paused by the server (vault_archived_error); agentform does not un-pause it: fix the cause, then un-pause it in the Console"]);
  });

  it("a deployment someone paused by hand is un-paused to match paused: false, and the review says so", () => {
    const manual = liveDeployment({ status: "paused", paused_reason: { type: "manual" } });
    const e = entry(buildPlan(fleet({ liveDeployments: [manual] })), NIGHTLY);
    expect(e).toMatchObject({ action: "update", impact: "in-place" });
    expect(e.changes).toEqual([{ pointer: "/paused", op: "replace", before: true, after: false }]);
    expect(e.request).toEqual({ method: "update", body: { paused: false } });
    expect(e.security).toEqual([{ category: "deployment-unpaused", severity: "broadening", pointer: "/paused", message: "un-paused: it runs again from its next scheduled time" }]);
    expect(e.notes).toBeUndefined();
  });

  it("paused: true pauses an active deployment with `paused` alone as the update body", () => {
    const e = entry(buildPlan(fleet({ deployments: [deploymentManifest(nightlySpec({ paused: true }))], liveDeployments: [liveDeployment()] })), NIGHTLY);
    expect(e.request).toEqual({ method: "update", body: { paused: true } });
    expect(e.security).toEqual([]);
  });
});

describe("references and re-pins", () => {
  it("a deployment following its agent is re-pinned when the agent gets a new version in the same plan", () => {
    const plan = buildPlan(fleet({ agents: [triageManifest({ system: "Route tickets." })], liveDeployments: [liveDeployment()] }));
    expect(entry(plan, "agent.triage")).toMatchObject({ action: "update", impact: "new-version" });
    const e = entry(plan, NIGHTLY);
    expect(e).toMatchObject({ action: "repin", impact: "in-place", dependsOn: ["agent.triage"], repinReasons: ["agent.triage"] });
    expect(e.changes).toEqual([{ pointer: `/agent/${AGENT_ID}`, op: "replace", before: 3, after: KNOWN_AFTER_APPLY }]);
    expect(KNOWN_AFTER_APPLY).toBe("(known after apply)");
    // The agent stays by name: apply resolves it to the version the agent's update made.
    expect(e.request).toEqual({ method: "update", body: { agent: { ref: "triage" } } });
    expect(e.security).toEqual([]);
    expect(plan.resources.map((r) => r.address).indexOf(NIGHTLY)).toBeGreaterThan(plan.resources.map((r) => r.address).indexOf("agent.triage"));
  });

  it("a re-pin alongside an edit is an update that still waits for the agent", () => {
    const spec = nightlySpec({ description: "Triage the queue." });
    const e = entry(buildPlan(fleet({ agents: [triageManifest({ system: "Route tickets." })], deployments: [deploymentManifest(spec)], liveDeployments: [liveDeployment()] })), NIGHTLY);
    expect(e).toMatchObject({ action: "update", dependsOn: ["agent.triage"], repinReasons: ["agent.triage"] });
    expect(e.changes.map((c) => c.pointer).sort()).toEqual([`/agent/${AGENT_ID}`, "/description"]);
    expect(e.request?.body).toEqual({ agent: { ref: "triage" }, description: "Triage the queue." });
  });

  it("a deployment behind an agent changed outside this plan is re-pinned to its live version now", () => {
    const plan = buildPlan(fleet({ agents: [triageManifest()], liveAgents: [triageLive({ version: 5 })], liveDeployments: [liveDeployment()] }));
    const e = entry(plan, NIGHTLY);
    expect(e).toMatchObject({ action: "repin", dependsOn: [], repinReasons: ["agent.triage"] });
    expect(e.changes).toEqual([{ pointer: `/agent/${AGENT_ID}`, op: "replace", before: 3, after: 5 }]);
    expect(e.request).toEqual({ method: "update", body: { agent: { type: "agent", id: AGENT_ID, version: 5 } } });
  });

  it("a deployment pinning its agent's version is not re-pinned when the agent gets a new version", () => {
    const spec = nightlySpec({ agent: { ref: "triage", version: 3 } });
    const plan = buildPlan(fleet({ agents: [triageManifest({ system: "Route tickets." })], deployments: [deploymentManifest(spec)], liveDeployments: [liveDeployment()] }));
    expect(entry(plan, "agent.triage").action).toBe("update");
    const e = entry(plan, NIGHTLY);
    expect(e).toMatchObject({ action: "noop", request: null, dependsOn: [] });
    expect(e.repinReasons).toBeUndefined();
  });

  it("moving the pin to an older version is an update, not a re-pin", () => {
    const spec = nightlySpec({ agent: { ref: "triage", version: 2 } });
    const e = entry(buildPlan(fleet({ agents: [triageManifest()], deployments: [deploymentManifest(spec)], liveDeployments: [liveDeployment()] })), NIGHTLY);
    expect(e.action).toBe("update");
    expect(e.repinReasons).toBeUndefined();
    expect(e.request).toEqual({ method: "update", body: { agent: { type: "agent", id: AGENT_ID, version: 2 } } });
  });

  it("a pin beyond the agent's newest version is refused", () => {
    const spec = nightlySpec({ agent: { ref: "triage", version: 9 } });
    const plan = buildPlan(fleet({ agents: [triageManifest()], deployments: [deploymentManifest(spec)], liveDeployments: [liveDeployment()] }));
    expect(plan.refusals.map((r) => `${r.address} ${r.code}`)).toEqual(["agent.triage pinned-version-unavailable"]);
    expect(plan.refusals[0]?.message).toMatch(/pins agent "triage" at version 9, but its newest version after this plan is 3\.$/);
    expect(plan.refusals[0]?.hint).toBe("Drop `version: 9` from the reference (to follow the latest) or pin an existing version (at most 3).");
  });

  it("lists its references in document order, and the ids a live deployment uses", () => {
    const spec = nightlySpec({
      agent: { ref: "triage", version: 2 },
      vault_ids: [{ ref: "github-tools" }, "vlt_011unmanaged", { ref: "npm-tools" }],
      resources: [{ type: "github_repository", url: REPO }, { type: "memory_store", ref: "support-notes" }, { type: "memory_store", memory_store_id: "memstore_011x" }],
    });
    expect(deployment.references(spec)).toEqual([
      { kind: "agent", name: "triage", version: 2 },
      { kind: "environment", name: "support-locked-down" },
      { kind: "vault", name: "github-tools" },
      { kind: "vault", name: "npm-tools" },
      { kind: "memory_store", name: "support-notes" },
    ]);
    expect(deployment.references(nightlySpec({ agent: { type: "agent", id: AGENT_ID, version: 1 }, environment_id: ENV_ID, vault_ids: [], resources: [] }))).toEqual([]);
    expect(deployment.liveReferenceIds(liveDeployment({ vault_ids: [VAULT_ID, OTHER_VAULT_ID] }))).toEqual([AGENT_ID, ENV_ID, VAULT_ID, OTHER_VAULT_ID, STORE_ID]);
  });

  it("only /agent/<id> follows a reference", () => {
    expect(deployment.followedRefKey(`/agent/${AGENT_ID}`)).toBe(AGENT_ID);
    expect(deployment.followedRefKey("/agent/ref:triage")).toBe("ref:triage");
    expect(deployment.followedRefKey("/agent")).toBeNull();
    expect(deployment.followedRefKey("/environment_id")).toBeNull();
    expect(deployment.followedRefKey("/vault_ids/0")).toBeNull();
  });

  it("resolveRefs: every known target to the API's form; unknown or known-after-apply ones stay {ref}", () => {
    const spec = nightlySpec({ vault_ids: [{ ref: "github-tools" }, "vlt_011unmanaged"] });
    const out = deployment.resolveRefs(spec, resolveAll);
    expect(out.agent).toEqual({ type: "agent", id: AGENT_ID, version: 3 });
    expect(out.environment_id).toBe(ENV_ID);
    expect(out.vault_ids).toEqual([VAULT_ID, "vlt_011unmanaged"]);
    expect(out.resources).toEqual([{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: INSTRUCTIONS }]);
    expect(deployment.resolveRefs(nightlySpec({ agent: { ref: "triage", version: 2 } }), resolveAll).agent).toEqual({ type: "agent", id: AGENT_ID, version: 2 });
    expect(deployment.resolveRefs(spec, () => undefined)).toEqual(spec);
    expect(deployment.resolveRefs(spec, () => ({ id: KNOWN_AFTER_APPLY }))).toEqual(spec);
    // An agent whose id is known but whose version only apply will know.
    expect(deployment.resolveRefs(spec, (t) => (t.kind === "agent" ? { id: AGENT_ID, version: KNOWN_AFTER_APPLY } : undefined)).agent).toEqual({ ref: "triage" });
    // The spec it was given is left as it was.
    expect(spec.environment_id).toEqual({ ref: "support-locked-down" });
  });

  it("creates with every reference resolved to ids when the targets are live", () => {
    const e = entry(buildPlan(fleet()), NIGHTLY);
    expect(e).toMatchObject({ action: "create", impact: "create", dependsOn: [] });
    expect(e.request).toEqual({
      method: "create",
      body: {
        name: "nightly-triage",
        description: DESCRIPTION,
        agent: { type: "agent", id: AGENT_ID, version: 3 },
        environment_id: ENV_ID,
        vault_ids: [VAULT_ID],
        resources: [{ type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: INSTRUCTIONS }],
        initial_events: [MESSAGE],
        schedule: SCHEDULE,
        budget: BUDGET,
        metadata: { team: "support-platform", "agentform.project": PROJECT },
        paused: false,
      },
    });
  });

  it("keeps {ref} for targets created in the same plan, and waits for each", () => {
    const plan = buildPlan(
      fleet({
        agents: [triageManifest()],
        liveAgents: [],
        environments: [manifest("environment", { name: "support-locked-down", config: { type: "cloud", networking: { type: "unrestricted" } } })],
        liveEnvironments: [],
        vaults: [vaultManifest("github-tools")],
        liveVaults: [],
        stores: [storeManifest("support-notes")],
        liveStores: [],
      }),
    );
    expect(plan.resources.map((r) => `${r.address} ${r.action}`)).toEqual([
      "environment.support-locked-down create",
      "vault.github-tools create",
      "memory_store.support-notes create",
      "agent.triage create",
      "deployment.nightly-triage create",
    ]);
    const e = entry(plan, NIGHTLY);
    expect(e.dependsOn).toEqual(["agent.triage", "environment.support-locked-down", "memory_store.support-notes", "vault.github-tools"]);
    const body = e.request?.body as Obj;
    expect(body.agent).toEqual({ ref: "triage" });
    expect(body.environment_id).toEqual({ ref: "support-locked-down" });
    expect(body.vault_ids).toEqual([{ ref: "github-tools" }]);
    expect(body.resources).toEqual([{ type: "memory_store", ref: "support-notes", access: "read_write", instructions: INSTRUCTIONS }]);
    // The review names targets created in the same plan by name (their ids are not known yet).
    expect(e.security.map((f) => `${f.category} ${f.message}`)).toEqual([
      "schedule-added runs on a schedule: 0 7 * * 1-5 (Europe/Paris): about 21.4 runs per 30 days",
      'vault-attached vault "github-tools" attached: its credentials go with every run',
      'memory-store-attached memory store "support-notes" attached (read_write)',
    ]);
  });

  it("an existing deployment moved to a new environment waits for its create, keeping {ref}", () => {
    const spec = nightlySpec({ environment_id: { ref: "sandbox" } });
    const plan = buildPlan(
      fleet({
        environments: [manifest("environment", { name: "sandbox", config: { type: "cloud", networking: { type: "unrestricted" } } })],
        deployments: [deploymentManifest(spec)],
        liveDeployments: [liveDeployment()],
      }),
    );
    const e = entry(plan, NIGHTLY);
    expect(e).toMatchObject({ action: "update", dependsOn: ["environment.sandbox"] });
    // A target created in the same plan reads by name in the canonical form.
    expect(e.changes).toEqual([{ pointer: "/environment_id", op: "replace", before: ENV_ID, after: "ref:sandbox" }]);
    expect(e.request).toEqual({ method: "update", body: { environment_id: { ref: "sandbox" } } });
  });
});

describe("request bodies", () => {
  const withRepo = (over: Obj = {}) =>
    nightlySpec({
      resources: [
        { type: "memory_store", ref: "support-notes", access: "read_only" },
        { type: "github_repository", url: REPO, checkout: { type: "branch", name: "main" }, authorization_token_env: "TRIAGE_GITHUB_TOKEN" },
        { type: "github_repository", url: "https://github.com/example/public-docs" },
      ],
      ...over,
    });

  it("create: a repository token as its placeholder, `paused` kept for the backend, agentform's keys dropped", () => {
    const body = buildCreateBody("deployment", deployment.resolveRefs({ ...withRepo({ paused: true }), [SECRET_STATUS_KEY]: "current" }, resolveAll), PROJECT);
    expect(body.resources).toEqual([
      { type: "memory_store", memory_store_id: STORE_ID, access: "read_only" },
      { type: "github_repository", url: REPO, checkout: { type: "branch", name: "main" }, authorization_token: { $env: "TRIAGE_GITHUB_TOKEN" } },
      { type: "github_repository", url: "https://github.com/example/public-docs" },
    ]);
    expect(body.paused).toBe(true);
    expect(SECRET_STATUS_KEY in body).toBe(false);
    expect(JSON.stringify(body)).not.toContain("authorization_token_env");
    expect(Object.keys(body).sort()).toEqual(["agent", "budget", "description", "environment_id", "initial_events", "metadata", "name", "paused", "resources", "schedule", "vault_ids"]);
  });

  it("create fields leave out undefined fields and an agentform block", () => {
    expect(deployment.createFields({ name: "x", description: undefined, agentform: { adopt: true }, paused: false })).toEqual({ name: "x", paused: false });
  });

  it("tokenPointers finds each repository token of a body; envNames the variables, in resource order", () => {
    const body = buildCreateBody("deployment", deployment.resolveRefs(withRepo(), resolveAll), PROJECT);
    expect(tokenPointers(body)).toEqual(["/resources/1/authorization_token"]);
    expect(deployment.secrets?.bodyPointers(body)).toEqual(["/resources/1/authorization_token"]);
    expect(tokenPointers({ resources: [{ type: "github_repository", url: REPO }] })).toEqual([]);
    expect(tokenPointers({})).toEqual([]);
    const two = withRepo({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "A_TOKEN" }, { type: "github_repository", url: REPO, authorization_token_env: "B_TOKEN" }] });
    expect(tokenEnvNames(two)).toEqual(["A_TOKEN", "B_TOKEN"]);
    // What plan digests: the variables of the create body's placeholders, in the same order.
    expect(placeholdersIn("deployment", deployment.createFields(two)).map((p) => p.env)).toEqual(["A_TOKEN", "B_TOKEN"]);
    expect(tokenPointers({ resources: resourcesBody(two.resources) })).toEqual(["/resources/0/authorization_token", "/resources/1/authorization_token"]);
  });

  it("update: resources are sent whole, placeholders included, for a change to any one of them", () => {
    const live = liveDeployment({
      resources: [
        { type: "memory_store", memory_store_id: STORE_ID, access: "read_write", instructions: null },
        { type: "github_repository", url: REPO, checkout: { type: "branch", name: "main" }, mount_path: "/workspace/support-bots" },
        { type: "github_repository", url: "https://github.com/example/public-docs", checkout: null, mount_path: "/workspace/public-docs" },
      ],
    });
    const e = entry(buildPlan(fleet({ deployments: [deploymentManifest(withRepo())], liveDeployments: [live] })), NIGHTLY);
    expect(e.changes.map((c) => `${c.pointer} ${c.op}`)).toEqual(["/resources replace"]);
    expect(((e.changes[0]?.before as Obj[])[0] as Obj).access).toBe("read_write");
    expect(((e.changes[0]?.after as Obj[])[0] as Obj).access).toBe("read_only");
    expect(e.request).toEqual({
      method: "update",
      body: {
        resources: [
          { type: "memory_store", memory_store_id: STORE_ID, access: "read_only" },
          { type: "github_repository", url: REPO, checkout: { type: "branch", name: "main" }, authorization_token: { $env: "TRIAGE_GITHUB_TOKEN" } },
          { type: "github_repository", url: "https://github.com/example/public-docs" },
        ],
      },
    });
    expect(tokenPointers(e.request?.body as Obj)).toEqual(["/resources/1/authorization_token"]);
  });

  it("update: a rotated token resends resources whole", () => {
    const spec = nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "TRIAGE_GITHUB_TOKEN" }] });
    const live = liveDeployment({ resources: [{ type: "github_repository", url: REPO, checkout: null, mount_path: "/workspace/support-bots" }] });
    const input = { ...fleet({ deployments: [deploymentManifest(spec)], liveDeployments: [live] }), secretStatus: { [`${NIGHTLY}@${DEPLOYMENT_ID}`]: "rotated" as const } };
    const e = entry(buildPlan(input), NIGHTLY);
    expect(e.action).toBe("update");
    expect(e.changes.map((c) => c.pointer)).toEqual(["/resources"]);
    expect(((e.changes[0]?.after as Obj[])[0] as Obj).authorization_token).toBe("(rotated: the variable changed)");
    expect(e.request).toEqual({ method: "update", body: { resources: [{ type: "github_repository", url: REPO, authorization_token: { $env: "TRIAGE_GITHUB_TOKEN" } }] } });
  });

  it("update: vault_ids are sent whole", () => {
    const spec = nightlySpec({ vault_ids: [{ ref: "github-tools" }, { ref: "npm-tools" }] });
    const plan = buildPlan(fleet({ deployments: [deploymentManifest(spec)], liveVaults: [vaultLive(), vaultLive("npm-tools", OTHER_VAULT_ID)], liveDeployments: [liveDeployment()] }));
    const e = entry(plan, NIGHTLY);
    expect(e.changes).toEqual([{ pointer: "/vault_ids", op: "replace", before: [VAULT_ID], after: [VAULT_ID, OTHER_VAULT_ID] }]);
    expect(e.request).toEqual({ method: "update", body: { vault_ids: [VAULT_ID, OTHER_VAULT_ID] } });
    expect(e.security.map((f) => f.message)).toEqual([`vault ${OTHER_VAULT_ID} attached: its credentials go with every run`]);
  });

  it("field bodies: null clears, \"\" description is null, vault_ids and resources whole, paused a boolean", () => {
    const spec = deployment.resolveRefs(nightlySpec({ description: "", budget: undefined, schedule: null }), resolveAll);
    expect(deployment.fieldBody("description", spec)).toBeNull();
    expect(deployment.fieldBody("description", nightlySpec())).toBe(DESCRIPTION);
    expect(deployment.fieldBody("budget", spec)).toBeNull();
    expect(deployment.fieldBody("schedule", spec)).toBeNull();
    expect(deployment.fieldBody("vault_ids", spec)).toEqual([VAULT_ID]);
    expect(deployment.fieldBody("vault_ids", nightlySpec({ vault_ids: undefined }))).toEqual([]);
    expect(deployment.fieldBody("resources", nightlySpec({ resources: undefined }))).toEqual([]);
    expect(deployment.fieldBody("paused", nightlySpec({ paused: undefined }))).toBe(false);
    expect(deployment.fieldBody("paused", nightlySpec({ paused: true }))).toBe(true);
  });

  it("`paused` alone is a whole update body, the marker kept", () => {
    const live = liveDeployment();
    const spec = nightlySpec({ paused: true });
    const changes = diffCanonical(deployment.canonicalLive(live, desired(spec)), desired(spec));
    expect(changes).toEqual([{ pointer: "/paused", op: "replace", before: false, after: true }]);
    expect(buildUpdateBody("deployment", deployment.resolveRefs(spec, resolveAll), live, changes, PROJECT)).toEqual({ paused: true });
    // Live without the marker (adoption): the marker is added to the same body.
    expect(buildUpdateBody("deployment", spec, liveDeployment({ metadata: { team: "support-platform" } }), changes, PROJECT)).toEqual({ paused: true, metadata: { "agentform.project": PROJECT } });
  });

  it("a description emptied in the manifest clears it with null", () => {
    const e = entry(buildPlan(fleet({ deployments: [deploymentManifest(nightlySpec({ description: "" }))], liveDeployments: [liveDeployment()] })), NIGHTLY);
    expect(e.changes).toEqual([{ pointer: "/description", op: "replace", before: DESCRIPTION, after: null }]);
    expect(e.request).toEqual({ method: "update", body: { description: null } });
  });
});

describe("security review", () => {
  const review = (before: Obj | null, after: Obj) => reviewSecurity("deployment", before === null ? null : desired(before), desired(after));
  const categories = (before: Obj | null, after: Obj) => review(before, after).map((f) => f.category);

  it("a new deployment: its schedule, vaults and memory stores", () => {
    expect(review(null, nightlySpec())).toEqual([
      { category: "schedule-added", severity: "broadening", pointer: "/schedule", message: "runs on a schedule: 0 7 * * 1-5 (Europe/Paris): about 21.4 runs per 30 days" },
      { category: "vault-attached", severity: "broadening", pointer: "/vault_ids", message: `vault ${VAULT_ID} attached: its credentials go with every run` },
      { category: "memory-store-attached", severity: "broadening", pointer: "/resources", message: `memory store ${STORE_ID} attached (read_write)` },
    ]);
    expect(review(null, nightlySpec({ schedule: null, vault_ids: [], resources: [] }))).toEqual([]);
  });

  it("a schedule added to an existing deployment", () => {
    expect(review(nightlySpec({ schedule: null }), nightlySpec())).toEqual([
      { category: "schedule-added", severity: "broadening", pointer: "/schedule", message: "runs on a schedule: 0 7 * * 1-5 (Europe/Paris): about 21.4 runs per 30 days" },
    ]);
  });

  it("a schedule firing more often", () => {
    const every30 = nightlySpec({ schedule: { ...SCHEDULE, expression: "*/30 * * * *" } });
    expect(review(nightlySpec(), every30)).toEqual([
      { category: "schedule-more-frequent", severity: "broadening", pointer: "/schedule", message: "runs more often: */30 * * * * (Europe/Paris): about 1440 runs per 30 days, was about 21.4 (70128 runs in the reference years, was 1043)" },
    ]);
  });

  it("a schedule firing less often, as often, or removed is not a finding", () => {
    const every30 = nightlySpec({ schedule: { ...SCHEDULE, expression: "*/30 * * * *" } });
    expect(review(every30, nightlySpec())).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ schedule: { ...SCHEDULE, expression: "0 8 * * 1-5" } }))).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ schedule: { ...SCHEDULE, timezone: "UTC" } }))).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ schedule: null }))).toEqual([]);
  });

  it("a budget raised or removed; lowered or added is not a finding", () => {
    const budget = (amount: string) => ({ type: "limit", max_list_cost: { amount, currency: "USD" } });
    expect(review(nightlySpec(), nightlySpec({ budget: budget("1000") }))).toEqual([
      { category: "budget-raised", severity: "broadening", pointer: "/budget", message: "budget raised from 500 to 1000 (minor units)" },
    ]);
    expect(review(nightlySpec(), nightlySpec({ budget: null }))).toEqual([
      { category: "budget-raised", severity: "broadening", pointer: "/budget", message: "budget removed: runs are no longer limited in cost" },
    ]);
    expect(review(nightlySpec(), nightlySpec({ budget: undefined })).map((f) => f.message)).toEqual(["budget removed: runs are no longer limited in cost"]);
    expect(review(nightlySpec(), nightlySpec({ budget: budget("499") }))).toEqual([]);
    expect(review(nightlySpec({ budget: null }), nightlySpec())).toEqual([]);
    // Compared as numbers, not strings: "90" is less than "500".
    expect(review(nightlySpec(), nightlySpec({ budget: budget("90") }))).toEqual([]);
    expect(categories(nightlySpec({ budget: budget("90") }), nightlySpec())).toEqual(["budget-raised"]);
  });

  it("un-paused", () => {
    expect(review(nightlySpec({ paused: true }), nightlySpec())).toEqual([
      { category: "deployment-unpaused", severity: "broadening", pointer: "/paused", message: "un-paused: it runs again from its next scheduled time" },
    ]);
    expect(review(nightlySpec(), nightlySpec({ paused: true }))).toEqual([]);
    // A new deployment created active is not "un-paused".
    expect(categories(null, nightlySpec({ schedule: null, vault_ids: [], resources: [] }))).toEqual([]);
  });

  it("a vault attached; one detached or reordered is not a finding", () => {
    const both = nightlySpec({ vault_ids: [{ ref: "github-tools" }, { ref: "npm-tools" }] });
    expect(review(nightlySpec(), both)).toEqual([{ category: "vault-attached", severity: "broadening", pointer: "/vault_ids", message: `vault ${OTHER_VAULT_ID} attached: its credentials go with every run` }]);
    expect(review(both, nightlySpec())).toEqual([]);
    expect(review(both, nightlySpec({ vault_ids: [{ ref: "npm-tools" }, { ref: "github-tools" }] }))).toEqual([]);
  });

  it("a memory store attached, or read_only → read_write; read_write → read_only is not a finding", () => {
    const ms = (ref: string, access?: string) => ({ type: "memory_store", ref, ...(access ? { access } : {}) });
    expect(review(nightlySpec({ resources: [ms("support-notes")] }), nightlySpec({ resources: [ms("support-notes"), ms("runbooks", "read_only")] }))).toEqual([
      { category: "memory-store-attached", severity: "broadening", pointer: "/resources", message: `memory store ${OTHER_STORE_ID} attached (read_only)` },
    ]);
    expect(review(nightlySpec({ resources: [ms("support-notes", "read_only")] }), nightlySpec({ resources: [ms("support-notes")] }))).toEqual([
      { category: "memory-store-attached", severity: "broadening", pointer: "/resources", message: `memory store ${STORE_ID} attached (read_write)` },
    ]);
    expect(review(nightlySpec({ resources: [ms("support-notes")] }), nightlySpec({ resources: [ms("support-notes", "read_only")] }))).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ resources: [] }))).toEqual([]);
  });

  it("metadata, description, events, repositories and the agent are not findings", () => {
    expect(review(nightlySpec(), nightlySpec({ metadata: { team: "platform", owner: "ops" } }))).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ description: "Other.", initial_events: [MESSAGE, MESSAGE], agent: { ref: "triage", version: 2 } }))).toEqual([]);
    expect(review(nightlySpec(), nightlySpec({ resources: [...(nightlySpec().resources as Obj[]), { type: "github_repository", url: REPO }] }))).toEqual([]);
  });

  it("is the kind's review, writing into the findings it is given", () => {
    const f = new Findings();
    deploymentFindings(f, desired(nightlySpec({ paused: true })), desired(nightlySpec()));
    expect(f.list.map((x) => x.category)).toEqual(["deployment-unpaused"]);
    expect(deployment.reviewSecurity).toBe(deploymentFindings);
  });
});

describe("rules", () => {
  function rules(specs: Obj[], keyVariables?: string[]): Diagnostic[] {
    // The targets the example references exist as manifests, so only the rule under test speaks.
    const targets = { agent: [manifest("agent", { name: "triage", model: "claude-sonnet-5-5" })], environment: [manifest("environment", { name: "support-locked-down" })], vault: [vaultManifest("github-tools")], memory_store: [storeManifest("support-notes")] };
    return checkRules({ ...emptyByKind(), ...targets, deployment: specs.map((s) => deploymentManifest(s)) }, keyVariables ? { keyVariables } : {});
  }
  const summary = (diags: Diagnostic[]) => diags.map((d) => `${d.path} ${d.code} ${d.severity}`);

  it("accept the example manifest and a deployment without a schedule", () => {
    expect(rules([nightlySpec()])).toEqual([]);
    expect(rules([nightlySpec({ schedule: null })])).toEqual([]);
    expect(rules([nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "TRIAGE_GITHUB_TOKEN" }] })])).toEqual([]);
  });

  it("AF-DEPLOYMENT-CRON names the field the API would refuse", () => {
    const diags = rules([nightlySpec({ schedule: { ...SCHEDULE, expression: "0 24 * * 1-5" } })]);
    expect(summary(diags)).toEqual(["schedule.expression AF-DEPLOYMENT-CRON error"]);
    expect(diags[0]?.message).toBe('"0 24 * * 1-5" is not a schedule the API accepts (hour): hour field "24": 24 is out of range; allowed values are 0-23');
    expect(diags[0]?.hint).toContain("minute hour day-of-month month day-of-week");
    const dow = rules([nightlySpec({ schedule: { ...SCHEDULE, expression: "0 7 * * MON" } })]);
    expect(dow[0]?.message).toMatch(/^"0 7 \* \* MON" is not a schedule the API accepts \(day-of-week\): /);
  });

  it("AF-DEPLOYMENT-CRON for the expression as a whole names no field", () => {
    const diags = rules([nightlySpec({ schedule: { ...SCHEDULE, expression: "0 7 * *" } })]);
    expect(summary(diags)).toEqual(["schedule.expression AF-DEPLOYMENT-CRON error"]);
    expect(diags[0]?.message).toMatch(/^"0 7 \* \*" is not a schedule the API accepts: /);
  });

  it("AF-DEPLOYMENT-TIMEZONE for a name that is not an IANA time zone", () => {
    for (const timezone of ["Europe/Pariss", "europe/paris", "+01:00", "CEST"]) {
      const diags = rules([nightlySpec({ schedule: { ...SCHEDULE, timezone } })]);
      expect(summary(diags), timezone).toEqual(["schedule.timezone AF-DEPLOYMENT-TIMEZONE error"]);
      expect(diags[0]?.message).toBe(`${JSON.stringify(timezone)} is not an IANA time zone`);
    }
    expect(rules([nightlySpec({ schedule: { ...SCHEDULE, timezone: "UTC" } })])).toEqual([]);
    expect(rules([nightlySpec({ schedule: { ...SCHEDULE, timezone: "America/New_York" } })])).toEqual([]);
  });

  it("a bad expression and a bad time zone are both reported", () => {
    expect(summary(rules([nightlySpec({ schedule: { type: "cron", expression: "61 * * * *", timezone: "Nowhere/City" } })]))).toEqual([
      "schedule.expression AF-DEPLOYMENT-CRON error",
      "schedule.timezone AF-DEPLOYMENT-TIMEZONE error",
    ]);
  });

  it("AF-CREDENTIAL-LITERAL-SECRET for a token written in the manifest, without quoting it", () => {
    const diags = rules([nightlySpec({ resources: [{ type: "memory_store", ref: "support-notes" }, { type: "github_repository", url: REPO, authorization_token: "plain-literal-0001" }] })]);
    expect(summary(diags)).toEqual(["resources[1].authorization_token AF-CREDENTIAL-LITERAL-SECRET error"]);
    expect(diags[0]?.message).toBe("authorization_token would put a secret in the repository");
    expect(diags[0]?.hint).toContain("authorization_token_env: NAME");
    expect(JSON.stringify(diags)).not.toContain("plain-literal-0001");
  });

  it("AF-CREDENTIAL-ENV-RESERVED for a token read from agentform's or the API key's variables", () => {
    for (const name of ["ANTHROPIC_API_KEY", "ANTHROPIC_ADMIN_KEY", "AGENTFORM_TOKEN"]) {
      const diags = rules([nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: name }] })]);
      expect(summary(diags), name).toEqual(["resources[0].authorization_token_env AF-CREDENTIAL-ENV-RESERVED error"]);
      expect(diags[0]?.message).toBe(`the secret is read from ${name}, a variable agentform or the API key uses`);
    }
    const custom = nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "SUPPORT_API_KEY" }] });
    expect(rules([custom])).toEqual([]);
    expect(summary(rules([custom], ["SUPPORT_API_KEY"]))).toEqual(["resources[0].authorization_token_env AF-CREDENTIAL-ENV-RESERVED error"]);
  });

  it("AF-DEPLOYMENT-NO-USER-MESSAGE warns when no initial event is a user message", () => {
    const outcome = { type: "user.define_outcome", description: "A routed queue.", rubric: { type: "text", content: "Every ticket has a team." } };
    const diags = rules([nightlySpec({ initial_events: [outcome] })]);
    expect(summary(diags)).toEqual(["initial_events AF-DEPLOYMENT-NO-USER-MESSAGE warning"]);
    expect(diags[0]?.message).toBe("no user.message among the initial events: a run has nothing to start from");
    expect(rules([nightlySpec({ initial_events: [outcome, MESSAGE] })])).toEqual([]);
  });

  it("each manifest is checked on its own", () => {
    const diags = rules([nightlySpec(), nightlySpec({ name: "hourly", schedule: { ...SCHEDULE, expression: "0 * * * * *" } })]);
    expect(diags.map((d) => `${d.file} ${d.code}`)).toEqual(["deployments/hourly.yaml AF-DEPLOYMENT-CRON"]);
  });
});

describe("prune", () => {
  const applied = (kind: "agent" | "environment" | "vault" | "memory_store", id: string, live: Parameters<typeof liveDigest>[1]) => ({
    id,
    ...(kind === "agent" ? { version: 3 } : {}),
    specDigest: "sha256:0",
    liveDigest: liveDigest(kind, live),
  });
  const lock = () =>
    lockfile({
      agents: { triage: applied("agent", AGENT_ID, triageLive()) },
      environments: { "support-locked-down": applied("environment", ENV_ID, envLive()) },
      vaults: { "github-tools": applied("vault", VAULT_ID, vaultLive()) },
      memory_stores: { "support-notes": applied("memory_store", STORE_ID, storeLive()) },
      deployments: { "nightly-triage": { id: DEPLOYMENT_ID, specDigest: specDigest(deploymentManifest(nightlySpec())), liveDigest: liveDigest("deployment", liveDeployment()) } },
    });

  it("refuses to archive a vault, memory store, environment or agent a live deployment still uses", () => {
    const plan = buildPlan(fleet({ liveDeployments: [liveDeployment()], lock: lock(), prune: true }));
    expect(entry(plan, NIGHTLY).action).toBe("noop");
    expect(plan.refusals.map((r) => `${r.address} ${r.code}`)).toEqual([
      "agent.triage prune-still-referenced",
      "environment.support-locked-down prune-still-referenced",
      "memory_store.support-notes prune-still-referenced",
      "vault.github-tools prune-still-referenced",
    ]);
    const vault = plan.refusals.find((r) => r.address === "vault.github-tools");
    expect(vault?.message).toBe(`Pruning would archive vault.github-tools, but deployment "nightly-triage" (${DEPLOYMENT_ID}) still uses it.`);
    expect(vault?.ids).toEqual([VAULT_ID]);
    expect(plan.refusals.find((r) => r.address === "memory_store.support-notes")?.message).toBe(`Pruning would archive memory_store.support-notes, but deployment "nightly-triage" (${DEPLOYMENT_ID}) still uses it.`);
    expect(plan.refusals.find((r) => r.address === "agent.triage")?.ids).toEqual([AGENT_ID]);
    expect(plan.refusals.find((r) => r.address === "environment.support-locked-down")?.ids).toEqual([ENV_ID]);
  });

  it("a deployment made outside this project still counts as a user", () => {
    const theirs = liveDeployment({ id: "depl_011theirs", name: "their-run", metadata: { "agentform.project": "someone-else" } });
    const plan = buildPlan(fleet({ deployments: [], liveDeployments: [theirs], lock: lockfile({ memory_stores: { "support-notes": applied("memory_store", STORE_ID, storeLive()) } }), prune: true }));
    expect(plan.refusals.map((r) => `${r.address} ${r.code} ${r.message}`)).toEqual([
      `memory_store.support-notes prune-still-referenced Pruning would archive memory_store.support-notes, but deployment "their-run" (depl_011theirs) still uses it.`,
    ]);
  });

  it("a store the deployment's update drops is archived after that update", () => {
    const spec = nightlySpec({ resources: [] });
    const plan = buildPlan(
      fleet({
        deployments: [deploymentManifest(spec)],
        liveDeployments: [liveDeployment()],
        lock: lockfile({ memory_stores: { "support-notes": applied("memory_store", STORE_ID, storeLive()) } }),
        prune: true,
      }),
    );
    expect(plan.refusals).toEqual([]);
    expect(entry(plan, NIGHTLY).request).toEqual({ method: "update", body: { resources: [] } });
    expect(entry(plan, "memory_store.support-notes")).toMatchObject({ action: "archive", impact: "archive", dependsOn: [NIGHTLY] });
  });

  it("a deployment pruned in the same plan no longer holds what it used", () => {
    const plan = buildPlan(fleet({ deployments: [], liveDeployments: [liveDeployment()], lock: lock(), prune: true }));
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.filter((r) => r.action === "archive").map((r) => r.address).sort()).toEqual([
      "agent.triage",
      "deployment.nightly-triage",
      "environment.support-locked-down",
      "memory_store.support-notes",
      "vault.github-tools",
    ]);
    expect(entry(plan, NIGHTLY)).toMatchObject({ impact: "archive", request: { method: "archive" } });
  });
});

describe("the kind's properties", () => {
  it("marker-owned, digest-checked, in place, archived (never deleted), whole fields as the API replaces them", () => {
    expect(deployment).toMatchObject({
      folder: "deployments",
      ownership: "marker",
      concurrency: "digest",
      updateImpact: "in-place",
      lockKey: "deployments",
      lockVersion: "none",
      removal: "archive",
      deletable: false,
      renamable: true,
      removalNote: "archiving a deployment is terminal: it never runs again and can no longer be changed",
    });
    expect([...deployment.wholeFields].sort()).toEqual(["budget", "initial_events", "resources", "schedule", "vault_ids"]);
    expect(deployment.versionOf(liveDeployment())).toBeUndefined();
    expect(deployment.runtimePin({ id: DEPLOYMENT_ID })).toEqual({ id: DEPLOYMENT_ID });
  });

  it("looks like a deployment by its initial events", () => {
    expect(deployment.looksLike(nightlySpec(), false)).toBe(true);
    expect(deployment.looksLike(nightlySpec(), true)).toBe(false);
    expect(deployment.looksLike({ name: "x", model: "m" }, false)).toBe(false);
  });
});


describe("fixed after the first review of the deployment kind", () => {
  it("a repository token in resources is resolved from its variable, with the digest in metadata", async () => {
    const { withSecrets } = await import("../../src/apply/secrets.js");
    const body = buildCreateBody("deployment", deployment.resolveRefs(nightlySpec({ resources: [{ type: "memory_store", ref: "support-notes" }, { type: "github_repository", url: REPO, authorization_token_env: "TRIAGE_GITHUB_TOKEN" }] }), resolveAll), PROJECT);
    expect(placeholdersIn("deployment", body)).toEqual([{ pointer: "/resources/1/authorization_token", env: "TRIAGE_GITHUB_TOKEN" }]);
    const { body: sent, sent: values } = await withSecrets("deployment", body, (n) => (n === "TRIAGE_GITHUB_TOKEN" ? "ghp-token-value-0001" : undefined), undefined);
    expect(values).toEqual(["ghp-token-value-0001"]);
    expect(((sent.resources as Obj[])[1] as Obj).authorization_token).toBe("ghp-token-value-0001");
    expect(typeof (sent.metadata as Obj)["agentform.secret_digest"]).toBe("string");
  });

  it("a deployment the server paused for an error is drift on every plan, with the reason, even once the lockfile records it", () => {
    const errored = liveDeployment({ status: "paused", paused_reason: { type: "error", error: { type: "environment_archived_error" } } });
    const locked = lockfile({ deployments: { "nightly-triage": { id: DEPLOYMENT_ID, specDigest: "sha256:x", liveDigest: liveDigest("deployment", errored) } } });
    const nightly = entry(buildPlan(fleet({ liveDeployments: [errored], lock: locked })), NIGHTLY);
    expect(nightly.action).toBe("noop");
    expect(nightly.drift?.detected).toBe(true);
    expect(nightly.notes).toEqual(["paused by the server (environment_archived_error); agentform does not un-pause it: fix the cause, then un-pause it in the Console"]);
  });

  it("a pin to the agent version this plan makes waits for the agent's update", () => {
    const plan = buildPlan(fleet({ agents: [triageManifest({ system: "new" })], deployments: [deploymentManifest(nightlySpec({ agent: { ref: "triage", version: 4 } }))], liveDeployments: [liveDeployment()] }));
    const nightly = entry(plan, NIGHTLY);
    expect(nightly.dependsOn).toContain("agent.triage");
    expect(nightly.request?.body).toMatchObject({ agent: { type: "agent", id: AGENT_ID, version: 4 } });
  });

  it("imports a paused, scheduled deployment as a manifest that keeps it paused and drops the run times", () => {
    const live = liveDeployment({ status: "paused", paused_reason: { type: "manual" }, schedule: { ...SCHEDULE, last_run_at: null, upcoming_runs_at: ["2026-12-01T06:00:00Z"] } });
    const m = deployment.toManifest(live);
    expect(m.paused).toBe(true);
    expect(m.schedule).toEqual(SCHEDULE);
    expect(diffCanonical(deployment.canonicalDesired(m), deployment.canonicalLive(live))).toEqual([]);
  });
});

describe("fixed after the second review of the deployment kind", () => {
  const review = (before: Obj | null, after: Obj) => {
    const f = new Findings();
    deploymentFindings(f, before, after);
    return f.list.map((x) => x.category);
  };
  const withSchedule = (expression: string) => ({ ...desired(nightlySpec()), schedule: { type: "cron", expression, timezone: "UTC" } });

  it("a rare schedule run more often is reported, though its per-30-days figure rounds the same", () => {
    expect(review(withSchedule("0 0 29 2 *"), withSchedule("0,30 0 29 2 *"))).toEqual(["schedule-more-frequent"]);
    expect(review(withSchedule("0 0 28 2 *"), withSchedule("0 0 28,29 2 *"))).toEqual(["schedule-more-frequent"]);
    expect(review(withSchedule("0,30 0 29 2 *"), withSchedule("0 0 29 2 *"))).toEqual([]);
  });

  it("a deployment answer missing what comparison relies on is refused, not read as something else", () => {
    const shape = deployment.shapeProblem!;
    expect(shape(liveDeployment() as unknown as Obj)).toBeUndefined();
    const { agent: _agent, ...noAgent } = liveDeployment() as unknown as Obj;
    expect(shape(noAgent)).toBe("has no agent {id, version}");
    expect(shape({ ...(liveDeployment() as unknown as Obj), resources: "nope" })).toBe("has resources that is not a list");
    expect(shape({ ...(liveDeployment() as unknown as Obj), schedule: 5 })).toBe("has a schedule that is neither null nor a cron schedule");
    expect(shape({ ...(liveDeployment() as unknown as Obj), status: "exploded" })).toBe('has status "exploded", neither active nor paused');
  });

  it("a reference by name to a resource no manifest describes is AF-REF-UNKNOWN", () => {
    const diags = checkRules({ ...emptyByKind(), deployment: [deploymentManifest(nightlySpec({ vault_ids: [{ ref: "nope" }] }))] } as never);
    const unknown = diags.filter((d) => d.code === "AF-REF-UNKNOWN").map((d) => d.path).sort();
    expect(unknown).toEqual(["agent.ref", "environment_id.ref", "resources[0].ref", "vault_ids[0].ref"]);
  });

  it("a token is shown as sent only when the deployment carries the digest of sent tokens; with none wanted, every repository shows one (revoke)", () => {
    const repo = { type: "github_repository", url: REPO, checkout: null, mount_path: null };
    const sentMetadata = { ...MARKER, team: "support-platform", "agentform.secret_digest": "scrypt1$x" };
    const withToken = nightlySpec({ resources: [{ type: "github_repository", url: REPO, authorization_token_env: "T" }] });
    const without = nightlySpec({ resources: [{ type: "github_repository", url: REPO }] });
    const neverSent = liveDeployment({ resources: [repo] });
    const sent = liveDeployment({ resources: [repo], metadata: sentMetadata });
    // A token added: none was sent, so it is a change.
    expect(diffCanonical(deployment.canonicalLive(neverSent, desired(withToken)), desired(withToken)).map((c) => c.pointer)).toEqual(["/resources"]);
    // A token removed: one was sent, so it is a change (resources resent without it).
    expect(diffCanonical(deployment.canonicalLive(sent, desired(without)), desired(without)).map((c) => c.pointer)).toEqual(["/resources"]);
    // Unchanged either way: nothing.
    expect(diffCanonical(deployment.canonicalLive(sent, desired(withToken)), desired(withToken))).toEqual([]);
    expect(diffCanonical(deployment.canonicalLive(neverSent, desired(without)), desired(without))).toEqual([]);
  });

  it("a budget not in whole minor units and more than eight memory stores are refused offline", () => {
    const targets = { agent: [manifest("agent", { name: "triage", model: "claude-sonnet-5-5" })], environment: [manifest("environment", { name: "support-locked-down" })], vault: [vaultManifest("github-tools")], memory_store: [storeManifest("support-notes")] };
    const codes = (spec: Obj) => checkRules({ ...emptyByKind(), ...targets, deployment: [deploymentManifest(spec)] } as never).map((d) => d.code);
    for (const amount of ["5.00", "0500", "-1", ""]) expect(codes(nightlySpec({ budget: { ...BUDGET, max_list_cost: { amount, currency: "USD" } } }))).toContain("AF-DEPLOYMENT-BUDGET");
    expect(codes(nightlySpec())).not.toContain("AF-DEPLOYMENT-BUDGET");
    const nine = Array.from({ length: 9 }, () => ({ type: "memory_store", ref: "support-notes" }));
    expect(codes(nightlySpec({ resources: nine }))).toContain("AF-DEPLOYMENT-MEMORY-STORES");
    expect(codes(nightlySpec({ resources: nine.slice(0, 8) }))).not.toContain("AF-DEPLOYMENT-MEMORY-STORES");
  });
});
