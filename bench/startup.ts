/**
 * Start-up cost of small commands, in their own processes as users run them (the built CLI):
 * `--version` and `validate` of the example fleet, each against a bare `node -e 0` on the same
 * machine. The median of several runs, since process start-up is noisy.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = 7;

function medianMs(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const out = spawnSync(process.execPath, args, { cwd: repo, stdio: "ignore" });
    if (out.status !== 0) throw new Error(`node ${args.join(" ")} exited ${out.status}`);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

export interface StartupFigures {
  nodeMs: number;
  versionMs: number;
  versionVsNode: number;
  validateMs: number;
  validateVsNode: number;
}

export function benchStartup(): StartupFigures {
  const nodeMs = medianMs(["-e", "0"]);
  const versionMs = medianMs(["bin/agentform.js", "--version"]);
  const validateMs = medianMs(["bin/agentform.js", "validate"]);
  const ratio = (ms: number) => Math.round((ms / nodeMs) * 100) / 100;
  return { nodeMs: Math.round(nodeMs), versionMs: Math.round(versionMs), versionVsNode: ratio(versionMs), validateMs: Math.round(validateMs), validateVsNode: ratio(validateMs) };
}
