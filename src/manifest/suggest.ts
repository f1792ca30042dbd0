/** "Did you mean …?" for misspelt names: edit distance over a short list of candidates. */

/**
 * Edit distance where inserting, deleting or substituting a character, or swapping two
 * neighbours, each cost 1 (optimal string alignment). Swaps count once because `gerp` for
 * `grep` is one slip of the fingers, not two.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The closest candidate, if it is close enough to be a plausible typo: within a third of the
 * word's length (at least 1, at most 3 edits). Case and `-`/`_` differences count as nothing,
 * so `web-fetch` and `WebFetch` both find `web_fetch`.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");
  const target = fold(input);
  candidates = [...candidates];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const d = editDistance(target, fold(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  if (best !== undefined && bestDistance <= limit) return best;
  // A truncated name (`api_key` for `api_key_env`) is far in edits but obvious to a reader.
  if (target.length < 4) return undefined;
  const prefixed = [...candidates].filter((c) => fold(c).startsWith(target)).sort((a, b) => a.length - b.length);
  return prefixed[0];
}

/** `; did you mean "x"?` or "" — appended to messages. */
export function suggestion(input: string, candidates: Iterable<string>): string {
  const match = didYouMean(input, candidates);
  return match === undefined ? "" : `; did you mean ${JSON.stringify(match)}?`;
}
