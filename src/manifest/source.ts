/**
 * YAML text → plain data plus a way back from a JSON pointer to the line and column it came
 * from. Every diagnostic agentform prints names a position, so parsing keeps the AST around
 * instead of going straight to JS values.
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

/** Parse one YAML document with positions; problems come back as diagnostics, never thrown. */
export function parseYaml(text: string, options: ParseOptions): ParsedYaml {
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
