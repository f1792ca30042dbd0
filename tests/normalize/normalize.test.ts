/** One test per normalization rule (docs/normalization.md), with plain data. */
import { describe, expect, it } from "vitest";
import { canonicalDesired, canonicalJson, canonicalLive, digest, liveDigest, specDigest } from "../../src/normalize/index.js";
import { diffCanonical } from "../../src/plan/diff.js";
import { expandedToolset, liveAgent, liveEnvironment, manifest } from "../plan/helpers.js";

function agentDiff(spec: Record<string, unknown>, live: Record<string, unknown>) {
  const desired = canonicalDesired("agent", { name: "a", model: "claude-sonnet-5-5", ...spec });
  return diffCanonical(canonicalLive("agent", liveAgent({ name: "a", ...live }), desired), desired);
}

function envDiff(spec: Record<string, unknown>, live: Record<string, unknown>) {
  const desired = canonicalDesired("environment", { name: "e", ...spec });
  return diffCanonical(canonicalLive("environment", liveEnvironment({ name: "e", ...live }), desired), desired);
}

describe("canonicalJson and digests", () => {
  it("sorts keys at every level, drops undefined members and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined, b: null } })).toBe('{"a":{"b":null,"d":[2,1]},"b":1}');
  });
  it("digest is sha256 of the canonical JSON, independent of key order", () => {
    expect(digest({ a: 1, b: 2 })).toBe(digest({ b: 2, a: 1 }));
    expect(digest({})).toBe("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  });
  it("liveDigest ignores id, timestamps and version", () => {
    const a = liveAgent({ name: "x", id: "agent_1", version: 1, updated_at: "2026-01-01T00:00:00Z" });
    const b = liveAgent({ name: "x", id: "agent_2", version: 9, updated_at: "2026-02-02T00:00:00Z" });
    expect(liveDigest("agent", a)).toBe(liveDigest("agent", b));
    expect(liveDigest("agent", liveAgent({ name: "x", description: "d" }))).not.toBe(liveDigest("agent", a));
  });
  it("specDigest keeps references by name and ignores the agentform settings", () => {
    const spec = { name: "lead", model: "m", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "r" }] } };
    const d1 = specDigest(manifest("agent", spec));
    expect(d1).toBe(specDigest(manifest("agent", spec, { adopt: true, previous_names: ["x"] })));
    expect(d1).not.toBe(specDigest(manifest("agent", { ...spec, multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "s" }] } })));
  });
});

