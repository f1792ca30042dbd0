/**
 * 10,000 agents: listing them 100 at a time stays fast, because a page costs O(page).
 */
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
