/**
 * No perpetual diff: for generated valid manifests, create everything on the local control
 * plane, then plan again — the plan is empty and no agent version moved. The cases
 * include skills (folders with generated files, text and binary) that agents use by ref, and no
 * skill version moves either. The cases also hold vaults with credentials of every type (their
 * secrets read from variables, digested as apply sends them and compared by the next plan),
 * memory stores, and deployments using the case's agents, environments, vaults and stores.
 *
 * End to end with real parts: manifests are written as YAML into a temp project and read by the
 * real loader; the planner talks to the local control plane through the SDK backend over HTTP.
 * A failure here is a perpetual diff a user would see on every `agentform plan` (or a manifest
 * the loader wrongly rejects).
 */
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import type { LiveResource, LiveSkill } from "../../src/kinds/types.js";
import { lockTable } from "../../src/lock/table.js";
import type { LiveSets } from "../../src/backends/types.js";
import { canonicalDesired, canonicalJson, canonicalLive } from "../../src/normalize/index.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlan } from "../../src/apply/index.js";
import { withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { secretStatuses, secretsFor } from "../../src/cli/secrets.js";
import { isObj, type Obj } from "../../src/kinds/values.js";
import { generatedCase, generatedFleet, materializeCase, type GeneratedCase } from "./arbitraries.js";
import { listLive, uploadsOf, writeGeneratedProject, type GeneratedManifests } from "./project.js";

const KEY_ENV = "AGENTFORM_PROP_KEY";
// Fixed so CI is deterministic. To explore further, run with e.g. PROP_SEED=7 PROP_RUNS=300;
// cases share one server, so long runs slow down as the workspace fills up.
const SEED = Number(process.env.PROP_SEED ?? 20260401);
const RUNS = Number(process.env.PROP_RUNS ?? 40);

let cp: LocalControlPlane;
let root: string;
let counter = 0;

beforeAll(async () => {
  cp = await startLocalControlPlane();
  root = await mkdtemp(path.join(tmpdir(), "agentform-prop-"));
});

afterAll(async () => {
  await cp?.close();
  if (root) await rm(root, { recursive: true, force: true });
});


/** Write the case as a project on disk and load it with the real loader. */
function writeProject(project: string, manifests: GeneratedManifests) {
  return writeGeneratedProject(root, project, { baseUrl: cp.baseUrl, keyEnv: KEY_ENV }, manifests);
}

function describePlan(plan: Plan): string {
  return JSON.stringify(
    plan.resources.filter((r) => r.action !== "noop" || r.changes.length > 0).map((r) => ({ address: r.address, action: r.action, changes: r.changes, drift: r.drift })),
    null,
    1,
  );
}

/** The names of a manifest list, sorted. */
const namesOf = (list: ReadonlyArray<{ name: string }>) => list.map((m) => m.name).sort();

async function roundTrip(c: GeneratedCase): Promise<void> {
  const n = counter++;
  const project = `prop-${n}`;
  const manifests = materializeCase(c, `c${n}`);
  const loaded = await writeProject(project, manifests);
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  expect(errors, `the loader rejected a generated manifest:\n${JSON.stringify(errors, null, 1)}`).toEqual([]);
  expect(namesOf(loaded.manifests.agent)).toEqual(manifests.agents.map((a) => String(a.name)).sort());
  expect(namesOf(loaded.manifests.environment)).toEqual(manifests.environments.map((e) => String(e.name)).sort());
  expect(namesOf(loaded.manifests.skill)).toEqual(manifests.skills.map((s) => s.name).sort());
  expect(namesOf(loaded.manifests.vault)).toEqual(manifests.vaults.map((v) => String(v.display_name)).sort());
  // Each credential is named `<vault>/<local name>` (the loader reads them out of their vault's file).
  const credentialNames = manifests.vaults.flatMap((v) => Object.keys(isObj(v.credentials) ? v.credentials : {}).map((k) => `${String(v.display_name)}/${k}`));
  expect(namesOf(loaded.manifests.credential)).toEqual(credentialNames.sort());
  expect(namesOf(loaded.manifests.memory_store)).toEqual(manifests.memoryStores.map((m) => String(m.name)).sort());
  expect(namesOf(loaded.manifests.deployment)).toEqual(manifests.deployments.map((d) => String(d.name)).sort());
  // The loader read every generated file, byte for byte.
  for (const s of manifests.skills) {
    const m = loaded.manifests.skill.find((x) => x.name === s.name)!;
    expect(m.uploads?.map((u) => [u.path, Buffer.from(u.bytes).toString("base64")]).sort(), `files of skill ${s.name}`).toEqual(s.files.map((f) => [f.path, Buffer.from(f.bytes).toString("base64")]).sort());
  }
  const resources = KIND_ORDER.reduce((sum, kind) => sum + loaded.manifests[kind].length, 0);

  const origin = { baseUrl: cp.baseUrl, workspaceId: null };
  const backend = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), { project, writesPerMinute: 0, sleep: async () => undefined });
  // Live state as the CLI reads it: lists, with this project's skills completed (their digests).
  const live = (lock: Lockfile | null) => listLive(backend, loaded, lock);
  const uploads = uploadsOf(loaded);
  // Secrets as the CLI reads them (src/cli/workflow.ts): from the environment the case sets, the
  // target not being local (no stand-ins); each plan compares them with the live digests.
  const secrets = secretsFor(loaded.config.targets.default!, loaded.manifests, manifests.env);
  expect(secrets.notices).toEqual([]);
  const statuses = (lock: Lockfile | null, state: LiveSets) => secretStatuses(loaded.manifests, state, lock, secrets, false);
  const planInput = async (lock: Lockfile | null, state: LiveSets, adopt = false) => ({
    project,
    target: "default",
    origin,
    manifests: loaded.manifests,
    live: state,
    lock,
    options: { adopt, prune: false, allowEmpty: false, agentformVersion: "0.0.0-test" },
    secretStatus: await statuses(lock, state),
  });

  const first = buildPlan(await planInput(null, await live(null)));
  expect(first.refusals).toEqual([]);
  expect(first.resources.filter((r) => r.action !== "create").map((r) => `${r.address}: ${r.action}`)).toEqual([]);
  expect(first.resources).toHaveLength(resources);

  let saved: Lockfile | null = null;
  const applied = await applyPlan(first, backend, {
    project,
    lock: emptyLock(project, "default", origin),
    uploads,
    secrets: secrets.source,
    saveLock: async (l) => {
      saved = l;
    },
  });
  expect(applied.failed.map((f) => `${f.address}: ${f.error.message}`)).toEqual([]);
  expect(applied.skipped).toEqual([]);
  // One create per resource and nothing else: no follow-up update moved a version during apply.
  expect(applied.writes).toBe(first.resources.length);
  expect(saved).toEqual(applied.lock);

  cp.clearRequestLog();
  const after = await live(applied.lock);
  const second = buildPlan(await planInput(applied.lock, after));
  const third = await applyPlan(second, backend, { project, lock: applied.lock, uploads, secrets: secrets.source, saveLock: async () => undefined });
  const writes = cp.requestLog().filter((e) => e.write);

  expect(second.refusals).toEqual([]);
  expect(second.resources.filter((r) => r.action !== "noop" || r.changes.length > 0 || r.lockOnly !== undefined), `perpetual diff:\n${describePlan(second)}`).toEqual([]);
  // Every secret compared and found as sent: none "not checked" (no digest, or a variable missing).
  expect(second.resources.filter((r) => (r.notes ?? []).length > 0).map((r) => `${r.address}: ${r.notes!.join("; ")}`)).toEqual([]);
  expect(second.resources).toHaveLength(resources);
  expect(second.driftDetected).toBe(false);
  expect(third.writes).toBe(0);
  expect(third.lock).toEqual(applied.lock);
  expect(writes).toEqual([]);

  // No version moved: the live version right after apply is the one the lockfile pinned, and
  // the re-plan's optimistic lock is that same version.
  for (const a of manifests.agents) {
    const name = String(a.name);
    const locked = applied.lock.agents[name];
    const liveAgent = after.agent.find((l) => l.name === name);
    expect(locked, `lockfile entry for ${name}`).toBeDefined();
    expect(liveAgent?.id).toBe(locked?.id);
    expect(liveAgent?.version).toBe(locked?.version);
    const entry = second.resources.find((r) => r.address === `agent.${name}`);
    expect(entry?.basis).toMatchObject({ kind: "agent", version: locked?.version });
    // Each skill used by ref is pinned at the version the skill's upload made.
    for (const ref of (Array.isArray(a.skills) ? (a.skills as Array<Record<string, unknown>>) : []).filter((s) => typeof s.ref === "string")) {
      const skill = applied.lock.skills[String(ref.ref)];
      expect((liveAgent?.skills ?? []).filter((s) => s.type === "custom" && s.skill_id === skill?.id), `${name}'s pin of skill ${String(ref.ref)}`).toEqual([{ type: "custom", skill_id: skill?.id, version: skill?.version }]);
    }
  }
  // Same for skills: the lockfile records the live id, latest version and the manifest's digests.
  for (const s of loaded.manifests.skill) {
    const locked = applied.lock.skills[s.name];
    const liveSkill = after.skill.find((l) => l.name === s.name);
    expect(locked, `lockfile entry for skill ${s.name}`).toMatchObject({ id: liveSkill?.id, version: liveSkill?.latest_version_id, files: s.spec.files });
    expect(liveSkill?.files, `digests of skill ${s.name}`).toEqual(s.spec.files);
    expect(second.resources.find((r) => r.address === `skill.${s.name}`)?.basis).toMatchObject({ kind: "skill", pin: locked?.version });
  }
  // The unversioned kinds: each is recorded in the lockfile by its live id; a credential lives in
  // the vault its manifest names.
  for (const kind of ["vault", "credential", "memory_store", "deployment"] as const) {
    for (const m of loaded.manifests[kind]) {
      const l = (after[kind] as LiveResource[]).find((x) => x.name === m.name);
      expect(l, `live ${kind} ${m.name}`).toBeDefined();
      expect(lockTable(applied.lock, kind)[m.name]?.id, `lockfile entry for ${kind} ${m.name}`).toBe(l?.id);
    }
  }
  for (const m of loaded.manifests.credential) {
    const vault = String((m.spec.vault_id as Obj).ref);
    expect((after.credential.find((x) => x.name === m.name) as unknown as Obj | undefined)?.vault_id, `vault of credential ${m.name}`).toBe(applied.lock.vaults[vault]?.id);
  }
  // A deployment runs the agent version the lockfile pins (1: nothing moved it), in the
  // environment, with the vaults and memory stores its manifest names, in order.
  for (const d of manifests.deployments) {
    const name = String(d.name);
    const l = after.deployment.find((x) => x.name === name) as unknown as Obj | undefined;
    const agentRef = d.agent as Obj;
    const agent = applied.lock.agents[String(agentRef.ref)];
    expect(l?.agent, `agent of deployment ${name}`).toEqual({ type: "agent", id: agent?.id, version: agent?.version });
    expect(agent?.version).toBe(1);
    expect(l?.environment_id).toBe(applied.lock.environments[String((d.environment_id as Obj).ref)]?.id);
    expect(l?.vault_ids).toEqual((Array.isArray(d.vault_ids) ? (d.vault_ids as Obj[]) : []).map((v) => applied.lock.vaults[String(v.ref)]?.id));
    const stores = (Array.isArray(d.resources) ? (d.resources as Obj[]) : []).filter((r) => r.type === "memory_store");
    expect((l?.resources as Obj[]).filter((r) => r.type === "memory_store").map((r) => r.memory_store_id)).toEqual(stores.map((r) => applied.lock.memory_stores[String(r.ref)]?.id));
    expect(l?.status, `status of deployment ${name}`).toBe(d.paused === true ? "paused" : "active");
  }
  // Import's conversion: every live resource of this project turns into a manifest with the same
  // canonical form (a skill's files are downloaded separately: import writes them beside SKILL.md).
  // Only this case's resources (by the ids its lockfile records): the server holds every earlier
  // case's too, and one of those failing here would make every shrunk case fail alike.
  for (const kind of KIND_ORDER) {
    const ids = new Set(Object.values(lockTable(applied.lock, kind)).map((e) => e.id));
    for (const l of after[kind] as LiveResource[]) {
      if (!ids.has(l.id)) continue;
      const spec = (KINDS[kind].toManifest as (x: LiveResource) => Record<string, unknown>)(l);
      if (kind === "skill") spec.files = (l as LiveSkill).files;
      const desired = canonicalDesired(kind, spec);
      expect(JSON.parse(canonicalJson(canonicalLive(kind, l, desired))), `toManifest of ${kind} ${l.name}`).toEqual(JSON.parse(canonicalJson(desired)));
    }
  }
  // Without the lockfile (a fresh checkout that lost it) the plan is just as empty. Each skill's
  // digests are then read from its content, and a skill, having no ownership marker, is only
  // taken back with --adopt: an adoption that changes nothing.
  cp.clearRequestLog();
  const unlockedLive = await live(null);
  for (const s of loaded.manifests.skill) expect(unlockedLive.skill.find((l) => l.name === s.name)?.files, `downloaded digests of skill ${s.name}`).toEqual(s.spec.files);
  const unlockedInput = await planInput(null, unlockedLive);
  const unlocked = buildPlan(unlockedInput);
  expect(unlocked.refusals.map((r) => `${r.address} ${r.code}`).sort()).toEqual(manifests.skills.map((s) => `skill.${s.name} unmanaged-needs-adopt`).sort());
  expect(unlocked.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `perpetual diff without a lockfile:\n${describePlan(unlocked)}`).toEqual([]);
  // The same live state and environment: the secrets' statuses are the ones just computed.
  const adopted = buildPlan({ ...unlockedInput, options: { ...unlockedInput.options, adopt: true } });
  expect(adopted.refusals).toEqual([]);
  const changed = adopted.resources.filter((r) => r.action !== "noop" || r.changes.length > 0);
  expect(changed.filter((r) => r.kind !== "skill" || r.action !== "adopt" || r.changes.length > 0 || r.request !== null), `perpetual diff without a lockfile (--adopt):\n${describePlan(adopted)}`).toEqual([]);
  expect(changed.map((r) => r.address).sort()).toEqual(manifests.skills.map((s) => `skill.${s.name}`).sort());
  const readopted = await applyPlan(adopted, backend, { project, lock: emptyLock(project, "default", origin), uploads, secrets: secrets.source, saveLock: async () => undefined });
  expect(readopted.failed.map((f) => `${f.address}: ${f.error.message}`)).toEqual([]);
  expect(readopted.writes).toBe(0);
  expect(readopted.lock).toEqual(applied.lock);
  expect(cp.requestLog().filter((e) => e.write)).toEqual([]);

  const again = await live(applied.lock);
  for (const a of after.agent) expect(again.agent.find((l) => l.id === a.id)?.version).toBe(a.version);
  for (const s of after.skill) expect(again.skill.find((l) => l.id === s.id)?.latest_version_id, `latest version of skill ${s.name}`).toBe(s.latest_version_id);
}

