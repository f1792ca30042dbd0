/**
 * One manifest file: read it (size and encoding checks), parse it (YAML or `.md` frontmatter),
 * validate it against its schema. The result is plain data: the YAML syntax tree is dropped,
 * and positions are recovered lazily by re-parsing the kept text, which only happens for the
 * few files that have something to report. For thousands of files that keeps memory flat.
 */
import { createHash } from "node:crypto";
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import path from "node:path";
import { KIND_ORDER, KINDS } from "../kinds/index.js";
import type { KindSpec } from "../kinds/spec.js";
import type { ResourceKind } from "../kinds/types.js";
import { pointerToPath } from "./format.js";
import { schemaDiagnostics } from "./schema.js";
import { LineIndex, parseYaml, toPointer, type ParsedYaml } from "./source.js";
import type { Diagnostic, Position, UploadFile } from "./types.js";
import { interpolate, type VarScope } from "./vars.js";

/** Larger files are refused before being read whole: no manifest needs a megabyte. */
export const MAX_FILE_BYTES = 1024 * 1024;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}

/** Whether `child` is `parent` or inside it (paths already resolved; no link is followed). */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

export function fileDiag(file: string, code: string, message: string, hint: string, pos: Position = { line: 1, column: 1 }): Diagnostic {
  return { code, severity: "error", file, line: pos.line, column: pos.column, path: "", message, hint };
}

export interface Candidate {
  abs: string;
  /** "auto": a file named on the command line outside the configured folders. */
  kind: ResourceKind | "auto";
  /** Folder-layout kinds: the manifest's folder (absolute); `abs` is the manifest file in it. */
  folder?: string;
}

/** What analysing one file yields; plain data. */
export interface FileReport {
  file: string;
  kind: ResourceKind;
  diagnostics: Diagnostic[];
  /** sha256 of the bytes, when the file was read. */
  sha256?: string;
  /** The parsed mapping (for a `.md` manifest, with its body in its kind's body field), when the file parsed to one. */
  value?: Obj;
  /** The source text, kept so positions can be found again later. */
  text?: string;
  markdown: boolean;
  /**
   * Folder-layout manifests: the folder (relative to the project root, forward slashes), whose
   * name is the manifest's name, and every file read from it (paths relative to the folder).
   */
  folder?: { path: string; name: string; uploads: UploadFile[] };
}

export interface ReadOk {
  text: string;
  sha256: string;
}

/** What a stat says a non-regular path is, for the message. */
function describeNonRegular(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function notRegular(file: string, st: Stats): { diagnostic: Diagnostic } {
  return { diagnostic: fileDiag(file, "AF-FILE-NOT-REGULAR", `the path is ${describeNonRegular(st)}, not a regular file; it was not read`, "Manifests and agentform.yaml must be regular files (a symlink to one is fine); replace it with the file itself.") };
}

export function tooLarge(file: string, size: number): { diagnostic: Diagnostic } {
  return { diagnostic: fileDiag(file, "AF-FILE-TOO-LARGE", `the file is ${size} bytes; manifests are limited to ${MAX_FILE_BYTES} bytes (1 MiB)`, "Split it up or move large text (long prompts) out; no manifest needs a megabyte.") };
}

/**
 * Read to the end, but never more than max + 1 bytes: a file that grows while being read (or
 * reports a wrong size) still cannot exhaust memory.
 */
function readBounded(fd: number, size: number, max: number): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(size, max) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > max) return buffer;
      const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, max + 1));
      buffer.copy(bigger);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, length, buffer.length - length, null);
    if (n === 0) return buffer.subarray(0, length);
    length += n;
  }
}

// Opening a FIFO for reading waits for a writer; with O_NONBLOCK it returns at once, so a FIFO
// swapped in between the stat and the open cannot hang us either. No effect on regular files.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** A file's bytes and their sha256; `over`: the file holds more than the bound (its size, at least). */
export type BytesRead = { bytes: Buffer; sha256: string } | { diagnostic: Diagnostic } | { over: number };

