/** `agentform validate`: in-process through main() with a captured Io, and once as a real child process. */
import { Writable } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/built.js";
import { main } from "../../src/cli/main.js";
import type { Io } from "../../src/cli/output.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const corpus = path.join(repo, "tests/fixtures/invalid");

class Capture extends Writable {
  text = "";
  isTTY: boolean;
  constructor(isTTY = false) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(args: string[], options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new Capture(options.tty ?? false);
  const stderr = new Capture(options.tty ?? false);
  const io: Io = { stdout, stderr, env: options.env ?? {} };
  const code = await main(["node", "agentform", ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("agentform validate (in-process)", () => {
  it("exits 0 on the example fleet", async () => {
    const r = await run(["validate", "--config", path.join(repo, "agentform.yaml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("✓ 1 deployment, 5 agents, 1 memory store, 1 credential, 1 vault, 1 skill and 2 environments valid\n");
    expect(r.stderr).toBe("");
  });

  it("prints file:line:col path: message [code] and a hint, then exits 4", async () => {
    const r = await run(["validate", "--config", path.join(corpus, "agentform.yaml"), path.join(corpus, "agents/tool-unknown.yaml"), path.join(corpus, "agents/mcp-server-unknown.yaml")]);
    expect(r.code).toBe(4);
    expect(r.stdout.split("\n")).toEqual([
      'agents/mcp-server-unknown.yaml:5:5 tools[0].mcp_server_name: no entry in mcp_servers is named "gihtub"; did you mean "github"? [AF-MCP-SERVER-UNKNOWN]',
      "  hint: Declare the server under `mcp_servers:` ({type: url, name, url}) or fix the name.",
      'agents/mcp-server-unknown.yaml:7:5 mcp_servers[0]: MCP server "github" is not used by any mcp_toolset [AF-MCP-SERVER-UNUSED]',
      "  hint: The API rejects unreferenced servers: add `{type: mcp_toolset, mcp_server_name: github}` to tools, or remove the server.",
      'agents/tool-unknown.yaml:9:9 tools[0].configs[2].name: "webfetch" is not a tool of agent_toolset_20260401; did you mean "web_fetch"? [AF-TOOL-UNKNOWN]',
      "  hint: The agent toolset has: bash, edit, read, write, glob, grep, web_fetch, web_search.",
      "✗ 3 problems in 2 files; 0 manifests valid",
      "",
    ]);
  });

  it("writes JSON for machines", async () => {
    const r = await run(["validate", "--format", "json", "--config", path.join(corpus, "agentform.yaml"), path.join(corpus, "agents/ref-self.yaml")]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      diagnostics: [
        { code: "AF-REF-CYCLE", severity: "error", file: "agents/ref-self.yaml", line: 7, column: 21, path: "multiagent.agents[1].ref", message: "the agent refers to itself by name", hint: "Use `{type: self}` to let an agent invoke itself." },
      ],
    });
  });

  it("colours only on a TTY without NO_COLOR", async () => {
    const args = ["validate", "--config", path.join(corpus, "agentform.yaml"), path.join(corpus, "agents/ref-self.yaml")];
    expect((await run(args, { tty: true })).stdout).toContain("\u001b[");
    expect((await run(args, { tty: true, env: { NO_COLOR: "1" } })).stdout).not.toContain("\u001b[");
    expect((await run(args, { tty: false })).stdout).not.toContain("\u001b[");
  });

  it("fails with exit 4 and a hint when agentform.yaml is missing", async () => {
    const r = await run(["validate", "--config", path.join(repo, "tests/fixtures/no-such-config.yaml")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("[AF-CONFIG-MISSING]");
    expect(r.stderr).toContain("hint:");
    expect(r.stdout).toBe("");
  });

  it("rejects an unknown --format as a usage error", async () => {
    const r = await run(["validate", "--format", "yaml", "--config", path.join(repo, "agentform.yaml")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/Allowed choices are text, json/);
  });

  it("shows examples in its help", async () => {
    const r = await run(["validate", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("agentform validate agents/triage.yaml");
    expect(r.stdout).toContain("--format <format>");
  });
});

describe("agentform validate (child process)", () => {
  it("exits 0 on the example fleet and 4 with JSON on the corpus", async () => {
    await ensureBuilt();
    const bin = path.join(repo, "bin/agentform.js");
    const ok = await execa("node", [bin, "validate"], { cwd: repo, reject: false, env: { NO_COLOR: "1" } });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe("✓ 1 deployment, 5 agents, 1 memory store, 1 credential, 1 vault, 1 skill and 2 environments valid");
    const bad = await execa("node", [bin, "validate", "--format", "json", "agents/duplicate-key.yaml"], { cwd: corpus, reject: false });
    expect(bad.exitCode).toBe(4);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, diagnostics: [{ code: "AF-YAML-DUPLICATE-KEY", file: "agents/duplicate-key.yaml", line: 4, column: 1 }] });
  }, 120_000);
});

describe("agentform validate with a broken agentform.yaml", () => {
  it("reports the config problems like manifest problems, in text and JSON", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-badconfig-"));
    try {
      await writeFile(path.join(dir, "agentform.yaml"), "project: ok\ntargets:\n  default:\n    bas_url: http://x\n");
      const text = await run(["validate", "--config", path.join(dir, "agentform.yaml")]);
      expect(text.code).toBe(4);
      expect(text.stdout).toContain('agentform.yaml:4:5 targets.default.bas_url: unknown key "bas_url"; did you mean "base_url"? [AF-SCHEMA-UNKNOWN-KEY]');
      const json = await run(["validate", "--format", "json", "--config", path.join(dir, "agentform.yaml")]);
      expect(json.code).toBe(4);
      expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, diagnostics: [{ code: "AF-SCHEMA-UNKNOWN-KEY", file: "agentform.yaml", line: 4, column: 5 }] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
