/**
 * YAML text → plain data plus a way back from a JSON pointer to the line and column it came
 * from. Every diagnostic agentform prints names a position, but most files have nothing to
 * report: those in the plain subset manifests are written in are read straight to JS values
 * (the fast reader at the end of this file), and their syntax tree is built only when a
 * position is asked for. Every other file is parsed with its syntax tree at once.
 */
import { nestingExceeds } from "../util/depth.js";
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node } from "yaml";
import type { Diagnostic, Position } from "./types.js";

/** More aliases than this in one manifest is treated as an alias bomb, not configuration. */
export const MAX_ALIASES = 100;

/**
 * Collections nested deeper than this are refused: no API body needs it, and every recursive
 * walk after loading (schema check, normalisation, diff, rendering) stays far from the stack limit.
 */
export const MAX_DEPTH = 64;

/** Offset → 1-based line and column over the whole file (frontmatter is parsed out of a larger file). */
export class LineIndex {
  // Built on first use: most files are valid and never need a position.
  private starts: number[] | undefined;

  constructor(private readonly text: string) {}

  position(offset: number): Position {
    if (!this.starts) {
      this.starts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

/** Split a JSON pointer into unescaped segments ("" → []). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return pointer === "/" ? [""] : [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Build a JSON pointer from segments. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

export interface ParsedYaml {
  /** The document as plain data; undefined when it could not be parsed. */
  value: unknown;
  /** Position of the node a JSON pointer names (a mapping entry's key; a sequence item), or of its nearest existing parent. */
  locate(pointer: string): Position;
  /** The innermost node holding a text offset (an offset into the whole file): its path, and whether it is a key. */
  nodeAt(offset: number): NodeAtOffset;
  diagnostics: Diagnostic[];
}

export interface NodeAtOffset {
  segments: string[];
  /** The offset is inside a mapping key, so `segments` names the entry whose key it is. */
  inKey: boolean;
  /** The offset is inside a scalar (key or value), not in a comment or between entries. */
  inScalar: boolean;
}

interface ParseOptions {
  file: string;
  /** Where `text` starts inside the file (frontmatter), so positions are file positions. */
  offset?: number;
  lines: LineIndex;
}

function diag(file: string, pos: Position, code: string, message: string, hint: string): Diagnostic {
  return { code, severity: "error", file, line: pos.line, column: pos.column, path: "", message, hint };
}

function nodeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

/** A parsed document's AST, with what locating and walking it needs. */
interface DocContext {
  doc: Document.Parsed;
  file: string;
  at(offset: number | undefined): Position;
}

/** The parser's own problems, as diagnostics. */
function syntaxErrors({ doc, file, at }: DocContext): Diagnostic[] {
  return doc.errors.map((err) => {
    if (err.code === "DUPLICATE_KEY") {
      return diag(file, at(err.pos[0]), "AF-YAML-DUPLICATE-KEY", "duplicate key: the same key appears twice in this mapping", "Keep one of the two entries; YAML would silently use the last one.");
    }
    // The composer reports its own stack overflow on thousands of nested brackets this way.
    if (err.code === "RESOURCE_EXHAUSTION" && /call stack/i.test(err.message)) {
      return diag(file, at(err.pos[0]), "AF-VALUE-DEPTH", `values are nested far deeper than ${MAX_DEPTH} levels`, "Flatten the structure; no API body nests that deep.");
    }
    return diag(file, at(err.pos[0]), "AF-YAML-SYNTAX", `YAML syntax error: ${err.message.split("\n")[0]}`, "Fix the YAML syntax at this position (check indentation, quotes and brackets).");
  });
}

/** The key a scalar becomes in the JS object (what yaml's toJS does): null → "", others → String(value). */
function jsKey(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (value === null) return "";
  return typeof value === "object" ? undefined : String(value);
}

/**
 * One walk over the syntax tree, with an explicit stack so no input can overflow ours:
 * collections nested deeper than MAX_DEPTH, keys that are collections, and keys that only
 * collide once converted (`1` and "1", `true` and "true"), which the parser lets through and
 * toJS would silently merge, keeping the last.
 */
function structureErrors({ doc, file, at }: DocContext): Diagnostic[] {
  const stack: Array<[unknown, number]> = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH) {
      return [diag(file, at(nodeStart(node)), "AF-VALUE-DEPTH", `values are nested more than ${MAX_DEPTH} levels deep`, "Flatten the structure; no API body nests that deep.")];
    }
    if (isSeq(node)) {
      for (const item of node.items) stack.push([item, depth + 1]);
      continue;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = jsKey(pair.key);
      if (key === undefined) {
        return [diag(file, at(nodeStart(pair.key)), "AF-YAML-KEY-TYPE", "a mapping key is a list or a mapping", "Keys are plain names; write the key as a string.")];
      }
      if (seen.has(key)) {
        return [diag(file, at(nodeStart(pair.key)), "AF-YAML-DUPLICATE-KEY", `duplicate key: ${JSON.stringify(key)} appears twice in this mapping once keys are read as strings`, "Keep one of the two entries; YAML would silently use the last one.")];
      }
      seen.add(key);
      stack.push([pair.value, depth + 1]);
    }
  }
  return [];
}

