/**
 * markdownManifest, the writer of the Markdown form, against the reader: for every kind with a
 * Markdown body, whatever it renders, written to a real file and loaded, gives back exactly the
 * manifest it was rendered from (a property, over hostile keys, values and bodies); and what it
 * refuses, and when prefersMarkdown chooses Markdown.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import type { ResourceKind } from "../../src/kinds/types.js";
import { analyzeFile } from "../../src/manifest/file.js";
import { markdownManifest, prefersMarkdown } from "../../src/manifest/markdown.js";

const root = mkdtempSync(path.join(tmpdir(), "agentform-markdown-render-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WITH_BODY = KIND_ORDER.filter((k) => KINDS[k].markdownBody !== undefined);

let written = 0;
/** What loading `text` as a `.md` manifest of `kind` gives: the file is written to disk and read back. */
function loadBack(kind: ResourceKind, text: string): unknown {
  const abs = path.join(root, KINDS[kind].folder, `m${written++}.md`);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  return analyzeFile({ abs, kind }, root).value;
}

/** Pieces YAML and the frontmatter rule treat specially, mixed into every generated string. */
const NASTY = ["---", "...", "--- ", "\n---\n", "\n...\n", "\n", "\r", "\r\n", " ", "\t", "#", ": ", "- ", "? ", "|", ">", "'", '"', "&a", "*a", "!", "%", "@", "`", "{", "}", "[", "]", ",", "\\", "${vars.X}", "$${", "\u0000", "\u0085", "\u00a0", "\u2028", "\ufeff", "é", "😀", "\ud800", "\udfff", "true", "~", "null", "0x1F", "1e3", "-0", ".inf", "<<", "__proto__"];
const unit = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 3 }) }, { weight: 2, arbitrary: fc.constantFrom(...NASTY) });
const text = fc.string({ unit, maxLength: 12 });
/** Prose: lines of text, some of them Markdown, some of them frontmatter-like. */
const prose = fc.array(fc.oneof(text, fc.constantFrom("# Title", "---", "- item", "```", "name: x", "")), { minLength: 1, maxLength: 6 }).map((lines) => lines.join("\n"));
const bodyText = fc.oneof(text, prose, prose.map((p) => p.trim()));
const json = fc.jsonValue({ maxDepth: 3, stringUnit: unit });
const key = fc.oneof(fc.string({ unit, maxLength: 6 }), fc.constantFrom("name", "model", "agentform", "metadata", "---", "...", "<<", "__proto__", "1", "true", "", " "));
const frontmatter = fc.dictionary(key, json, { maxKeys: 5 });

/** The body field's value: what a body gives, slightly wrong variants of it, and anything else. */
function fieldValue(kind: ResourceKind): fc.Arbitrary<unknown> {
  const form = KINDS[kind].markdownBody!;
  const given = bodyText.map((t) => form.fromBody(t));
  const variant = fc.tuple(bodyText, json, fc.nat(3)).map(([t, extra, how]) => {
    const value = structuredClone(form.fromBody(t)) as unknown;
    if (Array.isArray(value)) {
      const event = value[0] as Record<string, unknown>;
      const block = (event.content as Array<Record<string, unknown>>)[0]!;
      if (how === 0) return [...value, extra];
      if (how === 1) return [{ ...event, extra }];
      if (how === 2) return [{ ...event, content: [{ ...block, extra }] }];
      return [{ ...event, content: [block, { type: "text", text: t }] }];
    }
    return how === 0 ? [value] : how === 1 ? { text: value } : value;
  });
  return fc.oneof({ weight: 4, arbitrary: given }, { weight: 1, arbitrary: variant }, { weight: 1, arbitrary: json });
}

