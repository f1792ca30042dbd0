/**
 * The fixture corpora: every invalid manifest yields exactly the diagnostics (code, line,
 * column) listed in its *.expect.json, the valid corpus and the example fleet yield none.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig, loadProject } from "../../src/manifest/index.js";
import type { Diagnostic, LoadResult } from "../../src/manifest/types.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const invalidRoot = path.join(repo, "tests/fixtures/invalid");

interface Expected {
  code: string;
  line: number;
  column: number;
  /** Only given for warnings; everything else is an error. */
  severity?: "warning";
}

function manifestFiles(root: string): string[] {
  const out: string[] = [];
  for (const dir of ["agents", "environments"]) {
    for (const f of readdirSync(path.join(root, dir)).sort()) if (/\.(ya?ml|md)$/.test(f)) out.push(`${dir}/${f}`);
  }
  return out;
}

const invalidFiles = manifestFiles(invalidRoot).filter((f) => !path.basename(f).startsWith("support-"));

describe("invalid manifest corpus", () => {
  let result: LoadResult;
  const byFile = new Map<string, Diagnostic[]>();
  beforeAll(async () => {
    result = await loadProject(await loadConfig({ cwd: invalidRoot }));
    for (const d of result.diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  });

  it("has at least 40 invalid manifests, each with expectations", () => {
    expect(invalidFiles.length).toBeGreaterThanOrEqual(40);
    for (const file of invalidFiles) {
      const expectFile = path.join(invalidRoot, file.replace(/\.(ya?ml|md)$/, ".expect.json"));
      expect(() => readFileSync(expectFile), file).not.toThrow();
    }
  });

  it.each(invalidFiles)("%s reports exactly the expected diagnostics", (file) => {
    const expected = JSON.parse(readFileSync(path.join(invalidRoot, file.replace(/\.(ya?ml|md)$/, ".expect.json")), "utf8")) as Expected[];
    expect(expected.length).toBeGreaterThan(0);
    const got = (byFile.get(file) ?? []).map((d) => ({ code: d.code, line: d.line, column: d.column, ...(d.severity === "warning" ? { severity: d.severity } : {}) }));
    expect(got).toEqual(expected);
    for (const d of byFile.get(file) ?? []) {
      expect(d.message.length).toBeGreaterThan(5);
      expect(d.hint?.length ?? 0).toBeGreaterThan(5);
    }
  });

  it("reports nothing for the valid helpers, and returns only them and other clean manifests", () => {
    expect(byFile.get("agents/support-helper.yaml")).toBeUndefined();
    expect(byFile.get("agents/support-coordinator.yaml")).toBeUndefined();
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["support-coordinator", "support-helper"]);
    expect(result.manifests.environment).toEqual([]);
  });

  it("sorts diagnostics by file, line and column", () => {
    const keys = result.diagnostics.map((d) => [d.file, d.line, d.column] as const);
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2]));
    expect(keys).toEqual(sorted);
  });

  it("never echoes a secret in a message", () => {
    const text = JSON.stringify(result.diagnostics);
    expect(text).not.toContain(["sk", "ant", "api03", "AbCdEf"].join("-"));
    expect(text).not.toContain("ghp_AbCdEfGhIjKl");
    expect(text).not.toContain("wJalrXUtnFEMI/K7MDENG");
    expect(text).not.toContain("xoxb-123456789012");
  });

  it("names the misspelt tool and suggests the right one", () => {
    const [d] = byFile.get("agents/tool-unknown.yaml")!;
    expect(d!.path).toBe("tools[0].configs[2].name");
    expect(d!.message).toBe('"webfetch" is not a tool of agent_toolset_20260401; did you mean "web_fetch"?');
  });
});

describe("valid corpus and example fleet", () => {
  it("loads the valid corpus without a diagnostic", async () => {
    const result = await loadProject(await loadConfig({ cwd: path.join(repo, "tests/fixtures/valid") }));
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["crlf-agent", "fifteen-metadata-keys", "full-featured", "plain-string-model", "within-alias-bound"]);
    expect(result.manifests.environment.map((e) => e.name)).toEqual(["limited-no-packages", "self-hosted"]);
    const full = result.manifests.agent.find((a) => a.name === "full-featured")!;
    expect(full.settings).toEqual({ adopt: true, ignore: ["/description", "/metadata/owner"], previous_names: ["featureful"] });
    expect(full.spec).not.toHaveProperty("agentform");
    const crlf = result.manifests.agent.find((a) => a.name === "crlf-agent")!;
    expect(crlf.spec.system).toBe("A prompt written on Windows.");
    expect(crlf.locate("/system")).toEqual({ line: 6, column: 1 });
  });

  it("validates the example fleet clean, with every feature the README shows (coordinator and multiagent rosters, MCP, Markdown agent, custom tools, limited networking)", async () => {
    const config = await loadConfig({ cwd: repo });
    expect(config.project).toBe("support-bots");
    expect(config.targets).toEqual({ default: { local: true, prune: true }, production: { api_key_env: "ANTHROPIC_API_KEY" } });
    const result = await loadProject(config);
    expect(result.diagnostics).toEqual([]);
    const agents = new Map(result.manifests.agent.map((a) => [a.name, a]));
    const triage = agents.get("triage")!.spec as { multiagent: { type: string; agents: Array<{ ref?: string }> } };
    expect(triage.multiagent.type).toBe("coordinator");
    expect(triage.multiagent.agents.filter((e) => e.ref).length).toBeGreaterThanOrEqual(2);
    expect((agents.get("escalations")!.spec.multiagent as { type: string }).type).toBe("multiagent_20261001");
    expect(agents.get("github-issues")!.spec.mcp_servers).toHaveLength(1);
    expect(agents.get("docs-researcher")!.file).toBe("agents/docs-researcher.md");
    expect(String(agents.get("docs-researcher")!.spec.system)).toMatch(/^You are Acme's documentation researcher\./);
    const billingTools = agents.get("billing-specialist")!.spec.tools as Array<{ type: string }>;
    expect(billingTools.filter((t) => t.type === "custom").length).toBeGreaterThanOrEqual(2);
    const envs = new Map(result.manifests.environment.map((e) => [e.name, e.spec.config as { networking: { type: string }; packages?: unknown }]));
    expect(envs.get("python-sandbox")!.networking.type).toBe("unrestricted");
    expect(envs.get("python-sandbox")!.packages).toBeDefined();
    expect(envs.get("support-locked-down")!.networking.type).toBe("limited");
    // Every input file is hashed for saved-plan staleness checks, config included.
    expect(result.sources.map((s) => s.file)).toEqual([
      "agentform.yaml",
      "agents/billing-specialist.yaml",
      "agents/docs-researcher.md",
      "agents/escalations.yaml",
      "agents/github-issues.yaml",
      "agents/triage.yaml",
      "deployments/nightly-triage.yaml",
      "environments/python-sandbox.yaml",
      "environments/support-locked-down.yaml",
      "memory_stores/support-notes.yaml",
      "skills/refund-policy/SKILL.md",
      "skills/refund-policy/scripts/prorate.py",
      "vaults/github-tools.yaml",
    ]);
    for (const s of result.sources) expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("starts every example YAML manifest with a yaml-language-server schema line", () => {
    for (const file of manifestFiles(repo).filter((f) => !f.endsWith(".md"))) {
      const first = readFileSync(path.join(repo, file), "utf8").split("\n")[0];
      const kind = file.startsWith("agents/") ? "agent" : "environment";
      expect(first, file).toBe(`# yaml-language-server: $schema=../schemas/${kind}.schema.json`);
    }
  });
});