/** What a case exercises of skills; used to check the generator really produces them. */
function skillKinds(c: GeneratedCase): Set<string> {
  const kinds = new Set<string>();
  const m = materializeCase(c, "x");
  if (m.skills.length > 0) kinds.add("skill");
  if (m.skills.length > 1) kinds.add("two skills");
  const refs = m.agents.flatMap((a) => (Array.isArray(a.skills) ? (a.skills as Array<Record<string, unknown>>) : []).filter((s) => typeof s.ref === "string"));
  if (refs.length > 0) kinds.add("agent uses a skill by ref");
  if (m.agents.some((a) => Array.isArray(a.skills) && a.skills.some((s) => typeof (s as Record<string, unknown>).ref === "string") && a.skills.some((s) => typeof (s as Record<string, unknown>).skill_id === "string"))) kinds.add("refs beside skill ids");
  for (const s of c.skills) {
    if (s.files.length === 2) kinds.add("skill with 2 files");
    if (s.files.some((f) => f.bytes.includes(0))) kinds.add("binary file");
    if (s.files.some((f) => f.bytes.length === 0)) kinds.add("empty file");
    if (s.files.some((f) => f.path.split("/").length > 2)) kinds.add("nested path");
    if (s.files.some((f) => /[^\x20-\x7e]/.test(f.path))) kinds.add("non-ASCII path");
    if (s.description.includes("\n")) kinds.add("multi-line description");
    if (Object.keys(s.extra).length > 0) kinds.add("frontmatter keys of the skill's own");
  }
  return kinds;
}