/** Depth of a plain value, iteratively: aliases can nest an anchor's tree inside itself. */
function countAliases(doc: Document.Parsed, text: string): { aliases: number; firstAlias: number | undefined } {
  let aliases = 0;
  let firstAlias: number | undefined;
  // Walking the AST costs time on every file; a document without `*` cannot hold an alias.
  if (text.includes("*")) visit(doc, {
    Alias(_key, node) {
      aliases++;
      firstAlias ??= nodeStart(node);
    },
  });
  return { aliases, firstAlias };
}

/**
 * Parse one YAML document; problems come back as diagnostics, never thrown. Most manifests are
 * plain block mappings that {@link fastYamlValue} reads in a fraction of a full parse; their
 * syntax tree (what `locate` and `nodeAt` need) is built only if a position is asked for, which
 * happens only when there is something to report. Anything else gets the full parse at once.
 */
export function parseYaml(text: string, options: ParseOptions): ParsedYaml {
  const value = fastYamlValue(text);
  if (value === undefined) return parseYamlFully(text, options);
  let full: ParsedYaml | undefined;
  const tree = () => (full ??= parseYamlFully(text, options));
  return { value, locate: (pointer) => tree().locate(pointer), nodeAt: (offset) => tree().nodeAt(offset), diagnostics: [] };
}

/** Parse one YAML document with positions, through the `yaml` library's syntax tree. */
function parseYamlFully(text: string, options: ParseOptions): ParsedYaml {
  const { file, lines } = options;
  const base = options.offset ?? 0;
  const at = (offset: number | undefined): Position => lines.position(base + (offset ?? 0));
  const fail = (diagnostics: Diagnostic[]): ParsedYaml => ({ value: undefined, locate: () => at(0), nodeAt: () => ({ segments: [], inKey: false, inScalar: false }), diagnostics });

  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];
  if (list.length > 1) {
    return fail([
      diag(file, at(nodeStart(list[1]!.contents) ?? list[1]!.range[0]), "AF-YAML-MULTI-DOC", "the file holds more than one YAML document", "Put one resource per file: move everything after the `---` line into its own file."),
    ]);
  }
  const doc = list[0];
  if (!doc || doc.contents === null) {
    return fail([diag(file, at(0), "AF-MANIFEST-NOT-MAPPING", "the file is empty", "A manifest is a YAML mapping with at least `name` (and `model` for agents).")]);
  }
  const ctx: DocContext = { doc, file, at };
  const errors = syntaxErrors(ctx);
  if (errors.length > 0) return fail(errors);
  const structure = structureErrors(ctx);
  if (structure.length > 0) return fail(structure);

  const { aliases, firstAlias } = countAliases(doc, text);
  const aliasBomb = () =>
    fail([
      diag(file, at(firstAlias), "AF-YAML-ALIASES", `too many YAML aliases (more than ${MAX_ALIASES}); this looks like an alias bomb`, "Write the values out instead of repeating `*alias` references."),
    ]);
  if (aliases > MAX_ALIASES) return aliasBomb();

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/alias count/i.test(message)) return aliasBomb();
    return fail([diag(file, at(firstAlias), "AF-YAML-SYNTAX", `YAML error: ${message}`, "Define every anchor (`&name`) before using it as an alias (`*name`).")]);
  }
  if (aliases > 0) {
    if (nestingExceeds(value, MAX_DEPTH)) return fail([diag(file, at(firstAlias), "AF-VALUE-DEPTH", `once aliases are expanded, values are nested more than ${MAX_DEPTH} levels deep`, "Flatten the structure, or write the values out instead of nesting aliases.")]);
    // Aliases come back as one shared object in several places; hand out a plain tree so that
    // whoever edits one spot of a spec does not silently edit another.
    value = JSON.parse(JSON.stringify(value));
  }
  if (!isMap(doc.contents)) {
    return fail([
      diag(file, at(nodeStart(doc.contents)), "AF-MANIFEST-NOT-MAPPING", "the document is not a mapping of keys to values", "A manifest is a YAML mapping (`name: …`, `model: …`), not a list or a single value."),
    ]);
  }
  return { value, locate: locator(ctx), nodeAt: nodeFinder(doc, base), diagnostics: [] };
}

