import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApplyEvent } from "../../src/apply/index.js";
import { SafetyError } from "../../src/errors.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { liveDigest } from "../../src/normalize/index.js";
import { applyNow, fleet, manifest, planNow, resilient, sdk, writesIn } from "./fleet.js";

describe("apply executor against the local control plane", () => {
  let cp: LocalControlPlane;
  beforeEach(async () => {
    cp = await startLocalControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("creates a fleet once, records every resource, and resolves roster refs to the new versions", async () => {
    const backend = resilient(cp);
    const f = fleet(6);
    const plan = await planNow(backend, f, null);
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.every((r) => r.action === "create")).toBe(true);
    const events: ApplyEvent[] = [];
    const result = await applyNow(plan, backend, null, events);
    expect(result.failed).toEqual([]);
    expect(result.writes).toBe(11);
    expect(writesIn(cp)).toHaveLength(11);
    // Every resource was on disk before it was reported done; concurrent writes may share a save.
    expect(result.unsaved).toEqual([]);
    expect(result.saves).toBeGreaterThanOrEqual(3);
    expect(result.saves).toBeLessThanOrEqual(11);
    const done = events.filter((e) => e.type === "done");
    expect(done.map((e) => (e.type === "done" ? e.completed : 0))).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(done.every((e) => e.type === "done" && e.total === 11)).toBe(true);

    const live = await backend.list("agent");
    const lead = live.find((a) => a.name === "lead-0")!;
    const w0 = live.find((a) => a.name === "worker-0")!;
    expect(lead.multiagent).toMatchObject({ type: "coordinator", agents: [{ type: "agent", id: w0.id, version: 1 }, { type: "agent" }] });
    expect(result.lock.agents["lead-0"]).toEqual({ id: lead.id, version: 1, specDigest: plan.resources.find((r) => r.address === "agent.lead-0")!.specDigest, liveDigest: liveDigest("agent", lead) });
    expect(Object.keys(result.lock.environments).sort()).toEqual(["env-0", "env-1", "env-2"]);
  });

  it("two plans made from the same empty workspace: the second apply refuses its creates instead of duplicating", async () => {
    const backend = resilient(cp);
    const f = fleet(2);
    const planA = await planNow(backend, f, null);
    const planB = await planNow(backend, f, null);
    const a = await applyNow(planA, backend, null);
    expect(a.failed).toEqual([]);
    cp.clearRequestLog();
    const b = await applyNow(planB, backend, null);
    expect(writesIn(cp)).toEqual([]);
    expect(b.writes).toBe(0);
    const creates = planB.resources.filter((r) => r.request?.method === "create").map((r) => r.address);
    const refusedOrSkipped = [...b.failed.map((x) => x.address), ...b.skipped].sort();
    expect(refusedOrSkipped).toEqual([...creates].sort());
    for (const { error } of b.failed) {
      expect(error).toBeInstanceOf(SafetyError);
      expect(error.code).toBe("stale-basis");
      expect(error.message).toMatch(/would make a duplicate; run plan again/);
    }
    // Exactly one live resource per name.
    const names = (await backend.list("agent")).map((x) => x.name);
    expect(new Set(names).size).toBe(names.length);
    // The second apply never touched the first's lockfile entries.
    expect(Object.keys(b.lock.agents)).toEqual([]);
  });

  it("two applies from separate checkouts at the same moment: duplicates cannot be prevented, but are reported at once with their ids", async () => {
    // Latency makes both applies pass their pre-create check before either creates anything.
    cp.setFaults({ latencyMs: 40 });
    const backend = resilient(cp);
    const f = fleet(1);
    const [planA, planB] = await Promise.all([planNow(backend, f, null), planNow(backend, f, null)]);
    const [a, b] = await Promise.all([applyNow(planA, backend, null), applyNow(planB, backend, null)]);
    const agents = await backend.list("agent");
    const duplicated = [...new Set(agents.map((x) => x.name))].filter((n) => agents.filter((x) => x.name === n).length > 1);
    expect(duplicated.length).toBeGreaterThan(0);
    for (const result of [a, b]) {
      const reported = result.failed.filter((x) => x.error.code === "duplicate-created");
      expect(reported.map((x) => x.address.replace(/^agent\./, "")).sort()).toEqual([...duplicated].sort());
      for (const { error } of reported) {
        expect(error.exitCode).toBe(3);
        expect(error.hint).toMatch(/archive the other one/);
      }
    }
    // Environments: the server rejects duplicate names, so one of the two creates failed with a 409.
    const envNames = (await backend.list("environment")).map((e) => e.name);
    expect(new Set(envNames).size).toBe(envNames.length);
  });

  it("an agent archived in the Console is recreated with drift reported; a renamed one replaces its old lockfile entry", async () => {
    const backend = resilient(cp);
    const first = { agents: [manifest("agent", "researcher", { model: "claude-sonnet-5-5" })], environments: [] };
    const applied = await applyNow(await planNow(backend, first, null), backend, null);
    const oldId = applied.lock.agents.researcher!.id;
    await backend.archive("agent", oldId);

    const renamed = manifest("agent", "scholar", { model: "claude-sonnet-5-5" });
    renamed.settings.previous_names = ["researcher"];
    const plan = await planNow(backend, { agents: [renamed], environments: [] }, applied.lock);
    expect(plan.driftDetected).toBe(true);
    expect(plan.resources.map((r) => [r.address, r.action, r.drift?.missing])).toEqual([["agent.scholar", "create", true]]);
    const result = await applyNow(plan, backend, applied.lock);
    expect(result.failed).toEqual([]);
    expect(Object.keys(result.lock.agents)).toEqual(["scholar"]);
    expect(result.lock.agents.scholar!.id).not.toBe(oldId);
  });

  it("one at a time, the lockfile is saved after every single write", async () => {
    const backend = resilient(cp);
    const result = await applyNow(await planNow(backend, fleet(4), null), backend, null, [], 1);
    expect(result.failed).toEqual([]);
    expect(result.writes).toBe(9);
    expect(result.saves).toBe(9);
    expect(result.unsaved).toEqual([]);
  });

  it("idempotency: after apply the plan is all noop; a second apply writes nothing and moves no version", async () => {
    const backend = resilient(cp);
    const f = fleet(6);
    const first = await applyNow(await planNow(backend, f, null), backend, null);
    const versionsBefore = (await backend.list("agent")).map((a) => [a.name, a.version]).sort();
    cp.clearRequestLog();
    const again = await planNow(backend, f, first.lock);
    expect(again.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}: ${r.action}`)).toEqual([]);
    const second = await applyNow(again, backend, first.lock);
    expect(second.writes).toBe(0);
    expect(second.saves).toBe(0);
    expect(writesIn(cp)).toEqual([]);
    expect(second.lock).toEqual(first.lock);
    expect((await backend.list("agent")).map((a) => [a.name, a.version]).sort()).toEqual(versionsBefore);
  });

  it("an update sends the plan-time version; a changed worker re-pins its coordinator", async () => {
    const backend = resilient(cp);
    const first = await applyNow(await planNow(backend, fleet(4), null), backend, null);
    const changed = fleet(4);
    changed.agents[0]!.spec.system = "You are worker 0, now with a new prompt.";
    const plan = await planNow(backend, changed, first.lock);
    const actions = Object.fromEntries(plan.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action]));
    expect(actions).toEqual({ "agent.worker-0": "update", "agent.lead-0": "repin" });
    cp.clearRequestLog();
    const result = await applyNow(plan, backend, first.lock);
    expect(result.failed).toEqual([]);
    expect(writesIn(cp)).toHaveLength(2);
    const live = await backend.list("agent");
    const w0 = live.find((a) => a.name === "worker-0")!;
    const lead = live.find((a) => a.name === "lead-0")!;
    expect(w0.version).toBe(2);
    expect(lead.version).toBe(2);
    expect((lead.multiagent as { agents: Array<{ id: string; version: number }> }).agents[0]).toMatchObject({ id: w0.id, version: 2 });
    expect(result.lock.agents["worker-0"]?.version).toBe(2);
    expect(result.lock.agents["lead-0"]?.version).toBe(2);
    const after = await planNow(backend, changed, result.lock);
    expect(after.resources.every((r) => r.action === "noop")).toBe(true);
  });

  it("races: two applies from the same basis change the same agent; one wins, the other is refused (stale-basis), no lost update", async () => {
    const backend = resilient(cp);
    const first = await applyNow(await planNow(backend, fleet(2), null), backend, null);
    const a = fleet(2, " Variant A.");
    const b = fleet(2, " Variant B.");
    const planA = await planNow(backend, a, first.lock);
    const planB = await planNow(backend, b, first.lock);
    const [resA, resB] = await Promise.all([applyNow(planA, backend, first.lock), applyNow(planB, backend, first.lock)]);
    const failures = [...resA.failed, ...resB.failed];
    // Each worker is contested; for each one exactly one apply wins.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const f of failures) {
      expect(f.error).toBeInstanceOf(SafetyError);
      expect(f.error.code).toBe("stale-basis");
      expect(f.error.exitCode).toBe(3);
      expect(f.error.message).toMatch(/^agent\.worker-\d changed since plan; run plan again$/);
    }
    const live = await backend.list("agent");
    for (const name of ["worker-0", "worker-1"]) {
      const agent = live.find((x) => x.name === name)!;
      expect(agent.version).toBe(2);
      const winner = agent.system!.endsWith("Variant A.") ? resA : resB;
      expect(winner.lock.agents[name]?.version).toBe(2);
    }
  });

  it("environments: a change made after the plan is detected before writing (stale-basis, no write)", async () => {
    const backend = resilient(cp);
    const first = await applyNow(await planNow(backend, fleet(1), null), backend, null);
    const changed = fleet(1);
    changed.environments[0]!.spec.description = "reviewed change";
    const plan = await planNow(backend, changed, first.lock);
    expect(plan.resources.find((r) => r.address === "environment.env-0")?.action).toBe("update");
    const envId = first.lock.environments["env-0"]!.id;
    await sdk(cp).update("environment", envId, { description: "edited in the console" });
    cp.clearRequestLog();
    const result = await applyNow(plan, backend, first.lock);
    expect(result.failed.map((f) => [f.address, f.error.code])).toEqual([["environment.env-0", "stale-basis"]]);
    expect(writesIn(cp)).toEqual([]);
    expect((await backend.get("environment", envId)).description).toBe("edited in the console");
  });

  it("a failed entry skips its dependents and keeps going elsewhere", async () => {
    const backend = resilient(cp);
    const first = await applyNow(await planNow(backend, fleet(4), null), backend, null);
    const changed = fleet(4);
    changed.agents[0]!.spec.system = "changed worker 0";
    changed.agents[3]!.spec.system = "changed worker 3";
    const plan = await planNow(backend, changed, first.lock);
    // Someone else moves worker-0 after the plan: its update conflicts, lead-0 must not be re-pinned.
    await sdk(cp).update("agent", first.lock.agents["worker-0"]!.id, { system: "out of band" }, { expectedVersion: 1 });
    const events: ApplyEvent[] = [];
    const result = await applyNow(plan, backend, first.lock, events);
    expect(result.failed.map((f) => f.address)).toEqual(["agent.worker-0"]);
    expect(result.skipped).toEqual(["agent.lead-0"]);
    expect(events.find((e) => e.type === "skipped")).toMatchObject({ address: "agent.lead-0", reason: "agent.worker-0 did not complete" });
    expect(result.lock.agents["worker-3"]?.version).toBe(2);
    expect(result.lock.agents["worker-0"]?.version).toBe(1);
  });

  it("faults: with 20% injected 500s and 429s every change is made exactly once", async () => {
    for (const [errorStatus, seed] of [[500, 7], [429, 11]] as const) {
      const server = await startLocalControlPlane({ faults: { errorRate: 0.2, errorStatus, seed } });
      try {
        const delays: number[] = [];
        const backend = resilient(server, delays);
        const f = fleet(16);
        const plan = await planNow(backend, f, null);
        const result = await applyNow(plan, backend, null);
        expect(result.failed).toEqual([]);
        const log = writesIn(server);
        expect(log.filter((e) => e.status === 200)).toHaveLength(21);
        expect(log.some((e) => e.status === errorStatus)).toBe(true);
        expect(delays.length).toBeGreaterThan(0);
        server.resetFaults();
        const agents = await sdk(server).list("agent");
        expect(new Set(agents.map((a) => a.name)).size).toBe(agents.length);
        expect(agents).toHaveLength(18);
        expect(agents.every((a) => a.version === 1)).toBe(true);
        expect((await sdk(server).list("environment")).length).toBe(3);
        const after = await planNow(sdk(server), f, result.lock);
        expect(after.resources.every((r) => r.action === "noop")).toBe(true);
      } finally {
        await server.close();
      }
    }
  });

  it("scripted 429s with retry-after are absorbed by pacing, not surfaced", async () => {
    cp.setFaults({ script: [2, 5].map((nth) => ({ on: "write" as const, nth, fault: { status: 429 as const, retryAfterSeconds: 1 } })) });
    const delays: number[] = [];
    const backend = resilient(cp, delays);
    const result = await applyNow(await planNow(backend, fleet(4), null), backend, null);
    expect(result.failed).toEqual([]);
    expect(delays).toEqual([1000, 1000]);
    expect(writesIn(cp).map((e) => e.status).filter((s) => s === 429)).toHaveLength(2);
  });

  it("refuses a plan with refusals and writes nothing", async () => {
    const backend = resilient(cp);
    await sdk(cp).create("agent", { name: "worker-0", model: "claude-sonnet-5-5" });
    const plan = await planNow(backend, fleet(1), null);
    expect(plan.refusals.length).toBeGreaterThan(0);
    cp.clearRequestLog();
    await expect(applyNow(plan, backend, null)).rejects.toMatchObject({ code: "plan-refused", exitCode: 3 });
    expect(writesIn(cp)).toEqual([]);
  });
});

describe("adopt and rename", () => {
  let cp: LocalControlPlane;
  beforeEach(async () => {
    cp = await startLocalControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  it("--adopt takes over an unmarked agent in place: marker set, recorded, no duplicate", async () => {
    const existing = await sdk(cp).create("agent", { name: "worker-0", model: "claude-sonnet-5-5", system: "You are worker 0." });
    const backend = resilient(cp);
    const plan = await planNow(backend, fleet(1), null, { adopt: true });
    const entry = plan.resources.find((r) => r.address === "agent.worker-0")!;
    expect(entry.action).toBe("adopt");
    const result = await applyNow(plan, backend, null);
    expect(result.failed).toEqual([]);
    const agents = await backend.list("agent");
    expect(agents.filter((a) => a.name === "worker-0").map((a) => a.id)).toEqual([existing.id]);
    expect(agents[0]!.metadata).toMatchObject({ "agentform.project": "support-bots" });
    expect(result.lock.agents["worker-0"]?.id).toBe(existing.id);
    const after = await planNow(backend, fleet(1), result.lock);
    expect(after.resources.every((r) => r.action === "noop")).toBe(true);
  });

  it("previous_names renames in place and moves the lockfile entry", async () => {
    const backend = resilient(cp);
    const first = await applyNow(await planNow(backend, fleet(1), null), backend, null);
    const renamed = fleet(1);
    const m = renamed.agents[0]!;
    renamed.agents[0] = { ...m, name: "worker-zero", spec: { ...m.spec, name: "worker-zero" }, settings: { ...m.settings, previous_names: ["worker-0"] } };
    const plan = await planNow(backend, renamed, first.lock);
    expect(plan.resources.find((r) => r.address === "agent.worker-zero")?.action).toBe("rename");
    const result = await applyNow(plan, backend, first.lock);
    expect(result.failed).toEqual([]);
    expect(Object.keys(result.lock.agents)).toEqual(["worker-zero"]);
    expect(result.lock.agents["worker-zero"]?.id).toBe(first.lock.agents["worker-0"]?.id);
    expect((await backend.list("agent")).map((a) => a.name)).toEqual(["worker-zero"]);
  });
});

describe("plan entries the executor refuses to send", () => {
  it("never sends an empty update or a noop with a request", async () => {
    const { plan, resource } = await import("./helpers.js");
    const cp = await startLocalControlPlane();
    try {
      const basis = { kind: "agent" as const, version: 1, liveDigest: "sha256:x" };
      const bad = plan([
        resource({ address: "agent.a", action: "update", id: "agent_a", basis, specDigest: "sha256:s", request: { method: "update", body: {}, expectedVersion: 1 } }),
        resource({ address: "agent.b", action: "update", id: "agent_b", basis, specDigest: "sha256:s", request: { method: "update", body: { version: 1 }, expectedVersion: 1 } }),
        resource({ address: "agent.c", action: "noop", id: "agent_c", basis, specDigest: "sha256:s", request: { method: "update", body: { system: "x" }, expectedVersion: 1 } }),
        resource({ address: "agent.d", action: "update", id: "agent_d", basis, specDigest: "sha256:s", request: { method: "update", body: { system: "x" } } }),
      ]);
      const result = await applyNow(bad, resilient(cp), null);
      expect(result.failed.map((f) => [f.address, f.error.code])).toEqual([
        ["agent.a", "invalid-plan-entry"],
        ["agent.b", "invalid-plan-entry"],
        ["agent.c", "invalid-plan-entry"],
        ["agent.d", "invalid-plan-entry"],
      ]);
      expect(result.writes).toBe(0);
      expect(cp.requestLog()).toEqual([]);
    } finally {
      await cp.close();
    }
  });
});

describe("a lockfile that cannot be written", () => {
  it("stops the apply soon after the save fails instead of widening the unrecorded gap", async () => {
    const { applyPlan } = await import("../../src/apply/index.js");
    const { emptyLock, writeLock } = await import("../../src/lock/io.js");
    const cp = await startLocalControlPlane();
    try {
      const backend = resilient(cp);
      const plan = await planNow(backend, fleet(6), null);
      const result = await applyPlan(plan, backend, {
        project: "support-bots",
        concurrency: 1,
        lock: emptyLock("support-bots", "default", { baseUrl: "local://test", workspaceId: null }),
        saveLock: (lock) => writeLock("/nonexistent-dir-for-agentform-test/agentform.lock.json", lock),
      });
      expect(result.failed[0]?.error.code).toBe("lockfile-unwritable");
      // A disk that cannot be written is an operational error (exit 1), not invalid input.
      expect(result.failed[0]?.error.exitCode).toBe(1);
      // Writes already in flight when the save failed may land (the next plan finds them by name
      // and marker); nothing new starts after it.
      expect(result.writes).toBeLessThanOrEqual(2);
      expect(result.skipped.length + result.failed.length).toBeGreaterThan(plan.resources.length / 2);
    } finally {
      await cp.close();
    }
  });
});

describe("a lost lockfile", () => {
  it("is rebuilt from the plan without writes, alongside the one change that is needed", async () => {
    const cp = await startLocalControlPlane();
    try {
      const backend = resilient(cp);
      const first = await applyNow(await planNow(backend, fleet(8), null), backend, null);
      const changed = fleet(8);
      changed.agents[7]!.spec.system = "changed worker 7";
      const plan = await planNow(backend, changed, null);
      expect(plan.resources.filter((r) => r.action !== "noop").map((r) => r.address)).toEqual(["agent.worker-7"]);
      cp.clearRequestLog();
      const result = await applyNow(plan, backend, null, [], 2);
      expect(result.failed).toEqual([]);
      expect(writesIn(cp)).toHaveLength(1);
      expect(Object.keys(result.lock.agents).sort()).toEqual(Object.keys(first.lock.agents).sort());
      expect(result.lock.agents["worker-7"]?.version).toBe(2);
      expect(result.lock.agents["worker-0"]).toEqual(first.lock.agents["worker-0"]);
    } finally {
      await cp.close();
    }
  });
});
