/**
 * Hostile files and values through loadConfig/loadProject, with real FIFOs, devices and
 * symbolic links in temporary folders: refused with a code, never a hang, a stack trace or an
 * unbounded read.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rejectionOf } from "../helpers/rejection.js";
import { ConfigError } from "../../src/errors.js";
import { loadConfig, loadProject } from "../../src/manifest/index.js";
import { LineIndex, MAX_DEPTH, parseYaml } from "../../src/manifest/source.js";
import type { Diagnostic } from "../../src/manifest/types.js";

const dirs: string[] = [];
const writers: ChildProcess[] = [];
afterEach(async () => {
  for (const child of writers.splice(0)) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A real FIFO, plus a safety net: a writer that opens it after a while, so that code which
 * (wrongly) opens the FIFO gets an empty read and fails its assertions instead of blocking the
 * whole test run forever. Code that never opens it leaves the writer waiting until afterEach.
 */
function fifo(file: string): void {
  execFileSync("mkfifo", [file]);
  // In a process group of its own, which also ends itself after a minute (`kill 0`), should this
  // test process die before afterEach.
  writers.push(spawn("sh", ["-c", '(sleep 60; kill 0) & sleep 2; exec 3>"$0"', file], { stdio: "ignore", detached: true }));
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-hostile-"));
  dirs.push(dir);
  return dir;
}

async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [file, content] of Object.entries({ "agentform.yaml": "project: demo\n", ...files })) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

const configError = (promise: Promise<unknown>) => rejectionOf(promise, ConfigError);

const codes = (diags: Diagnostic[]) => diags.map((d) => `${d.file} ${d.code}`);
const AGENT = "name: ok\nmodel: claude-sonnet-5-5\n";

