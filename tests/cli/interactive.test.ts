/**
 * apply's confirmation prompt on a real pseudo-terminal: the built CLI runs under util-linux
 * `script`, so stdin/stdout are a pty exactly as for a person at a terminal (no isTTY faking).
 * The target is a local control plane in this process, reached over real HTTP.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import type { Lockfile } from "../../src/lock/types.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(REPO, "bin", "agentform.js");
const KEY_ENV = "AGENTFORM_PTY_TEST_KEY";
// A fake key, assembled so no credential-shaped literal sits in the repository.
const API_KEY = ["sk", "ant", "pty", "test", "8e21c4b0a9f3"].join("-");
const PROMPT = "Apply these changes? Only 'y' or 'yes' applies. [y/N] ";
const RUN_TIMEOUT_MS = 15_000;

interface PtyRun {
  code: number | null;
  /** Everything the terminal showed: stdout, stderr and the echo of what was typed. */
  output: string;
  prompted: boolean;
  /** Writes the server had seen when the prompt appeared (null: never prompted). */
  writesAtPrompt: number | null;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe("agentform apply confirmation (built CLI on a pty via script(1))", () => {
  let cp: LocalControlPlane;
  let dir: string;
  let config: string;
  const writes = () => cp.requestLog().filter((e) => e.write);
  const lockPath = () => path.join(dir, "agentform.lock.json");
  const childEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TERM: "xterm",
    NO_COLOR: "1",
    [KEY_ENV]: API_KEY,
  });

  /** Runs `agentform <args>` under script(1); types `answer` + Enter once the prompt shows. */
  function onPty(args: string[], answer: string | null): Promise<PtyRun> {
    const command = ["node", BIN, ...args, "--config", config].map(quote).join(" ");
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { cwd: dir, env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    let prompted = false;
    let writesAtPrompt: number | null = null;
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (!prompted && output.includes(PROMPT)) {
        prompted = true;
        writesAtPrompt = writes().length;
        // A terminal sends CR for Enter; the pty's line discipline turns it into a newline.
        if (answer !== null) child.stdin.write(`${answer}\r`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`agentform ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms; terminal showed:\n${output}`));
      }, RUN_TIMEOUT_MS);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, output: output.replace(/\r\n/g, "\n"), prompted, writesAtPrompt });
      });
    });
  }

  /** Runs the built CLI with stdin a pipe (not a terminal) that is closed at once. */
  function withoutTty(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn("node", [BIN, ...args, "--config", config], { cwd: dir, env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`agentform ${args.join(" ")} did not finish within ${RUN_TIMEOUT_MS} ms`));
      }, RUN_TIMEOUT_MS);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  beforeAll(() => {
    // script(1) is part of util-linux; without it this suite cannot test a real terminal.
    expect(execFileSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).trim()).not.toBe("");
    if (!existsSync(path.join(REPO, "dist", "cli", "main.js"))) {
      try {
        execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: REPO, stdio: "pipe" });
      } catch {
        // tsc still emits when other files have type errors; what matters is the entry point below.
      }
      expect(existsSync(path.join(REPO, "dist", "cli", "main.js"))).toBe(true);
    }
  }, 120_000);

  beforeEach(async () => {
    cp = await startLocalControlPlane({ apiKey: API_KEY });
    dir = await mkdtemp(path.join(tmpdir(), "agentform-pty-"));
    config = path.join(dir, "agentform.yaml");
    await writeFile(config, `project: pty-bots\ntargets:\n  default:\n    base_url: ${cp.baseUrl}\n    api_key_env: ${KEY_ENV}\n    writes_per_minute: 100000\n`);
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    await writeFile(path.join(dir, "agents", "triage.yaml"), "name: triage\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets.\n");
    await writeFile(path.join(dir, "environments", "sandbox.yaml"), "name: sandbox\nconfig:\n  type: cloud\n");
  });

  afterEach(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answering n cancels: exit 1, 'nothing was written', no write request, no lockfile", async () => {
    const result = await onPty(["apply"], "n");
    expect(result.prompted, result.output).toBe(true);
    expect(result.writesAtPrompt).toBe(0);
    expect(result.output).toMatch(/Plan: 2 to create/);
    // The plan is shown before the question.
    expect(result.output.indexOf("agent.triage")).toBeLessThan(result.output.indexOf(PROMPT));
    expect(result.output).toMatch(/Apply cancelled; nothing was written\./);
    // A declined apply is not a success (like terraform), so `apply && deploy` stops.
    expect(result.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(cp.requestLog().every((e) => e.method === "GET")).toBe(true);
    expect(existsSync(lockPath())).toBe(false);
    expect(result.output).not.toContain(API_KEY);
  });

  it("just pressing Enter takes the default, No", async () => {
    const result = await onPty(["apply"], "");
    expect(result.prompted, result.output).toBe(true);
    expect(result.output).toMatch(/Apply cancelled; nothing was written\./);
    expect(result.code).toBe(1);
    expect(writes()).toEqual([]);
    expect(existsSync(lockPath())).toBe(false);
  });

  it("Ctrl+C at the prompt cancels: nothing written, exit 130, no internal error", async () => {
    const result = await onPty(["apply"], "\u0003");
    expect(result.prompted, result.output).toBe(true);
    expect(result.code).toBe(130);
    expect(result.output).toMatch(/Apply cancelled; nothing was written\./);
    expect(result.output).not.toMatch(/internal/);
    expect(result.output).not.toMatch(/\n\s+at /);
    expect(writes()).toEqual([]);
    expect(existsSync(lockPath())).toBe(false);
  });

  it("Ctrl+D (end of input) at the prompt is a plain no: exit 1, nothing written", async () => {
    const result = await onPty(["apply"], "\u0004");
    expect(result.prompted, result.output).toBe(true);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Apply cancelled; nothing was written\./);
    expect(writes()).toEqual([]);
    expect(existsSync(lockPath())).toBe(false);
  });

  it("answering y applies after the prompt, writes the lockfile; a rerun has nothing to ask", async () => {
    const result = await onPty(["apply"], "y");
    expect(result.prompted, result.output).toBe(true);
    expect(result.writesAtPrompt).toBe(0);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/cancelled/);
    expect(result.output).toMatch(/\] \+ agent\.triage created \(v1\)/);
    expect(result.output).toMatch(/\] \+ environment\.sandbox created/);
    expect(result.output).toMatch(/Apply complete: 2 write\(s\)\. Lockfile: agentform\.lock\.json/);
    expect(writes().map((e) => `${e.method} ${e.path}`).sort()).toEqual(["POST /v1/agents", "POST /v1/environments"]);
    const lock = JSON.parse(await readFile(lockPath(), "utf8")) as Lockfile;
    expect(Object.keys(lock.agents)).toEqual(["triage"]);
    expect(lock.agents.triage?.version).toBe(1);
    expect(Object.keys(lock.environments)).toEqual(["sandbox"]);
    expect(result.output).not.toContain(API_KEY);

    cp.clearRequestLog();
    const again = await onPty(["apply"], null);
    expect(again.prompted).toBe(false);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/No changes/);
    expect(writes()).toEqual([]);
  });

  it("without a terminal and without --auto-approve: exit 4, a hint naming --auto-approve, nothing sent", async () => {
    const result = await withoutTty(["apply"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/stdin is not a terminal/);
    expect(result.stderr).toMatch(/hint: .*--auto-approve/);
    expect(result.stderr).toMatch(/\[approval-required\]/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).not.toContain(PROMPT);
    expect(cp.requestLog()).toEqual([]);
    expect(existsSync(lockPath())).toBe(false);
  });
});
