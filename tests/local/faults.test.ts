/**
 * Every fault and limit of the local control plane, shown happening to a real SDK client, plus the
 * protocol checks (auth, beta header) and the `/_local/` admin paths.
 */
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { clientFor, failure, startHarness, type Harness } from "./helpers.js";

let h: Harness | null = null;
async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}
afterEach(async () => {
  await h?.cp.close();
  h = null;
});

const BETA = { "anthropic-beta": "managed-agents-2026-04-01" };

describe("protocol", () => {
  it("accepts x-api-key and Bearer, rejects a missing or wrong key with a 401 envelope", async () => {
    const { cp } = await harness({ apiKey: "the-key" });
    const withKey = await fetch(`${cp.baseUrl}/v1/agents`, { headers: { ...BETA, "x-api-key": "the-key" } });
    expect(withKey.status).toBe(200);
    const withBearer = await fetch(`${cp.baseUrl}/v1/agents?beta=true`, { headers: { ...BETA, authorization: "Bearer the-key" } });
    expect(withBearer.status).toBe(200);
    for (const headers of [{ ...BETA }, { ...BETA, "x-api-key": "wrong" }]) {
      const res = await fetch(`${cp.baseUrl}/v1/agents`, { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { type: string; error: { type: string }; request_id: string };
      expect(body.type).toBe("error");
      expect(body.error.type).toBe("authentication_error");
      expect(res.headers.get("request-id")).toBe(body.request_id);
    }
  });

  it("requires the managed-agents beta header", async () => {
    const { cp } = await harness();
    const res = await fetch(`${cp.baseUrl}/v1/agents`, { headers: { "x-api-key": cp.apiKey, "anthropic-beta": "something-else" } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("managed-agents-2026-04-01");
  });
});

describe("faults", () => {
  it("latency is added to every request and shows in the log", async () => {
    const { cp, client } = await harness({ faults: { latencyMs: 150 } });
    const started = performance.now();
    await client.beta.agents.list();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(cp.requestLog()[0]?.durationMs).toBeGreaterThanOrEqual(145);
    cp.setFaults({ latencyMs: 0 });
    const fast = performance.now();
    await client.beta.agents.list();
    expect(performance.now() - fast).toBeLessThan(140);
  });

  it("writesPerMinute answers 429 rate_limit_error with retry-after in whole seconds", async () => {
    const { cp, client } = await harness({ faults: { writesPerMinute: 2 } });
    await client.beta.agents.create({ name: "1", model: "claude-haiku-4-5" });
    await client.beta.agents.create({ name: "2", model: "claude-haiku-4-5" });
    const err = await failure(client.beta.agents.create({ name: "3", model: "claude-haiku-4-5" }));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.type).toBe("rate_limit_error");
    const retryAfter = Number(err.headers?.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Reads have their own window.
    expect((await client.beta.agents.list()).data).toHaveLength(2);
    expect(cp.requestLog().map((e) => e.status)).toEqual([200, 200, 429, 200]);
    expect(cp.requestLog()[2]?.fault).toBe("writesPerMinute");
  });

  it("readsPerMinute limits GETs", async () => {
    const { client } = await harness({ faults: { readsPerMinute: 1 } });
    await client.beta.agents.list();
    expect((await failure(client.beta.agents.list())).status).toBe(429);
  });

  it("environmentConcurrency caps in-flight environment requests", async () => {
    const { cp, client } = await harness({ faults: { environmentConcurrency: 1, latencyMs: 200 } });
    const results = await Promise.allSettled([client.beta.environments.list(), client.beta.environments.list(), client.beta.agents.list()]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "fulfilled", "rejected"]);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(Anthropic.RateLimitError);
    expect((rejected.reason as APIError).headers?.get("retry-after")).toBe("1");
    expect(cp.requestLog().filter((e) => e.fault === "environmentConcurrency")).toHaveLength(1);
    // Agents are not counted against the environment cap.
    expect(results[2]?.status).toBe("fulfilled");
  });

  it("errorRate with a seed injects the configured status, reproducibly", async () => {
    const { cp, client } = await harness();
    const run = async () => {
      cp.setFaults({ errorRate: 0.5, errorStatus: 529, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        try {
          await client.beta.agents.list();
          statuses.push(200);
        } catch (err) {
          statuses.push((err as APIError).status ?? -1);
        }
      }
      return statuses;
    };
    const first = await run();
    expect(first.filter((s) => s === 529).length).toBeGreaterThan(2);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(2);
    expect(new Set(first)).toEqual(new Set([200, 529]));
    expect(await run()).toEqual(first);
    const injected = cp.requestLog().find((e) => e.status === 529);
    expect(injected?.fault).toBe("errorRate:529");
  });

  it("script: the 7th write fails with 500 and nothing else does", async () => {
    const { cp, client } = await harness({ faults: { script: [{ on: "write", nth: 7, fault: { status: 500 } }] } });
    const outcomes: string[] = [];
    for (let i = 1; i <= 9; i++) {
      try {
        await client.beta.agents.create({ name: `w${i}`, model: "claude-haiku-4-5" });
        await client.beta.agents.list({ limit: 1 });
        outcomes.push("ok");
      } catch (err) {
        outcomes.push(err instanceof Anthropic.InternalServerError ? "500" : String(err));
      }
    }
    expect(outcomes).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "500", "ok", "ok"]);
    // The failed write was not applied.
    expect((await client.beta.agents.list({ limit: 100 })).data.map((a) => a.name)).not.toContain("w7");
    expect(cp.requestLog().filter((e) => e.status === 500).map((e) => e.fault)).toEqual(["script:write#7:500"]);
  });

  it("a 429 with retry-after is retried by the SDK (maxRetries 2) and then succeeds", async () => {
    const { cp } = await harness({ faults: { script: [{ on: "read", nth: 1, fault: { status: 429, retryAfterSeconds: 1 } }] } });
    const retrying = clientFor(cp, 2);
    const started = performance.now();
    const page = await retrying.beta.agents.list();
    expect(page.data).toEqual([]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(cp.requestLog().map((e) => e.status)).toEqual([429, 200]);
  });

  it("dropAfterCommit: the client sees a connection error but the agent exists", async () => {
    const { cp, client } = await harness({ faults: { script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] } });
    const err = await client.beta.agents.create({ name: "ghost", model: "claude-haiku-4-5" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIConnectionError);
    const names = (await client.beta.agents.list()).data.map((a) => a.name);
    expect(names).toEqual(["ghost"]);
    const [write] = cp.requestLog();
    expect(write).toMatchObject({ method: "POST", path: "/v1/agents", status: null, write: true, fault: "script:write#1:dropAfterCommit" });
  });

  it("dropBeforeCommit and dropAfterCommitRate", async () => {
    const { cp, client } = await harness({ faults: { script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] } });
    expect(await client.beta.agents.create({ name: "never", model: "claude-haiku-4-5" }).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.APIConnectionError);
    expect((await client.beta.agents.list()).data).toEqual([]);
    cp.setFaults({ script: [], dropAfterCommitRate: 1 });
    expect(await client.beta.agents.create({ name: "kept", model: "claude-haiku-4-5" }).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.APIConnectionError);
    // Reads are never dropped by the rate.
    expect((await client.beta.agents.list()).data.map((a) => a.name)).toEqual(["kept"]);
  });

  it("the request log records method, path, query, status, duration and write; clear empties it", async () => {
    const { cp, client } = await harness();
    await client.beta.agents.list({ limit: 5 });
    await failure(client.beta.agents.retrieve("agent_011nope"));
    const log = cp.requestLog();
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ seq: 1, method: "GET", path: "/v1/agents", query: "limit=5", status: 200, write: false });
    expect(log[1]).toMatchObject({ seq: 2, method: "GET", path: "/v1/agents/agent_011nope", status: 404 });
    expect(log[0]?.durationMs).toBeGreaterThanOrEqual(0);
    cp.clearRequestLog();
    expect(cp.requestLog()).toEqual([]);
  });
});

