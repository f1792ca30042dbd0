/**
 * Plan/apply benchmark (the cost model in docs/architecture.md): for 100, 1,000 and 5,000 agents (plus one
 * environment per ten agents) against the local control plane with 20 ms injected latency,
 * the requests and wall time of: plan (cold), apply (all new), apply (10% changed), plan after
 * apply; and the process's peak RSS. Runs the real CLI in-process through the sdk backend.
 */
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
    } finally {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
