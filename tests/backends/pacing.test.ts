import { describe, expect, it } from "vitest";
import { DEFAULT_WRITES_PER_MINUTE, Semaphore, WriteBucket, withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { startLocalControlPlane } from "../../src/local/index.js";

/** A clock that only moves when someone sleeps. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

describe("WriteBucket", () => {
  it("lets a small burst through, then paces at the configured rate", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(60, clock.now, clock.sleep);
    expect(bucket.capacity).toBe(6);
    const starts: number[] = [];
    for (let i = 0; i < 30; i++) {
      await bucket.take();
      starts.push(clock.now());
    }
    // The first six go at once; after that one a second.
    expect(starts.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    for (let i = 6; i < 30; i++) expect(starts[i]).toBeGreaterThanOrEqual((i - 5) * 1000);
    // Never more than the rate plus the burst in any minute-long window.
    for (let i = 0; i < starts.length; i++) {
      const inWindow = starts.filter((s) => s >= starts[i]! && s < starts[i]! + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(60 + 6);
    }
    expect(clock.now()).toBeLessThan(25_000);
  });

  it("serves concurrent takers one at a time without overspending", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(6, clock.now, clock.sleep);
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => bucket.take().then(() => starts.push(clock.now()))));
    // capacity 1 at 6/min: 0, 10 s, 20 s, 30 s, 40 s.
    expect(starts).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
  });
});

/** Take `n` tokens one after another, reporting each as succeeded; returns when each was let through. */
async function writeMany(bucket: WriteBucket, clock: ReturnType<typeof fakeClock>, n: number): Promise<number[]> {
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    const ticket = await bucket.take();
    starts.push(clock.now());
    bucket.succeeded(ticket);
  }
  return starts;
}

/** The mechanism tests cut by half, which keeps their figures easy to follow; the default is below. */
const HALVING = { decrease: 0.5 };

