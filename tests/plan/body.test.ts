/** buildUpdateBody: the API's update semantics (agents, rosters, environments) with plain data. */
import { describe, expect, it } from "vitest";
import { buildUpdateBody, explainDrift, buildPlan } from "../../src/plan/index.js";
import type { FieldChange } from "../../src/plan/types.js";
import { liveAgent, liveEnvironment, lockfile, manifest, MARKER, planInput } from "./helpers.js";

const change = (pointer: string): FieldChange => ({ pointer, op: "replace", before: 1, after: 2 });

describe("buildUpdateBody", () => {
  it("metadata is a patch: changed and added keys set, removed keys null, marker kept", () => {
    const live = liveAgent({ name: "a", metadata: { ...MARKER, keep: "same", old: "x", team: "a" } });
    const body = buildUpdateBody("agent", { name: "a", metadata: { keep: "same", team: "b", added: "y" } }, live, [change("/metadata/team")], "support-bots");
    expect(body).toEqual({ metadata: { team: "b", added: "y", old: null } });
    expect(body.metadata).not.toHaveProperty("agentform.project");
  });
  it("sets the marker when live lacks it (adoption), even with no other change", () => {
    const live = liveAgent({ name: "a", metadata: {} });
    expect(buildUpdateBody("agent", { name: "a" }, live, [], "support-bots")).toEqual({ metadata: { "agentform.project": "support-bots" } });
  });
  it("sends only changed top-level fields, with whole arrays for tools, mcp_servers and skills", () => {
    const tools = [{ type: "agent_toolset_20260401" }, { type: "mcp_toolset", mcp_server_name: "gh" }];
    const desired = { name: "a", description: "d", tools, mcp_servers: [{ type: "url", name: "gh", url: "u" }], skills: [] };
    const body = buildUpdateBody("agent", desired, liveAgent({ name: "a" }), [change("/tools/mcp_toolset/gh"), change("/mcp_servers/gh")], "support-bots");
    expect(body).toEqual({ tools, mcp_servers: [{ type: "url", name: "gh", url: "u" }] });
  });
  it("clears a removed list with [] and a removed description with null", () => {
    const body = buildUpdateBody("agent", { name: "a" }, liveAgent({ name: "a" }), [change("/skills/anthropic:pdf"), change("/description")], "support-bots");
    expect(body).toEqual({ skills: [], description: null });
  });
  it("spells multiagent_20261001 out completely", () => {
    const body = buildUpdateBody("agent", { multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: [{ type: "agent", id: "agent_x", version: 2 }] } } }, liveAgent({ name: "a" }), [change("/multiagent/subagents")], "support-bots");
    expect(body.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [{ type: "agent", id: "agent_x", version: 2 }] },
      workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
    });
  });
  it("sends model as a whole object, with effort only when the manifest sets it", () => {
    expect(buildUpdateBody("agent", { model: "claude-opus-5-5" }, liveAgent({ name: "a" }), [change("/model/id")], "support-bots")).toEqual({ model: { id: "claude-opus-5-5" } });
    expect(buildUpdateBody("agent", { model: { id: "m", effort: "low", speed: "fast" } }, liveAgent({ name: "a" }), [change("/model/effort/type")], "support-bots")).toEqual({
      model: { id: "m", effort: { type: "low" }, speed: "fast" },
    });
  });
  it("sends a complete environment config", () => {
    const body = buildUpdateBody("environment", { config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["a"] } } }, liveEnvironment({ name: "e" }), [change("/config/networking/type")], "support-bots");
    expect(body).toEqual({
      config: {
        type: "cloud",
        networking: { type: "limited", allowed_hosts: ["a"], allow_mcp_servers: false, allow_package_managers: false },
        packages: { apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] },
      },
    });
  });
});

describe("plan invariants", () => {
  it("never plans an update with an empty diff", () => {
    const plan = buildPlan(planInput({ agents: [manifest("agent", { name: "a", model: "claude-sonnet-5-5" })], liveAgents: [liveAgent({ name: "a" })] }));
    expect(plan.resources[0]?.action).toBe("noop");
    expect(plan.resources[0]?.request).toBeNull();
  });
  it("orders environments first, then agents by dependency with ties by name", () => {
    const plan = buildPlan(
      planInput({
        agents: [
          manifest("agent", { name: "a-coord", model: "m", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "z-sub" }] } }),
          manifest("agent", { name: "z-sub", model: "m" }),
          manifest("agent", { name: "b-solo", model: "m" }),
        ],
        environments: [manifest("environment", { name: "zz" })],
      }),
    );
    expect(plan.resources.map((r) => r.address)).toEqual(["environment.zz", "agent.b-solo", "agent.z-sub", "agent.a-coord"]);
  });
  it("plans a reference cycle without looping: members follow in name order", () => {
    const ref = (to: string) => ({ type: "coordinator", agents: [{ type: "agent", ref: to }] });
    const plan = buildPlan(planInput({ agents: [manifest("agent", { name: "b", model: "m", multiagent: ref("a") }), manifest("agent", { name: "a", model: "m", multiagent: ref("b") })] }));
    expect(plan.resources.map((r) => r.address)).toEqual(["agent.a", "agent.b"]);
  });
  it("without pruning a resource whose manifest is gone is an orphan, not written; --allow-empty lifts the prune-everything refusal", () => {
    const live = liveAgent({ id: "agent_1", name: "gone" });
    const lock = lockfile({ agents: { gone: { id: "agent_1", version: 1, specDigest: "sha256:" + "0".repeat(64), liveDigest: "sha256:" + "0".repeat(64) } } });
    const plain = buildPlan(planInput({ liveAgents: [live], lock }));
    expect(plain.resources.map((r) => [r.address, r.action, r.request, r.orphan])).toEqual([["agent.gone", "orphan", null, { why: "prune-off" }]]);
    expect(plain.summary).toMatchObject({ orphan: 1, archive: 0 });
    expect(plain.refusals).toEqual([]);
    const allowed = buildPlan(planInput({ liveAgents: [live], lock, options: { prune: true, allowEmpty: true } }));
    expect(allowed.refusals).toEqual([]);
    expect(allowed.summary.archive).toBe(1);
  });
});

describe("explainDrift", () => {
  it("fills drift.changes for drifted agents from the locked version vs live, without mutating the plan", () => {
    const locked = liveAgent({ id: "agent_t", name: "t", version: 3, system: "old" });
    const live = liveAgent({ id: "agent_t", name: "t", version: 4, system: "new" });
    const plan = buildPlan(
      planInput({
        // The manifest moved on too, so live differs from both: drift on an update.
        agents: [manifest("agent", { name: "t", model: "claude-sonnet-5-5", system: "newest" })],
        liveAgents: [live],
        lock: lockfile({ agents: { t: { id: "agent_t", version: 3, specDigest: "sha256:" + "0".repeat(64), liveDigest: "sha256:" + "0".repeat(64) } } }),
      }),
    );
    const before = JSON.stringify(plan);
    const explained = explainDrift(plan, { t: locked }, [live]);
    expect(JSON.stringify(plan)).toBe(before);
    expect(explained.resources[0]?.drift?.changes).toEqual([{ pointer: "/system", op: "replace", before: "old", after: "new" }]);
  });
});
