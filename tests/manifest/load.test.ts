/** loadConfig and loadProject over real files in temporary folders. */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rejectionOf } from "../helpers/rejection.js";
import { ConfigError } from "../../src/errors.js";
import { loadConfig, loadProject, MAX_FILE_BYTES } from "../../src/manifest/index.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-manifest-"));
  dirs.push(dir);
  for (const [file, content] of Object.entries({ "agentform.yaml": "project: demo\n", ...files })) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

const configError = (promise: Promise<unknown>) => rejectionOf(promise, ConfigError);

describe("loadConfig", () => {
  it("walks up from a subfolder and fills defaults", async () => {
    const dir = await project({ "agents/nested/deeper/.keep": "" });
    const config = await loadConfig({ cwd: path.join(dir, "agents/nested/deeper") });
    expect(config).toEqual({ project: "demo", paths: { agents: "agents", environments: "environments", skills: "skills", vaults: "vaults", memory_stores: "memory_stores", deployments: "deployments" }, targets: { default: {} }, root: dir, file: "agentform.yaml" });
  });

  it("uses --config relative to cwd", async () => {
    const dir = await project({ "conf/other.yaml": "project: other\npaths: {agents: bots/main}\n" });
    const config = await loadConfig({ cwd: dir, configPath: "conf/other.yaml" });
    expect(config.root).toBe(path.join(dir, "conf"));
    expect(config.file).toBe("other.yaml");
    expect(config.paths).toEqual({ agents: "bots/main", environments: "environments", skills: "skills", vaults: "vaults", memory_stores: "memory_stores", deployments: "deployments" });
  });

  it("throws AF-CONFIG-MISSING with exit 4 when there is no config", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-noconfig-"));
    dirs.push(dir);
    const err = await configError(loadConfig({ cwd: dir, configPath: "agentform.yaml" }));
    expect(err.code).toBe("AF-CONFIG-MISSING");
    expect(err.exitCode).toBe(4);
    expect(err.hint).toMatch(/project:/);
  });

  it("names file:line:col for an invalid config", async () => {
    const dir = await project({ "agentform.yaml": "project: Support Bots\ntargets:\n  prod:\n    backend: curl\n    api_key: sk-nope\n" });
    const err = await configError(loadConfig({ cwd: dir }));
    expect(err.code).toBe("AF-CONFIG-INVALID");
    expect(err.message).toContain("agentform.yaml:1:1 project: must be 1 to 40 characters of a-z, 0-9 and -");
    expect(err.message).toContain("agentform.yaml:4:5 targets.prod.backend:");
    expect(err.message).toContain('agentform.yaml:5:5 targets.prod.api_key: unknown key "api_key"; did you mean "api_key_env"?');
    const diags = (err.details?.diagnostics ?? []) as Array<{ code: string }>;
    expect(diags.map((d) => d.code)).toEqual(["AF-SCHEMA", "AF-SCHEMA-ENUM", "AF-SCHEMA-UNKNOWN-KEY"]);
  });

  it("rejects a config with a YAML error", async () => {
    const dir = await project({ "agentform.yaml": "project: a\nproject: b\n" });
    const err = await configError(loadConfig({ cwd: dir }));
    expect(err.message).toContain("agentform.yaml:2:1");
    expect(err.message).toContain("[AF-YAML-DUPLICATE-KEY]");
  });
});

