/**
 * A line diff whose work is linear in the size of its input (pure).
 *
 * Myers' algorithm is minimal but takes O((N+M)·D) steps, which is quadratic for a rewrite:
 * a 12,000-line prompt replaced by another took about a minute to render. Here Myers runs
 * under a fixed budget of steps. Within it (every ordinary edit of a prompt) the diff is
 * minimal. Past it the diff is still correct but no longer minimal: lines that occur exactly
 * once on each side anchor the two texts (the longest increasing run of such pairs, as in
 * patience diff), and the gaps between anchors are diffed with what is left of the budget,
 * or shown as removed then added. Every step is counted in `work`, so tests can check the
 * bound without measuring time.
 */

/** Myers steps allowed per diff before falling back to anchors. */
export const LINE_DIFF_BUDGET = 1_000_000;

export interface LineDiff {
  /** One character per line of the edit script: " " kept, "-" removed, "+" added. */
  ops: string;
  /** Steps taken: comparisons, diagonals visited, values copied, lines scanned. */
  work: number;
  /** False when the budget ran out and the script may be longer than the shortest one. */
  minimal: boolean;
}

interface Meter {
  work: number;
  /** Steps taken inside Myers' search, which the budget bounds. */
  searched: number;
  budget: number;
  exhausted: boolean;
}

/** The edit script turning lines `a` into lines `b`. */
export function diffLineArrays(a: readonly string[], b: readonly string[], budget = LINE_DIFF_BUDGET): LineDiff {
  const ids = new Map<string, number>();
  const intern = (l: string) => {
    let id = ids.get(l);
    if (id === undefined) ids.set(l, (id = ids.size));
    return id;
  };
  const A = Int32Array.from(a, intern);
  const B = Int32Array.from(b, intern);
  const meter: Meter = { work: a.length + b.length, searched: 0, budget, exhausted: false };
  const ops = diffRange(A, 0, A.length, B, 0, B.length, meter, ids.size);
  return { ops, work: meter.work, minimal: !meter.exhausted };
}

/** Common head and tail kept, the middle diffed by Myers, or by anchors when `anchorIds` > 0. */
function diffRange(A: Int32Array, a0: number, a1: number, B: Int32Array, b0: number, b1: number, meter: Meter, anchorIds: number): string {
  let head = 0;
  while (a0 + head < a1 && b0 + head < b1 && A[a0 + head] === B[b0 + head]) head++;
  let tail = 0;
  while (a1 - tail > a0 + head && b1 - tail > b0 + head && A[a1 - tail - 1] === B[b1 - tail - 1]) tail++;
  meter.work += head + tail;
  const [m0, m1, n0, n1] = [a0 + head, a1 - tail, b0 + head, b1 - tail];
  let middle = myers(A, m0, m1, B, n0, n1, meter);
  if (middle === null) {
    meter.exhausted = true;
    middle = anchorIds > 0 ? anchored(A, m0, m1, B, n0, n1, meter, anchorIds) : replaced(m1 - m0, n1 - n0, meter);
  }
  return " ".repeat(head) + middle + " ".repeat(tail);
}

function replaced(removed: number, added: number, meter: Meter): string {
  meter.work += removed + added;
  return "-".repeat(removed) + "+".repeat(added);
}

/** Myers' greedy forward search with a snapshot per edit distance; null once over budget. */
function myers(A: Int32Array, a0: number, a1: number, B: Int32Array, b0: number, b1: number, meter: Meter): string | null {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 || m === 0) return replaced(n, m, meter);
  if (meter.searched >= meter.budget) return null;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const snaps: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      const start = x;
      while (x < n && y < m && A[a0 + x] === B[b0 + y]) {
        x++;
        y++;
      }
      meter.work += 1 + x - start;
      meter.searched += 1 + x - start;
      v[off + k] = x;
      if (x >= n && y >= m) {
        snaps.push(v.slice(off - d, off + d + 1));
        return backtrack(snaps, n, m, meter);
      }
    }
    snaps.push(v.slice(off - d, off + d + 1));
    meter.work += 2 * d + 1;
    meter.searched += 2 * d + 1;
    if (meter.searched > meter.budget) return null;
  }
  return null; // unreachable: d = n + m always reaches the end
}

/** The edit script from Myers' snapshots (snaps[d][k + d] is the furthest x on diagonal k). */
function backtrack(snaps: Int32Array[], n: number, m: number, meter: Meter): string {
  const out: string[] = [];
  let x = n;
  let y = m;
  for (let d = snaps.length - 1; d > 0; d--) {
    const prev = snaps[d - 1]!;
    const k = x - y;
    const at = (kk: number) => prev[kk + d - 1]!;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push(" ");
      x--;
      y--;
    }
    out.push(down ? "+" : "-");
    if (down) y--;
    else x--;
  }
  while (x > 0 && y > 0) {
    out.push(" ");
    x--;
    y--;
  }
  meter.work += out.length;
  return out.reverse().join("");
}

