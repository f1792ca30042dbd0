/**
 * Issue 4's "Done when": for generated valid manifests, create everything on the local control
 * plane, then plan again — the plan is empty and no agent version moved.
 *
 * End to end with real parts: manifests are written as YAML into a temp project and read by the
 * real loader; the planner talks to the local control plane through the SDK backend over HTTP.
 * A failure here is a perpetual diff a user would see on every `agentform plan` (or a manifest
 * the loader wrongly rejects).
 */
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import type { LiveResource } from "../../src/kinds/types.js";
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
import { listLive, writeGeneratedProject, type GeneratedManifests } from "./project.js";

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

const live = listLive;

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

  const origin = { baseUrl: cp.baseUrl, workspaceId: null };
  const backend = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), { project, writesPerMinute: 0, sleep: async () => undefined });
  const planInput = (lock: Lockfile | null, state: Awaited<ReturnType<typeof live>>) => ({
    project,
    target: "default",
    origin,
    manifests: loaded.manifests,
    live: state,
    lock,
    options: { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.0.0-test" },
  });

  const first = buildPlan(planInput(null, await live(backend)));
  expect(first.refusals).toEqual([]);
  expect(first.resources.every((r) => r.action === "create")).toBe(true);
  expect(first.resources).toHaveLength(manifests.agents.length + manifests.environments.length);

  let saved: Lockfile | null = null;
  const applied = await applyPlan(first, backend, {
    project,
    lock: emptyLock(project, "default", origin),
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
  const after = await live(backend);
  const second = buildPlan(planInput(applied.lock, after));
  const third = await applyPlan(second, backend, { project, lock: applied.lock, saveLock: async () => undefined });
  const writes = cp.requestLog().filter((e) => e.write);

  expect(second.refusals).toEqual([]);
  expect(second.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `perpetual diff:\n${describePlan(second)}`).toEqual([]);
  expect(second.resources).toHaveLength(manifests.agents.length + manifests.environments.length);
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
  }
  // Import's conversion: every live resource turns into a manifest with the same canonical form.
  for (const kind of KIND_ORDER) {
    for (const l of after[kind] as LiveResource[]) {
      const spec = (KINDS[kind].toManifest as (x: LiveResource) => Record<string, unknown>)(l);
      const desired = canonicalDesired(kind, spec);
      expect(canonicalJson(canonicalLive(kind, l, desired)), `toManifest of ${kind} ${l.name}`).toBe(canonicalJson(desired));
    }
  }
  // Without the lockfile (a fresh checkout that lost it) the plan is just as empty.
  const unlocked = buildPlan(planInput(null, after));
  expect(unlocked.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `perpetual diff without a lockfile:\n${describePlan(unlocked)}`).toEqual([]);
  const again = await live(backend);
  for (const a of after.agent) expect(again.agent.find((l) => l.id === a.id)?.version).toBe(a.version);
}

describe("no perpetual diff", () => {
  it(
    "for generated valid manifests, plan after create is empty and no agent version moves",
    async () => {
      await fc.assert(fc.asyncProperty(generatedCase, roundTrip), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    },
    Math.max(60_000, RUNS * 2_000),
  );
});