describe("agent rules", () => {
  it("strips read-only fields", () => {
    const c = canonicalLive("agent", liveAgent({ name: "a" }));
    for (const k of ["id", "type", "version", "created_at", "updated_at", "archived_at"]) expect(c).not.toHaveProperty(k);
  });
  it("model string ≡ {id}; speed defaults to standard; effort not diffed when the manifest leaves it out", () => {
    expect(agentDiff({ model: "claude-sonnet-5-5" }, { model: { id: "claude-sonnet-5-5", effort: { type: "xhigh" }, speed: "standard" } })).toEqual([]);
  });
  it("effort string ≡ {type}, and is diffed when the manifest sets it", () => {
    expect(agentDiff({ model: { id: "claude-sonnet-5-5", effort: "high" } }, {})).toEqual([]);
    expect(agentDiff({ model: { id: "claude-sonnet-5-5", effort: "low" } }, {})).toEqual([
      { pointer: "/model/effort/type", op: "replace", before: "high", after: "low" },
    ]);
  });
  it("speed fast vs server default standard is a change; removing inference_geo is a change", () => {
    expect(agentDiff({ model: { id: "claude-sonnet-5-5", speed: "fast" } }, {}).map((c) => c.pointer)).toEqual(["/model/speed"]);
    const live = { model: { id: "claude-sonnet-5-5", effort: { type: "high" }, speed: "standard", inference_geo: "eu" } };
    expect(agentDiff({}, live)).toEqual([{ pointer: "/model/inference_geo", op: "remove", before: "eu" }]);
  });
  it('description/system: "" ≡ null ≡ absent; a removed description is a change to null', () => {
    expect(agentDiff({ description: "", system: "" }, { description: null, system: null })).toEqual([]);
    expect(agentDiff({}, { description: "x" })).toEqual([{ pointer: "/description", op: "replace", before: "x", after: null }]);
  });
  it("metadata absent ≡ {}; the ownership marker is never diffed", () => {
    expect(agentDiff({}, { metadata: { "agentform.project": "other" } })).toEqual([]);
    expect(agentDiff({}, { metadata: { team: "a" } })).toEqual([{ pointer: "/metadata/team", op: "remove", before: "a" }]);
  });
  it("execution_identity absent/null ≡ service_account", () => {
    expect(agentDiff({ execution_identity: null }, {})).toEqual([]);
    expect(agentDiff({}, {})).toEqual([]);
  });
  it("agent toolset: effective per-tool state, configs over default_config over server default", () => {
    const spec = { tools: [{ type: "agent_toolset_20260401", default_config: { enabled: false }, configs: [{ name: "read", enabled: true }] }] };
    const live = {
      tools: [expandedToolset("always_allow", { bash: { enabled: false }, edit: { enabled: false }, write: { enabled: false }, glob: { enabled: false }, grep: { enabled: false }, web_fetch: { enabled: false, url_sources: null }, web_search: { enabled: false } })],
    };
    // live default_config says enabled; but every tool's effective state matches.
    expect(agentDiff(spec, live)).toEqual([]);
    const c = canonicalDesired("agent", { name: "a", model: "m", ...spec }) as { tools: Record<string, Record<string, Record<string, unknown>>> };
    expect(c.tools.agent_toolset_20260401?.read).toMatchObject({ enabled: true, permission_policy: "always_allow" });
    expect(c.tools.agent_toolset_20260401?.bash).toMatchObject({ enabled: false });
  });
  it("web_fetch url_sources: shorthands ≡ objects, null keys ≡ all; domain lists are sets", () => {
    const spec = { tools: [{ type: "agent_toolset_20260401", configs: [{ name: "web_fetch", url_sources: { user_input: "none" }, allowed_domains: ["b.com", "a.com"] }] }] };
    const live = { tools: [expandedToolset("always_allow", { web_fetch: { url_sources: { user_input: { type: "none" }, client_tool_results: null, server_tool_results: { type: "all" } }, allowed_domains: ["a.com", "b.com"] } })] };
    expect(agentDiff(spec, live)).toEqual([]);
  });
  it("web_fetch url_sources only/except tool lists compare as sets", () => {
    const filter = (names: string[]) => ({ type: "only", tools: names.map((name) => ({ type: "tool_reference", name })) });
    const spec = { tools: [{ type: "agent_toolset_20260401", configs: [{ name: "web_fetch", url_sources: { server_tool_results: filter(["web_search", "web_fetch"]) } }] }] };
    const live = { tools: [expandedToolset("always_allow", { web_fetch: { url_sources: { user_input: null, client_tool_results: null, server_tool_results: filter(["web_fetch", "web_search"]) } } })] };
    expect(agentDiff(spec, live)).toEqual([]);
  });
  it("MCP toolsets default to always_ask and are keyed by server name", () => {
    const spec = { tools: [{ type: "mcp_toolset", mcp_server_name: "gh" }] };
    const live = { tools: [{ type: "mcp_toolset", mcp_server_name: "gh", default_config: { enabled: true, permission_policy: { type: "always_ask" } }, configs: [{ name: "list", enabled: true, permission_policy: { type: "always_ask" } }] }] };
    // A per-tool entry equal to the default changes nothing.
    expect(agentDiff(spec, live)).toEqual([]);
    expect(agentDiff({ tools: [{ type: "mcp_toolset", mcp_server_name: "gh", configs: [{ name: "list", enabled: false }] }] }, live)).toEqual([
      { pointer: "/tools/mcp_toolset/gh/tools/list", op: "add", after: { enabled: false, permission_policy: "always_ask" } },
    ]);
  });
  it("custom tools by name; input_schema semantically (absent ≡ null, required as a set)", () => {
    const t = (schema: Record<string, unknown>) => ({ tools: [{ type: "custom", name: "t", description: "d", input_schema: schema }] });
    expect(agentDiff(t({ type: "object" }), t({ type: "object", properties: null, required: null }))).toEqual([]);
    expect(agentDiff(t({ type: "object", properties: { a: {} }, required: ["b", "a"] }), t({ type: "object", properties: { a: {} }, required: ["a", "b"] }))).toEqual([]);
  });
  it("mcp_servers keyed by name, skills by (type, skill_id); skill version not diffed when the manifest leaves it out", () => {
    const spec = { mcp_servers: [{ type: "url", name: "b", url: "u2" }, { type: "url", name: "a", url: "u1" }], skills: [{ type: "anthropic", skill_id: "pdf" }] };
    const live = { mcp_servers: [{ name: "a", type: "url", url: "u1" }, { name: "b", type: "url", url: "u2" }], skills: [{ type: "anthropic", skill_id: "pdf", version: "20260101" }] };
    expect(agentDiff(spec, live)).toEqual([]);
    expect(agentDiff({ ...spec, skills: [{ type: "anthropic", skill_id: "pdf", version: "20260202" }] }, live).map((c) => c.pointer)).toEqual(["/skills/anthropic:pdf/version"]);
  });
  it("multiagent_20261001 defaults are filled; an unversioned id entry's version is not diffed", () => {
    const spec = { multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: ["agent_x"] } } };
    const live = {
      multiagent: {
        type: "multiagent_20261001",
        advisor: { type: "disabled" },
        subagents: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [{ type: "agent", id: "agent_x", version: 7 }] },
        workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
      },
    };
    expect(agentDiff(spec, live)).toEqual([]);
  });
  it("coordinator rosters are sets; self ≡ the agent's own id", () => {
    const spec = { multiagent: { type: "coordinator", agents: [{ type: "self" }, { type: "advisor", model: "m2" }, "agent_b"] } };
    const live = { id: "agent_me", multiagent: { type: "coordinator", agents: [{ type: "agent", id: "agent_b", version: 2 }, { type: "agent", id: "agent_me", version: 1 }, { type: "advisor", model: "m2" }] } };
    expect(agentDiff(spec, live)).toEqual([]);
  });
  it("by-name references resolve through the context", () => {
    const spec = { name: "a", model: "m", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "r" }] } };
    const c = canonicalDesired("agent", spec, { resolveRef: () => ({ id: "agent_r", version: 3 }) });
    expect(c.multiagent).toEqual({ type: "coordinator", agents: { agent_r: { type: "agent", id: "agent_r", version: 3 } } });
    expect(canonicalDesired("agent", spec).multiagent).toEqual({ type: "coordinator", agents: { "ref:r": { type: "agent", ref: "r" } } });
  });
  it("removing a whole multiagent config is a change to null", () => {
    const live = { multiagent: { type: "coordinator", agents: [{ type: "agent", id: "agent_b", version: 2 }] } };
    expect(agentDiff({}, live).map((c) => [c.pointer, c.after])).toEqual([["/multiagent", null]]);
  });
});