/** What a case exercises of vaults, credentials, memory stores and deployments (the same check). */
function fleetKinds(c: GeneratedCase): Set<string> {
  const kinds = new Set<string>();
  const m = materializeCase(c, "x");
  const credentials = m.vaults.flatMap((v) => Object.values(isObj(v.credentials) ? v.credentials : {}) as Obj[]);
  if (m.vaults.length > 0) kinds.add("vault");
  if (m.vaults.some((v) => isObj(v.credentials) && Object.keys(v.credentials).length === 0)) kinds.add("vault with credentials: {}");
  if (m.vaults.some((v) => isObj(v.credentials) && Object.keys(v.credentials).length >= 2)) kinds.add("vault with 2+ credentials");
  for (const cr of credentials) {
    const auth = cr.auth as Obj;
    const refresh = isObj(auth.refresh) ? auth.refresh : undefined;
    kinds.add(String(auth.type));
    if (auth.expires_at !== undefined) kinds.add("expires_at");
    if (refresh) kinds.add("oauth refresh");
    if (refresh && (refresh.token_endpoint_auth as Obj).type === "client_secret_post") kinds.add("client_secret_post");
    if (refresh && (refresh.token_endpoint_auth as Obj).type === "none") kinds.add("token endpoint auth none");
    if (refresh?.scope !== undefined) kinds.add("scope");
    if ((auth.networking as Obj | undefined)?.type === "limited") kinds.add("limited networking");
    if ((auth.networking as Obj | undefined)?.type === "unrestricted") kinds.add("unrestricted networking");
    if (auth.injection_location !== undefined) kinds.add("injection_location");
    if (cr.metadata !== undefined) kinds.add("credential metadata");
  }
  if (m.memoryStores.length > 0) kinds.add("memory store");
  if (m.memoryStores.some((s) => typeof s.description === "string" && [...s.description].length === 1024)) kinds.add("1024-character store description");
  for (const d of m.deployments) {
    kinds.add("deployment");
    if ((d.agent as Obj).version === 1) kinds.add("agent pinned at version 1");
    else kinds.add("agent followed");
    if (Array.isArray(d.vault_ids) && d.vault_ids.length > 0) kinds.add("vault_ids");
    const resources = Array.isArray(d.resources) ? (d.resources as Obj[]) : [];
    if (resources.some((r) => r.type === "memory_store")) kinds.add("memory store resource");
    if (resources.some((r) => r.type === "github_repository")) kinds.add("github repository");
    if (d.schedule !== undefined) kinds.add("schedule");
    if (d.budget !== undefined) kinds.add("budget");
    if (d.paused === true) kinds.add("paused");
    if (d.paused === false) kinds.add("not paused");
    if (typeof d.description === "string" && d.description !== "") kinds.add("deployment description");
    if (d.metadata !== undefined) kinds.add("deployment metadata");
  }
  return kinds;
}