describe("WriteBucket AIMD", () => {
  it("cuts by a quarter by default", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(160, clock.now, clock.sleep);
    bucket.rateLimited(await bucket.take());
    expect(bucket.stats()).toMatchObject({ currentPerMinute: 120, lowestPerMinute: 120, rateLimited: 1 });
  });

  it("halves the rate on a 429, down to a floor, and counts every 429", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(160, clock.now, clock.sleep, HALVING);
    const rates: number[] = [];
    for (let i = 0; i < 8; i++) {
      bucket.rateLimited(await bucket.take());
      rates.push(bucket.stats().currentPerMinute);
    }
    expect(rates).toEqual([80, 40, 20, 10, 5, 3, 3, 3]);
    expect(bucket.stats()).toEqual({ configuredPerMinute: 160, currentPerMinute: 3, lowestPerMinute: 3, rateLimited: 8 });
  });

  it("cuts once for writes that met the same limit together, but counts each 429", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(100, clock.now, clock.sleep, HALVING);
    // Four writes in flight at once (the burst), all answered 429.
    const tickets = await Promise.all([bucket.take(), bucket.take(), bucket.take(), bucket.take()]);
    for (const ticket of tickets) bucket.rateLimited(ticket);
    expect(bucket.stats()).toMatchObject({ currentPerMinute: 50, lowestPerMinute: 50, rateLimited: 4 });
    // A write sent after the cut that meets the limit again cuts again.
    bucket.rateLimited(await bucket.take());
    expect(bucket.stats()).toMatchObject({ currentPerMinute: 25, rateLimited: 5 });
  });

  it("empties the bucket on a cut and then paces at the lower rate", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(120, clock.now, clock.sleep, HALVING);
    expect(bucket.capacity).toBe(12);
    bucket.rateLimited(await bucket.take());
    expect(bucket.capacity).toBe(6);
    // 60 a minute now, and no burst left: one a second from here.
    const starts = await writeMany(bucket, clock, 3);
    expect(starts).toEqual([1000, 2000, 3000]);
  });

  it("holds the bucket closed until retry-after, then lets one write through at once", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(600, clock.now, clock.sleep, HALVING);
    bucket.rateLimited(await bucket.take(), 5000);
    // Nothing before 5 s; at 5 s one write, then the halved rate (300/min: one per 200 ms).
    const starts = await writeMany(bucket, clock, 3);
    expect(starts).toEqual([5000, 5200, 5400]);
    expect(clock.sleeps[0]).toBe(5000);
  });

  it("a later, shorter retry-after never shortens the hold", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(600, clock.now, clock.sleep, HALVING);
    const [a, b] = await Promise.all([bucket.take(), bucket.take()]);
    bucket.rateLimited(a!, 8000);
    bucket.rateLimited(b!, 2000);
    await bucket.take();
    expect(clock.now()).toBe(8000);
  });

  it("raises the rate by a tenth of the configured rate per run of successes, never above it", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(100, clock.now, clock.sleep, HALVING);
    bucket.rateLimited(await bucket.take());
    bucket.rateLimited(await bucket.take());
    expect(bucket.stats().currentPerMinute).toBe(25);
    const seen: number[] = [];
    for (let i = 0; i < 120; i++) {
      bucket.succeeded(await bucket.take());
      const rate = bucket.stats().currentPerMinute;
      if (rate !== seen[seen.length - 1]) seen.push(rate);
    }
    // A run is a tenth of a minute's worth at the current rate: 3 writes at 25/min, 4 at 35, ...
    expect(seen).toEqual([25, 35, 45, 55, 65, 75, 85, 95, 100]);
    expect(bucket.stats()).toEqual({ configuredPerMinute: 100, currentPerMinute: 100, lowestPerMinute: 25, rateLimited: 2 });
  });

  it("successes of writes sent before a cut do not count toward raising it again", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(100, clock.now, clock.sleep, HALVING);
    const early = await Promise.all(Array.from({ length: 10 }, () => bucket.take()));
    bucket.rateLimited(early[0]!);
    for (const ticket of early.slice(1)) bucket.succeeded(ticket);
    expect(bucket.stats().currentPerMinute).toBe(50);
    // Five writes issued after the cut make the run (a tenth of 50/min).
    await writeMany(bucket, clock, 5);
    expect(bucket.stats().currentPerMinute).toBe(60);
  });

  it("a 429 in between restarts the run of successes", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(100, clock.now, clock.sleep, HALVING);
    bucket.rateLimited(await bucket.take());
    await writeMany(bucket, clock, 4);
    bucket.rateLimited(await bucket.take());
    expect(bucket.stats().currentPerMinute).toBe(25);
    await writeMany(bucket, clock, 2);
    expect(bucket.stats().currentPerMinute).toBe(25);
    await writeMany(bucket, clock, 1);
    expect(bucket.stats().currentPerMinute).toBe(35);
  });

  it("unpaced (rate 0): never waits, counts 429s, still honours retry-after", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(0, clock.now, clock.sleep);
    expect(await writeMany(bucket, clock, 50)).toEqual(Array.from({ length: 50 }, () => 0));
    bucket.rateLimited(await bucket.take(), 3000);
    expect(await writeMany(bucket, clock, 3)).toEqual([3000, 3000, 3000]);
    expect(bucket.stats()).toEqual({
      configuredPerMinute: Number.POSITIVE_INFINITY,
      currentPerMinute: Number.POSITIVE_INFINITY,
      lowestPerMinute: Number.POSITIVE_INFINITY,
      rateLimited: 1,
    });
  });

  it("a sleep that does not move the clock does not spin on a hold", async () => {
    let sleeps = 0;
    const bucket = new WriteBucket(600, () => 0, async () => void sleeps++);
    bucket.rateLimited(await bucket.take(), 30_000);
    await bucket.take();
    expect(sleeps).toBe(1);
  });

  it("never exceeds the configured rate over a long run of successes", async () => {
    const clock = fakeClock();
    const bucket = new WriteBucket(60, clock.now, clock.sleep);
    bucket.rateLimited(await bucket.take(), 1000);
    const starts = await writeMany(bucket, clock, 200);
    expect(bucket.stats().currentPerMinute).toBe(60);
    for (let i = 0; i < starts.length; i++) {
      const inWindow = starts.filter((s) => s >= starts[i]! && s < starts[i]! + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(60 + 6);
    }
  });
});

describe("withResilience reports what pacing did", () => {
  it("tells the bucket of every retried 429 to a write, and of none to a read", async () => {
    const cp = await startLocalControlPlane();
    try {
      const clock = fakeClock();
      const backend = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), { project: "paced", now: clock.now, sleep: clock.sleep, random: () => 0 });
      expect(backend.pacing()).toEqual({ configuredPerMinute: DEFAULT_WRITES_PER_MINUTE, currentPerMinute: 150, lowestPerMinute: 150, rateLimited: 0 });
      cp.setFaults({
        script: [
          { on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 2 } },
          { on: "write", nth: 2, fault: { status: 429, retryAfterSeconds: 2 } },
          { on: "read", nth: 1, fault: { status: 429, retryAfterSeconds: 2 } },
        ],
      });
      await backend.list("agent");
      for (const name of ["a", "b", "c"]) await backend.create("agent", { name, model: "claude-sonnet-5-5", metadata: { "agentform.project": "paced" } });
      // The first create met the limit, and its retry (a write sent after the cut) met it again.
      expect(backend.pacing()).toEqual({ configuredPerMinute: 150, currentPerMinute: 84.375, lowestPerMinute: 84.375, rateLimited: 2 });
      expect(cp.requestLog().filter((e) => e.write && e.status === 200)).toHaveLength(3);
    } finally {
      await cp.close();
    }
  });
});

describe("Semaphore", () => {
  it("never runs more than the limit at once", async () => {
    const sem = new Semaphore(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        sem.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 2 + (i % 3)));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
});
