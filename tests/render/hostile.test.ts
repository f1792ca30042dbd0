/**
 * Rendering is inert: every plan of the golden scenarios, with a hostile payload appended to
 * every string it holds (names, ids, files, pointers, messages, hints, values, object keys),
 * renders to text and Markdown in which the payload can do nothing: no raw control or bidi
 * character reaches a terminal, no line is forged, and no Markdown construct is opened.
 */
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { renderJson, renderMarkdown, renderText } from "../../src/render/index.js";
import { scenarios } from "../fixtures/plans/scenarios.js";

const HOSTILE = [
  "\u001b[2J\u001b]0;pwned\u0007", // clear screen, set the window title
  "\rsecurity: none", // a lone CR to overwrite the line
  "\u202eevil\u202c\u2066x\u2069\u200f", // bidi override, isolate, mark
  "\nFORGED # heading\n\nFORGED </details></summary></code>", // new lines; close the collapsible block
  "<img src=x onerror=alert(1)> [link](https://evil.example) ![i](https://evil.example/i.png)",
  "@octocat @org/team www.evil.example #1 $x^2$",
  "<!-- agentform-plan:other/prod --> ````",
  "\u0000\u0085\u009b31m\u007f\u2028",
].join(" ");
const BENIGN = " X";

/** Which keys hold enums the renderers branch on; their values stay as they are. */
const ENUMS = new Set(["action", "kind", "op", "severity", "impact", "method", "type"]);
const VALUES = new Set(["before", "after", "body"]);

/** The plan with `extra` appended to every free string (and every key inside values). */
function withPayload(v: unknown, extra: string, inValue = false, key = ""): unknown {
  if (typeof v === "string") return !inValue && ENUMS.has(key) ? v : v + extra;
  if (Array.isArray(v)) return v.map((x) => withPayload(x, extra, inValue, key));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[inValue ? k + extra : k] = withPayload(x, extra, inValue || VALUES.has(k), k);
    return out;
  }
  return v;
}

const plans = scenarios.map((sc) => {
  const plan = buildPlan(sc.input);
  return { name: sc.name, hostile: withPayload(plan, HOSTILE) as Plan, benign: withPayload(plan, BENIGN) as Plan };
});

// Raw characters no terminal may see: C0 except tab and newline, DEL, C1, bidi controls, LS/PS.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const SGR = /\u001b\[[0-9;]*m/g; // the renderer's own colours

/** Lines that start (after blanks) with the payload, other than those `allowed` describes. */
function forgedLines(out: string, allowed: RegExp): string[] {
  return out.split("\n").filter((l) => /^\s*FORGED/.test(l) && !allowed.test(l));
}

