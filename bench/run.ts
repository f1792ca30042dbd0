/**
 * `npm run bench`: every benchmark, one report, also written as JSON to
 * .agentform/bench-summary.json. Figures are printed, never asserted: timing belongs here, not
 * in the test suite. `BENCH_SIZES=100,1000` limits the plan/apply sizes;
 * `BENCH_RATE_AGENTS=100` shrinks the rate-bound apply (default 1,000 agents, about 3.5 minutes),
 * and `BENCH_RATE_AGENTS=0` skips it.
 */
import { benchValidate } from "./validate.js";
import { benchLocal } from "./local.js";
import { benchPlanApply } from "./plan-apply.js";
import { benchCredentials } from "./credentials.js";
import { benchRateBound, rateBoundAgents, rateBoundTable } from "./rate-limit.js";
import { benchStartup } from "./startup.js";
import { mkdirSync, writeFileSync } from "node:fs";

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

const sizes = (process.env.BENCH_SIZES ?? "100,1000,5000,10000").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);

console.log("# agentform benchmarks\n");
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);

const summary: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };

console.log("## start-up (built CLI, own process; median of 7)");
summary.startup = benchStartup();
console.log(JSON.stringify(summary.startup, null, 2));

console.log("\n## validate (5,000 generated manifests)");
summary.validate = await benchValidate();
console.log(JSON.stringify(summary.validate, null, 2));

console.log("\n## local control plane (10,000 agents, list page latency in-process)");
summary.local = await benchLocal();
console.log(JSON.stringify(summary.local, null, 2));

console.log("\n## plan / apply against the local control plane (20 ms injected latency)");
console.log("| agents | envs | step | requests (reads/writes) | wall | peak RSS (median, max of 5) | exit |");
console.log("|---:|---:|---|---:|---:|---:|---:|");
summary.planApply = await benchPlanApply(sizes);
for (const f of summary.planApply as Awaited<ReturnType<typeof benchPlanApply>>) {
  const rss = f.peakRssMiB ? `${f.peakRssMiB.median} MiB, ${f.peakRssMiB.max} MiB` : "";
  console.log(`| ${f.agents} | ${f.environments} | ${f.step} | ${f.requests} (${f.reads}/${f.writes}) | ${(f.wallMs / 1000).toFixed(2)} s | ${rss} | ${f.exitCode} |`);
}
console.log("\n## vault credentials (10 vaults × 20, 20 ms injected latency; every plan checks each secret's scrypt digest)");
console.log("| credentials | step | requests (reads/writes) | wall | exit |");
console.log("|---:|---|---:|---:|---:|");
summary.credentials = await benchCredentials();
for (const f of summary.credentials as Awaited<ReturnType<typeof benchCredentials>>) {
  console.log(`| ${f.credentials} | ${f.step} | ${f.requests} (${f.reads}/${f.writes}) | ${(f.wallMs / 1000).toFixed(2)} s | ${f.exitCode} |`);
}
const rateAgents = rateBoundAgents();
if (rateAgents > 0) {
  console.log(`\n## rate-bound apply (${rateAgents} new agents; server allows 300 writes a minute, pace 300 a minute, 20 ms injected latency)`);
  summary.rateBound = await benchRateBound(rateAgents);
  console.log(rateBoundTable(summary.rateBound as Awaited<ReturnType<typeof benchRateBound>>));
}
summary.peakRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(`\npeak RSS of the bench process (server and in-process runs): ${mib(summary.peakRssBytes as number)}`);
mkdirSync(".agentform", { recursive: true });
writeFileSync(".agentform/bench-summary.json", `${JSON.stringify(summary, null, 2)}\n`);
console.log("summary: .agentform/bench-summary.json");