/**
 * Patience-style fallback: pairs of lines unique on both sides, the longest run of them in
 * order on both sides kept, each gap between them diffed with the remaining budget (or shown
 * as removed then added). O((N+M) log (N+M)).
 */
function anchored(A: Int32Array, a0: number, a1: number, B: Int32Array, b0: number, b1: number, meter: Meter, idCount: number): string {
  const countA = new Int32Array(idCount);
  const countB = new Int32Array(idCount);
  const posB = new Int32Array(idCount);
  for (let i = a0; i < a1; i++) countA[A[i]!]!++;
  for (let j = b0; j < b1; j++) {
    countB[B[j]!]!++;
    posB[B[j]!] = j;
  }
  const pairs: Array<[number, number]> = [];
  for (let i = a0; i < a1; i++) if (countA[A[i]!] === 1 && countB[A[i]!] === 1) pairs.push([i, posB[A[i]!]!]);
  meter.work += 2 * (a1 - a0 + b1 - b0);
  const anchors = longestIncreasing(pairs, meter);
  let out = "";
  let [i0, j0] = [a0, b0];
  for (const [i, j] of anchors) {
    out += `${diffRange(A, i0, i, B, j0, j, meter, 0)} `;
    [i0, j0] = [i + 1, j + 1];
  }
  return out + diffRange(A, i0, a1, B, j0, b1, meter, 0);
}

/** The longest subsequence of pairs (sorted by [0]) whose [1] also increases. */
function longestIncreasing(pairs: Array<[number, number]>, meter: Meter): Array<[number, number]> {
  const tails: number[] = []; // tails[len] = index in pairs of the smallest end of a run of len+1
  const back = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    let [lo, hi] = [0, tails.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < pairs[p]![1]) lo = mid + 1;
      else hi = mid;
      meter.work++;
    }
    if (lo > 0) back[p] = tails[lo - 1]!;
    tails[lo] = p;
  }
  const out: Array<[number, number]> = [];
  for (let p = tails.length > 0 ? tails[tails.length - 1]! : -1; p >= 0; p = back[p]!) out.push(pairs[p]!);
  meter.work += pairs.length;
  return out.reverse();
}

interface Run {
  kind: " " | "-" | "+";
  /** First line of the run in `a` (kept, removed) or `b` (added). */
  from: number;
  count: number;
}

/** Maximal runs of the script; within a change, every removed line comes before every added one. */
function runsOf(ops: string): Run[] {
  const runs: Run[] = [];
  let [i, j, p] = [0, 0, 0];
  while (p < ops.length) {
    if (ops[p] === " ") {
      const start = p;
      while (p < ops.length && ops[p] === " ") p++;
      runs.push({ kind: " ", from: i, count: p - start });
      [i, j] = [i + p - start, j + p - start];
      continue;
    }
    let [removed, added] = [0, 0];
    for (; p < ops.length && ops[p] !== " "; p++) if (ops[p] === "-") removed++;
    else added++;
    if (removed > 0) runs.push({ kind: "-", from: i, count: removed });
    if (added > 0) runs.push({ kind: "+", from: j, count: added });
    [i, j] = [i + removed, j + added];
  }
  return runs;
}

/**
 * Unified-diff lines (`@@ -a,b +c,d @@` headers, then " ", "-", "+" lines) with `context` lines
 * around each change; hunks closer than twice the context merge. Same layout and numbering as
 * the `diff` package's structuredPatch, which earlier versions used.
 */
export function unifiedLines(a: readonly string[], b: readonly string[], ops: string, context = 3): string[] {
  const runs = runsOf(ops);
  runs.push({ kind: " ", from: a.length, count: 0 });
  const out: string[] = [];
  let hunk: string[] = [];
  let [oldStart, newStart, oldLine, newLine] = [0, 0, 1, 1];
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r]!;
    const lines = (run.kind === "+" ? b : a).slice(run.from, run.from + run.count);
    if (run.kind !== " ") {
      if (oldStart === 0) {
        const prev = runs[r - 1];
        const lead = prev && context > 0 ? a.slice(prev.from, prev.from + prev.count).slice(-context) : [];
        [oldStart, newStart] = [oldLine - lead.length, newLine - lead.length];
        hunk = lead.map((l) => ` ${l}`);
      }
      for (const l of lines) hunk.push(`${run.kind}${l}`);
      if (run.kind === "+") newLine += run.count;
      else oldLine += run.count;
      continue;
    }
    if (oldStart !== 0) {
      if (run.count <= context * 2 && r < runs.length - 2) {
        for (const l of lines) hunk.push(` ${l}`);
      } else {
        const size = Math.min(run.count, context);
        for (const l of lines.slice(0, size)) hunk.push(` ${l}`);
        out.push(`@@ -${oldStart},${oldLine - oldStart + size} +${newStart},${newLine - newStart + size} @@`, ...hunk);
        [oldStart, newStart, hunk] = [0, 0, []];
      }
    }
    oldLine += run.count;
    newLine += run.count;
  }
  return out;
}