/** Markdown outside fenced code blocks (where GitHub renders HTML, links and mentions). */
function prose(md: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of md.split("\n")) {
    const m = /^(`{3,})/.exec(line);
    if (fence === null && m) fence = m[1]!;
    else if (fence !== null && line === fence) fence = null;
    else if (fence === null) out.push(line);
  }
  return out.join("\n");
}

describe("hostile strings in a plan", () => {
  it("the payload reaches the plan's values (the test exercises what it claims to)", () => {
    const text = plans.map((p) => renderText(p.hostile, { color: false, explain: true })).join("");
    expect(text).toContain("\\x1b[2J");
    expect(text).toContain("\\u202eevil");
    expect(text).toContain("\\rsecurity: none");
  });

  for (const p of plans) {
    it(`${p.name}: text output holds no raw control or bidi character and starts no line`, () => {
      for (const explain of [false, true]) {
        const plain = renderText(p.hostile, { color: false, explain });
        expect(plain).not.toMatch(UNSAFE);
        const colored = renderText(p.hostile, { color: true, explain });
        expect(colored.replace(SGR, "")).not.toMatch(UNSAFE);
        // Multi-line values render as several lines, each behind the renderer's own prefix (a
        // diff's context lines: its indent and a space); a payload newline that got through raw
        // would start a line with the payload.
        expect(forgedLines(plain, /^ {9}FORGED|^ {11}FORGED/)).toEqual([]);
      }
    });

    it(`${p.name}: Markdown opens no construct and keeps one sticky marker`, () => {
      const md = renderMarkdown(p.hostile);
      const benign = renderMarkdown(p.benign);
      expect(md).not.toMatch(UNSAFE);
      expect(md.split("\n")[0]).toMatch(/^<!-- agentform-plan:[A-Za-z0-9._%-]+\/[A-Za-z0-9._%-]+ -->$/);
      expect(md.match(/<!--/g)).toHaveLength(1);
      expect(forgedLines(md, /^ {3}FORGED/)).toEqual([]); // context lines inside a diff fence
      const text = prose(md.slice(md.indexOf("\n") + 1)); // after the marker (an HTML comment)
      const structure = (s: string) => ({
        tags: s.match(/<\/?[a-z]+[^>]*>/gi),
        headings: s.split("\n").flatMap((l) => /^\s*#+/.exec(l)?.[0] ?? []),
        fences: md.split("\n").filter((l) => /^`{3,}/.test(l)).length,
      });
      expect(structure(text)).toEqual(structure(prose(benign.slice(benign.indexOf("\n") + 1))));
      // GitHub reads the collapsible block's first line as raw HTML (no Markdown in it): there
      // only tags, mentions and autolinks matter. Everywhere else Markdown syntax matters too.
      const html = text.split("\n").filter((l) => l.startsWith("<details><summary>")).join("\n");
      const markdown = text.split("\n").filter((l) => !l.startsWith("<details><summary>")).join("\n");
      for (const t of [html, markdown]) {
        expect(t).not.toMatch(/@(?!\u200d)/); // no mention
        expect(t).not.toMatch(/:\/\/|www\./i); // no bare-URL autolink
        expect(t).not.toMatch(/#\d/); // no issue reference
      }
      expect(markdown).not.toMatch(/(^|[^\\])[[\]]/); // every bracket escaped: no link, image or footnote
      expect(markdown).not.toMatch(/(^|[^\\])\$/); // no math
    });

    it(`${p.name}: JSON stays lossless and terminal-safe`, () => {
      const json = renderJson(p.hostile);
      expect(json).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(p.hostile)));
    });
  }
});

describe("a project or target name cannot forge the sticky marker", () => {
  it("percent-encodes everything that could end the comment, break the line or look like another marker", () => {
    const plan = { ...plans[0]!.benign, project: "a --> <!-- agentform-plan:b", target: "prod\n# x" };
    const first = renderMarkdown(plan).split("\n")[0];
    expect(first).toBe("<!-- agentform-plan:a%20--%3E%20%3C%21--%20agentform-plan%3Ab/prod%5Cn%23%20x -->");
  });
});

describe("deeply nested values (a hostile server can send them)", () => {
  function nested(depth: number, leaf: unknown): unknown {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  }
  const base = plans.find((p) => p.name === "update-description")!.benign;
  const deep = (before: unknown, after: unknown): Plan => ({
    ...base,
    resources: base.resources.map((r) => ({ ...r, changes: [{ pointer: "/metadata/x", op: "replace" as const, before, after }] })),
  });
  // Far deeper than JSON.stringify or YAML can walk without overflowing the stack.
  const plan = deep(nested(100_000, "old"), nested(100_000, "new"));

  it("renders text, Markdown and JSON without overflowing, cut at 64 levels", () => {
    const text = renderText(plan, { color: false });
    expect(text).toContain("…(nested too deep)");
    expect((text.match(/\{"a":/g) ?? []).length).toBe(2 * 64);
    expect(renderMarkdown(plan)).toContain("…(nested too deep)");
    const json = JSON.parse(renderJson(plan)) as { resources: Array<{ changes: Array<{ before: unknown }> }> };
    let v: unknown = json.resources[0]!.changes[0]!.before;
    let levels = 0;
    while (v && typeof v === "object") [v, levels] = [(v as { a: unknown }).a, levels + 1];
    // 64 levels counted from the resource's `changes` field: the list, the change, then 62 of the value.
    expect([levels, v]).toEqual([62, "…(nested too deep)"]);
  });

  it("shows values up to 64 levels in full", () => {
    const text = renderText(deep(nested(63, "old"), nested(63, "new")), { color: false });
    expect(text).not.toContain("nested too deep");
    expect(text).toContain('"old"');
  });
});
