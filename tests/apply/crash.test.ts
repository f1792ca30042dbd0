/**
 * The headline crash-safety property: for every write index of an apply of ≥ 20 resources, a
 * write that commits and then loses its connection, followed by a re-run, converges: no
 * duplicates, the lockfile matches live, and the next plan is empty.
 */
import { describe, expect, it } from "vitest";
import { applyPlan } from "../../src/apply/index.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { applyNow, fleet, ORIGIN, planNow, PROJECT, resilient, sdk, writesIn } from "./fleet.js";

const FLEET = fleet(16);
const RESOURCES = FLEET.agents.length + FLEET.environments.length;

async function expectConverged(cp: LocalControlPlane, lock: Lockfile): Promise<void> {
  const backend = sdk(cp);
  const [agents, environments] = await Promise.all([backend.list("agent"), backend.list("environment")]);
  expect(agents.map((a) => a.name).sort()).toEqual(FLEET.agents.map((m) => m.name).sort());
  expect(environments.map((e) => e.name).sort()).toEqual(FLEET.environments.map((m) => m.name).sort());
  for (const a of agents) expect(lock.agents[a.name]).toMatchObject({ id: a.id, version: a.version });
  for (const e of environments) expect(lock.environments[e.name]).toMatchObject({ id: e.id });
  expect(Object.keys(lock.agents)).toHaveLength(agents.length);
  expect(Object.keys(lock.environments)).toHaveLength(environments.length);
  const next = await planNow(backend, FLEET, lock);
  expect(next.refusals).toEqual([]);
  expect(next.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}: ${r.action}`)).toEqual([]);
  cp.clearRequestLog();
  const again = await applyNow(next, backend, lock);
  expect(again.writes).toBe(0);
  expect(writesIn(cp)).toEqual([]);
}

/** Re-run (plan + apply) until nothing is left to do; a converging system needs one re-run. */
async function rerun(cp: LocalControlPlane, lock: Lockfile | null): Promise<Lockfile> {
  const backend = resilient(cp);
  const plan = await planNow(backend, FLEET, lock);
  expect(plan.refusals).toEqual([]);
  const result = await applyNow(plan, backend, lock);
  expect(result.failed).toEqual([]);
  return result.lock;
}

describe("crash safety", () => {
  it(`the fleet has at least 20 resources (${RESOURCES})`, () => {
    expect(RESOURCES).toBeGreaterThanOrEqual(20);
  });

  it("a lost response at every write index is absorbed by the resilience policy: no duplicates, lock matches live", async () => {
    for (let k = 1; k <= RESOURCES; k++) {
      const cp = await startLocalControlPlane({ faults: { script: [{ on: "write", nth: k, fault: { dropAfterCommit: true } }] } });
      try {
        const backend = resilient(cp);
        const result = await applyNow(await planNow(backend, FLEET, null), backend, null);
        expect(result.failed, `write #${k}`).toEqual([]);
        expect(result.unsaved, `write #${k}`).toEqual([]);
        expect(writesIn(cp).filter((e) => e.status === null), `write #${k}`).toHaveLength(1);
        await expectConverged(cp, result.lock);
      } finally {
        await cp.close();
      }
    }
  });

  it("a run killed at every write index (response lost, no retry, lock as last saved) converges on re-run", async () => {
    for (let k = 1; k <= RESOURCES; k++) {
      const cp = await startLocalControlPlane({ faults: { script: [{ on: "write", nth: k, fault: { dropAfterCommit: true } }] } });
      try {
        // The raw backend surfaces the lost response; the lockfile "on disk" is frozen at that moment.
        const raw: ControlPlane = sdk(cp);
        const plan = await planNow(raw, FLEET, null);
        let onDisk: Lockfile | null = null;
        let frozen = false;
        const first = await applyPlan(plan, raw, {
          project: PROJECT,
          lock: emptyLock(PROJECT, "default", ORIGIN),
          saveLock: async (lock) => {
            if (!frozen) onDisk = lock;
          },
          onEvent: (e) => {
            if (e.type === "failed") frozen = true;
          },
        });
        expect(first.failed.map((f) => f.error.code), `write #${k}`).toEqual(["api.connection_error"]);
        cp.resetFaults();
        const lock = await rerun(cp, onDisk);
        await expectConverged(cp, lock);
      } finally {
        await cp.close();
      }
    }
  });
});
