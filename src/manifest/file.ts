/**
 * One manifest file: read it (size and encoding checks), parse it (YAML or `.md` frontmatter),
 * validate it against its schema. The result is plain data: the YAML syntax tree is dropped,
 * and positions are recovered lazily by re-parsing the kept text, which only happens for the
 * few files that have something to report. For thousands of files that keeps memory flat.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ResourceKind } from "../backends/types.js";
import { schemaDiagnostics } from "./schema.js";
import { LineIndex, parseYaml, type ParsedYaml } from "./source.js";
import type { Diagnostic, Position } from "./types.js";

/** Larger files are refused before being read whole: no manifest needs a megabyte. */
export const MAX_FILE_BYTES = 1024 * 1024;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}

export function fileDiag(file: string, code: string, message: string, hint: string, pos: Position = { line: 1, column: 1 }): Diagnostic {
  return { code, severity: "error", file, line: pos.line, column: pos.column, path: "", message, hint };
}

export interface Candidate {
  abs: string;
  /** "auto": a file named on the command line outside the configured folders. */
  kind: ResourceKind | "auto";
}

/** What analysing one file yields; plain data. */
export interface FileReport {
  file: string;
  kind: ResourceKind;
  diagnostics: Diagnostic[];
  /** sha256 of the bytes, when the file was read. */
  sha256?: string;
  /** The parsed mapping (for `.md` agents with the body as `system`), when the file parsed to one. */
  value?: Obj;
  /** The source text, kept so positions can be found again later. */
  text?: string;
  markdown: boolean;
}

export interface ReadOk {
  text: string;
  sha256: string;
}

/**
 * Read a file as UTF-8 with the size and encoding checks every input gets. Synchronous on
 * purpose: for thousands of small files the thread-pool round trips of fs/promises cost more
 * than the reads themselves (see bench/validate.ts).
 */
