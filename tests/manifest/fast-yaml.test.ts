/**
 * The fast YAML reader (src/manifest/source.ts) against the `yaml` library: whenever it reads a
 * text at all, it must give exactly what a full parse gives, and only for texts the full parse
 * accepts without an error. Checked over every manifest in the repository and its fixtures, the
 * benchmark's generated manifests, hand-written edge cases, and many mutations of all of those.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { parseAllDocuments, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { fastYamlValue, LineIndex, parseYaml } from "../../src/manifest/source.js";
import { agentYaml, environmentYaml } from "../../bench/validate.js";

const repo = path.resolve(import.meta.dirname, "../..");

/** The full parse, as parseYaml's slow path does it: the value, or undefined on any error. */
function full(text: string): unknown {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length !== 1 || list[0]!.errors.length > 0) return undefined;
  return list[0]!.toJS({ maxAliasCount: 100 });
}

/** Whenever the fast reader answers, the full parse agrees and found no error. */
function agrees(text: string): boolean {
  const fast = fastYamlValue(text);
  if (fast === undefined) return false;
  expect(fast, text).toStrictEqual(full(text));
  return true;
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const abs = path.join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) continue;
    if (statSync(abs).isDirectory()) yamlFiles(abs, out);
    else if (/\.(ya?ml)$/i.test(name)) out.push(readFileSync(abs, "utf8"));
    else if (/\.md$/i.test(name)) {
      const m = /^---\n([\s\S]*?)\n---/.exec(readFileSync(abs, "utf8"));
      if (m) out.push(m[1]! + "\n");
    }
  }
  return out;
}

const corpus = [
  ...["agents", "environments", "skills", "vaults", "memory_stores", "deployments", "tests/fixtures"].flatMap((d) => {
    try {
      return yamlFiles(path.join(repo, d));
    } catch {
      return [];
    }
  }),
  ...Array.from({ length: 40 }, (_, i) => agentYaml(i)),
  ...Array.from({ length: 5 }, (_, i) => environmentYaml(i)),
];

const EDGE_CASES = [
  "a: 1\nb: 01\nc: 0x1f\nd: 1.5\ne: .inf\nf: -1\ng: +1\nh: 1e3\n",
  "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: true\ng: True\nh: TRUE\ni: false\nj: yes\nk: on\n",
  "a: 123456789012345\nb: 1234567890123456789012\nc: 0\nd: 00\n",
  "a: b: c\n",
  "a: b:\n",
  "a: 'x''y'\nb: \"q\\\"r\\\\s\\n\\t\\/\"\nc: \"\\u0041\"\nd: \"\\x41\"\n",
  "a: |\n  one\n  two\n\n\nb: 1\n",
  "a: |-\n  one\n    two\n\n  three\nb: 1\n",
  "a: |\n  one\n  two",
  "a: |+\n  one\n\nb: 1\n",
  "a: >\n  one\n  two\n",
  "a: |\n\n  one\n",
  "a: |\n  one\n   \n  two\n",
  "a: |\nb: 1\n",
  "a:\n- 1\n- 2\nb:\n  - x: 1\n    y: [1, 2]\n  - z\n",
  "a:\n  - - 1\n",
  "a: [1, 2,]\n",
  "a: [a b, 'c, d', \"e\"]\nb: {x: 1, 'y': [z], \"w\": {}}\nc: []\nd: {}\n",
  "a: [x: 1]\n",
  "a: {x: 1, x: 2}\n",
  "a: [https://example.com]\n",
  "a: {x:1}\n",
  "a: [a] # comment\nb: [a]#c\n",
  "a: x # comment\nb: x#y\nc: 'q' # c\nd: 'q'x\n",
  "a: 1\na: 2\n",
  "a: 1\n  b: 2\n",
  "a:\n  b: 1\n c: 2\n",
  "a: one\n  two\n",
  "a:\n  one\n",
  "- 1\n- 2\n",
  "just text\n",
  "",
  "# only a comment\n",
  "---\na: 1\n",
  "a: 1\n---\nb: 2\n",
  "a: &x 1\nb: *x\n",
  "a: !!str 1\n",
  "true: 1\nnull: 2\n1: 3\n",
  "'true': 1\n\"null\": 2\n",
  "__proto__: 1\n",
  "'__proto__': {}\n",
  "a:\n  # comment\n  b: 1\n# c\nc:   \n  - 1\n",
  "a: -x\nb: ?x\nc: :x\nd: x:y\ne: x-y\nf: '-'\n",
  "a: %x\nb: @x\nc: `x`\n",
  "a:\n-\n- b\n-   c: 1\n    d: 2\n",
  "a: [[1, [2, {b: [3]}]]]\n",
  "a:\n  - b: |\n      text\n    c: 1\n",
  "key with space: 1\n",
  "a : 1\n",
  "a:\tb\n",
  "a: b\r\n",
  "a: é\n",
  "a: 'unterminated\nb: 1\n",
  "a: [1,\n  2]\n",
  "a.b/c-d_e: 1\n",
  `a: ${"x".repeat(2000)}\n${"k".repeat(1100)}: 1\n`,
];

describe("fast YAML reader", () => {
  it("reads the repository's manifests and fixtures exactly as the yaml library does", () => {
    let read = 0;
    for (const text of corpus) if (agrees(text)) read++;
    // Most manifests are in the subset: that is the point of the fast path.
    expect(read).toBeGreaterThan(corpus.length / 2);
  });

  it("agrees on hand-written edge cases, or leaves them to the full parse", () => {
    for (const text of EDGE_CASES) agrees(text);
    expect(fastYamlValue("a: 1\nb:\n  - {x: 'y'}\n")).toStrictEqual({ a: 1, b: [{ x: "y" }] });
    expect(fastYamlValue("a: 1\na: 2\n")).toBeUndefined();
    expect(fastYamlValue("a: &x 1\n")).toBeUndefined();
  });

  it("agrees on mutations of real manifests (characters swapped, lines re-indented)", () => {
    const alphabet = [..." -:#'\"[]{},|>&*!?%@`~.0123456789\nabcxyz"];
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus.filter((t) => t.length < 4000)),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: alphabet.length - 1 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
        (text, edits) => {
          let t = text;
          for (const [at, c, insert] of edits) {
            const i = at % (t.length + 1);
            t = t.slice(0, i) + alphabet[c] + t.slice(insert ? i : i + 1);
          }
          agrees(t);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("agrees on whatever the yaml library writes for arbitrary values", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { minKeys: 1, maxKeys: 6 }), (doc) => {
        agrees(stringify(doc));
        agrees(stringify(doc, { collectionStyle: "flow" }));
      }),
      { numRuns: 1000 },
    );
  });

  it("builds positions only when asked, and then they are the full parse's", () => {
    const text = "name: a\nmodel: b\ntools:\n  - type: x\n";
    const fast = parseYaml(text, { file: "a.yaml", lines: new LineIndex(text) });
    expect(fast.value).toStrictEqual({ name: "a", model: "b", tools: [{ type: "x" }] });
    expect(fast.locate("/tools/0/type")).toEqual({ line: 4, column: 5 });
    expect(fast.nodeAt(text.indexOf("x"))).toEqual({ segments: ["tools", "0", "type"], inKey: false, inScalar: true });
  });
});
