/**
 * The pure parts of the local control plane, tested with plain data: agent and environment
 * resolution rules that are awkward to reach through HTTP, and the fault engine with a fake clock.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/local/api-error.js";
import { resolveAgentCreate, resolveAgentUpdate, type RosterContext } from "../../src/local/agent-config.js";
import { resolveEnvironmentCreate, resolveEnvironmentUpdate } from "../../src/local/environment-config.js";
import { FaultEngine, parseFaults } from "../../src/local/faults.js";

const ctx: RosterContext = { selfId: "agent_self", selfVersion: 1, lookup: () => undefined };

function rejection(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

const base = { name: "a", model: "claude-opus-4-8" };
const webFetch = (cfg: Record<string, unknown>) => ({ ...base, tools: [{ type: "agent_toolset_20260401", configs: [{ name: "web_fetch", ...cfg }] }] });

describe("agent resolution rules", () => {
  it("web_fetch: rejects all-none url_sources, empty or combined domain lists, and unknown client tool names", () => {
    expect(rejection(() => resolveAgentCreate(webFetch({ url_sources: { user_input: "none", client_tool_results: "none", server_tool_results: "none" } }), ctx)).message).toContain("none");
    expect(rejection(() => resolveAgentCreate(webFetch({ allowed_domains: [] }), ctx)).message).toContain("empty");
    expect(rejection(() => resolveAgentCreate(webFetch({ allowed_domains: ["a.com"], blocked_domains: ["b.com"] }), ctx)).message).toContain("combined");
    const only = (name: string) => webFetch({ url_sources: { client_tool_results: { type: "only", tools: [{ type: "tool_reference", name }] } } });
    expect(rejection(() => resolveAgentCreate(only("lookup"), ctx)).status).toBe(400);
    const withTool = only("lookup");
    withTool.tools.push({ type: "custom", name: "lookup", description: "d", input_schema: { type: "object" } } as never);
    const resolved = resolveAgentCreate(withTool, ctx);
    expect((resolved.tools[0]?.configs as Array<Record<string, unknown>>)[0]?.url_sources).toEqual({
      user_input: null,
      client_tool_results: { type: "only", tools: [{ type: "tool_reference", name: "lookup" }] },
      server_tool_results: null,
    });
  });

  it("rejects unknown keys, a config type that differs from its name, and bad custom tool names", () => {
    expect(rejection(() => resolveAgentCreate({ ...base, id: "agent_x" }, ctx)).message).toContain("body.id");
    expect(rejection(() => resolveAgentCreate({ ...base, tools: [{ type: "agent_toolset_20260401", configs: [{ name: "bash", type: "read" }] }] }, ctx)).message).toContain("bash");
    expect(rejection(() => resolveAgentCreate({ ...base, tools: [{ type: "custom", name: "has space", description: "d", input_schema: { type: "object" } }] }, ctx)).status).toBe(400);
    expect(rejection(() => resolveAgentCreate({ ...base, tools: [{ type: "custom", name: "t", description: "d", input_schema: { type: "array" } }] }, ctx)).status).toBe(400);
  });

  it("update: name and model cannot be cleared; omitted fields are kept exactly", () => {
    const stored = resolveAgentCreate({ ...base, system: "s", metadata: { k: "v" } }, ctx);
    expect(rejection(() => resolveAgentUpdate(stored, { name: "" }, ctx)).status).toBe(400);
    expect(rejection(() => resolveAgentUpdate(stored, { model: null }, ctx)).status).toBe(400);
    expect(resolveAgentUpdate(stored, {}, ctx)).toEqual(stored);
  });

  it("multiagent_20261001 sent over a coordinator replaces it, missing keys taking defaults", () => {
    const leafCtx: RosterContext = { ...ctx, lookup: (id) => (id === "agent_leaf" ? { latestVersion: 4, archived: false, hasMultiagent: false } : undefined) };
    const stored = resolveAgentCreate({ ...base, multiagent: { type: "coordinator", agents: ["agent_leaf"] } }, leafCtx);
    expect(stored.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", id: "agent_leaf", version: 4 }] });
    const next = resolveAgentUpdate(stored, { multiagent: { type: "multiagent_20261001", subagents: { type: "disabled" } } }, leafCtx);
    expect(next.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: { type: "disabled" },
      workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
    });
  });
});

describe("environment resolution rules", () => {
  it("switching limited → unrestricted drops the limited fields; back again starts from defaults", () => {
    const stored = resolveEnvironmentCreate({ name: "e", config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["h"], allow_mcp_servers: true } } });
    const open = resolveEnvironmentUpdate(stored, { config: { type: "cloud", networking: { type: "unrestricted" } } });
    expect(open.config.networking).toEqual({ type: "unrestricted" });
    const back = resolveEnvironmentUpdate(open, { config: { type: "cloud", networking: { type: "limited" } } });
    expect(back.config.networking).toEqual({ type: "limited", allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false });
  });

  it("packages merge per manager; scope null clears; self_hosted has no networking", () => {
    const stored = resolveEnvironmentCreate({ name: "e", scope: "organization", config: { type: "cloud", packages: { pip: ["a"], npm: ["b"] } } });
    const next = resolveEnvironmentUpdate(stored, { scope: null, config: { type: "cloud", packages: { pip: ["c"] } } });
    expect(next.config.packages).toMatchObject({ pip: ["c"], npm: ["b"], apt: [] });
    expect("scope" in next).toBe(false);
    expect(resolveEnvironmentCreate({ name: "s", config: { type: "self_hosted" } }).config).toEqual({ type: "self_hosted" });
    expect(rejection(() => resolveEnvironmentCreate({ name: "s", config: { type: "self_hosted", networking: { type: "unrestricted" } } })).status).toBe(400);
  });
});

describe("fault engine", () => {
  it("a sliding per-minute window frees a slot 60 s after the oldest request, with retry-after counting down", () => {
    let now = 1_000_000;
    const engine = new FaultEngine(() => now);
    engine.set({ writesPerMinute: 2 });
    expect(engine.decide(true).kind).toBe("none");
    now += 20_000;
    expect(engine.decide(true).kind).toBe("none");
    now += 10_000;
    expect(engine.decide(true)).toMatchObject({ kind: "error", status: 429, retryAfterSeconds: 30 });
    expect(engine.decide(false).kind).toBe("none");
    now += 30_000;
    expect(engine.decide(true).kind).toBe("none");
    expect(engine.decide(true)).toMatchObject({ status: 429, retryAfterSeconds: 20 });
  });

  it("script counters count per kind and restart when faults are set again", () => {
    const engine = new FaultEngine();
    engine.set({ script: [{ on: "read", nth: 2, fault: { status: 503 } }] });
    expect(engine.decide(false).kind).toBe("none");
    expect(engine.decide(true).kind).toBe("none");
    expect(engine.decide(false)).toMatchObject({ kind: "error", status: 503 });
    expect(engine.decide(false).kind).toBe("none");
    engine.set({});
    expect(engine.decide(false).kind).toBe("none");
    expect(engine.decide(false)).toMatchObject({ status: 503 });
  });

  it("parseFaults names the bad field", () => {
    expect(() => parseFaults({ errorStatus: 404 })).toThrow(/errorStatus/);
    expect(() => parseFaults({ latency: 5 })).toThrow(/latency/);
    expect(() => parseFaults({ script: [{ on: "write", nth: 0, fault: { status: 500 } }] })).toThrow(/nth/);
    expect(parseFaults({ writesPerMinute: null, seed: 7 })).toEqual({ writesPerMinute: null, seed: 7 });
  });
});
