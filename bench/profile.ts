/**
 * CPU profiles and figures for the two per-resource paths: `validate` (loadProject over the
 * bench/validate.ts fleet, against a bare `yaml` parse of the same files) and a no-op `plan`
 * after apply against the local control plane with 20 ms latency.
 *
 *   npx tsx bench/profile.ts validate [--prof out.cpuprofile]
 *   npx tsx bench/profile.ts plan 5000 [--prof out.cpuprofile]
 *
 * The fleet is applied with no latency (the apply is not what is measured), then latency is
 * set and one plan is timed (and profiled, with --prof). Figures are printed, never asserted.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import { loadConfig, loadProject } from "../src/manifest/index.js";
import { startLocalControlPlane } from "../src/local/index.js";
import { agentYaml, environmentYaml } from "./validate.js";
import { BUILT_CLI, cliOnce, run } from "./plan-apply.js";

const args = process.argv.slice(2);
const profOut = args.includes("--prof") ? args[args.indexOf("--prof") + 1] : undefined;

async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  if (profOut === undefined) return fn();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(profOut, JSON.stringify(profile));
    session.disconnect();
  }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function validate(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-profile-"));
  try {
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    await writeFile(path.join(dir, "agentform.yaml"), "project: bench\n");
    await Promise.all([
      ...Array.from({ length: 4000 }, (_, i) => writeFile(path.join(dir, "agents", `agent-${i}.yaml`), agentYaml(i))),
      ...Array.from({ length: 1000 }, (_, i) => writeFile(path.join(dir, "environments", `env-${i}.yaml`), environmentYaml(i))),
    ]);
    const files = [...(await readdir(path.join(dir, "agents"))).map((f) => path.join(dir, "agents", f)), ...(await readdir(path.join(dir, "environments"))).map((f) => path.join(dir, "environments", f))];
    const bare = () => {
      for (const f of files) parseDocument(readFileSync(f, "utf8")).toJS();
    };
    const config = await loadConfig({ cwd: dir });
    await loadProject(config);
    bare();
    const best = { bare: Infinity, load: Infinity };
    for (let i = 0; i < 5; i++) {
      let c = process.cpuUsage();
      bare();
      best.bare = Math.min(best.bare, cpuMs(c));
      c = process.cpuUsage();
      const r = await (i === 4 ? profiled(() => loadProject(config)) : loadProject(config));
      best.load = Math.min(best.load, cpuMs(c));
      if (r.diagnostics.length > 0) throw new Error(JSON.stringify(r.diagnostics[0]));
    }
    const us = (ms: number) => Math.round((ms * 1000) / files.length);
    console.log(`${files.length} manifests: loadProject ${us(best.load)} µs/manifest CPU, bare yaml parseDocument+toJS ${us(best.bare)} µs/manifest, ratio ${(best.load / best.bare).toFixed(2)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function plan(agents: number): Promise<void> {
  const environments = Math.max(1, Math.round(agents / 10));
  const cp = await startLocalControlPlane();
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-profile-"));
  try {
    await writeFile(path.join(dir, "agentform.yaml"), ["project: bench", "targets:", "  default:", `    base_url: ${cp.baseUrl}`, "    api_key_env: BENCH_KEY", "    writes_per_minute: 1000000", "    environment_concurrency: 50", ""].join("\n"));
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    const agentText = (i: number) => [`name: agent-${i}`, `model: claude-sonnet-5-5`, `description: Benchmark agent ${i}`, `system: You are benchmark agent number ${i}.`, `tools:`, `  - type: agent_toolset_20260401`, `    configs:`, `      - { name: bash, enabled: false }`, `metadata: { team: bench }`, ``].join("\n");
    const envText = (i: number) => [`name: env-${i}`, `config:`, `  type: cloud`, `  networking: { type: unrestricted }`, `  packages: { pip: [requests] }`, ``].join("\n");
    await Promise.all([
      ...Array.from({ length: agents }, (_, i) => writeFile(path.join(dir, "agents", `agent-${i}.yaml`), agentText(i))),
      ...Array.from({ length: environments }, (_, i) => writeFile(path.join(dir, "environments", `env-${i}.yaml`), envText(i))),
    ]);
    const applied = await run(cp, dir, ["apply", "--auto-approve", "--concurrency", "32"]);
    console.log(`apply (no latency): ${Math.round(applied.wallMs)} ms, ${applied.requests} requests, exit ${applied.exitCode}`);
    cp.setFaults({ latencyMs: 20 });
    const c = process.cpuUsage();
    const r = await profiled(() => run(cp, dir, ["plan", "--detailed-exitcode"]));
    console.log(`plan after apply, ${agents} agents + ${environments} envs, 20 ms latency, in-process (as bench/plan-apply.ts): ${Math.round(r.wallMs)} ms wall, ${Math.round(cpuMs(c))} ms CPU (server included), ${r.requests} requests (${r.reads}/${r.writes}), exit ${r.exitCode}`);
    console.log(`peak RSS of this process (server, apply and plan): ${Math.round((process.resourceUsage().maxRSS * 1024) / 1024 / 1024)} MiB`);
    // The plan alone, as a user runs it: its own process (through tsx), the server in this one.
    for (let i = 0; i < 2; i++) {
      cp.clearRequestLog();
      const child = await planInChild(dir, cp.apiKey);
      const log = cp.requestLog();
      console.log(`plan in its own process: ${child.wallMs} ms wall (main() only), peak RSS ${child.rssMiB} MiB, ${log.length} requests, exit ${child.exitCode}`);
    }
    // The built CLI (dist/bundle/, when built), as users run it: no tsx in the process.
    if (existsSync(BUILT_CLI)) {
      cp.clearRequestLog();
      const built = await cliOnce(dir, cp.apiKey, [], ["plan", "--detailed-exitcode"]);
      console.log(`plan by the built CLI (node bin/agentform.js plan): ${Math.round(built.wallMs)} ms wall with process start, peak RSS ${built.rssMiB} MiB, ${cp.requestLog().length} requests, exit ${built.exitCode}`);
    }
  } finally {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function planInChild(dir: string, key: string): Promise<{ wallMs: number; rssMiB: number; exitCode: number }> {
  const { spawn } = await import("node:child_process");
  const script = new URL(import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), script, "plan-child", ...(profOut !== undefined ? ["--prof", `${profOut}.child`] : [])], { cwd: dir, env: { ...process.env, BENCH_KEY: key, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += String(d)));
  await new Promise((resolve) => child.on("close", resolve));
  return JSON.parse(out.trim().split("\n").pop()!) as { wallMs: number; rssMiB: number; exitCode: number };
}

async function planChild(): Promise<void> {
  const { main } = await import("../src/cli/main.js");
  const { Writable } = await import("node:stream");
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const started = performance.now();
  // Where the memory is at its peak: heap (JS objects) or outside it (buffers).
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, rss: 0, at: 0 };
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) Object.assign(peak, { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, rss: m.rss, at: Math.round(performance.now() - started) });
  }, 20);
  const exitCode = await main(["node", "agentform", "plan", "--detailed-exitcode"], { stdout: sink(), stderr: sink(), env: process.env });
  clearInterval(sample);
  if (process.env.PROFILE_HEAP) (await import("node:v8")).writeHeapSnapshot(process.env.PROFILE_HEAP);
  const wallMs = Math.round(performance.now() - started);
  const mib = (n: number) => Math.round(n / 1024 / 1024);
  console.error(`  at peak (${peak.at} ms): rss ${mib(peak.rss)} MiB, heap used ${mib(peak.heapUsed)} of ${mib(peak.heapTotal)} MiB, external ${mib(peak.external)} MiB; at the end heap used ${mib(process.memoryUsage().heapUsed)} MiB`);
  console.log(JSON.stringify({ wallMs, exitCode, rssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

if (args[0] === "validate") await validate();
else if (args[0] === "plan-child") await profiled(planChild);
else if (args[0] === "plan") await plan(Number(args[1] ?? 5000));
else console.error("usage: npx tsx bench/profile.ts validate|plan N [--prof out.cpuprofile]");
