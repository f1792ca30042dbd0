/**
 * The paused-holder race (an apply stopped for a minute by laptop sleep or SIGSTOP loses its run
 * lock, a second apply starts, the first resumes): no duplicate may be created.
 *
 * In-process: the executor checks the fence before every write and stops at the first failure.
 * Real processes: `agentform apply` twice against `agentform local serve`, the first one frozen
 * with SIGSTOP in the middle of its creates.
 */
import { execa, type ResultPromise } from "execa";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyPlan, type ApplyEvent } from "../../src/apply/index.js";
import { acquireRunLock, breakRunLock, type RunLock } from "../../src/apply/run-lock.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { SafetyError } from "../../src/errors.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { main } from "../../src/cli/main.js";
import { capture } from "../helpers/capture.js";
import { fleet, ORIGIN, planNow, PROJECT, resilient } from "./fleet.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const KEY_ENV = "AGENTFORM_TEST_KEY";
const AGENTS = 6;

describe("the executor's fence", () => {
  let cp: LocalControlPlane;
  let dir: string;
  beforeEach(async () => {
    cp = await startLocalControlPlane();
    dir = await mkdtemp(path.join(tmpdir(), "agentform-fence-"));
  });
  afterEach(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is checked before every write and every lockfile save: once the lock is broken nothing more is written or saved", async () => {
    const file = path.join(dir, ".agentform", "apply-default.lock");
    const lock = await acquireRunLock(file);
    const real = resilient(cp);
    let created = 0;
    let successor: RunLock | null = null;
    // The lock is broken (and taken by another apply) while the second create is in flight,
    // as if this process had been paused there.
    const backend: ControlPlane = Object.assign(Object.create(real) as ControlPlane, {
      create: async (...args: Parameters<ControlPlane["create"]>) => {
        const live = await real.create(...args);
        if (++created === 2) {
          await breakRunLock(file, { force: true });
          successor = await acquireRunLock(file);
        }
        return live;
      },
    });
    const f = { agents: fleet(AGENTS).agents.filter((a) => a.name.startsWith("worker-")), environments: [] };
    const plan = await planNow(real, f, null);
    const saved: Lockfile[] = [];
    const events: ApplyEvent[] = [];
    const result = await applyPlan(plan, backend, {
      project: PROJECT,
      concurrency: 1,
      lock: emptyLock(PROJECT, "default", ORIGIN),
      saveLock: async (l) => {
        saved.push(l);
      },
      onEvent: (e) => events.push(e),
      fence: lock.verify,
    });
    try {
      expect((await real.list("agent")).length).toBe(2);
      expect(result.writes).toBe(2);
      expect(result.failed.length).toBeGreaterThan(0);
      for (const { error } of result.failed) {
        expect(error).toBeInstanceOf(SafetyError);
        expect(error.code).toBe("run-lock-lost");
      }
      expect(result.failed.length + result.skipped.length).toBe(AGENTS - 1);
      // Only the save made while the lock was ours: the lockfile is left to the new holder.
      expect(saved.map((l) => Object.keys(l.agents).length)).toEqual([1]);
      expect(events.filter((e) => e.type === "done")).toHaveLength(1);
    } finally {
      await (successor as RunLock | null)?.release();
    }
  });
});

describe("agentform lock break (CLI, in-process)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-break-"));
    await writeFile(path.join(dir, "agentform.yaml"), "project: support-bots\ntargets:\n  default:\n    local: true\n  prod:\n    api_key_env: SOME_KEY\n");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function run(...args: string[]) {
    const out = capture();
    const err = capture();
    const code = await main(["node", "agentform", "lock", "break", ...args, "--config", path.join(dir, "agentform.yaml")], {
      stdout: out.stream,
      stderr: err.stream,
      env: { NO_COLOR: "1" },
    });
    return { code, stdout: out.text(), stderr: err.text() };
  }

  it("says so when there is no lock, removes another host's lock of the named target, and rejects an unknown target", async () => {
    const none = await run();
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^No apply lock for target "default" \(.*apply-default\.lock\); nothing to remove\.\n$/);
    const file = path.join(dir, ".agentform", "apply-prod.lock");
    await mkdir(path.dirname(file));
    await writeFile(file, JSON.stringify({ token: "t", pid: 4242, host: "ci-runner-7", since: "2026-01-02T03:04:05.000Z" }));
    const removed = await run("--target", "prod");
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed the apply lock of target "prod"');
    expect(removed.stdout).toContain("held by pid 4242 on ci-runner-7, taken 2026-01-02T03:04:05.000Z");
    expect(removed.stderr).toMatch(/stops before its next write/);
    expect(existsSync(file)).toBe(false);
    const unknown = await run("--target", "staging");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain("[target-unknown]");
  });
});

