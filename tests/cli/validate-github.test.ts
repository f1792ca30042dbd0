/**
 * `agentform validate --format github`: GitHub Actions workflow commands, one per diagnostic,
 * with paths relative to the repository root, escaped so manifest text cannot start a command.
 * The CLI runs in-process (runCli) on real files in a throwaway folder.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { formatDiagnosticsGithub } from "../../src/manifest/format.js";
import { runCli } from "../helpers/cli-project.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const corpus = path.join(repo, "tests/fixtures/invalid");

/** A workflow command line as the Actions runner reads it: `::name k=v,k=v::message`. */
const COMMAND = /^::(error|warning) file=([^,:]*),line=(\d+),col=(\d+),title=([^,:]*)::(.*)$/;

/** The runner's unescaping, in its order (CR and LF before `%25`, so `%250A` stays `%0A`). */
const unescapeData = (s: string) => s.replaceAll("%0D", "\r").replaceAll("%0A", "\n").replaceAll("%25", "%");
const unescapeProperty = (s: string) => s.replaceAll("%0D", "\r").replaceAll("%0A", "\n").replaceAll("%3A", ":").replaceAll("%2C", ",").replaceAll("%25", "%");

/** Lines as the runner splits output (LF, CR, CR LF), and among them those it takes as commands. */
function commands(stdout: string): { lines: string[]; commands: string[] } {
  const lines = stdout.split(/\r\n|\r|\n/);
  return { lines, commands: lines.filter((l) => l.trimStart().startsWith("::")) };
}

function parse(line: string) {
  const m = COMMAND.exec(line);
  if (!m) throw new Error(`not an annotation: ${JSON.stringify(line)}`);
  return { severity: m[1], file: unescapeProperty(m[2]!), line: Number(m[3]), column: Number(m[4]), code: unescapeProperty(m[5]!), message: unescapeData(m[6]!) };
}

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** A git repository (just its `.git` folder) holding a project in `infra/bots/`. */
async function repoWithProject(files: Record<string, string>, config = "project: bots\n"): Promise<{ root: string; config: string }> {
  const root = await mkdtemp(path.join(tmpdir(), "agentform-gh-"));
  dirs.push(root);
  await mkdir(path.join(root, ".git"));
  const project = path.join(root, "infra/bots");
  for (const [file, text] of Object.entries({ "agentform.yaml": config, ...files })) {
    await mkdir(path.dirname(path.join(project, file)), { recursive: true });
    await writeFile(path.join(project, file), text);
  }
  return { root, config: path.join(project, "agentform.yaml") };
}

const UNKNOWN_TOOL = "name: triage\nmodel: claude-haiku-5-5\ntools:\n  - type: agent_toolset_20260401\n    configs:\n      - name: webfetch\n";