describe("files that are not regular files", () => {
  it("a FIFO among the manifests is refused without opening it (no hang), and the rest still loads", async () => {
    const dir = await project({ "agents/ok.yaml": AGENT });
    fifo(path.join(dir, "agents", "pipe.yaml"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(codes(result.diagnostics)).toEqual(["agents/pipe.yaml AF-FILE-NOT-REGULAR"]);
    expect(result.diagnostics[0]!.message).toContain("named pipe (FIFO)");
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["ok"]);
  });

  it("a FIFO named on the command line is refused too", async () => {
    const dir = await project({ "agents/ok.yaml": AGENT });
    fifo(path.join(dir, "agents", "named.yml"));
    const result = await loadProject(await loadConfig({ cwd: dir }), { paths: ["agents/named.yml"] });
    expect(codes(result.diagnostics)).toEqual(["agents/named.yml AF-FILE-NOT-REGULAR"]);
  });

  it("/dev/zero or a FIFO as agentform.yaml is AF-FILE-NOT-REGULAR, not an endless read", async () => {
    const dir = await tempDir();
    fifo(path.join(dir, "agentform.yaml"));
    for (const configPath of ["/dev/zero", path.join(dir, "agentform.yaml")]) {
      const err = await configError(loadConfig({ cwd: dir, configPath }));
      expect(err.code).toBe("AF-CONFIG-INVALID");
      expect((err.details!.diagnostics as Diagnostic[]).map((d) => d.code)).toEqual(["AF-FILE-NOT-REGULAR"]);
    }
  });

  it("a symlink to /dev/zero inside the project is refused as outside the project, unread", async () => {
    const dir = await project({});
    await mkdir(path.join(dir, "agents"));
    await symlink("/dev/zero", path.join(dir, "agents", "zero.yaml"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(codes(result.diagnostics)).toEqual(["agents/zero.yaml AF-PATH-OUTSIDE"]);
  });
});

describe("paths outside the project", () => {
  it("a manifest symlinked from outside the project is refused and not read", async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, "stolen.yaml"), "name: stolen\nmodel: claude-sonnet-5-5\n");
    const dir = await project({ "agents/ok.yaml": AGENT, "agents/inner/real.yaml": "name: real\nmodel: claude-sonnet-5-5\n" });
    await symlink(path.join(outside, "stolen.yaml"), path.join(dir, "agents", "stolen.yaml"));
    // A link that stays inside the project is followed as before.
    await symlink(path.join(dir, "agents", "inner", "real.yaml"), path.join(dir, "agents", "alias.yaml"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(codes(result.diagnostics)).toEqual(["agents/alias.yaml AF-NAME-DUPLICATE", "agents/inner/real.yaml AF-NAME-DUPLICATE", "agents/stolen.yaml AF-PATH-OUTSIDE"]);
    expect(JSON.stringify(result)).not.toContain('"stolen"');
  });

  it("a symlinked folder inside the project is followed (skipping it would make its agents look deleted), once, even in a loop", async () => {
    const dir = await project({ "agents/ok.yaml": AGENT, "shared/team/t1.yaml": "name: t1\nmodel: claude-sonnet-5-5\n" });
    await symlink(path.join("..", "shared", "team"), path.join(dir, "agents", "team"));
    // A loop back up the tree must end, and must not load anything twice.
    await symlink("..", path.join(dir, "shared", "team", "up"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.agent.map((a) => a.name).sort()).toEqual(["ok", "t1"]);
  });

  it("a symlinked folder leading outside the project is refused, not skipped silently", async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, "x.yaml"), "name: x\nmodel: claude-sonnet-5-5\n");
    const dir = await project({ "agents/ok.yaml": AGENT });
    await symlink(outside, path.join(dir, "agents", "team"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(codes(result.diagnostics)).toEqual(["agents/team AF-PATH-OUTSIDE"]);
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["ok"]);
  });

  it.each([["/etc"], ["../elsewhere"], ["agents/../../elsewhere"]])("paths.agents: %s is refused in agentform.yaml", async (given) => {
    const dir = await project({ "agentform.yaml": `project: demo\npaths:\n  agents: ${given}\n` });
    const err = await configError(loadConfig({ cwd: dir }));
    const diags = err.details!.diagnostics as Diagnostic[];
    expect(diags.map((d) => `${d.line}:${d.column} ${d.path} ${d.code}`)).toEqual(["3:3 paths.agents AF-PATH-OUTSIDE"]);
    expect(err.exitCode).toBe(4);
  });

  it("a configured folder that is a symlink to a folder outside the project is not scanned", async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, "x.yaml"), "name: x\nmodel: claude-sonnet-5-5\n");
    const dir = await project({ "agentform.yaml": "project: demo\npaths: {agents: bots}\n" });
    await symlink(outside, path.join(dir, "bots"));
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.path} ${d.code}`)).toEqual(["agentform.yaml paths.agents AF-PATH-OUTSIDE"]);
    expect(result.manifests.agent).toEqual([]);
  });

  it("a path given on the command line outside the project is refused", async () => {
    const outside = await tempDir();
    await writeFile(path.join(outside, "x.yaml"), "name: x\nmodel: claude-sonnet-5-5\n");
    const dir = await project({ "agents/ok.yaml": AGENT });
    const result = await loadProject(await loadConfig({ cwd: dir }), { paths: [path.join(outside, "x.yaml")], cwd: dir });
    expect(result.diagnostics.map((d) => d.code)).toEqual(["AF-PATH-OUTSIDE"]);
    expect(result.manifests.agent).toEqual([]);
  });
});

describe("values nested too deeply", () => {
  const nested = (levels: number) => "{type: object, properties: {x: ".repeat(levels) + "{type: string}" + "}}".repeat(levels);
  const agentWithSchema = (schema: string) => `name: deep\nmodel: claude-sonnet-5-5\ntools:\n  - type: custom\n    name: deep\n    description: d\n    input_schema: ${schema}\n`;

  it("a 700-level input_schema is AF-VALUE-DEPTH at validate time", async () => {
    const dir = await project({ "agents/deep.yaml": agentWithSchema(nested(350)) });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.line} ${d.code}`)).toEqual(["7 AF-VALUE-DEPTH"]);
    expect(result.manifests.agent).toEqual([]);
  });

  it("accepts exactly 64 levels and refuses 65", () => {
    // The root mapping is level 1, each [ opens one more.
    const at = (levels: number) => `a: ${"[".repeat(levels - 1)}1${"]".repeat(levels - 1)}\n`;
    const parse = (text: string) => parseYaml(text, { file: "x.yaml", lines: new LineIndex(text) });
    expect(parse(at(MAX_DEPTH)).diagnostics).toEqual([]);
    expect(parse(at(MAX_DEPTH + 1)).diagnostics.map((d) => d.code)).toEqual(["AF-VALUE-DEPTH"]);
  });

  it("100,000 nested brackets are AF-VALUE-DEPTH, not a crash", () => {
    const text = `a: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
    expect(parseYaml(text, { file: "x.yaml", lines: new LineIndex(text) }).diagnostics.map((d) => d.code)).toEqual(["AF-VALUE-DEPTH"]);
  });

  it("aliases that nest an anchor inside itself past the limit are AF-VALUE-DEPTH", () => {
    const deep = "[".repeat(40) + "1" + "]".repeat(40);
    const text = `a: &x ${deep}\nb: ${"[".repeat(30)}*x${"]".repeat(30)}\n`;
    expect(parseYaml(text, { file: "x.yaml", lines: new LineIndex(text) }).diagnostics.map((d) => d.code)).toEqual(["AF-VALUE-DEPTH"]);
  });
});

describe("keys", () => {
  it.each([
    ["1 and '1'", "1: a\n'1': b\n"],
    ["true and 'true'", "true: a\n'true': b\n"],
    ["null and ''", "null: a\n'': b\n"],
    ["0x1 and 1", "0x1: a\n1: b\n"],
  ])("%s collide once read as strings: AF-YAML-DUPLICATE-KEY on the second", (_what, body) => {
    const text = `name: n\n${body}`;
    const parsed = parseYaml(text, { file: "x.yaml", lines: new LineIndex(text) });
    expect(parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)).toEqual(["3:1 AF-YAML-DUPLICATE-KEY"]);
  });

  it("names and keys __proto__ and constructor work like any other", async () => {
    const dir = await project({
      "agents/proto.yaml": "name: __proto__\nmodel: claude-sonnet-5-5\nmetadata:\n  __proto__: polluted\n  constructor: x\n  toString: y\n",
      "agents/ctor.yaml": "name: constructor\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents: [{type: agent, ref: __proto__}]\n",
      "environments/e.yaml": "name: hasOwnProperty\nconfig: {type: cloud, networking: {type: unrestricted}}\n",
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.agent.map((a) => a.name)).toEqual(["constructor", "__proto__"]);
    const metadata = result.manifests.agent[1]!.spec.metadata as Record<string, unknown>;
    expect(Object.keys(metadata)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a top-level key named constructor or __proto__ is an unknown key like any other", async () => {
    const dir = await project({ "agents/k.yaml": "name: k\nmodel: claude-sonnet-5-5\nconstructor: 1\n__proto__: {name: other}\n" });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.line} ${d.path} ${d.code}`)).toEqual(["3 constructor AF-SCHEMA-UNKNOWN-KEY", "4 __proto__ AF-SCHEMA-UNKNOWN-KEY"]);
  });
});