describe("a paused apply and a second apply, as real processes", () => {
  let dir: string;
  let config: string;
  let server: ResultPromise | null = null;
  let url = "";
  const children: ResultPromise[] = [];

  beforeAll(async () => {
    // `npm test` builds first; build here only when this file runs on its own.
    if (!existsSync(path.join(repo, "dist", "cli", "lock-break.js"))) await execa("npm", ["run", "build"], { cwd: repo });
  }, 120_000);

  beforeEach(async () => {
    // Every request waits 300 ms, so the first apply is frozen in the middle of its creates.
    server = execa(process.execPath, [path.join(repo, "bin", "agentform.js"), "local", "serve", "--port", "0", "--latency", "300"], { reject: false });
    url = await firstMatch(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/).then((m) => m[1] as string);
    dir = await mkdtemp(path.join(tmpdir(), "agentform-paused-"));
    config = path.join(dir, "agentform.yaml");
    await writeFile(config, `project: support-bots\ntargets:\n  default:\n    base_url: ${url}\n    api_key_env: ${KEY_ENV}\n    writes_per_minute: 6000\n`);
    await mkdir(path.join(dir, "agents"));
    for (let i = 0; i < AGENTS; i++) {
      await writeFile(path.join(dir, "agents", `bot-${i}.yaml`), `name: bot-${i}\nmodel: claude-sonnet-5-5\nsystem: You are bot ${i}.\n`);
    }
  });

  afterEach(async () => {
    // Never leave a stopped process behind.
    for (const child of children.splice(0)) {
      if (child.pid !== undefined && child.exitCode === null) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
      }
      await child;
    }
    server?.kill("SIGTERM");
    await server;
    await rm(dir, { recursive: true, force: true });
  });

  function agentform(...args: string[]): ResultPromise {
    const child = execa(process.execPath, [path.join(repo, "bin", "agentform.js"), ...args, "--config", config], {
      cwd: dir,
      reject: false,
      env: { [KEY_ENV]: ["local", "test", "key"].join("-"), NO_COLOR: "1" },
    });
    children.push(child);
    return child;
  }

  /**
   * Start an apply and freeze it with SIGSTOP while its third create is in flight. (Wrapped in
   * an object: an async function returning the subprocess itself would wait for it to exit.)
   */
  async function pausedApply(): Promise<{ first: ResultPromise }> {
    const first = agentform("apply", "--auto-approve", "--concurrency", "1");
    await firstMatch(first, new RegExp(`\\[2/${AGENTS}\\] \\+ agent\\.bot-\\d created`));
    // Half a request's latency after the second create was reported, the third is on the wire.
    await new Promise((resolve) => setTimeout(resolve, 150));
    first.kill("SIGSTOP");
    return { first };
  }

  async function liveNames(): Promise<string[]> {
    const sdk = createSdkBackend({ baseUrl: url, apiKey: "local-test-key" });
    return (await sdk.list("agent")).map((a) => a.name).sort();
  }
  const expected = Array.from({ length: AGENTS }, (_, i) => `bot-${i}`).sort();

  it("frozen past the staleness threshold, the first apply keeps its lock: the second refuses, the first resumes and finishes, no duplicate", async () => {
    const { first } = await pausedApply();
    // What 63 s of SIGSTOP leaves behind: a lock whose heartbeat is long stale, its pid alive.
    const past = new Date(Date.now() - 63_000);
    await utimes(path.join(dir, ".agentform", "apply-default.lock"), past, past);

    const second = await agentform("apply", "--auto-approve");
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toContain("[apply-in-progress]");
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain("agentform lock break --target default --force");

    first.kill("SIGCONT");
    const resumed = await first;
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toContain(`[${AGENTS}/${AGENTS}]`);
    expect(await liveNames()).toEqual(expected);
  }, 30_000);

  it("when the lock is broken while it is frozen, the resumed apply stops at its fence: no duplicate, and the new holder's lockfile stands", async () => {
    const { first } = await pausedApply();
    const refused = await agentform("lock", "break");
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain("[run-lock-held]");
    expect(refused.stderr).toContain("--force");

    const broken = await agentform("lock", "break", "--force");
    expect(broken.exitCode).toBe(0);
    expect(broken.stdout).toContain(`Removed the apply lock of target "default"`);
    expect(broken.stdout).toContain(`pid ${first.pid}`);

    const second = await agentform("apply", "--auto-approve");
    expect(second.exitCode).toBe(0);
    expect(await liveNames()).toEqual(expected);
    const lockfile = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
    expect(Object.keys((JSON.parse(lockfile) as Lockfile).agents).sort()).toEqual(expected);

    first.kill("SIGCONT");
    const resumed = await first;
    expect(resumed.exitCode).toBe(3);
    expect(resumed.stderr).toContain("[run-lock-lost]");
    expect(resumed.stderr).toMatch(/Apply stopped: this apply lost its run lock after \d+ write\(s\); agentform\.lock\.json was left to the apply that holds the lock now\./);
    expect(await liveNames()).toEqual(expected);
    expect(await readFile(path.join(dir, "agentform.lock.json"), "utf8")).toBe(lockfile);
  }, 30_000);
});

/** Resolve with the first match of `re` in the child's stdout; reject if it exits first. */
function firstMatch(child: ResultPromise, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = re.exec(out);
      if (m) {
        child.stdout?.off("data", onData);
        resolve(m);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", () => reject(new Error(`exited before printing ${re}: ${out}`)));
  });
}