/**
 * Read a regular file's bytes, never more than `max` (a larger file comes back as `over`, read
 * no further). Synchronous on purpose: for thousands of small files the thread-pool round trips
 * of fs/promises cost more than the reads themselves (see bench/validate.ts). Only regular files
 * are opened: a FIFO would block the open, and /dev/zero would never end.
 */
export function readBytes(abs: string, file: string, max: number): BytesRead {
  const unreadable = (err: unknown) => ({
    diagnostic: fileDiag(file, "AF-FILE-READ", `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the path exists and is readable."),
  });
  let bytes: Buffer;
  let fd: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) return notRegular(file, st);
    if (st.size > max) return { over: st.size };
    fd = openSync(abs, OPEN_FLAGS);
  } catch (err) {
    return unreadable(err);
  }
  try {
    // Again through the open descriptor: the path may have been replaced since the stat.
    const st = fstatSync(fd);
    if (!st.isFile()) return notRegular(file, st);
    bytes = readBounded(fd, st.size, max);
    if (bytes.length > max) return { over: Math.max(st.size, bytes.length) };
  } catch (err) {
    return unreadable(err);
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** A manifest's bytes as UTF-8 text, with the size and encoding checks every input gets. */
export function decodeSource(bytes: Uint8Array, sha256: string, file: string): ReadOk | { diagnostic: Diagnostic; sha256?: string } {
  if (bytes.length > MAX_FILE_BYTES) return tooLarge(file, bytes.length);
  try {
    return { text: utf8.decode(bytes), sha256 };
  } catch {
    return { diagnostic: fileDiag(file, "AF-FILE-ENCODING", "the file is not valid UTF-8", "Save the file as UTF-8 (without a byte-order mark is best).", { line: firstInvalidLine(bytes), column: 1 }), sha256 };
  }
}

/** Read a file as UTF-8 with the size and encoding checks every input gets. */
export function readSource(abs: string, file: string): ReadOk | { diagnostic: Diagnostic; sha256?: string } {
  const read = readBytes(abs, file, MAX_FILE_BYTES);
  if ("over" in read) return tooLarge(file, read.over);
  if ("diagnostic" in read) return read;
  return decodeSource(read.bytes, read.sha256, file);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function firstInvalidLine(bytes: Uint8Array): number {
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

export interface Parsed {
  parsed: ParsedYaml;
  /**
   * `.md` files: the Markdown body, trimmed, with LF line endings (its kind's body field, or a
   * skill's instructions); `position` is where its text starts, `start` the offset of the line
   * after the frontmatter.
   */
  body?: { text: string; position: Position; start: number };
}

type BodyForm = NonNullable<KindSpec["markdownBody"]>;

/** The Markdown form a `.md` manifest of this kind has; undefined when the kind has none. */
function bodyForm(kind: ResourceKind): BodyForm | undefined {
  return KINDS[kind].markdownBody;
}

/** What a `.md` manifest of this kind should look like, for frontmatter problems. */
function markdownHint(kind: ResourceKind): string {
  const form = bodyForm(kind);
  const body = form === undefined ? "" : `; the Markdown after it is ${form.what} (\`${form.field}\`)`;
  return `A .md ${kind} manifest starts with YAML frontmatter between two \`---\` lines${body}.`;
}

function parseMarkdown(text: string, file: string, lines: LineIndex, hint: string): Parsed | Diagnostic {
  const open = /^---[ \t]*\r?\n/.exec(text);
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
  return { parsed, body: { text: rawBody.replace(/\r\n?/g, "\n").trim(), position: lines.position(bodyStart + lead), start: bodyStart } };
}

/** Parse a manifest's text: YAML, or Markdown frontmatter (`hint` says what the file should look like). */
export function parseText(text: string, file: string, markdown: boolean, hint = "A .md manifest starts with YAML frontmatter between two `---` lines."): Parsed | Diagnostic {
  const lines = new LineIndex(text);
  return markdown ? parseMarkdown(text, file, lines, hint) : { parsed: parseYaml(text, { file, lines }) };
}

/** Whether the frontmatter sets the body's field itself (then the body gives nothing, or conflicts). */
const setInFrontmatter = (parsed: ParsedYaml, field: string) => isObject(parsed.value) && Object.hasOwn(parsed.value, field);

/**
 * The position finder for a parsed file. `bodyField`: the field a `.md` manifest's body gives
 * (its kind's); every pointer at or inside it is the body's position, since that is where its
 * value is written (`/system`, `/initial_events/0/content/0/text`).
 */
export function locatorOf({ parsed, body }: Parsed, bodyField?: string): (pointer: string) => Position {
  if (body === undefined || bodyField === undefined || setInFrontmatter(parsed, bodyField)) return (pointer) => parsed.locate(pointer);
  const at = toPointer([bodyField]);
  return (pointer) => (pointer === at || pointer.startsWith(`${at}/`) ? body.position : parsed.locate(pointer));
}

/** The field a report's Markdown body gives (none for YAML files and for kinds without a Markdown form). */
const bodyFieldOf = (report: FileReport) => (report.markdown ? bodyForm(report.kind)?.field : undefined);

const reparsed = new WeakMap<FileReport, Parsed | undefined>();

/** A file's text parsed again, or undefined when it has none or it does not parse. */
function parseAgain(text: string | undefined, file: string, markdown: boolean): Parsed | undefined {
  const parsed = text === undefined ? undefined : parseText(text, file, markdown);
  return parsed === undefined || "code" in parsed ? undefined : parsed;
}

/** The report's text parsed again (once), or undefined when it has no usable text. */
function parsedAgain(report: FileReport): Parsed | undefined {
  if (!reparsed.has(report)) reparsed.set(report, parseAgain(report.text, report.file, report.markdown));
  return reparsed.get(report);
}

/**
 * Position lookup for a report, parsing its text again on first use. Falls back to line 1,
 * column 1 for a file without text (it could not be read). Only what parsing again needs is
 * kept, not the report: a manifest's lookup lives as long as the manifest (a whole plan), and
 * thousands of reports' parsed values and diagnostics need not.
 */
export function lazyLocator(report: FileReport): (pointer: string) => Position {
  const { text, file, markdown } = report;
  const bodyField = bodyFieldOf(report);
  let locate: ((pointer: string) => Position) | undefined;
  return (pointer) => {
    if (!locate) {
      const parsed = parseAgain(text, file, markdown);
      locate = parsed === undefined ? () => ({ line: 1, column: 1 }) : locatorOf(parsed, bodyField);
    }
    return locate(pointer);
  };
}

/** What is at a text offset of a file: a field (path segments, and whether it is a key) or no field at all (a comment). */
export interface TextSpot {
  /** The field holding the offset; undefined in comments, between entries, or in a file that does not parse. */
  segments?: string[];
  inKey: boolean;
  position: Position;
}

/** Text offset → the field there, for findings made on the raw text (secret scanning). Parses again on first use. */
export function spotLocator(report: FileReport): (offset: number) => TextSpot {
  const lines = new LineIndex(report.text ?? "");
  return (offset) => {
    const parsed = parsedAgain(report);
    const raw: TextSpot = { inKey: false, position: lines.position(offset) };
    if (parsed === undefined || !isObject(parsed.parsed.value)) return raw;
    const field = bodyFieldOf(report);
    const locate = locatorOf(parsed, field);
    if (parsed.body !== undefined && offset >= parsed.body.start) {
      // The body is its kind's field, unless the frontmatter set it (then the body is unused); a
      // folder manifest's body (SKILL.md) is content uploaded as it is, no field at all.
      if (field === undefined || report.folder !== undefined || setInFrontmatter(parsed.parsed, field)) return raw;
      const segments = [field, ...(bodyForm(report.kind)?.textPath ?? [])];
      return { segments, inKey: false, position: locate(toPointer(segments)) };
    }
    const node = parsed.parsed.nodeAt(offset);
    if (!node.inScalar) return raw;
    return { segments: node.segments, inKey: node.inKey, position: locate(toPointer(node.segments)) };
  };
}

/**
 * The kind of a file outside the configured folders, before it is parsed (what it is reported as
 * when it does not parse): the last kind in dependency order whose manifests may have its
 * extension, preferring one that takes any file of that form (a `.md`: an agent).
 */
function guessKind(abs: string): ResourceKind {
  const ext = path.extname(abs).toLowerCase();
  const kinds = [...KIND_ORDER].reverse().filter((k) => KINDS[k].extensions.includes(ext));
  return kinds.find((k) => KINDS[k].looksLike({}, ext === ".md")) ?? kinds[0] ?? (KIND_ORDER[KIND_ORDER.length - 1] as ResourceKind);
}

/**
 * The manifest a `.md` file gives: its frontmatter, with the kind's body field set from the
 * Markdown body. The field set in the frontmatter as well as by a body is an error: one of the
 * two would be silently dropped. An empty body sets nothing.
 */
function withMarkdownBody(kind: ResourceKind, value: Obj, body: Parsed["body"], file: string, locate: (pointer: string) => Position): { value: Obj; diagnostics: Diagnostic[] } {
  const form = bodyForm(kind);
  if (form === undefined || body === undefined || body.text === "") return { value, diagnostics: [] };
  if (!Object.hasOwn(value, form.field)) return { value: { ...value, [form.field]: form.fromBody(body.text) }, diagnostics: [] };
  const pos = locate(toPointer([form.field]));
  const message = `the frontmatter sets \`${form.field}\`, but in a .md ${kind} manifest the Markdown body is ${form.what} (\`${form.field}\`)`;
  const hint = `Set \`${form.field}\` in one place: remove \`${form.field}:\` from the frontmatter and keep the body, or leave the body empty.`;
  return { value, diagnostics: [{ code: "AF-MD-BODY-CONFLICT", severity: "error", file, line: pos.line, column: pos.column, path: form.field, message, hint }] };
}

/**
 * A `.md` file of a kind whose manifests have no Markdown form (one named on the command line in
 * the vaults folder; scans skip it, as its extension is not the kind's): refused, never read as
 * a manifest with its body dropped.
 */
function noMarkdownForm(kind: ResourceKind, file: string): Diagnostic {
  const forms = KIND_ORDER.flatMap((k) => {
    const form = bodyForm(k);
    return form === undefined ? [] : [`${k} (body: \`${form.field}\`)`];
  });
  return fileDiag(file, "AF-MD-NO-FORM", `${kind} manifests have no Markdown form, so this .md file is not read as one`, `Write it as YAML (.yaml or .yml). The kinds with a Markdown form: ${forms.join(", ")}.`);
}

/**
 * The `agentform:` settings blocks of a manifest (its own, and those of the manifests written
 * inside it, a vault's credential entries): reconciler settings take no `${vars.…}`.
 */
function settingsPointers(kind: ResourceKind, value: Obj): Set<string> {
  const nested = KINDS[kind].nested?.of(value, "") ?? [];
  return new Set(["/agentform", ...nested.map((n) => `${n.pointer}/agentform`)]);
}

/**
 * `${vars.NAME}` resolved with the scope's values, before the schema sees the value: its
 * problems as diagnostics, and the paths of strings left unresolved (a schema error there would
 * only repeat the problem). `overflow`: the references inserted too much; the value is unusable.
 */
function resolveVars(kind: ResourceKind, value: Obj, scope: VarScope | undefined, file: string, locate: (pointer: string) => Position): { value: Obj; diagnostics: Diagnostic[]; unresolved: Set<string>; overflow: boolean; typed: Map<string, string> } {
  if (scope === undefined) return { value, diagnostics: [], unresolved: new Set(), overflow: false, typed: new Map() };
  const result = interpolate(value, scope, { skip: settingsPointers(kind, value) });
  const diagnostics = result.problems.map((p): Diagnostic => {
    const pos = locate(p.pointer);
    return { code: p.code, severity: "error", file, line: pos.line, column: pos.column, path: pointerToPath(p.pointer), message: p.message, hint: p.hint };
  });
  const typed = new Map([...result.typed].map(([pointer, name]) => [pointerToPath(pointer), name]));
  return { value: result.value as Obj, diagnostics, unresolved: new Set(result.unresolved.map(pointerToPath)), overflow: result.overflow, typed };
}

/**
 * Schema problems of the resolved value: none where a string stayed unresolved (the var
 * diagnostic says it all), and a hint naming the var where a whole-string reference brought a
 * number or boolean the field does not take.
 */
function resolvedSchemaDiagnostics(kind: ResourceKind, resolved: ReturnType<typeof resolveVars>, file: string, locate: (pointer: string) => Position): Diagnostic[] {
  return schemaDiagnostics(KINDS[kind].schema, resolved.value, { file, locate })
    .filter((d) => !resolved.unresolved.has(d.path))
    .map((d) => {
      const name = resolved.typed.get(d.path);
      if (name === undefined || d.code !== "AF-SCHEMA-TYPE") return d;
      return { ...d, hint: `This value is \`\${vars.${name}}\`: a string that is exactly one reference takes the value's type. To get text, quote the value in agentform.yaml (\`${name}: "…"\`).` };
    });
}

/**
 * Read, parse and schema-check one manifest file. Never throws for bad content. With a var
 * scope, `${vars.NAME}` is resolved first: the schema checks the values the target gets.
 */
export function analyzeFile(candidate: Candidate, root: string, vars?: VarScope): FileReport {
  const file = toPosix(path.relative(root, candidate.abs));
  const markdown = path.extname(candidate.abs).toLowerCase() === ".md";
  let kind: ResourceKind = candidate.kind === "auto" ? guessKind(candidate.abs) : candidate.kind;
  const read = readSource(candidate.abs, file);
  if ("diagnostic" in read) return { file, kind, markdown, diagnostics: [read.diagnostic], ...(read.sha256 ? { sha256: read.sha256 } : {}) };
  const { text, sha256 } = read;
  // The text is kept even when it is not read as a manifest: it is still scanned for secrets.
  if (markdown && bodyForm(kind) === undefined) return { file, kind, markdown, diagnostics: [noMarkdownForm(kind, file)], sha256, text };
  const result = parseText(text, file, markdown, markdownHint(kind));
  if ("code" in result) return { file, kind, markdown, diagnostics: [result], sha256, text };
  const { parsed, body } = result;
  if (parsed.diagnostics.length > 0 || !isObject(parsed.value)) return { file, kind, markdown, diagnostics: parsed.diagnostics, sha256, text };
  const value = parsed.value;
  // Files named outside the configured folders: each kind says what its manifests look like (a
  // `.md` file can only be one of a kind with a Markdown form).
  if (candidate.kind === "auto") kind = KIND_ORDER.find((k) => KINDS[k].looksLike(value, markdown) && (!markdown || bodyForm(k) !== undefined)) ?? kind;
  const locate = locatorOf(result, markdown ? bodyForm(kind)?.field : undefined);
  const { value: withBody, diagnostics } = withMarkdownBody(kind, value, body, file, locate);
  const resolved = resolveVars(kind, withBody, vars, file, locate);
  diagnostics.push(...resolved.diagnostics);
  // Without its values the manifest cannot be checked; like a file that did not parse, it is only text to scan.
  if (resolved.overflow) return { file, kind, markdown, diagnostics, sha256, text };
  diagnostics.push(...resolvedSchemaDiagnostics(kind, resolved, file, locate));
  return { file, kind, markdown, diagnostics, sha256, value: resolved.value, text };
}