describe("no perpetual diff", () => {
  it("the case generator really produces skills, their files and agents using them", () => {
    const counts = new Map<string, number>();
    for (const c of fc.sample(generatedCase, { seed: 42, numRuns: 1000 })) for (const k of skillKinds(c)) counts.set(k, (counts.get(k) ?? 0) + 1);
    const expected = ["skill", "two skills", "agent uses a skill by ref", "refs beside skill ids", "skill with 2 files", "binary file", "empty file", "nested path", "non-ASCII path", "multi-line description", "frontmatter keys of the skill's own"];
    for (const k of expected) expect(counts.get(k) ?? 0, `${k} in 1000 sampled cases: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(30);
  });

  it("the fleet generator really produces vaults, every credential type, memory stores and deployments", () => {
    const counts = new Map<string, number>();
    for (const c of fc.sample(generatedFleet, { seed: 42, numRuns: 1000 })) for (const k of fleetKinds(c)) counts.set(k, (counts.get(k) ?? 0) + 1);
    const expected = [
      "vault", "vault with credentials: {}", "vault with 2+ credentials", "static_bearer", "mcp_oauth", "environment_variable", "expires_at", "oauth refresh", "client_secret_post", "token endpoint auth none", "scope",
      "limited networking", "unrestricted networking", "injection_location", "credential metadata", "memory store", "1024-character store description", "deployment", "agent pinned at version 1", "agent followed",
      "vault_ids", "memory store resource", "github repository", "schedule", "budget", "paused", "not paused", "deployment description", "deployment metadata",
    ];
    for (const k of expected) expect(counts.get(k) ?? 0, `${k} in 1000 sampled cases: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(30);
  });

  it(
    "for generated valid manifests of every kind, plan after create is empty and no agent or skill version moves",
    async () => {
      await fc.assert(fc.asyncProperty(generatedFleet, roundTrip), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    },
    Math.max(60_000, RUNS * 4_000),
  );
});