export function readSource(abs: string, file: string): ReadOk | { diagnostic: Diagnostic; sha256?: string } {
  const unreadable = (err: unknown) => ({
    diagnostic: fileDiag(file, "AF-FILE-READ", `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the path exists and is readable."),
  });
  let bytes: Buffer;
  let fd: number;
  try {
    fd = openSync(abs, "r");
  } catch (err) {
    return unreadable(err);
  }
  try {
    // Size first, through the open descriptor: a huge file is refused without reading it.
    const { size } = fstatSync(fd);
    if (size > MAX_FILE_BYTES) {
      return { diagnostic: fileDiag(file, "AF-FILE-TOO-LARGE", `the file is ${size} bytes; manifests are limited to ${MAX_FILE_BYTES} bytes (1 MiB)`, "Split it up or move large text (long prompts) out; no manifest needs a megabyte.") };
    }
    bytes = readFileSync(fd);
  } catch (err) {
    return unreadable(err);
  } finally {
    closeSync(fd);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  try {
    return { text: utf8.decode(bytes), sha256 };
  } catch {
    return { diagnostic: fileDiag(file, "AF-FILE-ENCODING", "the file is not valid UTF-8", "Save the file as UTF-8 (without a byte-order mark is best).", { line: firstInvalidLine(bytes), column: 1 }), sha256 };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function firstInvalidLine(bytes: Buffer): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 10) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return 1;
}

const FRONTMATTER_CLOSE = /^---[ \t]*\r?$/m;

interface Parsed {
  parsed: ParsedYaml;
  /** `.md` agents: the Markdown body, which becomes `system`. */
  body?: { text: string; position: Position };
}

function parseMarkdown(text: string, file: string, lines: LineIndex): Parsed | Diagnostic {
  const open = /^---[ \t]*\r?\n/.exec(text);
  const hint = "An agent .md file starts with YAML frontmatter between two `---` lines; the Markdown after it is the system prompt.";
  if (!open) return fileDiag(file, "AF-MD-FRONTMATTER", "the file does not start with a `---` frontmatter block", hint);
  const rest = text.slice(open[0].length);
  const close = FRONTMATTER_CLOSE.exec(rest);
  if (!close) return fileDiag(file, "AF-MD-FRONTMATTER", "the frontmatter block is not closed by a `---` line", hint);
  const frontmatter = rest.slice(0, close.index);
  const bodyStart = open[0].length + close.index + close[0].length;
  const rawBody = text.slice(bodyStart);
  const lead = rawBody.length - rawBody.trimStart().length;
  const parsed = parseYaml(frontmatter, { file, lines, offset: open[0].length });
  // Line endings are normalised as YAML does for the frontmatter: a checkout with CRLF (Windows,
  // core.autocrlf) must not look like a different system prompt and mint a version every apply.
  return { parsed, body: { text: rawBody.replace(/\r\n?/g, "\n").trim(), position: lines.position(bodyStart + lead) } };
}

function parseText(text: string, file: string, markdown: boolean): Parsed | Diagnostic {
  const lines = new LineIndex(text);
  return markdown ? parseMarkdown(text, file, lines) : { parsed: parseYaml(text, { file, lines }) };
}

/** The position finder for a parsed file: `/system` of a `.md` agent is its Markdown body. */
function locatorOf({ parsed, body }: Parsed): (pointer: string) => Position {
  const inFrontmatter = isObject(parsed.value) && "system" in parsed.value;
  return (pointer) => (body !== undefined && !inFrontmatter && (pointer === "/system" || pointer.startsWith("/system/")) ? body.position : parsed.locate(pointer));
}

/**
 * Position lookup for a report, parsing its text again on first use. Falls back to line 1,
 * column 1 for a file without text (it could not be read).
 */
export function lazyLocator(report: FileReport): (pointer: string) => Position {
  let locate: ((pointer: string) => Position) | undefined;
  return (pointer) => {
    if (!locate) {
      const parsed = report.text === undefined ? undefined : parseText(report.text, report.file, report.markdown);
      locate = parsed === undefined || "code" in parsed ? () => ({ line: 1, column: 1 }) : locatorOf(parsed);
    }
    return locate(pointer);
  };
}

/** Read, parse and schema-check one manifest file. Never throws for bad content. */
export function analyzeFile(candidate: Candidate, root: string): FileReport {
  const file = toPosix(path.relative(root, candidate.abs));
  const markdown = path.extname(candidate.abs).toLowerCase() === ".md";
  let kind: ResourceKind = candidate.kind === "auto" ? "agent" : candidate.kind;
  const read = readSource(candidate.abs, file);
  if ("diagnostic" in read) return { file, kind, markdown, diagnostics: [read.diagnostic], ...(read.sha256 ? { sha256: read.sha256 } : {}) };
  const { text, sha256 } = read;
  const result = parseText(text, file, markdown);
  if ("code" in result) return { file, kind, markdown, diagnostics: [result], sha256 };
  const { parsed, body } = result;
  if (parsed.diagnostics.length > 0 || !isObject(parsed.value)) return { file, kind, markdown, diagnostics: parsed.diagnostics, sha256 };
  const value = parsed.value;
  // Files named outside the configured folders: agents have a model, environments do not.
  if (candidate.kind === "auto") kind = markdown || "model" in value ? "agent" : "environment";
  const locate = locatorOf(result);
  const diagnostics: Diagnostic[] = [];
  if (body !== undefined && "system" in value) {
    const pos = locate("/system");
    diagnostics.push({ code: "AF-MD-SYSTEM-CONFLICT", severity: "error", file, line: pos.line, column: pos.column, path: "system", message: "the frontmatter sets `system`, but in a .md agent the Markdown body is the system prompt", hint: "Remove `system:` from the frontmatter and keep the prompt in the body." });
  }
  const withBody = body !== undefined && body.text !== "" && !("system" in value) ? { ...value, system: body.text } : value;
  diagnostics.push(...schemaDiagnostics(kind, withBody, { file, locate }));
  return { file, kind, markdown, diagnostics, sha256, value: withBody, text };
}
