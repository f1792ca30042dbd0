import { describe, expect, it } from "vitest";
import { Semaphore, WriteBucket } from "../../src/backends/resilient.js";

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
