/** checkRules over plain data: no files, no parsing. */
import { describe, expect, it } from "vitest";
import { checkRules, countToolConfigs, didYouMean, editDistance, type RuleOptions } from "../../src/manifest/index.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { emptyByKind } from "../plan/helpers.js";

function manifest(kind: "agent" | "environment", spec: Record<string, unknown>, settings: Partial<LoadedManifest["settings"]> = {}): LoadedManifest {
  const name = String(spec.name);
  return {
    kind,
    name,
    file: `${kind}s/${name}.yaml`,
    spec,
    settings: { previous_names: [], adopt: false, ignore: [], ...settings },
    // Encode the pointer in the position so tests can see which node a rule pointed at.
    locate: (pointer) => ({ line: pointer.split("/").length, column: pointer.length + 1 }),
  };
}
const agent = (spec: Record<string, unknown>, settings?: Partial<LoadedManifest["settings"]>) => manifest("agent", { model: "claude-haiku-5-5", ...spec }, settings);
const env = (spec: Record<string, unknown>) => manifest("environment", spec);
/** The rules over agents and environments (the only kinds these tests build). */
const rules = (agents: LoadedManifest[], envs: LoadedManifest[], options: RuleOptions = {}) => checkRules({ ...emptyByKind(), agent: agents, environment: envs }, options);
const codes = (agents: LoadedManifest[], envs: LoadedManifest[] = [], options: RuleOptions = {}) =>
  rules(agents, envs, options)
    .map((d) => `${d.file} ${d.path} ${d.code}`)
    .sort();

describe("names and references", () => {
  it("accepts a coordinator whose refs name existing plain agents", () => {
    const lead = agent({ name: "lead", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "a" }, { type: "agent", ref: "b", version: 2 }, { type: "self" }] } });
    expect(rules([lead, agent({ name: "a" }), agent({ name: "b" })], [])).toEqual([]);
  });

  it("flags duplicate names per kind, but not across kinds", () => {
    expect(codes([agent({ name: "x" }), agent({ name: "x" })], [env({ name: "x" })])).toEqual(["agents/x.yaml name AF-NAME-DUPLICATE", "agents/x.yaml name AF-NAME-DUPLICATE"]);
  });

  it.each([
    ["NUL", "\u0000"],
    ["a newline", "\n"],
    ["ESC", "\u001b"],
    ["DEL", "\u007f"],
    ["C1 NEL", "\u0085"],
    ["C1 CSI", "\u009b"],
    ["a right-to-left override", "\u202e"],
    ["a left-to-right embedding", "\u202a"],
    ["a first-strong isolate", "\u2068"],
    ["a pop-directional isolate", "\u2069"],
    ["a line separator", "\u2028"],
    ["a paragraph separator", "\u2029"],
  ])("rejects a name holding %s, without printing the character", (_what, char) => {
    const diags = rules([agent({ name: `bill${char}ing` })], [env({ name: `sand${char}box` })]);
    expect(diags.map((d) => `${d.file} ${d.path} ${d.code}`)).toEqual([`agents/bill${char}ing.yaml name AF-NAME-CONTROL-CHAR`, `environments/sand${char}box.yaml name AF-NAME-CONTROL-CHAR`]);
    for (const d of diags) expect(d.message + d.hint).not.toContain(char);
    expect(diags[0]!.message).toMatch(/"bill\\(u[0-9a-f]{4}|n)ing"/);
  });

  it("rejects control characters in previous_names too, and accepts printable Unicode names", () => {
    expect(codes([agent({ name: "a" }, { previous_names: ["old\u202ename"] })])).toEqual(["agents/a.yaml agentform.previous_names[0] AF-NAME-CONTROL-CHAR"]);
    expect(codes([agent({ name: "Zürich-Support ünïcödé 日本語 \u200d" })], [env({ name: "tab-free name" })])).toEqual([]);
  });

  it("suggests the closest agent for an unknown ref", () => {
    const [d] = rules([agent({ name: "lead", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "biling" }] } }), agent({ name: "billing" })], []);
    expect(d).toMatchObject({ code: "AF-REF-UNKNOWN", path: "multiagent.agents[0].ref" });
    expect(d!.message).toContain('did you mean "billing"?');
  });

  it("treats names of manifests that failed earlier checks as known", () => {
    const lead = agent({ name: "lead", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "broken" }] } });
    expect(rules([lead], [], { unparsedNames: { agent: ["broken"] } })).toEqual([]);
  });

  it("reports a three-agent cycle once per edge, not as depth errors", () => {
    const ring = ["a", "b", "c"].map((n, i, all) => agent({ name: n, multiagent: { type: "coordinator", agents: [{ type: "agent", ref: all[(i + 1) % 3] }] } }));
    expect(codes(ring)).toEqual(["agents/a.yaml multiagent.agents[0].ref AF-REF-CYCLE", "agents/b.yaml multiagent.agents[0].ref AF-REF-CYCLE", "agents/c.yaml multiagent.agents[0].ref AF-REF-CYCLE"]);
  });

  it("enforces depth 1 for predefined_agents too", () => {
    const inner = agent({ name: "inner", multiagent: { type: "multiagent_20261001" } });
    const outer = agent({ name: "outer", multiagent: { type: "multiagent_20261001", workflows: { type: "enabled", predefined_agents: [{ type: "agent", ref: "inner" }] } } });
    expect(codes([inner, outer])).toEqual(["agents/outer.yaml multiagent.workflows.predefined_agents[0].ref AF-ROSTER-DEPTH"]);
  });

  it("requires a predefined agent when inline agents are disabled", () => {
    const a = agent({ name: "a", multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [] } } });
    expect(codes([a])).toEqual(["agents/a.yaml multiagent.subagents.predefined_agents AF-ROSTER-SIZE"]);
  });

  it("treats the same agent id twice as a duplicate roster entry", () => {
    const a = agent({ name: "a", multiagent: { type: "coordinator", agents: ["agent_1", { type: "agent", id: "agent_1", version: 3 }] } });
    expect(codes([a])).toEqual(["agents/a.yaml multiagent.agents[1] AF-ROSTER-DUPLICATE"]);
  });
});

