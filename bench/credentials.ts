/**
 * Credentials benchmark: 10 vaults of 20 credentials each (the API's most per vault) against the
 * local control plane with 20 ms injected latency. Every plan checks each secret against the slow
 * digest in its metadata (scrypt, on libuv's pool), so the no-change plan is where the cost shows:
 * the requests (one credentials list per vault) and the wall time of apply (all new), the plan
 * after it, and the plan after one variable changed.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startLocalControlPlane } from "../src/local/index.js";
import { run, type PlanApplyFigures } from "./plan-apply.js";

/** A plan/apply step's figures, counted in credentials instead of agents and environments. */
export type CredentialFigures = Omit<PlanApplyFigures, "agents" | "environments"> & { credentials: number };

const VAULTS = 10;
const PER_VAULT = 20;

async function writeVaults(dir: string): Promise<void> {
  await mkdir(path.join(dir, "vaults"), { recursive: true });
  for (let v = 0; v < VAULTS; v++) {
    const lines = [`display_name: vault-${v}`, "credentials:"];
    for (let c = 0; c < PER_VAULT; c++) {
      lines.push(`  c${c}:`, "    auth:", "      type: static_bearer", `      mcp_server_url: https://mcp-${c}.example.com/v${v}`, `      token_env: BENCH_TOKEN_${v}_${c}`);
      process.env[`BENCH_TOKEN_${v}_${c}`] = `token-${v}-${c}-first`;
    }
    await writeFile(path.join(dir, "vaults", `vault-${v}.yaml`), lines.join("\n") + "\n");
  }
}

export async function benchCredentials(): Promise<CredentialFigures[]> {
  const cp = await startLocalControlPlane({ faults: { latencyMs: 20 } });
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-bench-credentials-"));
  const figures: CredentialFigures[] = [];
  try {
    await writeFile(path.join(dir, "agentform.yaml"), ["project: bench", "targets:", "  default:", `    base_url: ${cp.baseUrl}`, "    api_key_env: BENCH_KEY", "    writes_per_minute: 1000000", ""].join("\n"));
    await writeVaults(dir);
    const record = (step: string, r: Awaited<ReturnType<typeof run>>) =>
      figures.push({ credentials: VAULTS * PER_VAULT, step, requests: r.requests, reads: r.reads, writes: r.writes, wallMs: Math.round(r.wallMs), exitCode: r.exitCode });
    record("apply (all new)", await run(cp, dir, ["apply", "--auto-approve", "--concurrency", "16"]));
    record("plan after apply", await run(cp, dir, ["plan", "--detailed-exitcode"]));
    process.env.BENCH_TOKEN_3_7 = "token-3-7-second";
    record("plan (one rotated)", await run(cp, dir, ["plan", "--detailed-exitcode"]));
  } finally {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