describe("agentform validate --format github", () => {
  it("prints no annotation and the usual summary for a valid project, exit 0", async () => {
    const r = await runCli(path.join(repo, "agentform.yaml"), ["validate", "--format", "github"], { NO_COLOR: "1" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("✓ 1 deployment, 5 agents, 1 memory store, 1 credential, 1 vault, 1 skill and 2 environments valid\n");
  });

  it("annotates each diagnostic at its file, line and column, with the code as title and the hint, exit 4", async () => {
    const args = [path.join(corpus, "agents/tool-unknown.yaml"), path.join(corpus, "agents/mcp-server-unknown.yaml")];
    const json = await runCli(path.join(corpus, "agentform.yaml"), ["validate", "--format", "json", ...args], {});
    const r = await runCli(path.join(corpus, "agentform.yaml"), ["validate", "--format", "github", ...args], { NO_COLOR: "1" });
    expect(r.code).toBe(4);
    expect(r.code).toBe(json.code);
    const lines = r.stdout.split("\n");
    // The corpus lives in this repository: paths are relative to its root.
    expect(lines[2]).toBe(
      '::error file=tests/fixtures/invalid/agents/tool-unknown.yaml,line=9,col=9,title=AF-TOOL-UNKNOWN::tools[0].configs[2].name: "webfetch" is not a tool of agent_toolset_20260401; did you mean "web_fetch"? (hint: The agent toolset has: bash, edit, read, write, glob, grep, web_fetch, web_search.)',
    );
    const expected = (JSON.parse(json.stdout) as { diagnostics: { code: string; severity: string; file: string; line: number; column: number; path: string; message: string; hint: string }[] }).diagnostics;
    expect(lines.slice(0, -2).map(parse)).toEqual(
      expected.map((d) => ({ severity: d.severity, file: `tests/fixtures/invalid/${d.file}`, line: d.line, column: d.column, code: d.code, message: `${d.path}: ${d.message} (hint: ${d.hint})` })),
    );
    expect(lines.slice(-2)).toEqual(["✗ 3 problems in 2 files; 0 manifests valid", ""]);
  });

  it("prefixes the project's folder inside the git repository, and warnings are ::warning with exit 0", async () => {
    const p = await repoWithProject({ "agents/triage.yaml": "name: triage\nmodel: claude-haiku-5-5\n" }, "project: bots\npaths:\n  environments: envs\n");
    const r = await runCli(p.config, ["validate", "--format", "github"], { NO_COLOR: "1" });
    expect(r.code).toBe(0);
    const { lines, commands: cmds } = commands(r.stdout);
    expect(cmds).toHaveLength(1);
    expect(parse(cmds[0]!)).toMatchObject({ severity: "warning", file: "infra/bots/agentform.yaml", code: "AF-PATH-MISSING" });
    expect(lines.at(-2)).toMatch(/^✓ 1 agent valid \(1 warning\)$/);
  });

  it("makes paths relative to --annotation-root when given", async () => {
    const p = await repoWithProject({ "agents/triage.yaml": UNKNOWN_TOOL });
    const r = await runCli(p.config, ["validate", "--format", "github", "--annotation-root", path.join(p.root, "infra")], {});
    expect(r.code).toBe(4);
    expect(parse(commands(r.stdout).commands[0]!)).toMatchObject({ file: "bots/agents/triage.yaml", line: 6, column: 9, code: "AF-TOOL-UNKNOWN" });
  });

  it.skipIf(hasGitAbove(tmpdir()))("falls back to project-relative paths outside any git repository", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-gh-nogit-"));
    dirs.push(dir);
    await writeFile(path.join(dir, "agentform.yaml"), "project: bots\n");
    await mkdir(path.join(dir, "agents"));
    await writeFile(path.join(dir, "agents/triage.yaml"), UNKNOWN_TOOL);
    const r = await runCli(path.join(dir, "agentform.yaml"), ["validate", "--format", "github"], {});
    expect(parse(commands(r.stdout).commands[0]!)).toMatchObject({ file: "agents/triage.yaml", code: "AF-TOOL-UNKNOWN" });
  });

  it("annotates a broken agentform.yaml at its path in the repository, exit 4", async () => {
    const p = await repoWithProject({}, "project: bots\ntargets:\n  default:\n    bas_url: http://x\n");
    const r = await runCli(p.config, ["validate", "--format", "github"], { NO_COLOR: "1" });
    expect(r.code).toBe(4);
    const { commands: cmds, lines } = commands(r.stdout);
    expect(cmds.map(parse)).toEqual([expect.objectContaining({ severity: "error", file: "infra/bots/agentform.yaml", line: 4, column: 5, code: "AF-SCHEMA-UNKNOWN-KEY" })]);
    expect(lines).toContain("✗ the project config is invalid; no manifest was checked");
  });

  it("refuses --annotation-root without --format github as a usage error with a hint", async () => {
    const r = await runCli(path.join(repo, "agentform.yaml"), ["validate", "--annotation-root", repo], {});
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("[invalid-flag]");
    expect(r.stderr).toContain("hint:");
    expect(r.stdout).toBe("");
  });
});

describe("agentform validate --format github with hostile manifests", () => {
  it("never lets file names, keys or values start a workflow command of their own", async () => {
    // A file name with `,`, `:` and `%` (property delimiters and the escape character), another
    // with a newline followed by a command, and values and keys that try the same.
    const hostile = [
      "name: ok",
      "model: claude-haiku-5-5",
      "multiagent:",
      "  type: coordinator",
      "  agents:",
      '    - {type: agent, ref: "x\\n::add-mask::leak\\r::set-output name=a::b %0A"}',
      '"evil\\n::set-output name=x::y\\u2028::stop-commands::t": 1',
      "",
    ].join("\n");
    const p = await repoWithProject({ "agents/we,ird:50%.yaml": hostile, "agents/nl\n::add-mask::q.yaml": hostile.replace("name: ok", "name: ok2") });
    const json = await runCli(p.config, ["validate", "--format", "json"], {});
    const r = await runCli(p.config, ["validate", "--format", "github"], {});
    expect(r.code).toBe(4);
    const { lines, commands: cmds } = commands(r.stdout);
    const diagnostics = (JSON.parse(json.stdout) as { diagnostics: unknown[] }).diagnostics;
    expect(diagnostics.length).toBeGreaterThanOrEqual(4);
    // Exactly one command per diagnostic; every other line is the summary (or the final "").
    expect(cmds).toHaveLength(diagnostics.length);
    expect(lines.filter((l) => !COMMAND.test(l))).toEqual([expect.stringMatching(/^✗ \d+ problems in 2 files; 0 manifests valid$/), ""]);
    for (const line of cmds) expect(line).not.toMatch(/[\u0000-\u001f\u0085\u2028\u2029]/);
    const parsed = cmds.map(parse);
    expect(new Set(parsed.map((a) => a.file))).toEqual(new Set(["infra/bots/agents/we,ird:50%.yaml", "infra/bots/agents/nl\\n::add-mask::q.yaml"]));
    // The value's literal "%0A" survives the runner's unescaping as text, not as a line break.
    expect(parsed.find((a) => a.code === "AF-REF-UNKNOWN")!.message).toContain("%0A");
    for (const a of parsed) expect(a.message).not.toMatch(/[\r\n]/);
  });

  it("escapes raw CR, LF and % in the message and :, , in properties (the formatter on its own)", () => {
    const out = formatDiagnosticsGithub(
      [{ code: "AF-X:1,2", severity: "error", file: "a,b:c%d.yaml", line: 3, column: 4, path: "", message: "one\n::add-mask::two\r\n::set-output name=x::y 100%", hint: "h\n::warning::z" }],
      (file) => `sub/${file}`,
    );
    expect(out.split(/\r\n|\r|\n/)).toHaveLength(2);
    expect(out).toBe("::error file=sub/a%2Cb%3Ac%25d.yaml,line=3,col=4,title=AF-X%3A1%2C2::one\\n::add-mask::two\\r\\n::set-output name=x::y 100%25 (hint: h\\n::warning::z)\n");
    expect(parse(out.trimEnd())).toMatchObject({ file: "sub/a,b:c%d.yaml", code: "AF-X:1,2" });
  });
});

function hasGitAbove(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, ".git"))) return true;
    if (path.dirname(d) === d) return false;
  }
}