describe("previous_names", () => {
  it("flags a name claimed by two manifests and one that is another manifest's name", () => {
    const a = agent({ name: "a" }, { previous_names: ["old"] });
    const b = agent({ name: "b" }, { previous_names: ["old", "a"] });
    expect(codes([a, b])).toEqual(["agents/b.yaml agentform.previous_names[0] AF-PREVIOUS-NAME-DUPLICATE", "agents/b.yaml agentform.previous_names[1] AF-PREVIOUS-NAME-COLLISION"]);
  });

  it("flags a rename whose old and new names are both live", () => {
    const a = agent({ name: "new" }, { previous_names: ["old"] });
    expect(codes([a], [], { liveNames: { agent: ["old"], environment: [] } })).toEqual([]);
    expect(codes([a], [], { liveNames: { agent: ["old", "new"], environment: [] } })).toEqual(["agents/new.yaml agentform.previous_names[0] AF-PREVIOUS-NAME-LIVE"]);
  });

  it("AF-RENAME-UNSUPPORTED: a kind the API cannot rename (skills) refuses previous_names, once, and no other rename rule runs", () => {
    const skill = (name: string, previous: string[]): LoadedManifest => ({
      kind: "skill",
      name,
      file: `skills/${name}/SKILL.md`,
      spec: { name, description: "d", files: {} },
      settings: { previous_names: previous, adopt: false, ignore: [] },
      locate: (pointer) => ({ line: pointer.split("/").length, column: pointer.length + 1 }),
    });
    const diags = checkRules({ ...emptyByKind(), skill: [skill("pdf-tools", ["pdf-old", "pdf-old"]), skill("other", [])] }, { liveNames: { skill: ["pdf-old", "pdf-tools"] } });
    expect(diags.map((d) => `${d.file} ${d.path} ${d.code}`)).toEqual(["skills/pdf-tools/SKILL.md agentform.previous_names AF-RENAME-UNSUPPORTED"]);
    expect(diags[0]).toMatchObject({
      severity: "error",
      message: "skills cannot be renamed in place",
      hint: "Remove previous_names; to rename a skill, create it under the new name and remove the old one (prune deletes it once nothing uses it).",
    });
    // Kinds the API renames keep their previous names.
    expect(codes([agent({ name: "new" }, { previous_names: ["old"] })])).toEqual([]);
  });
});

