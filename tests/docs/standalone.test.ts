/**
 * The repository stands alone: no document, comment or message refers a reader to a file they do
 * not have. Over every text file in README.md, docs/, src/, schemas/, tests/, bin/, scripts/ and
 * bench/ (tracked or about to be, per git; every file when git is not there), this fails on
 * mentions of notes kept outside the repository, on section numbers of those notes (a section
 * sign and a number; an RFC's sections are fine), and on Markdown links to a relative path that does not exist, or to a
 * heading a Markdown file does not have.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCOPE = ["README.md", "docs", "src", "schemas", "tests", "bin", "scripts", "bench"];

// Spelled in pieces, so this file does not mention them itself.
const OUTSIDE = [["..", "/shared"], ["DESIGN", ".md"], ["API-SEMANTICS", ".md"], ["ANT-APPLY-FORMAT", ".md"], ["STYLE", ".md"]].map((parts) => parts.join(""));
/** A section sign before a number (as in 2.4 or 11), except after `RFC <number> `. */
const SECTION = new RegExp(`(?<!RFC \\d+ )${"\u00a7"} ?\\d`);

function files(): string[] {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ...SCOPE], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return [...new Set(out.split("\0").filter((f) => f !== "" && existsSync(path.join(repo, f))))].sort();
  } catch {
    return SCOPE.flatMap((p) => walk(p)).sort();
  }
}

function walk(rel: string): string[] {
  const abs = path.join(repo, rel);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).flatMap((name) => (name === "node_modules" ? [] : walk(`${rel}/${name}`)));
}

/** The file's text, or undefined for a binary file (one with a NUL byte). */
function text(rel: string): string | undefined {
  const bytes = readFileSync(path.join(repo, rel));
  return bytes.includes(0) ? undefined : bytes.toString("utf8");
}

const lineOf = (source: string, index: number) => source.slice(0, index).split("\n").length;

/** Markdown with fenced code blocks and inline code spans blanked out (same length, same lines). */
function prose(markdown: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/`[^`\n]+`/g, blank);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const heading = markdown.slice(m.index, m.index + m[0].length).replace(/^#+ +/, "").replace(/ *#* *$/, "");
    const plain = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Link targets that are relative paths (optionally with `#anchor`): no scheme, no `mailto:`, not code. */
const RELATIVE = /^(?![a-z][a-z0-9+.-]*:)([\w./~%-]*)(?:#([\w-]*))?$/i;

function brokenLinks(rel: string, source: string): string[] {
  const body = rel.endsWith(".md") ? prose(source) : source;
  const broken: string[] = [];
  for (const m of body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = RELATIVE.exec(m[1]!);
    if (!target || (target[1] === "" && target[2] === undefined)) continue;
    const where = `${rel}:${lineOf(source, m.index)} → ${m[1]}`;
    if (target[1] === "") {
      if (rel.endsWith(".md") && !anchors(source).has(target[2]!.toLowerCase())) broken.push(`${where} (no such heading)`);
      continue;
    }
    const file = path.resolve(path.dirname(path.join(repo, rel)), decodeURIComponent(target[1]!));
    if (!file.startsWith(repo + path.sep) && file !== repo) broken.push(`${where} (outside the repository)`);
    else if (!existsSync(file)) broken.push(`${where} (no such file)`);
    else if (target[2] && file.endsWith(".md") && !anchors(readFileSync(file, "utf8")).has(target[2].toLowerCase())) broken.push(`${where} (no such heading)`);
  }
  return broken;
}

describe("the repository stands alone", () => {
  const all = files().flatMap((rel) => {
    const t = text(rel);
    return t === undefined ? [] : [{ rel, text: t }];
  });

  it("reads the files it checks (a sanity check)", () => {
    expect(all.some((f) => f.rel === "README.md")).toBe(true);
    expect(all.filter((f) => f.rel.startsWith("docs/")).length).toBeGreaterThan(5);
    expect(all.filter((f) => f.rel.startsWith("src/")).length).toBeGreaterThan(50);
  });

  it("mentions no notes kept outside the repository, nor their section numbers", () => {
    const found: string[] = [];
    for (const { rel, text: source } of all) {
      source.split("\n").forEach((line, i) => {
        for (const name of OUTSIDE) if (line.includes(name)) found.push(`${rel}:${i + 1} mentions ${name}`);
        if (SECTION.test(line)) found.push(`${rel}:${i + 1} cites a section number: ${line.trim().slice(0, 100)}`);
      });
    }
    expect(found).toEqual([]);
  });

  it("links only to files (and headings) that exist in the repository", () => {
    expect(all.flatMap(({ rel, text: source }) => brokenLinks(rel, source))).toEqual([]);
  });

  it("the link check itself finds a missing file, a missing heading and a link out of the repository", () => {
    // Links spelled with "](" split, so this file has none itself.
    const link = (target: string) => `[x]${"("}${target})`;
    const doc = [
      "# Top",
      "## Exit codes",
      [link("#exit-codes"), link("architecture.md#cost-model"), link("https://example.com/x")].join(" "),
      [link("nope.md"), link("#nowhere"), link("../../outside.md"), `\`${link("skipped.md")}\``].join(" "),
      "```",
      link("skipped.md"),
      "```",
    ].join("\n");
    expect(brokenLinks("docs/example.md", doc)).toEqual([
      "docs/example.md:4 → nope.md (no such file)",
      "docs/example.md:4 → #nowhere (no such heading)",
      "docs/example.md:4 → ../../outside.md (outside the repository)",
    ]);
  });
});
