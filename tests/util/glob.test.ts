/**
 * The wildcard matcher shared by `import --name` (nameMatcher) and `import --from-ant`'s path
 * globs (wildcardMatch): `*` any run of characters (none included), `?` exactly one character
 * (a code point, not a UTF-16 unit), everything else literal, the whole text matched. Patterns
 * come from command lines and other people's repositories, so a pathological one
 * (`*a*a*a…*b` against `aaaa…`) must answer at once: the regular expression this replaced took
 * minutes. A regression there makes these tests time out rather than fail an assertion.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nameMatcher } from "../../src/cli/import.js";
import { wildcardMatch } from "../../src/util/glob.js";

const PATHOLOGICAL = `*${"a*".repeat(11)}b`;

/** A reference matcher by dynamic programming over code points: obviously right, and polynomial. */
function reference(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  // at[j]: whether p[0..i) matches t[0..j)
  let at = Array.from({ length: t.length + 1 }, (_, j) => j === 0);
  for (const c of p) {
    const next = Array.from({ length: t.length + 1 }, () => false);
    for (let j = 0; j <= t.length; j++) {
      if (c === "*") next[j] = at[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && at[j - 1]! && (c === "?" || c === t[j - 1]);
    }
    at = next;
  }
  return at[t.length]!;
}

describe("wildcardMatch", () => {
  it("* matches any run of characters, the empty run included", () => {
    expect(wildcardMatch("*", "")).toBe(true);
    expect(wildcardMatch("*", "anything at all")).toBe(true);
    expect(wildcardMatch("**", "")).toBe(true);
    expect(wildcardMatch("a*", "a")).toBe(true);
    expect(wildcardMatch("a*", "abc")).toBe(true);
    expect(wildcardMatch("a*", "ba")).toBe(false);
    expect(wildcardMatch("*c", "abc")).toBe(true);
    expect(wildcardMatch("*c", "abcd")).toBe(false);
    expect(wildcardMatch("a*c", "ac")).toBe(true);
    expect(wildcardMatch("a*c", "abbbc")).toBe(true);
    expect(wildcardMatch("a*c", "abbbcx")).toBe(false);
    expect(wildcardMatch("*b*", "abc")).toBe(true);
    expect(wildcardMatch("*b*", "ac")).toBe(false);
    // The star must retry after a partial match (abab… against *ab).
    expect(wildcardMatch("*ab", "aab")).toBe(true);
    expect(wildcardMatch("*aab", "aaab")).toBe(true);
    expect(wildcardMatch("*a*b*c", "xaybzc")).toBe(true);
    expect(wildcardMatch("*a*b*c", "xaybz")).toBe(false);
    // Any character: line breaks too (a name is matched as a whole).
    expect(wildcardMatch("a*b", "a\nb")).toBe(true);
    expect(wildcardMatch("*", "line\nbreak")).toBe(true);
  });

  it("? matches exactly one character", () => {
    expect(wildcardMatch("?", "")).toBe(false);
    expect(wildcardMatch("?", "a")).toBe(true);
    expect(wildcardMatch("?", "ab")).toBe(false);
    expect(wildcardMatch("n?tes", "notes")).toBe(true);
    expect(wildcardMatch("n?tes", "ntes")).toBe(false);
    expect(wildcardMatch("n?tes", "nootes")).toBe(false);
    expect(wildcardMatch("??", "ab")).toBe(true);
    expect(wildcardMatch("?*", "")).toBe(false);
    expect(wildcardMatch("?*", "x")).toBe(true);
    expect(wildcardMatch("*?", "x")).toBe(true);
  });

  it("everything else is literal: no regular-expression or bracket meaning, case kept", () => {
    for (const special of [".", "+", "(", ")", "[", "]", "{", "}", "^", "$", "|", "\\", "/", "-"]) {
      expect(wildcardMatch(`a${special}b`, `a${special}b`), special).toBe(true);
      expect(wildcardMatch(`a${special}b`, "axb"), special).toBe(false);
    }
    expect(wildcardMatch("a.*", "a.yaml")).toBe(true);
    expect(wildcardMatch("a.*", "ab")).toBe(false);
    expect(wildcardMatch("[ab]", "a")).toBe(false);
    expect(wildcardMatch("[ab]", "[ab]")).toBe(true);
    // An unbalanced bracket is just a character.
    expect(wildcardMatch("x[", "x[")).toBe(true);
    expect(wildcardMatch("x[*", "x[yz")).toBe(true);
    expect(wildcardMatch("a{1,3}", "aaa")).toBe(false);
    expect(wildcardMatch("$x", "$x")).toBe(true);
    expect(wildcardMatch("Notes", "notes")).toBe(false);
    expect(wildcardMatch("notes", "Notes")).toBe(false);
    expect(wildcardMatch("abc", "abcd")).toBe(false);
    expect(wildcardMatch("abcd", "abc")).toBe(false);
  });

  it("works on code points: ? is one character whether it takes one UTF-16 unit or two", () => {
    expect(wildcardMatch("?", "é")).toBe(true);
    expect(wildcardMatch("?", "😀")).toBe(true);
    expect(wildcardMatch("??", "😀")).toBe(false);
    expect(wildcardMatch("a?c", "a😀c")).toBe(true);
    expect(wildcardMatch("*😀", "smile 😀")).toBe(true);
    expect(wildcardMatch("😀*", "😀 smile")).toBe(true);
    expect(wildcardMatch("😀", "😁")).toBe(false);
    expect(wildcardMatch("équipe-?", "équipe-1")).toBe(true);
    expect(wildcardMatch("日本*", "日本語")).toBe(true);
    expect(wildcardMatch("日?語", "日本語")).toBe(true);
    // Composed and decomposed forms are different texts: matched as they are, not normalised.
    expect(wildcardMatch("é", "e\u0301")).toBe(false);
  });

  it("the empty pattern matches only the empty text; the empty text only patterns of stars", () => {
    expect(wildcardMatch("", "")).toBe(true);
    expect(wildcardMatch("", "a")).toBe(false);
    expect(wildcardMatch("", " ")).toBe(false);
    expect(wildcardMatch("*", "")).toBe(true);
    expect(wildcardMatch("***", "")).toBe(true);
    expect(wildcardMatch("a", "")).toBe(false);
    expect(wildcardMatch("*a", "")).toBe(false);
  });

  it("answers the pathological pattern at once (the old regular expression took minutes)", () => {
    expect(wildcardMatch(PATHOLOGICAL, "a".repeat(40))).toBe(false);
    expect(wildcardMatch(PATHOLOGICAL, `${"a".repeat(40)}.yaml`)).toBe(false);
    expect(wildcardMatch(PATHOLOGICAL, `${"a".repeat(40)}b`)).toBe(true);
    // Far longer texts and patterns: still pattern × text steps at most.
    expect(wildcardMatch(`*${"a*".repeat(60)}b`, "a".repeat(5000))).toBe(false);
    expect(wildcardMatch(`${"*".repeat(200)}b`, "a".repeat(5000))).toBe(false);
    expect(wildcardMatch(`*${"?*".repeat(100)}b`, "a".repeat(3000))).toBe(false);
  });

  it("agrees with a reference matcher on arbitrary patterns and texts", () => {
    const alphabet = fc.constantFrom("a", "b", "*", "?", ".", "é", "😀");
    const textAlphabet = fc.constantFrom("a", "b", ".", "é", "😀", "*", "?");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 10 }), fc.array(textAlphabet, { maxLength: 12 }), (p, t) => {
        const pattern = p.join("");
        const text = t.join("");
        expect(wildcardMatch(pattern, text)).toBe(reference(pattern, text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("nameMatcher (import --name)", () => {
  it("matches every name without a glob", () => {
    const all = nameMatcher(undefined);
    for (const name of ["", "x", "a*b", "😀", "line\nbreak"]) expect(all(name)).toBe(true);
  });

  it("has the same semantics as wildcardMatch", () => {
    expect(nameMatcher("m*")("mine")).toBe(true);
    expect(nameMatcher("m*")("boss")).toBe(false);
    expect(nameMatcher("n?tes")("notes")).toBe(true);
    expect(nameMatcher("n?tes")("nootes")).toBe(false);
    expect(nameMatcher("team.bot")("team.bot")).toBe(true);
    expect(nameMatcher("team.bot")("teamxbot")).toBe(false);
    expect(nameMatcher("(a|b)")("a")).toBe(false);
    expect(nameMatcher("(a|b)")("(a|b)")).toBe(true);
    expect(nameMatcher("[x]")("[x]")).toBe(true);
    expect(nameMatcher("?")("😀")).toBe(true);
    expect(nameMatcher("Refund *")("Refund Rules")).toBe(true);
    expect(nameMatcher("")("")).toBe(true);
    expect(nameMatcher("")("a")).toBe(false);
    expect(nameMatcher("refund*")("Refund Rules")).toBe(false);
  });

  it("answers the pathological pattern at once", () => {
    const match = nameMatcher(PATHOLOGICAL);
    expect(match("a".repeat(40))).toBe(false);
    expect(match("a".repeat(400))).toBe(false);
    expect(match(`${"a".repeat(40)}b`)).toBe(true);
  });
});