describe("tools, MCP and limits", () => {
  it("counts tool configurations: one per custom tool, one per toolset config entry", () => {
    expect(countToolConfigs([{ type: "agent_toolset_20260401" }, { type: "custom" }, { type: "mcp_toolset", configs: [{}, {}, {}] }])).toBe(5);
  });

  it("allows exactly 128 tool configurations and 20 MCP servers", () => {
    const servers = Array.from({ length: 20 }, (_, i) => ({ type: "url", name: `s${i}`, url: `https://s${i}.example.com` }));
    const toolsets = servers.map((s) => ({ type: "mcp_toolset", mcp_server_name: s.name }));
    const custom = Array.from({ length: 108 }, (_, i) => ({ type: "custom", name: `t${i}`, description: "d", input_schema: { type: "object" } }));
    expect(rules([agent({ name: "a", mcp_servers: servers, tools: [...toolsets, ...custom] })], [])).toEqual([]);
    const one = { type: "custom", name: "extra", description: "d", input_schema: { type: "object" } };
    expect(codes([agent({ name: "a", mcp_servers: servers, tools: [...toolsets, ...custom, one] })])).toEqual(["agents/a.yaml tools AF-LIMIT-TOOLS"]);
  });

  it("flags a second mcp_toolset for the same server and a duplicate tool config", () => {
    const a = agent({
      name: "a",
      mcp_servers: [{ type: "url", name: "gh", url: "https://x" }],
      tools: [
        { type: "mcp_toolset", mcp_server_name: "gh", configs: [{ name: "x" }, { name: "x" }] },
        { type: "mcp_toolset", mcp_server_name: "gh" },
      ],
    });
    expect(codes([a])).toEqual(["agents/a.yaml tools[0].configs[1].name AF-TOOL-DUPLICATE", "agents/a.yaml tools[1].mcp_server_name AF-TOOL-DUPLICATE"]);
  });

  it("checks url_sources lists against the agent's custom tools", () => {
    const a = agent({
      name: "a",
      tools: [
        { type: "agent_toolset_20260401", configs: [{ name: "web_fetch", url_sources: { client_tool_results: { type: "only", tools: [{ type: "tool_reference", name: "Finder" }] }, server_tool_results: { type: "except", tools: [{ type: "tool_reference", name: "bash" }] } } }] },
        { type: "custom", name: "finder", description: "d", input_schema: { type: "object" } },
      ],
    });
    expect(codes([a])).toEqual([
      "agents/a.yaml tools[0].configs[0].url_sources.client_tool_results.tools[0].name AF-URL-SOURCES",
      "agents/a.yaml tools[0].configs[0].url_sources.server_tool_results.tools[0].name AF-URL-SOURCES",
    ]);
  });

  it.each([
    ["web_fetch", "docs.example.com", true],
    ["web_fetch", "*.example.com", true],
    ["web_fetch", "http://docs.example.com", false],
    ["web_fetch", "docs.example.com:443", false],
    ["web_fetch", "docs.example.com/path", false],
    ["web_search", "docs.example.com/path", true],
    ["web_search", "docs.example.com:443/path", false],
    ["web_search", "ftp://docs.example.com", false],
    ["web_search", "docs example.com", false],
  ])("%s domain %s valid=%s", (tool, domain, valid) => {
    const a = agent({ name: "a", tools: [{ type: "agent_toolset_20260401", configs: [{ name: tool, allowed_domains: [domain] }] }] });
    expect(codes([a])).toEqual(valid ? [] : ["agents/a.yaml tools[0].configs[0].allowed_domains[0] AF-DOMAIN-INVALID"]);
  });
});

describe("metadata and networking", () => {
  it("checks metadata in environments too", () => {
    expect(codes([], [env({ name: "e", metadata: { "agentform.project": "x", ok: "" } })])).toEqual([
      "environments/e.yaml metadata.ok AF-METADATA-EMPTY-VALUE",
      'environments/e.yaml metadata["agentform.project"] AF-METADATA-RESERVED',
    ]);
  });

  it("applies the limited-networking rules", () => {
    const limited = (networking: Record<string, unknown>, packages?: Record<string, unknown>) => env({ name: "e", config: { type: "cloud", networking: { type: "limited", ...networking }, ...(packages ? { packages } : {}) } });
    expect(codes([], [limited({ allowed_hosts: ["pypi.org"], allow_package_managers: true }, { pip: ["x"] })])).toEqual([]);
    expect(codes([], [limited({ allowed_hosts: ["pypi.org"] }, { pip: [], npm: [] })])).toEqual([]);
    expect(codes([], [limited({}, { npm: ["left-pad"] })])).toEqual(["environments/e.yaml config.packages AF-NETWORK-PACKAGES"]);
    expect(codes([], [limited({ allowed_hosts: ["HTTPS://pypi.org"] })])).toEqual(["environments/e.yaml config.networking.allowed_hosts[0] AF-NETWORK-HOST-SCHEME"]);
    expect(codes([], [env({ name: "e", config: { type: "cloud", networking: { type: "unrestricted", allow_mcp_servers: false } } })])).toEqual([
      "environments/e.yaml config.networking.allow_mcp_servers AF-NETWORK-FLAGS",
    ]);
  });
});

describe("did you mean", () => {
  it("computes edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
    expect(editDistance("gerp", "grep")).toBe(1);
  });

  it("suggests close names only", () => {
    expect(didYouMean("webfetch", ["bash", "web_fetch", "web_search"])).toBe("web_fetch");
    expect(didYouMean("WebSearch", ["web_fetch", "web_search"])).toBe("web_search");
    expect(didYouMean("gerp", ["grep", "glob"])).toBe("grep");
    expect(didYouMean("kubernetes", ["bash", "read"])).toBeUndefined();
  });
});

describe("name lengths, per kind, in characters as the API counts them", () => {
  const vault = (displayName: string): LoadedManifest => ({
    kind: "vault",
    name: displayName,
    file: "vaults/v.yaml",
    spec: { display_name: displayName },
    settings: { previous_names: [], adopt: false, ignore: [] },
    locate: () => ({ line: 1, column: 1 }),
  });
  const check = (v: LoadedManifest) => checkRules({ ...emptyByKind(), vault: [v] }).map((d) => `${d.path} ${d.code}`);

  it("a vault's display_name holds at most 255 characters (agents 256), counted as code points", () => {
    expect(check(vault("a".repeat(255)))).toEqual([]);
    expect(check(vault("a".repeat(256)))).toEqual(["display_name AF-NAME-INVALID"]);
    expect(codes([agent({ name: "a".repeat(256) })])).toEqual([]);
    // 200 emoji are 200 characters (400 UTF-16 units): allowed.
    expect(check(vault("😀".repeat(200)))).toEqual([]);
  });
});