describe("/_local/ admin paths", () => {
  it("health, log, faults over HTTP, never counted in the request log", async () => {
    const { cp, client } = await harness();
    const health = await fetch(`${cp.baseUrl}/_local/health`);
    expect(await health.json()).toEqual({ status: "ok", agents: 0, environments: 0 });
    const put = await fetch(`${cp.baseUrl}/_local/faults`, { method: "PUT", body: JSON.stringify({ script: [{ on: "any", nth: 1, fault: { status: 503 } }] }) });
    expect(put.status).toBe(200);
    expect((await failure(client.beta.agents.list())).status).toBe(503);
    await client.beta.agents.list();
    const log = (await (await fetch(`${cp.baseUrl}/_local/log`)).json()) as { data: Array<{ status: number }> };
    expect(log.data.map((e) => e.status)).toEqual([503, 200]);
    expect((await fetch(`${cp.baseUrl}/_local/log`, { method: "DELETE" })).status).toBe(200);
    expect(cp.requestLog()).toEqual([]);
    const bad = await fetch(`${cp.baseUrl}/_local/faults`, { method: "PUT", body: JSON.stringify({ errorRate: 2 }) });
    expect(bad.status).toBe(400);
    cp.setFaults({ errorRate: 1 });
    expect((await fetch(`${cp.baseUrl}/_local/faults`, { method: "DELETE" })).status).toBe(200);
    expect((await client.beta.agents.list()).data).toEqual([]);
  });
});
