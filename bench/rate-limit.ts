/**
 * Rate-bound apply: the local control plane allows 300 writes per (real) minute, as the API's
 * documented create limit does, and answers the excess with 429 + retry-after; the target paces
 * at 300 a minute too. An apply of N new agents then cannot beat N/300 minutes by much (the
 * server's sliding window lets its first minute's worth through at once), and should not take
 * much longer: its 429s lower the pace for a while (AIMD, src/backends/pacing.ts), and none
 * surfaces. Reports the wall time against that bound and the 429s, as the server counted them
 * and as apply's summary reported them.
 *
 * N is `BENCH_RATE_AGENTS` (default 1,000, about 3.5 minutes; 0 skips it in `npm run bench`).
 * Run alone with `BENCH_RATE_AGENTS=100 npx tsx bench/rate-limit.ts`.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startLocalControlPlane } from "../src/local/index.js";
import { run } from "./plan-apply.js";

/** The API's documented organisation limit on creates, per minute. */
const LIMIT_PER_MINUTE = 300;

export interface RateBoundFigures {
  agents: number;
  limitPerMinute: number;
  pacePerMinute: number;
  wallMs: number;
  /** N / limit, in ms: what a client sending exactly at the limit would take. */
  boundMs: number;
  /** Writes the server answered 429. */
  rateLimited: number;
  /** apply's own `paced:` summary line, if it printed one. */
  summary: string | null;
  created: number;
  exitCode: number;
}

/** N from BENCH_RATE_AGENTS (default 1,000). */
export function rateBoundAgents(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BENCH_RATE_AGENTS?.trim();
  const n = raw === undefined || raw === "" ? 1000 : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`BENCH_RATE_AGENTS must be a whole number, not ${JSON.stringify(raw)}`);
  return n;
}

export async function benchRateBound(agents = rateBoundAgents(), pacePerMinute = LIMIT_PER_MINUTE): Promise<RateBoundFigures> {
  const cp = await startLocalControlPlane({ faults: { latencyMs: 20, writesPerMinute: LIMIT_PER_MINUTE } });
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-bench-rate-"));
  try {
    await writeFile(
      path.join(dir, "agentform.yaml"),
      ["project: bench", "targets:", "  default:", `    base_url: ${cp.baseUrl}`, "    api_key_env: BENCH_KEY", `    writes_per_minute: ${pacePerMinute}`, ""].join("\n"),
    );
    await mkdir(path.join(dir, "agents"));
    for (let i = 0; i < agents; i++) {
      await writeFile(path.join(dir, "agents", `agent-${i}.yaml`), `name: agent-${i}\nmodel: claude-sonnet-5-5\nsystem: You are rate-bound agent number ${i}.\n`);
    }
    const r = await run(cp, dir, ["apply", "--auto-approve", "--concurrency", "8"]);
    const writes = cp.requestLog().filter((e) => e.write);
    return {
      agents,
      limitPerMinute: LIMIT_PER_MINUTE,
      pacePerMinute,
      wallMs: Math.round(r.wallMs),
      boundMs: Math.round((agents / LIMIT_PER_MINUTE) * 60_000),
      rateLimited: writes.filter((e) => e.status === 429).length,
      summary: /^paced: .*$/m.exec(r.stdout)?.[0] ?? null,
      created: writes.filter((e) => e.status === 200).length,
      exitCode: r.exitCode,
    };
  } finally {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function rateBoundTable(f: RateBoundFigures): string {
  return [
    "| agents | server limit | pace | wall | bound (N/limit) | wall / bound | 429s | created | exit |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    `| ${f.agents} | ${f.limitPerMinute}/min | ${f.pacePerMinute}/min | ${(f.wallMs / 1000).toFixed(1)} s | ${(f.boundMs / 1000).toFixed(1)} s | ${(f.wallMs / Math.max(1, f.boundMs)).toFixed(2)} | ${f.rateLimited} | ${f.created} | ${f.exitCode} |`,
    f.summary === null ? "(apply printed no `paced:` line)" : `apply said: \`${f.summary}\``,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(rateBoundTable(await benchRateBound()));
}