function locator({ doc, at }: DocContext): (pointer: string) => Position {
  return (pointer) => {
    let node: unknown = doc.contents;
    let found = nodeStart(node) ?? 0;
    for (const segment of pointerSegments(pointer)) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && jsKey(p.key) === segment);
        if (!pair) break;
        found = nodeStart(pair.key) ?? found;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined || !/^\d+$/.test(segment)) break;
        found = nodeStart(item) ?? found;
        node = item;
      } else {
        break;
      }
    }
    return at(found);
  };
}

function within(node: unknown, offset: number): boolean {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range !== undefined && range[0] <= offset && offset < range[1];
}

/** Text offset (in the whole file) → the path of the innermost node there. */
function nodeFinder(doc: Document.Parsed, base: number): (offset: number) => NodeAtOffset {
  return (fileOffset) => {
    const offset = fileOffset - base;
    const segments: string[] = [];
    let node: unknown = doc.contents;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => within(p.key, offset) || within(p.value, offset));
        if (!pair) return { segments, inKey: false, inScalar: false };
        segments.push(jsKey(pair.key) ?? "");
        if (within(pair.key, offset)) return { segments, inKey: true, inScalar: isScalar(pair.key) };
        node = pair.value;
      } else if (isSeq(node)) {
        const index = node.items.findIndex((item) => within(item, offset));
        if (index < 0) return { segments, inKey: false, inScalar: false };
        segments.push(String(index));
        node = node.items[index];
      } else {
        return { segments, inKey: false, inScalar: isScalar(node) && within(node, offset) };
      }
    }
  };
}

export type { Node };

// ---------------------------------------------------------------------------------------------
// The fast path: a reader for the subset of YAML manifests are written in

/**
 * Printable ASCII and line feeds only: no tabs (indentation errors), no CR (line-ending rules),
 * no byte-order mark or Unicode line separators. Other files take the full parse.
 */
