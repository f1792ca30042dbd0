import { describe, expect, it } from "vitest";
import { eachInSlices, mapInSlices } from "../../src/util/slices.js";

/** Busy for about `ms` (a loop body that costs time, as digesting a manifest does). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("eachInSlices", () => {
  it("visits every item in order, with its index", async () => {
    const seen: Array<[string, number]> = [];
    await eachInSlices(["a", "b", "c"], (item, i) => seen.push([item, i]));
    expect(seen).toEqual([["a", 0], ["b", 1], ["c", 2]]);
    expect(await mapInSlices([1, 2, 3], (n, i) => n * 10 + i)).toEqual([10, 21, 32]);
  });

  it("lets the event loop through within about a millisecond, so a page that arrives is taken while a long loop runs", async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    let ranAt: number | undefined;
    let done = 0;
    setImmediate(() => (ranAt = done));
    // 40 items of 0.1 ms: 4 ms in all; the callback must not wait for the end.
    await eachInSlices(items, () => {
      busy(0.1);
      done++;
    });
    expect(done).toBe(40);
    expect(ranAt).toBeDefined();
    expect(ranAt!).toBeLessThan(20);
  });
});
