/**
 * Wildcard matching in linear-ish time: `*` any run of characters, `?` one character, everything
 * else literal. Patterns come from pull requests and command lines, so no regular expression is
 * built from them (a backtracking regex takes exponential time on `*a*a*a…b`). One star is
 * retried at a time: at most pattern × text steps.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === "?" || (p[pi] !== "*" && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}