describe("environment rules", () => {
  it("config absent ≡ cloud + unrestricted + empty packages; the packages type marker is dropped", () => {
    expect(envDiff({}, {})).toEqual([]);
  });
  it('description "" ≡ null (chosen; see docs)', () => {
    expect(envDiff({ description: "" }, { description: null })).toEqual([]);
    expect(envDiff({}, { description: "" })).toEqual([]);
  });
  it("limited booleans default to false; allowed_hosts and package lists are sets", () => {
    const spec = { config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["b", "a"] }, packages: { pip: ["y", "x"] } } };
    const live = { config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["a", "b"], allow_mcp_servers: false, allow_package_managers: false }, packages: { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: ["x", "y"] } } };
    expect(envDiff(spec, live)).toEqual([]);
  });
  it("scope is not diffed unless the manifest sets it", () => {
    expect(envDiff({}, { scope: "organization" })).toEqual([]);
    expect(envDiff({ scope: "account" }, { scope: "organization" }).map((c) => c.pointer)).toEqual(["/scope"]);
  });
  it("self_hosted config is just its type", () => {
    expect(envDiff({ config: { type: "self_hosted" } }, { config: { type: "self_hosted" } })).toEqual([]);
  });
});

describe("diffCanonical with keys named like Object.prototype members", () => {
  it("sees an added or removed `constructor` or `toString` as an add or a remove, not a change of something inherited", () => {
    expect(diffCanonical({}, { constructor: "x" })).toEqual([{ pointer: "/constructor", op: "add", after: "x" }]);
    expect(diffCanonical({ toString: "y" }, {})).toEqual([{ pointer: "/toString", op: "remove", before: "y" }]);
  });
});
