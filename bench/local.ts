/**
 * List-page latency of the local control plane with 10,000 agents, measured in-process over real
 * HTTP with the real SDK. Run alone with `npx tsx bench/local.ts`, or through `npm run bench`.
 */
import Anthropic from "@anthropic-ai/sdk";
import { pathToFileURL } from "node:url";
import { startLocalControlPlane } from "../src/local/index.js";
import { seedAgents } from "../src/local/seed.js";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Seed 10,000 agents, walk them 100 per page three times, and report page latencies in ms. */
export async function benchLocal(agentCount = 10_000, passes = 3): Promise<Record<string, number>> {
  const cp = await startLocalControlPlane();
  try {
    const seedStarted = performance.now();
    seedAgents(cp, agentCount);
    const seedMs = performance.now() - seedStarted;
    const client = new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries: 0 });
    const pageMs: number[] = [];
    let walkMs = 0;
    for (let pass = 0; pass < passes; pass++) {
      const walkStarted = performance.now();
      let page = await timed(pageMs, () => client.beta.agents.list({ limit: 100 }));
      while (page.hasNextPage()) page = await timed(pageMs, () => page.getNextPage());
      walkMs += performance.now() - walkStarted;
    }
    const sorted = [...pageMs].sort((a, b) => a - b);
    return {
      agents: agentCount,
      pages: pageMs.length,
      seed_ms: round(seedMs),
      page_p50_ms: round(percentile(sorted, 50)),
      page_p95_ms: round(percentile(sorted, 95)),
      page_max_ms: round(sorted[sorted.length - 1] ?? 0),
      full_walk_ms: round(walkMs / passes),
    };
  } finally {
    await cp.close();
  }
}

async function timed<T>(into: number[], fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  into.push(performance.now() - started);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await benchLocal(), null, 2));
}
