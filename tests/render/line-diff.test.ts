/**
 * The line diff behind prompt diffs: correct on any input, minimal for ordinary edits, and
 * bounded in work and output by the size of its input (checked by counting, never by timing).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import { renderMarkdown, renderText } from "../../src/render/index.js";
import { diffLineArrays, LINE_DIFF_BUDGET, unifiedLines } from "../../src/render/line-diff.js";
import { liveAgent, manifest, planInput } from "../plan/helpers.js";

/** Both sides rebuilt from the edit script. */
function sides(a: string[], b: string[], ops: string): { a: string[]; b: string[] } {
  const out = { a: [] as string[], b: [] as string[] };
  let [i, j] = [0, 0];
  for (const op of ops) {
    if (op !== "+") out.a.push(a[i++]!);
    if (op !== "-") out.b.push(b[j++]!);
    if (op === " ") expect(a[i - 1]).toBe(b[j - 1]);
  }
  return out;
}

/** Length of the longest common subsequence (the textbook O(n·m) table: an oracle for small inputs). */
function lcs(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!));
    prev = row;
  }
  return prev[b.length]!;
}

const lines = fc.array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 30 });

describe("diffLineArrays", () => {
  it("is a correct edit script, and minimal within the budget", () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = diffLineArrays(a, b);
        expect(sides(a, b, d.ops)).toEqual({ a, b });
        expect(d.minimal).toBe(true);
        expect([...d.ops].filter((o) => o === " ").length).toBe(lcs(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it("stays correct when the budget runs out (anchors, then removed + added)", () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const d = diffLineArrays(a, b, 0);
        expect(sides(a, b, d.ops)).toEqual({ a, b });
      }),
      { numRuns: 300 },
    );
  });

  // Work on rewrites and on scattered edits grows linearly: budget plus a small multiple of the size.
  const rewrite = (n: number) => [Array.from({ length: n }, (_, i) => `old line ${i}`), Array.from({ length: n }, (_, i) => `new line ${i}`)];
  const scattered = (n: number) => {
    const a = Array.from({ length: n }, (_, i) => `line ${i}`);
    return [a, a.map((l, i) => (i % 3 === 0 ? `${l} edited` : l))];
  };
  for (const [name, make] of [["a full rewrite", rewrite], ["an edit on every third line", scattered]] as const) {
    it(`${name}: work is at most the budget plus 12 steps per line, at any size`, () => {
      for (const n of [1_000, 12_000, 48_000]) {
        const [a, b] = make(n);
        const d = diffLineArrays(a!, b!);
        expect(sides(a!, b!, d.ops)).toEqual({ a, b });
        expect(d.work).toBeLessThanOrEqual(LINE_DIFF_BUDGET + 12 * (a!.length + b!.length));
      }
    });
  }

  it("an edit on every third line of 12,000 keeps the untouched lines (anchored on unique lines)", () => {
    const [a, b] = scattered(12_000);
    const d = diffLineArrays(a!, b!);
    expect(d.minimal).toBe(false);
    expect([...d.ops].filter((o) => o === " ").length).toBe(8_000);
  });

  it("unified lines: hunks with 3 lines of context, merged when close", () => {
    const a = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"];
    const b = a.map((l) => (l === "2" || l === "6" || l === "15" ? `${l}!` : l));
    expect(unifiedLines(a, b, diffLineArrays(a, b).ops)).toEqual([
      "@@ -1,9 +1,9 @@", " 1", "-2", "+2!", " 3", " 4", " 5", "-6", "+6!", " 7", " 8", " 9",
      "@@ -12,5 +12,5 @@", " 12", " 13", " 14", "-15", "+15!", " 16",
    ]);
  });
});

describe("a 12,000-line prompt rewrite in a plan", () => {
  const before = Array.from({ length: 12_000 }, (_, i) => `Rule ${i}: answer politely.`).join("\n");
  const after = Array.from({ length: 12_000 }, (_, i) => `Rule ${i}: answer briefly.`).join("\n");
  const plan = buildPlan(
    planInput({
      agents: [manifest("agent", { name: "bot", model: "m", system: after })],
      liveAgents: [liveAgent({ name: "bot", model: { id: "m", speed: "standard" }, system: before })],
    }),
  );

  it("renders as text with one line per removed and added line, plus a few", () => {
    const text = renderText(plan, { color: false });
    const count = text.split("\n").length;
    expect(count).toBeGreaterThanOrEqual(24_000);
    expect(count).toBeLessThanOrEqual(24_000 + 20);
    expect(text).toContain("-Rule 11999: answer politely.");
    expect(text).toContain("+Rule 11999: answer briefly.");
  });

  it("degrades the Markdown comment within its budget", () => {
    const md = renderMarkdown(plan);
    expect(md.length).toBeLessThanOrEqual(60_000);
    expect(md).toContain("Field values were left out");
  });
});
