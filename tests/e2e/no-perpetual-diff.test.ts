/**
 * Issue 4's "Done when": for generated valid manifests, create everything on the local control
 * plane, then plan again — the plan is empty and no agent version moved. Issue 12's: the cases
 * include skills (folders with generated files, text and binary) that agents use by ref, and no
 * skill version moves either.
 *
 * End to end with real parts: manifests are written as YAML into a temp project and read by the
 * real loader; the planner talks to the local control plane through the SDK backend over HTTP.
 * A failure here is a perpetual diff a user would see on every `agentform plan` (or a manifest
 * the loader wrongly rejects).
 */
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import type { LiveResource, LiveSkill } from "../../src/kinds/types.js";
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
import { generatedCase, materializeCase, type GeneratedCase } from "./arbitraries.js";
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

async function roundTrip(c: GeneratedCase): Promise<void> {
  const n = counter++;
  const project = `prop-${n}`;
  const manifests = materializeCase(c, `c${n}`);
  const loaded = await writeProject(project, manifests);
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  expect(errors, `the loader rejected a generated manifest:\n${JSON.stringify(errors, null, 1)}`).toEqual([]);
  expect(loaded.manifests.agent.map((a) => a.name).sort()).toEqual(manifests.agents.map((a) => String(a.name)).sort());
  expect(loaded.manifests.environment.map((e) => e.name).sort()).toEqual(manifests.environments.map((e) => String(e.name)).sort());
  expect(loaded.manifests.skill.map((s) => s.name).sort()).toEqual(manifests.skills.map((s) => s.name).sort());
  // The loader read every generated file, byte for byte.
  for (const s of manifests.skills) {
    const m = loaded.manifests.skill.find((x) => x.name === s.name)!;
    expect(m.uploads?.map((u) => [u.path, Buffer.from(u.bytes).toString("base64")]).sort(), `files of skill ${s.name}`).toEqual(s.files.map((f) => [f.path, Buffer.from(f.bytes).toString("base64")]).sort());
  }
  const resources = manifests.agents.length + manifests.environments.length + manifests.skills.length;

  const origin = { baseUrl: cp.baseUrl, workspaceId: null };
  const backend = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), { project, writesPerMinute: 0, sleep: async () => undefined });
  // Live state as the CLI reads it: lists, with this project's skills completed (their digests).
  const live = (lock: Lockfile | null) => listLive(backend, loaded, lock);
  const uploads = uploadsOf(loaded);
  const planInput = (lock: Lockfile | null, state: LiveSets, adopt = false) => ({
    project,
    target: "default",
    origin,
    manifests: loaded.manifests,
    live: state,
    lock,
    options: { adopt, prune: false, allowEmpty: false, agentformVersion: "0.0.0-test" },
  });

  const first = buildPlan(planInput(null, await live(null)));
  expect(first.refusals).toEqual([]);
  expect(first.resources.every((r) => r.action === "create")).toBe(true);
  expect(first.resources).toHaveLength(resources);

  let saved: Lockfile | null = null;
  const applied = await applyPlan(first, backend, {
    project,
    lock: emptyLock(project, "default", origin),
    uploads,
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
  const second = buildPlan(planInput(applied.lock, after));
  const third = await applyPlan(second, backend, { project, lock: applied.lock, uploads, saveLock: async () => undefined });
  const writes = cp.requestLog().filter((e) => e.write);

  expect(second.refusals).toEqual([]);
  expect(second.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `perpetual diff:\n${describePlan(second)}`).toEqual([]);
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
  // Import's conversion: every live resource of this project turns into a manifest with the same
  // canonical form (a skill's files are downloaded separately: import writes them beside SKILL.md).
  for (const kind of KIND_ORDER) {
    for (const l of after[kind] as LiveResource[]) {
      if (kind === "skill" && !loaded.manifests.skill.some((m) => m.name === l.name)) continue;
      const spec = (KINDS[kind].toManifest as (x: LiveResource) => Record<string, unknown>)(l);
      if (kind === "skill") spec.files = (l as LiveSkill).files;
      const desired = canonicalDesired(kind, spec);
      expect(canonicalJson(canonicalLive(kind, l, desired)), `toManifest of ${kind} ${l.name}`).toBe(canonicalJson(desired));
    }
  }
  // Without the lockfile (a fresh checkout that lost it) the plan is just as empty. Each skill's
  // digests are then read from its content, and a skill, having no ownership marker, is only
  // taken back with --adopt: an adoption that changes nothing.
  cp.clearRequestLog();
  const unlockedLive = await live(null);
  for (const s of loaded.manifests.skill) expect(unlockedLive.skill.find((l) => l.name === s.name)?.files, `downloaded digests of skill ${s.name}`).toEqual(s.spec.files);
  const unlocked = buildPlan(planInput(null, unlockedLive));
  expect(unlocked.refusals.map((r) => `${r.address} ${r.code}`).sort()).toEqual(manifests.skills.map((s) => `skill.${s.name} unmanaged-needs-adopt`).sort());
  expect(unlocked.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `perpetual diff without a lockfile:\n${describePlan(unlocked)}`).toEqual([]);
  const adopted = buildPlan(planInput(null, unlockedLive, true));
  expect(adopted.refusals).toEqual([]);
  const changed = adopted.resources.filter((r) => r.action !== "noop" || r.changes.length > 0);
  expect(changed.filter((r) => r.kind !== "skill" || r.action !== "adopt" || r.changes.length > 0 || r.request !== null), `perpetual diff without a lockfile (--adopt):\n${describePlan(adopted)}`).toEqual([]);
  expect(changed.map((r) => r.address).sort()).toEqual(manifests.skills.map((s) => `skill.${s.name}`).sort());
  const readopted = await applyPlan(adopted, backend, { project, lock: emptyLock(project, "default", origin), uploads, saveLock: async () => undefined });
  expect(readopted.failed.map((f) => `${f.address}: ${f.error.message}`)).toEqual([]);
  expect(readopted.writes).toBe(0);
  expect(readopted.lock.skills).toEqual(applied.lock.skills);
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

describe("no perpetual diff", () => {
  it("the case generator really produces skills, their files and agents using them", () => {
    const counts = new Map<string, number>();
    for (const c of fc.sample(generatedCase, { seed: 42, numRuns: 1000 })) for (const k of skillKinds(c)) counts.set(k, (counts.get(k) ?? 0) + 1);
    const expected = ["skill", "two skills", "agent uses a skill by ref", "refs beside skill ids", "skill with 2 files", "binary file", "empty file", "nested path", "non-ASCII path", "multi-line description", "frontmatter keys of the skill's own"];
    for (const k of expected) expect(counts.get(k) ?? 0, `${k} in 1000 sampled cases: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(30);
  });

  it(
    "for generated valid manifests, plan after create is empty and no agent or skill version moves",
    async () => {
      await fc.assert(fc.asyncProperty(generatedCase, roundTrip), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    },
    Math.max(60_000, RUNS * 2_000),
  );
});