describe("markdownManifest", () => {
  for (const kind of WITH_BODY) {
    it(`${kind}: render → write → load gives back the manifest exactly, whenever it renders`, () => {
      const field = KINDS[kind].markdownBody!.field;
      let rendered = 0;
      let runs = 0;
      fc.assert(
        fc.property(frontmatter, fieldValue(kind), (rest, value) => {
          runs++;
          const manifest: Record<string, unknown> = { ...rest };
          Object.defineProperty(manifest, field, { value, enumerable: true, writable: true, configurable: true });
          const md = markdownManifest(kind, manifest);
          if (md === undefined) return;
          rendered++;
          expect(md.startsWith("---\n") && md.endsWith("\n")).toBe(true);
          expect(loadBack(kind, md)).toStrictEqual(manifest);
        }),
        { numRuns: 300 },
      );
      // The property says nothing if almost nothing renders.
      expect(rendered).toBeGreaterThan(runs / 5);
    });
  }

  it("writes the frontmatter, a `---` line, a blank line, the body and a newline", () => {
    const md = markdownManifest("agent", { name: "triage", model: { id: "claude-sonnet-5-5", effort: "medium" }, system: "# Role\n\nTriage tickets.", metadata: { team: "support" } });
    expect(md).toBe("---\nname: triage\nmodel:\n  id: claude-sonnet-5-5\n  effort: medium\nmetadata:\n  team: support\n---\n\n# Role\n\nTriage tickets.\n");
    const deployment = markdownManifest("deployment", { name: "nightly", initial_events: [{ type: "user.message", content: [{ type: "text", text: "Triage.\nThen report." }] }], paused: false });
    expect(deployment).toBe("---\nname: nightly\npaused: false\n---\n\nTriage.\nThen report.\n");
    expect(markdownManifest("memory_store", { name: "m", description: "Notes." })).toBe("---\nname: m\n---\n\nNotes.\n");
    expect(markdownManifest("environment", { description: "Only a body." })).toBe("---\n{}\n---\n\nOnly a body.\n");
  });

  it("refuses what would load as another value, and kinds without a Markdown form", () => {
    const agent = (system: unknown) => markdownManifest("agent", { name: "a", model: "m", system });
    for (const system of [" leading", "trailing ", "trailing\n", "\nleading", "crlf\r\nline", "cr\rline", "", "\u00a0nbsp", 7, null, ["a"], { text: "a" }]) expect(agent(system), JSON.stringify(system)).toBeUndefined();
    expect(markdownManifest("agent", { name: "a", model: "m" })).toBeUndefined();
    expect(markdownManifest("vault", { display_name: "v", description: "Some text." })).toBeUndefined();
    expect(markdownManifest("skill", { name: "s", description: "Some text." })).toBeUndefined();
    // UTF-8 cannot hold a lone surrogate: the body cannot, while YAML escapes one in the frontmatter.
    expect(markdownManifest("agent", { name: "a", model: "m", system: "Half \ud800 a pair." })).toBeUndefined();
    const escaped = markdownManifest("agent", { name: "\ud800", model: "m", system: "Text." });
    expect(escaped).toBe('---\nname: "\\ud800"\nmodel: m\n---\n\nText.\n');
    expect(loadBack("agent", escaped!)).toEqual({ name: "\ud800", model: "m", system: "Text." });
    // The yaml package writes a key that is a lone byte-order mark plainly, and reads it back as "".
    expect(markdownManifest("agent", { "\ufeff": 1, model: "m", system: "Text." })).toBeUndefined();
    const event = { type: "user.message", content: [{ type: "text", text: "Go." }] };
    const deployment = (initial_events: unknown) => markdownManifest("deployment", { name: "d", initial_events });
    expect(deployment([event])).toBe("---\nname: d\n---\n\nGo.\n");
    for (const events of [[event, event], [{ ...event, type: "user.interrupt" }], [{ ...event, extra: 1 }], [{ ...event, content: [{ type: "text", text: "Go.", cache_control: null }] }], [{ ...event, content: [...event.content, ...event.content] }], [{ type: "user.message" }], "Go.", []]) {
      expect(deployment(events), JSON.stringify(events)).toBeUndefined();
    }
  });

  it("refuses a frontmatter the loader would not read back: nested too deep, or too large", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 64; i++) deep = [deep];
    expect(markdownManifest("agent", { name: "a", deep, system: "Text." })).toBeUndefined();
    expect(markdownManifest("agent", { name: "a", system: "x".repeat(1024 * 1024) })).toBeUndefined();
    let shallow: unknown = "leaf";
    for (let i = 0; i < 62; i++) shallow = [shallow];
    const ok = markdownManifest("agent", { name: "a", shallow, system: "Text." });
    expect(ok).toBeDefined();
    expect(loadBack("agent", ok!)).toEqual({ name: "a", shallow, system: "Text." });
  });
});

describe("prefersMarkdown", () => {
  it("prefers Markdown for prose: several lines, or more than 200 characters, that render", () => {
    const agent = (system: string) => ({ name: "a", model: "m", system });
    expect(prefersMarkdown("agent", agent("Line one.\nLine two."))).toBe(true);
    expect(prefersMarkdown("agent", agent("x".repeat(201)))).toBe(true);
    expect(prefersMarkdown("agent", agent("x".repeat(200)))).toBe(false);
    expect(prefersMarkdown("agent", agent("😀".repeat(150)))).toBe(false);
    expect(prefersMarkdown("agent", agent("Short."))).toBe(false);
    expect(prefersMarkdown("agent", agent("Line one.\nLine two.\n"))).toBe(false);
    expect(prefersMarkdown("agent", { name: "a", model: "m" })).toBe(false);
    expect(prefersMarkdown("environment", { name: "e", description: "One.\nTwo." })).toBe(true);
    expect(prefersMarkdown("memory_store", { name: "m", description: "y".repeat(300) })).toBe(true);
    expect(prefersMarkdown("deployment", { name: "d", initial_events: [{ type: "user.message", content: [{ type: "text", text: "Do this.\nThen that." }] }] })).toBe(true);
    expect(prefersMarkdown("deployment", { name: "d", initial_events: [{ type: "user.message", content: [{ type: "text", text: "Do this." }] }] })).toBe(false);
    expect(prefersMarkdown("vault", { display_name: "v", description: "One.\nTwo." })).toBe(false);
  });

  it("agrees with markdownManifest: it never prefers what does not render", () => {
    fc.assert(
      fc.property(fc.constantFrom(...WITH_BODY), frontmatter, bodyText, (kind, rest, t) => {
        const form = KINDS[kind].markdownBody!;
        const manifest = { ...rest, [form.field]: form.fromBody(t) };
        if (prefersMarkdown(kind, manifest)) expect(markdownManifest(kind, manifest)).toBeDefined();
      }),
      { numRuns: 200 },
    );
  });
});
