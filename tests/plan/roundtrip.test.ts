/**
 * Round trip against the local control plane over real HTTP with the real SDK: plan → apply →
 * plan again must be empty (no perpetual diffs from server-filled defaults) and must not move
 * any version; a sub-agent change must re-pin its coordinator and then settle.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlan } from "../../src/apply/index.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { manifest, planInput, PROJECT } from "./helpers.js";

let server: LocalControlPlane;
let backend: ControlPlane;

beforeAll(async () => {
  server = await startLocalControlPlane({ port: 0 });
  backend = createSdkBackend({ baseUrl: server.baseUrl, apiKey: server.apiKey });
});
afterAll(async () => {
  await server?.close();
});

async function plan(agents: LoadedManifest[], environments: LoadedManifest[], lock: Lockfile | null): Promise<Plan> {
  const [liveAgents, liveEnvironments] = await Promise.all([backend.list("agent"), backend.list("environment")]);
  return buildPlan(planInput({ agents, environments, liveAgents, liveEnvironments, lock }));
}

async function apply(p: Plan, lock: Lockfile): Promise<Lockfile> {
  const result = await applyPlan(p, backend, { project: PROJECT, lock, saveLock: async () => {} });
  expect(result.failed.map((f) => `${f.address}: ${f.error.message}`)).toEqual([]);
  return result.lock;
}

const environments = [
  manifest("environment", { name: "plain" }),
  manifest("environment", {
    name: "sandbox",
    description: "",
    config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["pypi.org", "api.example.com"], allow_package_managers: true }, packages: { pip: ["pandas"], npm: ["zod", "left-pad"] } },
    metadata: { team: "data" },
  }),
];

const researcher = (system: string) =>
  manifest("agent", {
    name: "researcher",
    model: "claude-sonnet-5-5",
    system,
    tools: [
      { type: "agent_toolset_20260401", default_config: { permission_policy: { type: "always_ask" } }, configs: [{ name: "bash", enabled: false }, { name: "web_fetch", allowed_domains: ["docs.example.com"], url_sources: { user_input: "all" } }] },
      { type: "mcp_toolset", mcp_server_name: "github", configs: [{ name: "delete_repo", enabled: false }] },
      { type: "custom", name: "lookup", description: "Look up", input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } },
    ],
    mcp_servers: [{ type: "url", name: "github", url: "https://mcp.github.example/sse" }],
    skills: [{ type: "anthropic", skill_id: "pdf" }],
  });

const lead = manifest("agent", {
  name: "lead",
  model: { id: "claude-opus-5-5", effort: "high" },
  description: "",
  multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: [{ type: "agent", ref: "researcher" }] }, workflows: { type: "disabled" } },
  metadata: { owner: "platform" },
});

describe("plan ↔ local control plane round trip", () => {
  it("apply then plan is empty and no version moves; a sub-agent change re-pins its coordinator", async () => {
    let lock = emptyLock(PROJECT, "default", { baseUrl: server.baseUrl, workspaceId: null });
    const first = await plan([lead, researcher("Research.")], environments, null);
    expect(first.refusals).toEqual([]);
    expect(first.resources.map((r) => `${r.action} ${r.address}`)).toEqual([
      "create environment.plain",
      "create environment.sandbox",
      "create agent.researcher",
      "create agent.lead",
    ]);
    lock = await apply(first, lock);

    const second = await plan([lead, researcher("Research.")], environments, lock);
    expect(second.resources.map((r) => [r.address, r.action, r.changes])).toEqual(second.resources.map((r) => [r.address, "noop", []]));
    expect(second.driftDetected).toBe(false);
    const versions = Object.fromEntries((await backend.list("agent")).map((a) => [a.name, a.version]));
    expect(versions).toEqual({ lead: lock.agents.lead?.version, researcher: lock.agents.researcher?.version });

    // The sub-agent changes: the coordinator follows it.
    const third = await plan([lead, researcher("Research carefully.")], environments, lock);
    expect(third.resources.filter((r) => r.action !== "noop").map((r) => `${r.action} ${r.address}`)).toEqual(["update agent.researcher", "repin agent.lead"]);
    lock = await apply(third, lock);
    const leadLive = (await backend.list("agent")).find((a) => a.name === "lead");
    const researcherLive = (await backend.list("agent")).find((a) => a.name === "researcher");
    const roster = (leadLive?.multiagent as { subagents: { predefined_agents: Array<{ id: string; version: number }> } }).subagents.predefined_agents;
    expect(roster).toEqual([{ type: "agent", id: researcherLive?.id, version: researcherLive?.version }]);

    const fourth = await plan([lead, researcher("Research carefully.")], environments, lock);
    expect(fourth.resources.every((r) => r.action === "noop")).toBe(true);
  });
});
