/**
 * 10,000 agents: listing them 100 at a time stays fast, because a page costs O(page). And a
 * state file of 50,000 agents loads: its check is linear in the number of versions.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { seedAgents } from "../../src/local/seed.js";
import { clientFor } from "./helpers.js";

let cp: LocalControlPlane;
let ids: string[];
beforeAll(async () => {
  cp = await startLocalControlPlane();
  ids = seedAgents(cp, 10_000);
});
afterAll(async () => {
  await cp.close();
});

describe("10,000 agents", () => {
  it("lists all of them with limit 100 in exactly 100 pages", async () => {
    const client = clientFor(cp);
    const started = performance.now();
    const seen: string[] = [];
    for await (const a of client.beta.agents.list({ limit: 100 })) seen.push(a.id);
    const elapsed = performance.now() - started;
    expect(seen).toHaveLength(10_000);
    expect(seen).toEqual(ids);
    expect(cp.requestLog()).toHaveLength(100);
    // Generous bound for a 2-core CI machine; a quadratic cursor would take far longer.
    expect(elapsed).toBeLessThan(15_000);
  });

  it("seeded agents carry the same server-resolved defaults as API-created ones", async () => {
    const client = clientFor(cp);
    const first = await client.beta.agents.retrieve(ids[0] as string);
    expect(first.model).toEqual({ id: "claude-haiku-4-5", effort: { type: "medium" }, speed: "standard" });
    expect(first.version).toBe(1);
  });
});

describe("a state file of 50,000 agents", () => {
  // A guard by work done, not a timing assertion: the roster index used to be rebuilt for every
  // agent version, so this load did about 50,000² steps (minutes; 8,000 agents took 4 s) and
  // ran into the test timeout. Checked once per file, it takes well under a second.
  it("loads, each entry still checked", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-local-scale-"));
    try {
      const stateFile = path.join(dir, "state.json");
      const writer = await startLocalControlPlane({ stateFile });
      await clientFor(writer).beta.agents.create({ name: "one", model: "claude-haiku-4-5" });
      await writer.close();
      const doc = JSON.parse(await readFile(stateFile, "utf8")) as { agents: Array<Record<string, unknown>> };
      const record = doc.agents[0]!;
      doc.agents = Array.from({ length: 50_000 }, (_, i) => ({ ...record, id: `agent_011${String(i).padStart(8, "0")}` }));
      await writeFile(stateFile, JSON.stringify(doc));
      const loaded = await startLocalControlPlane({ stateFile });
      try {
        const health = (await (await fetch(`${loaded.baseUrl}/_local/health`)).json()) as { agents: number };
        expect(health.agents).toBe(50_000);
      } finally {
        await loaded.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