const FAST_TEXT = /^[\n\x20-\x7e]*$/;
/** A mapping entry's key and its `:`; plain keys start with a letter, so they never read as numbers. */
const FAST_KEY = /^(?:([A-Za-z_][A-Za-z0-9_./-]*)|"([^"\\]*)"|'([^']*)'):(?: +|$)/;
const FLOW_KEY = /[A-Za-z_][A-Za-z0-9_./-]*/y;
/** Plain keys the core schema would read as null or a boolean; `__proto__`, which toJS defines specially. */
const SPECIAL_KEY = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|__proto__)$/;
/** What may follow a value on its line: spaces, then perhaps a comment. */
const LINE_END = /^(?: +#.*| *)$/;
/** Characters a plain scalar may not start with (indicators), and anything number-like but a small integer. */
const PLAIN_START = /^[-?:,[\]{}#&*!|>'"%@`+.0-9~]/;
const DOUBLE_ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', "/": "/", n: "\n", t: "\t" };
/** Far below MAX_DEPTH: deeper files take the full parse, which reports the limit. */
const FAST_MAX_DEPTH = 32;

/** Thrown inside the fast reader when the text leaves the subset; never escapes it. */
const LEAVE = Symbol("not in the fast subset");
function leave(): never {
  throw LEAVE;
}

/** A plain scalar as the core schema reads it, or LEAVE for anything but text, null, booleans and small integers. */
function plainValue(s: string): unknown {
  if (s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
  if (s === "true" || s === "True" || s === "TRUE") return true;
  if (s === "false" || s === "False" || s === "FALSE") return false;
  if (/^(?:0|[1-9][0-9]{0,14})$/.test(s)) return Number(s);
  if (s === "" || PLAIN_START.test(s)) leave();
  return s;
}

/** A single-line quoted scalar starting at `start` (a quote): its value and the offset after it. */
function quotedAt(s: string, start: number): [string, number] {
  const quote = s[start]!;
  let out = "";
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'" && c === "'") {
      if (s[i + 1] !== "'") return [out, i + 1];
      out += "'";
      i++;
    } else if (quote === '"' && c === "\\") {
      const escaped = DOUBLE_ESCAPES[s[i + 1] ?? ""];
      if (escaped === undefined) leave();
      out += escaped;
      i++;
    } else if (quote === '"' && c === '"') return [out, i + 1];
    else out += c;
  }
  return leave();
}

/** One line's flow collection (`[a, b]`, `{type: x}`), read from `pos`; nothing spans lines. */
class FlowReader {
  pos = 0;
  constructor(private readonly s: string) {}

  private spaces(): void {
    while (this.s[this.pos] === " ") this.pos++;
  }

  node(depth: number): unknown {
    if (depth > FAST_MAX_DEPTH) leave();
    this.spaces();
    const c = this.s[this.pos];
    if (c === "[") return this.seq(depth);
    if (c === "{") return this.map(depth);
    if (c === '"' || c === "'") return this.quoted();
    const start = this.pos;
    while (this.pos < this.s.length && !",[]{}".includes(this.s[this.pos]!)) this.pos++;
    const text = this.s.slice(start, this.pos).trimEnd();
    // A colon (a pair, or a URL) or a comment inside a flow collection: the full parse decides.
    if (text.includes(":") || text.includes("#")) leave();
    return plainValue(text);
  }

  private quoted(): string {
    const [value, end] = quotedAt(this.s, this.pos);
    this.pos = end;
    return value;
  }

  /** After an item: `,` then another (a trailing comma leaves the subset), or the closing bracket. */
  private next(close: string): boolean {
    this.spaces();
    const c = this.s[this.pos++];
    if (c === close) return false;
    if (c !== ",") leave();
    this.spaces();
    if (this.s[this.pos] === close) leave();
    return true;
  }

  private seq(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.spaces();
    if (this.s[this.pos] === "]") {
      this.pos++;
      return out;
    }
    do out.push(this.node(depth + 1));
    while (this.next("]"));
    return exactly(out);
  }

  private map(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.spaces();
    if (this.s[this.pos] === "}") {
      this.pos++;
      return out;
    }
    do {
      this.spaces();
      const key = this.key();
      if (this.s[this.pos] !== ":" || this.s[this.pos + 1] !== " " || Object.hasOwn(out, key)) leave();
      this.pos += 2;
      out[key] = this.node(depth + 1);
    } while (this.next("}"));
    return out;
  }

  private key(): string {
    const c = this.s[this.pos];
    if (c === '"' || c === "'") {
      const key = this.quoted();
      return key === "__proto__" ? leave() : key;
    }
    FLOW_KEY.lastIndex = this.pos;
    const match = FLOW_KEY.exec(this.s);
    if (!match || SPECIAL_KEY.test(match[0])) leave();
    this.pos += match[0].length;
    return match[0];
  }
}

interface FastLine {
  indent: number;
  /** The line after its indentation. */
  text: string;
}

const isSeqItem = (text: string) => text === "-" || text.startsWith("- ");

/**
 * A sequence as kept: an array grown by push holds room for a dozen more elements, and every
 * manifest of a large project is kept for a whole plan; a copy is exactly its length.
 */
function exactly(items: unknown[]): unknown[] {
  return items.length === 0 ? items : items.slice();
}

/**
 * Block mappings and sequences by indentation, with plain, quoted, literal (`|`, `|-`) and
 * single-line flow values. Whatever it does not know for certain it reads exactly as the
 * `yaml` library would, it leaves to the library (LEAVE), so its result is the library's.
 */
class BlockReader {
  private i = 0;
  private readonly lines: FastLine[];

  constructor(private readonly endsWithNewline: boolean, text: string) {
    this.lines = text.split("\n").map((raw) => {
      let indent = 0;
      while (raw.charCodeAt(indent) === 32) indent++;
      return { indent, text: raw.slice(indent) };
    });
  }

  /** The next line that is neither blank nor a comment (those are skipped). */
  private peek(): FastLine | undefined {
    for (; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i]!;
      if (line.text !== "" && line.text[0] !== "#") return line;
    }
    return undefined;
  }

  document(): Record<string, unknown> {
    const first = this.peek();
    if (!first || first.indent !== 0 || !FAST_KEY.test(first.text)) leave();
    const value = this.map(0, 1);
    if (this.peek() !== undefined) leave();
    return value;
  }

  private map(indent: number, depth: number): Record<string, unknown> {
    if (depth > FAST_MAX_DEPTH) leave();
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line !== undefined && line.indent >= indent; line = this.peek()) {
      const match = line.indent === indent ? FAST_KEY.exec(line.text) : null;
      if (!match) {
        // A sequence at the mapping's own indentation belongs to the entry before; anything else leaves.
        if (line.indent === indent && isSeqItem(line.text)) break;
        leave();
      }
      const key = match[1] ?? match[2] ?? match[3]!;
      if ((match[1] !== undefined && SPECIAL_KEY.test(key)) || key === "__proto__" || key.length > 1000 || Object.hasOwn(out, key)) leave();
      this.i++;
      out[key] = this.value(line.text.slice(match[0].length), indent, depth, true);
    }
    return out;
  }

  private seq(indent: number, depth: number): unknown[] {
    if (depth > FAST_MAX_DEPTH) leave();
    const out: unknown[] = [];
    for (let line = this.peek(); line !== undefined && line.indent >= indent; line = this.peek()) {
      if (line.indent > indent) leave();
      if (!isSeqItem(line.text)) break;
      const rest = line.text.slice(1).replace(/^ +/, "");
      if (isSeqItem(rest)) leave();
      if (FAST_KEY.test(rest)) {
        // `- key: value`: a mapping whose entries line up with this first key.
        this.lines[this.i] = { indent: indent + line.text.length - rest.length, text: rest };
        out.push(this.map(indent + line.text.length - rest.length, depth + 1));
        continue;
      }
      this.i++;
      out.push(this.value(rest, indent, depth, false));
    }
    return exactly(out);
  }

  /** A value written after `key:` or `- ` on a line of a collection at `indent`. */
  private value(rest: string, indent: number, depth: number, inMap: boolean): unknown {
    if (rest === "" || rest[0] === "#") return this.nested(indent, depth, inMap);
    if (rest === "|" || rest === "|-") return this.literal(indent, rest === "|-");
    let value: unknown;
    let after = "";
    if (rest[0] === "[" || rest[0] === "{") {
      const flow = new FlowReader(rest);
      value = flow.node(depth + 1);
      after = rest.slice(flow.pos);
    } else if (rest[0] === '"' || rest[0] === "'") {
      const [text, end] = quotedAt(rest, 0);
      value = text;
      after = rest.slice(end);
    } else {
      const hash = rest.indexOf(" #");
      const text = (hash >= 0 ? rest.slice(0, hash) : rest).trimEnd();
      // `a: b: c` is an error, and a colon at the end starts a mapping: the full parse says which.
      if (text.includes(": ") || text.endsWith(":")) leave();
      value = plainValue(text);
    }
    if (!LINE_END.test(after)) leave();
    // A more indented line after a value continues it (a multi-line scalar) or is an error.
    const next = this.peek();
    if (next !== undefined && next.indent > indent) leave();
    return value;
  }

  /** The block under `key:` or `-` with nothing after it: more indented, or a sequence under a key; else null. */
  private nested(indent: number, depth: number, inMap: boolean): unknown {
    const next = this.peek();
    if (next === undefined) return null;
    if (next.indent > indent) {
      if (isSeqItem(next.text)) return this.seq(next.indent, depth + 1);
      if (FAST_KEY.test(next.text)) return this.map(next.indent, depth + 1);
      leave();
    }
    return inMap && next.indent === indent && isSeqItem(next.text) ? this.seq(indent, depth + 1) : null;
  }

  /** A literal block scalar (`|` keeps one final line break, `|-` none); lines more indented than `indent`. */
  private literal(indent: number, strip: boolean): string {
    const content: string[] = [];
    let at = -1;
    for (; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i]!;
      if (line.text === "") {
        // Blank lines before the first or with spaces beyond the indentation: the full parse.
        if (at < 0 || line.indent > at) leave();
        content.push("");
        continue;
      }
      if (at < 0) {
        if (line.indent <= indent) leave();
        at = line.indent;
      }
      if (line.indent < at) break;
      content.push(" ".repeat(line.indent - at) + line.text);
    }
    // The last line without a line break: how it is chomped is the full parse's to say.
    if (this.i === this.lines.length && !this.endsWithNewline) leave();
    while (content.length > 0 && content[content.length - 1] === "") content.pop();
    const body = content.join("\n");
    return strip || body === "" ? body : body + "\n";
  }
}

/**
 * The plain value of a YAML document in the subset manifests are almost always written in (a
 * block mapping at the top; block mappings and sequences; plain, quoted, literal and one-line
 * flow values; comments), exactly as `doc.toJS()` of a full parse gives it; undefined for any
 * text outside that subset, or with anything the full parse would report (duplicate keys, deep
 * nesting), which then takes the full parse.
 */
export function fastYamlValue(text: string): Record<string, unknown> | undefined {
  if (!FAST_TEXT.test(text)) return undefined;
  try {
    return new BlockReader(text.endsWith("\n"), text).document();
  } catch (err) {
    if (err === LEAVE) return undefined;
    throw err;
  }
}
