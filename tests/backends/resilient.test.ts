import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackendError } from "../../src/backends/errors.js";
import { withResilience, type ResilienceOptions, type RetryInfo } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";

const MODEL = "claude-sonnet-5-5";
const MARK = { "agentform.project": "support-bots" };

describe("withResilience over the sdk backend and the local control plane", () => {
  let cp: LocalControlPlane;
  let delays: number[];
  let retries: RetryInfo[];
  let counter = 0;

  function make(extra: Partial<ResilienceOptions> = {}): ControlPlane {
    // A fake clock that moves only when the policy sleeps.
    let now = 0;
    return withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), {
      project: "support-bots",
      now: () => now,
      sleep: async (ms) => {
        delays.push(ms);
        now += ms;
      },
      random: () => 0,
      onRetry: (info) => retries.push(info),
      ...extra,
    });
  }
  const unique = (base: string) => `${base}-${++counter}`;
  const writes = () => cp.requestLog().filter((e) => e.write);

  beforeAll(async () => {
    cp = await startLocalControlPlane();
  });
  afterAll(async () => {
    await cp.close();
  });
  beforeEach(() => {
    cp.resetFaults();
    cp.clearRequestLog();
    delays = [];
    retries = [];
  });

  it("checks beforeWrite (the run-lock fence) before every write attempt, also after a back-off, and never for reads", async () => {
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 1 } }] });
    let checks = 0;
    const lost = new Error("run lock lost");
    const backend = make({
      beforeWrite: async () => {
        // The lock is lost while the first attempt backs off.
        if (++checks > 1) throw lost;
      },
    });
    await backend.list("agent");
    expect(checks).toBe(0);
    await expect(backend.create("agent", { name: unique("fenced"), model: MODEL, metadata: MARK })).rejects.toBe(lost);
    expect(checks).toBe(2);
    expect(delays).toEqual([1000]);
    // Only the refused first attempt reached the server.
    expect(writes().map((e) => e.status)).toEqual([429]);
  });

  it("honours Retry-After on 429s, capped at maxRetryAfterMs", async () => {
    cp.setFaults({
      script: [
        { on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 2 } },
        { on: "write", nth: 2, fault: { status: 429, retryAfterSeconds: 120 } },
      ],
    });
    const created = await make().create("agent", { name: unique("retry-after"), model: MODEL, metadata: MARK });
    expect(created.version).toBe(1);
    expect(delays).toEqual([2000, 30_000]);
    expect(writes().map((e) => e.status)).toEqual([429, 429, 200]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([[1, 2000], [2, 30_000]]);
    expect(retries[0]!.reason).toMatch(/429/);
  });

  it("backs off exponentially with jitter on 5xx", async () => {
    cp.setFaults({ script: [1, 2, 3].map((nth) => ({ on: "read" as const, nth, fault: { status: 503 as const } })) });
    const resilient = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), {
      project: "support-bots",
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 1,
    });
    await resilient.list("agent");
    // random() = 1 gives the full ceiling: 0.5 s, 1 s, 2 s.
    expect(delays).toEqual([500, 1000, 2000]);
    await make().list("environment");
  });

  it("gives up after maxAttempts and surfaces the last error", async () => {
    cp.setFaults({ errorRate: 1, errorStatus: 500 });
    const err = (await make({ maxAttempts: 3 }).get("agent", "agent_x").catch((e: unknown) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.status).toBe(500);
    expect(cp.requestLog()).toHaveLength(3);
  });

  it("does not retry a 4xx", async () => {
    const err = (await make().get("agent", "agent_missing").catch((e: unknown) => e)) as BackendError;
    expect(err.status).toBe(404);
    expect(cp.requestLog()).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("SAFE CREATE: a create whose response was lost after commit is found by name and marker, not repeated", async () => {
    const name = unique("dropped");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const backend = make();
    const created = await backend.create("agent", { name, model: MODEL, metadata: MARK });
    expect(writes()).toHaveLength(1);
    const same = (await backend.list("agent")).filter((a) => a.name === name);
    expect(same).toHaveLength(1);
    expect(same[0]!.id).toBe(created.id);
  });

  it("SAFE CREATE: a create lost before commit is created exactly once", async () => {
    const name = unique("lost");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] });
    const backend = make();
    await backend.create("environment", { name, config: { type: "cloud" }, metadata: MARK });
    expect(writes().map((e) => e.status)).toEqual([null, 200]);
    expect((await backend.list("environment")).filter((e) => e.name === name)).toHaveLength(1);
  });

  it("SAFE CREATE: a same-name resource without our marker is not mistaken for ours", async () => {
    const name = unique("foreign");
    const raw = createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey });
    await raw.create("agent", { name, model: MODEL, metadata: { "agentform.project": "someone-else" } });
    cp.clearRequestLog();
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] });
    const created = await make().create("agent", { name, model: MODEL, metadata: MARK });
    expect(created.metadata).toEqual(MARK);
    expect(writes()).toHaveLength(2);
  });

  it("an agent update whose response was lost after commit is recognised; no second version", async () => {
    const backend = make();
    const agent = await backend.create("agent", { name: unique("upd"), model: MODEL, metadata: MARK });
    cp.clearRequestLog();
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const updated = await backend.update("agent", agent.id, { system: "new prompt", metadata: { team: "a" } }, { expectedVersion: 1 });
    expect(updated.version).toBe(2);
    expect(updated.system).toBe("new prompt");
    expect(writes()).toHaveLength(1);
    expect((await backend.listVersions("agent", agent.id)).map((v) => v.version)).toEqual([1, 2]);
  });

  it("recognises a lost agent update that sets a metadata value to \"\" (stored on agents, not deleted)", async () => {
    const backend = make();
    const agent = await backend.create("agent", { name: unique("upd-empty"), model: MODEL, metadata: { ...MARK, note: "x" } });
    cp.clearRequestLog();
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const updated = await backend.update("agent", agent.id, { metadata: { note: "" } }, { expectedVersion: 1 });
    expect(updated.version).toBe(2);
    expect(updated.metadata).toMatchObject({ note: "" });
    expect(writes()).toHaveLength(1);
  });

  it("recognises a lost update of fields the server resolves (tools, model), not only scalars", async () => {
    const backend = make();
    const agent = await backend.create("agent", {
      name: unique("upd-tools"),
      model: MODEL,
      tools: [{ type: "agent_toolset_20260401", configs: [{ name: "write", enabled: false }] }],
      metadata: MARK,
    });
    cp.clearRequestLog();
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    // The server answers with default_config filled in and `type` on every config entry, so a
    // raw comparison of body and response would call this "not landed" and resend into a 409.
    const tools = [{ type: "agent_toolset_20260401", configs: [{ name: "write", enabled: true, permission_policy: { type: "always_ask" } }] }];
    const updated = await backend.update("agent", agent.id, { tools, model: { id: MODEL, speed: "standard" } }, { expectedVersion: 1 });
    expect(updated.version).toBe(2);
    expect(writes()).toHaveLength(1);
    expect((await backend.listVersions("agent", agent.id)).map((v) => v.version)).toEqual([1, 2]);
  });

  it("recognises a lost update of a coordinator whose roster includes self", async () => {
    const backend = make();
    const leaf = await backend.create("agent", { name: unique("leaf"), model: MODEL, metadata: MARK });
    const lead = await backend.create("agent", {
      name: unique("lead-self"),
      model: MODEL,
      multiagent: { type: "coordinator", agents: [{ type: "self" }, { type: "agent", id: leaf.id }] },
      metadata: MARK,
    });
    const lead2 = await backend.create("agent", {
      name: unique("lead-self-2"),
      model: MODEL,
      multiagent: {
        type: "multiagent_20261001",
        subagents: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [{ type: "self" }, { type: "agent", id: leaf.id }] },
      },
      metadata: MARK,
    });
    for (const agent of [lead, lead2]) {
      cp.clearRequestLog();
      cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
      const updated = await backend.update("agent", agent.id, { system: "new prompt" }, { expectedVersion: 1 });
      expect(updated.version).toBe(2);
      expect(writes()).toHaveLength(1);
    }
  });

  it("does not mistake someone else's different change for our lost update", async () => {
    const other = createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey });
    let theirsDone = false;
    // Another client moves the agent to v2 while we back off after our lost write.
    const backend = make({
      sleep: async () => {
        if (theirsDone) return;
        theirsDone = true;
        await other.update("agent", agent.id, { system: "theirs" }, { expectedVersion: 1 });
      },
    });
    const agent = await backend.create("agent", { name: unique("upd-other"), model: MODEL, metadata: MARK });
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] });
    const err = (await backend.update("agent", agent.id, { system: "ours" }, { expectedVersion: 1 }).catch((e: unknown) => e)) as BackendError;
    expect(theirsDone).toBe(true);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.isConflict).toBe(true);
    expect((await backend.get("agent", agent.id)).system).toBe("theirs");
    expect((await backend.listVersions("agent", agent.id)).map((v) => v.version)).toEqual([1, 2]);
  });

  it("an agent update lost before commit is resent under the same version lock", async () => {
    const backend = make();
    const agent = await backend.create("agent", { name: unique("upd-lost"), model: MODEL, metadata: MARK });
    cp.clearRequestLog();
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] });
    const updated = await backend.update("agent", agent.id, { system: "x" }, { expectedVersion: 1 });
    expect(updated.version).toBe(2);
    expect(writes().map((e) => e.status)).toEqual([null, 200]);
  });

  it("a version conflict is surfaced at once, never retried", async () => {
    const backend = make();
    const agent = await backend.create("agent", { name: unique("conflict"), model: MODEL, metadata: MARK });
    await backend.update("agent", agent.id, { system: "a" }, { expectedVersion: 1 });
    cp.clearRequestLog();
    const err = (await backend.update("agent", agent.id, { system: "b" }, { expectedVersion: 1 }).catch((e: unknown) => e)) as BackendError;
    expect(err.isConflict).toBe(true);
    expect(writes()).toHaveLength(1);
  });

  it("archive and delete survive a lost response", async () => {
    const backend = make();
    const env = await backend.create("environment", { name: unique("gone"), config: { type: "cloud" }, metadata: MARK });
    const env2 = await backend.create("environment", { name: unique("archived"), config: { type: "cloud" }, metadata: MARK });
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }, { on: "write", nth: 3, fault: { dropAfterCommit: true } }] });
    await backend.delete("environment", env.id);
    const archived = await backend.archive("environment", env2.id);
    expect(archived.archived_at).not.toBeNull();
  });

  it("keeps at most 5 environment calls in flight (the server refuses the 6th)", async () => {
    cp.setFaults({ latencyMs: 30, environmentConcurrency: 5 });
    const backend = make();
    const env = await backend.create("environment", { name: unique("conc"), config: { type: "cloud" }, metadata: MARK });
    cp.clearRequestLog();
    await Promise.all(Array.from({ length: 15 }, () => backend.get("environment", env.id)));
    expect(cp.requestLog().map((e) => e.status)).toEqual(Array(15).fill(200));

    // The same burst with a looser limit trips the server's cap (so the check above can fail).
    cp.clearRequestLog();
    const loose = make({ environmentConcurrency: 15 });
    await Promise.allSettled(Array.from({ length: 15 }, () => loose.get("environment", env.id)));
    expect(cp.requestLog().some((e) => e.status === 429)).toBe(true);
  });
});