describe("loadProject", () => {
  it("refuses files over 1 MiB without parsing them", async () => {
    const big = "name: big\nmodel: claude-haiku-5-5\nsystem: |\n" + "  x\n".repeat(MAX_FILE_BYTES / 4 + 1);
    const dir = await project({ "agents/big.yaml": big, "agents/ok.yaml": "name: ok\nmodel: claude-haiku-5-5\n" });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => [d.file, d.code, d.line])).toEqual([["agents/big.yaml", "AF-FILE-TOO-LARGE", 1]]);
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["ok"]);
    // The too-large file was not read, so it has no hash; the config and ok.yaml do.
    expect(result.sources.map((s) => s.file)).toEqual(["agentform.yaml", "agents/ok.yaml"]);
    expect(result.sources[1]!.sha256).toBe(createHash("sha256").update("name: ok\nmodel: claude-haiku-5-5\n").digest("hex"));
  });

  it("fails an alias bomb fast", async () => {
    const levels = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? "*a" : `*l${i - 1}`).join(",")}]`);
    const dir = await project({ "agents/bomb.yaml": `name: bomb\nmodel: m\n${levels.join("\n")}\n` });
    const started = performance.now();
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["AF-YAML-ALIASES"]);
  });

  it("maps .md frontmatter positions to file lines and the body to system", async () => {
    const md = "---\nname: writer\nmodel: claude-haiku-5-5\ntools:\n  - type: agent_toolset_20260401\n    configs:\n      - name: gerp\n---\n\n  Write well.  \n";
    const dir = await project({ "agents/writer.md": md, "agents/clean.md": "---\nname: clean\nmodel: claude-haiku-5-5\n---\n\n# Role\n\nHelp.\n" });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`)).toEqual([
      'agents/writer.md:7:9 AF-TOOL-UNKNOWN "gerp" is not a tool of agent_toolset_20260401; did you mean "grep"?',
    ]);
    const clean = result.manifests.agent.find((a) => a.name === "clean")!;
    expect(clean.spec.system).toBe("# Role\n\nHelp.");
    expect(clean.locate("/system")).toEqual({ line: 6, column: 1 });
    expect(clean.locate("/model")).toEqual({ line: 3, column: 1 });
  });

  it("checks only the given paths but still resolves refs against the whole project", async () => {
    const dir = await project({
      "agents/lead.yaml": "name: lead\nmodel: m\nmultiagent:\n  type: coordinator\n  agents:\n    - {type: agent, ref: helper}\n",
      "agents/helper.yaml": "name: helper\nmodel: m\n",
      "agents/broken.yaml": "name: broken\n",
      "elsewhere/env.yaml": "name: outside-env\nconfig: {type: self_hosted}\n",
      "elsewhere/agent.yaml": "name: outside-agent\nmodel: m\n",
    });
    const config = await loadConfig({ cwd: dir });
    const one = await loadProject(config, { paths: ["agents/lead.yaml"], cwd: dir });
    expect(one.diagnostics).toEqual([]);
    expect(one.manifests.agent.map((a) => a.name)).toEqual(["lead"]);
    const outside = await loadProject(config, { paths: [path.join(dir, "elsewhere"), "nope.yaml"], cwd: dir });
    expect(outside.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(["nope.yaml AF-PATH-NOT-FOUND"]);
    expect(outside.manifests.agent.map((a) => a.name)).toEqual(["outside-agent"]);
    expect(outside.manifests.environment.map((e) => e.name)).toEqual(["outside-env"]);
    const all = await loadProject(config);
    expect(all.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual(["agents/broken.yaml:1:1 AF-SCHEMA-REQUIRED"]);
  });

  it("reports a reference to a manifest that exists but is broken only once, in the broken file", async () => {
    const dir = await project({
      "agents/lead.yaml": "name: lead\nmodel: m\nmultiagent: {type: coordinator, agents: [{type: agent, ref: helper}]}\n",
      "agents/helper.yaml": "name: helper\nmodel: m\nbogus: 1\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(["agents/helper.yaml AF-SCHEMA-UNKNOWN-KEY"]);
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["lead"]);
  });

  it("does not call a ref unknown when the referenced file exists but does not parse", async () => {
    const dir = await project({
      "agents/lead.yaml": "name: lead\nmodel: m\nmultiagent: {type: coordinator, agents: [{type: agent, ref: helper}]}\n",
      "agents/helper.yaml": "name: helper\nmodel: [unclosed\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(["agents/helper.yaml AF-YAML-SYNTAX"]);
  });

  it("skips README.md and dot-files, and ignores .md in vaults", async () => {
    const dir = await project({
      "agents/README.md": "# Our agents\n",
      "agents/.draft.yaml": "not: valid: yaml:\n",
      "vaults/notes.md": "# notes\n",
      "environments/env.yml": "name: env\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.environment.map((e) => e.file)).toEqual(["environments/env.yml"]);
  });

  it("passes liveNames to the rename check", async () => {
    const dir = await project({ "agents/new.yaml": "name: new\nmodel: m\nagentform:\n  previous_names: [old]\n" });
    const config = await loadConfig({ cwd: dir });
    const result = await loadProject(config, { liveNames: { agent: ["old", "new"], environment: [] } });
    expect(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(["4:20 AF-PREVIOUS-NAME-LIVE"]);
  });
});

describe("aliases", () => {
  it("expands aliases into independent copies", async () => {
    const dir = await project({
      "agents/a.yaml": "name: a\nmodel: m\ntools:\n  - type: agent_toolset_20260401\n    default_config: &d {enabled: true}\n  - {type: mcp_toolset, mcp_server_name: s, default_config: *d}\nmcp_servers: [{type: url, name: s, url: 'https://s.example'}]\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics).toEqual([]);
    const tools = result.manifests.agent[0]!.spec.tools as Array<{ default_config: { enabled: boolean } }>;
    expect(tools[1]!.default_config).toEqual({ enabled: true });
    expect(tools[1]!.default_config).not.toBe(tools[0]!.default_config);
  });
});

describe("positions found lazily", () => {
  it("positions rule diagnostics by re-parsing the file only when needed", async () => {
    const dir = await project({
      "agents/a.yaml": "name: a\nmodel: m\n",
      "agents/dup.md": "---\n# same name as a.yaml\nname: a\nmodel: m\nmetadata:\n  agentform.x: y\n---\nBody.\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      "agents/a.yaml:1:1 AF-NAME-DUPLICATE",
      "agents/dup.md:3:1 AF-NAME-DUPLICATE",
      "agents/dup.md:6:3 AF-METADATA-RESERVED",
    ]);
  });
});

describe("what a real checkout looks like", () => {
  it("a .md agent with CRLF line endings has the same system prompt as with LF (no phantom diff)", async () => {
    const md = "---\nname: docs\nmodel: claude-sonnet-5-5\n---\n\nLine one.\nLine two.\n";
    const lf = await loadProject(await loadConfig({ cwd: await project({ "agents/docs.md": md }) }));
    const crlf = await loadProject(await loadConfig({ cwd: await project({ "agents/docs.md": md.replace(/\n/g, "\r\n") }) }));
    expect(crlf.diagnostics).toEqual([]);
    expect(crlf.manifests.agent[0]?.spec.system).toBe("Line one.\nLine two.");
    expect(crlf.manifests.agent[0]?.spec).toEqual(lf.manifests.agent[0]?.spec);
  });

  it("a token pasted as a mapping key is AF-SECRET, and no message prints it", async () => {
    const { formatDiagnostics, formatDiagnosticsJson } = await import("../../src/manifest/index.js");
    for (const token of ["ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ASIAABCDEFGHIJKLMNOP"]) {
      const dir = await project({ "agents/s.yaml": `name: s\nmodel: claude-sonnet-5-5\nmetadata:\n  ${token}: token\n` });
      const result = await loadProject(await loadConfig({ cwd: dir }));
      expect(result.diagnostics.map((d) => [d.code, d.line])).toContainEqual(["AF-SECRET", 4]);
      expect(result.diagnostics.find((d) => d.code === "AF-SECRET")?.message).toMatch(/^this key looks like/);
      expect(formatDiagnostics(result.diagnostics, { color: false })).not.toContain(token);
      expect(formatDiagnosticsJson(result.diagnostics)).not.toContain(token);
    }
  });

  it("a name used by two manifests is reported once per file, with no false depth or cycle errors", async () => {
    const dir = await project({
      "agents/a.yaml": "name: billing\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - { type: agent, ref: leaf }\n",
      "agents/b.yaml": "name: billing\nmodel: claude-sonnet-5-5\n",
      "agents/leaf.yaml": "name: leaf\nmodel: claude-sonnet-5-5\n",
      "agents/lead.yaml": "name: lead\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - { type: agent, ref: billing }\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.code}`).sort()).toEqual(["agents/a.yaml AF-NAME-DUPLICATE", "agents/b.yaml AF-NAME-DUPLICATE"]);
  });
});
