/**
 * Plan/apply benchmark (the cost model in docs/architecture.md): for 100, 1,000 and 5,000 agents (plus one
 * environment per ten agents) against the local control plane with 20 ms injected latency,
 * the requests and wall time of: plan (cold), apply (all new), apply (10% changed), plan after
 * apply. Runs the real CLI in-process through the sdk backend; then the no-change plan again as
 * users run it, the built CLI in its own process (5 runs: median wall, peak RSS median and
 * largest), once as shipped and once with V8's default heap settings (src/cli/heap.ts).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { main } from "../src/cli/main.js";
import type { Io } from "../src/cli/output.js";
import { startLocalControlPlane, type LocalControlPlane } from "../src/local/index.js";

export interface PlanApplyFigures {
  agents: number;
  environments: number;
  step: string;
  requests: number;
  reads: number;
  writes: number;
  wallMs: number;
  exitCode: number;
  /** Built-CLI rows only: peak RSS of the plan's own process, median and largest of the runs. */
  peakRssMiB?: { median: number; max: number };
}

const CLI_RUNS = 5;
const BIN = new URL("../bin/agentform.js", import.meta.url).pathname;
/** What bin/agentform.js runs; absent until `npm run build`. */
export const BUILT_CLI = new URL("../dist/bundle/main.js", import.meta.url);
/** Prints the process's peak RSS (KiB → MiB) on stderr as it exits. */
const REPORT_RSS = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write('\\npeak-rss-mib ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n'))")}`;

/** One built-CLI run: spawned, not awaited synchronously, since the server answering it runs in this process. */
export async function cliOnce(dir: string, key: string, nodeFlags: string[], args: string[]): Promise<{ wallMs: number; rssMiB: number; exitCode: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, "--import", REPORT_RSS, BIN, ...args], { cwd: dir, env: { ...process.env, BENCH_KEY: key, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  const exitCode = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  const rss = /peak-rss-mib (\d+)/.exec(stderr);
  if (!rss) throw new Error(`built CLI printed no RSS (exit ${exitCode}): ${stderr.slice(0, 500)}`);
  return { wallMs: performance.now() - started, rssMiB: Number(rss[1]), exitCode };
}

/** The built CLI's plan, CLI_RUNS times: median wall and requests, RSS median and largest. */
async function cliPlan(cp: LocalControlPlane, dir: string, nodeFlags: string[]): Promise<Omit<PlanApplyFigures, "agents" | "environments" | "step">> {
  const runs: Array<{ wallMs: number; rssMiB: number; exitCode: number; requests: number; writes: number }> = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    cp.clearRequestLog();
    const r = await cliOnce(dir, cp.apiKey, nodeFlags, ["plan", "--detailed-exitcode"]);
    const log = cp.requestLog();
    runs.push({ ...r, requests: log.length, writes: log.filter((e) => e.write).length });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const requests = median(runs.map((r) => r.requests));
  const writes = Math.max(...runs.map((r) => r.writes));
  return {
    requests,
    reads: requests - writes,
    writes,
    wallMs: Math.round(median(runs.map((r) => r.wallMs))),
    exitCode: Math.max(...runs.map((r) => r.exitCode)),
    peakRssMiB: { median: median(runs.map((r) => r.rssMiB)), max: Math.max(...runs.map((r) => r.rssMiB)) },
  };
}

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = "";
  return w;
}

async function writeFleet(dir: string, agents: number, environments: number, changedEvery: number | null): Promise<void> {
  await mkdir(path.join(dir, "agents"), { recursive: true });
  await mkdir(path.join(dir, "environments"), { recursive: true });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < agents; i++) {
    const changed = changedEvery !== null && i % changedEvery === 0;
    writes.push(
      writeFile(
        path.join(dir, "agents", `agent-${i}.yaml`),
        [
          `name: agent-${i}`,
          `model: claude-sonnet-5-5`,
          `description: Benchmark agent ${i}${changed ? " (changed)" : ""}`,
          `system: You are benchmark agent number ${i}.`,
          `tools:`,
          `  - type: agent_toolset_20260401`,
          `    configs:`,
          `      - { name: bash, enabled: false }`,
          `metadata: { team: bench }`,
          ``,
        ].join("\n"),
      ),
    );
  }
  for (let i = 0; i < environments; i++) {
    writes.push(
      writeFile(
        path.join(dir, "environments", `env-${i}.yaml`),
        [`name: env-${i}`, `config:`, `  type: cloud`, `  networking: { type: unrestricted }`, `  packages: { pip: [requests] }`, ``].join("\n"),
      ),
    );
  }
  await Promise.all(writes);
}

export async function run(
  cp: LocalControlPlane,
  dir: string,
  args: string[],
): Promise<{ exitCode: number; wallMs: number; requests: number; reads: number; writes: number; stdout: string }> {
  cp.clearRequestLog();
  const stdout = sink();
  const stderr = sink();
  const io: Io = { stdout, stderr, env: { ...process.env, BENCH_KEY: cp.apiKey, NO_COLOR: "1" } };
  const previous = process.cwd();
  process.chdir(dir);
  const started = performance.now();
  try {
    const exitCode = await main(["node", "agentform", ...args], io);
    const wallMs = performance.now() - started;
    const log = cp.requestLog();
    if (exitCode !== 0 && exitCode !== 2) process.stderr.write(stderr.text.slice(0, 2000));
    return { exitCode, wallMs, requests: log.length, reads: log.filter((e) => !e.write).length, writes: log.filter((e) => e.write).length, stdout: stdout.text };
  } finally {
    process.chdir(previous);
  }
}

export async function benchPlanApply(sizes: number[] = [100, 1000, 5000]): Promise<PlanApplyFigures[]> {
  const figures: PlanApplyFigures[] = [];
  for (const agents of sizes) {
    const environments = Math.max(1, Math.round(agents / 10));
    const cp = await startLocalControlPlane({ faults: { latencyMs: 20 } });
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-bench-"));
    try {
      await writeFile(
        path.join(dir, "agentform.yaml"),
        [
          "project: bench",
          "targets:",
          "  default:",
          `    base_url: ${cp.baseUrl}`,
          "    api_key_env: BENCH_KEY",
          // Unpaced: the benchmark measures agentform and the server, not the API's rate limit.
          "    writes_per_minute: 1000000",
          "    environment_concurrency: 5",
          "",
        ].join("\n"),
      );
      await writeFleet(dir, agents, environments, null);
      const record = (step: string, r: Awaited<ReturnType<typeof run>>) =>
        figures.push({ agents, environments, step, requests: r.requests, reads: r.reads, writes: r.writes, wallMs: Math.round(r.wallMs), exitCode: r.exitCode });

      record("plan (cold)", await run(cp, dir, ["plan", "--detailed-exitcode"]));
      record("apply (all new)", await run(cp, dir, ["apply", "--auto-approve", "--concurrency", "16"]));
      await writeFleet(dir, agents, environments, 10);
      record("apply (10% changed)", await run(cp, dir, ["apply", "--auto-approve", "--concurrency", "16"]));
      record("plan after apply", await run(cp, dir, ["plan", "--detailed-exitcode"]));
      if (existsSync(BUILT_CLI)) {
        figures.push({ agents, environments, step: "plan after apply, built CLI", ...(await cliPlan(cp, dir, [])) });
        // Any heap flag of the user's own turns agentform's settings off; this one is V8's default.
        figures.push({ agents, environments, step: "same, V8 default heap", ...(await cliPlan(cp, dir, ["--heap-growing-percent=0"])) });
      }
    } finally {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
