/**
 * The resilience layer with a client that resends requests on its own, as `ant` does: every
 * resent attempt is paid for in pacing, and a create resent after a lost answer leaves no twin.
 * The client here is the real SDK backend over real HTTP, wrapped to resend once the way ant's
 * Go SDK does (after a lost answer, a 408, 409, 429 or 5xx) and to report it through
 * `onOwnRetry`; the binary itself is exercised in ant.test.ts, which needs it installed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackendError } from "../../src/backends/errors.js";
import { WriteBucket, withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane, RequestBody, ResourceKind, WriteOptions } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";

const MODEL = "claude-sonnet-5-5";
const PROJECT = "own-retries";
const MARK = { "agentform.project": PROJECT };

/** `inner`, but its creates are resent once after an answer ant's client would resend. */
function resendingCreates(inner: ControlPlane): ControlPlane {
  const resendable = (err: unknown) => err instanceof BackendError && (err.status === undefined || [408, 409, 429].includes(err.status) || err.status >= 500);
  return {
    ...inner,
    backend: "ant",
    create: async <K extends ResourceKind>(kind: K, body: RequestBody, options?: WriteOptions) => {
      try {
        return await inner.create(kind, body);
      } catch (err) {
        if (!resendable(err)) throw err;
        const first = err as BackendError;
        options?.onOwnRetry?.({ status: first.status, retryAfterSeconds: first.retryAfterSeconds });
        return inner.create(kind, body);
      }
    },
  };
}

describe("withResilience over a client that resends on its own", () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane();
  });
  afterAll(async () => {
    await cp.close();
  });
  beforeEach(() => {
    cp.resetFaults();
    cp.clearRequestLog();
  });

  function make(removed: string[] = []) {
    let now = 0;
    return withResilience(resendingCreates(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey })), {
      project: PROJECT,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      random: () => 0,
      onDuplicateRemoved: (info) => removed.push(info.id),
    });
  }
  const named = async (kind: "agent" | "environment", name: string) => (await make().list(kind)).filter((r) => r.name === name);

  it("a create the client resent after a lost answer keeps one resource: the twin is archived, and said", async () => {
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const removed: string[] = [];
    const created = await make(removed).create("agent", { name: "twin-agent", model: MODEL, metadata: MARK });
    expect((await named("agent", "twin-agent")).map((a) => a.id)).toEqual([created.id]);
    expect(removed).toHaveLength(1);
    expect(removed[0]).not.toBe(created.id);
    const archived = (await make().list("agent", { includeArchived: true })).filter((a) => a.name === "twin-agent" && a.archived_at !== null);
    expect(archived.map((a) => a.id)).toEqual(removed);
  });

  it("where names are unique the resend is refused (409), and the resource the lost attempt made is the one kept", async () => {
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const removed: string[] = [];
    const created = await make(removed).create("environment", { name: "twin-env", config: { type: "cloud" }, metadata: MARK });
    expect((await make().list("environment", { includeArchived: true })).filter((e) => e.name === "twin-env").map((e) => e.id)).toEqual([created.id]);
    expect(cp.requestLog().filter((e) => e.write).map((e) => e.status)).toEqual([null, 409]);
    expect(removed).toEqual([]);
  });

  it("a same-named resource that is not this project's is never touched", async () => {
    const other = await make().create("agent", { name: "shared-name", model: MODEL, metadata: { "agentform.project": "someone-else" } });
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const removed: string[] = [];
    const created = await make(removed).create("agent", { name: "shared-name", model: MODEL, metadata: MARK });
    expect((await named("agent", "shared-name")).map((a) => a.id).sort()).toEqual([other.id, created.id].sort());
    expect(removed).toHaveLength(1);
  });

  it("a resend after a 429 is no lost answer: nothing is looked for, and pacing pays for it and lowers the rate", async () => {
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 2 } }] });
    const removed: string[] = [];
    const backend = make(removed);
    cp.clearRequestLog();
    await backend.create("agent", { name: "limited-once", model: MODEL, metadata: MARK });
    expect(removed).toEqual([]);
    // The create, its resend, and no list: a 429 means the server did nothing.
    expect(cp.requestLog().map((e) => e.method)).toEqual(["POST", "POST"]);
    const stats = backend.pacing();
    expect(stats.rateLimited).toBe(1);
    expect(stats.lowestPerMinute).toBeLessThan(stats.configuredPerMinute);
  });
});

describe("WriteBucket.charge", () => {
  it("spends a token after the fact, so the next write waits for it", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const bucket = new WriteBucket(60, () => now, async (ms) => {
      sleeps.push(ms);
      now += ms;
    });
    for (let i = 0; i < bucket.capacity; i++) await bucket.take();
    expect(sleeps).toEqual([]);
    bucket.charge();
    bucket.charge();
    await bucket.take();
    // Two tokens owed and one to take: three seconds at one a second.
    expect(now).toBeGreaterThanOrEqual(3_000);
  });
});
