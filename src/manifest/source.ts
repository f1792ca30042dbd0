/**
 * YAML text → plain data plus a way back from a JSON pointer to the line and column it came
 * from. Every diagnostic agentform prints names a position, so parsing keeps the AST around
 * instead of going straight to JS values.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node } from "yaml";
import type { Diagnostic, Position } from "./types.js";

/** More aliases than this in one manifest is treated as an alias bomb, not configuration. */
export const MAX_ALIASES = 100;

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
  diagnostics: Diagnostic[];
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

/** Parse one YAML document with positions; problems come back as diagnostics, never thrown. */
export function parseYaml(text: string, options: ParseOptions): ParsedYaml {
  const { file, lines } = options;
  const base = options.offset ?? 0;
  const at = (offset: number | undefined): Position => lines.position(base + (offset ?? 0));
  const fail = (diagnostics: Diagnostic[]): ParsedYaml => ({ value: undefined, locate: () => at(0), diagnostics });

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
  const errors: Diagnostic[] = [];
  for (const err of doc.errors) {
    const duplicate = err.code === "DUPLICATE_KEY";
    errors.push(
      diag(
        file,
        at(err.pos[0]),
        duplicate ? "AF-YAML-DUPLICATE-KEY" : "AF-YAML-SYNTAX",
        duplicate ? "duplicate key: the same key appears twice in this mapping" : `YAML syntax error: ${err.message.split("\n")[0]}`,
        duplicate ? "Keep one of the two entries; YAML would silently use the last one." : "Fix the YAML syntax at this position (check indentation, quotes and brackets).",
      ),
    );
  }
  if (errors.length > 0) return fail(errors);

  let aliases = 0;
  let firstAlias: number | undefined;
  // Walking the AST costs time on every file; a document without `*` cannot hold an alias.
  if (text.includes("*")) visit(doc, {
    Alias(_key, node) {
      aliases++;
      firstAlias ??= nodeStart(node);
    },
  });
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
  // Aliases come back as one shared object in several places; hand out a plain tree so that
  // whoever edits one spot of a spec does not silently edit another.
  if (aliases > 0) value = JSON.parse(JSON.stringify(value));
  if (!isMap(doc.contents)) {
    return fail([
      diag(file, at(nodeStart(doc.contents)), "AF-MANIFEST-NOT-MAPPING", "the document is not a mapping of keys to values", "A manifest is a YAML mapping (`name: …`, `model: …`), not a list or a single value."),
    ]);
  }

  const locate = (pointer: string): Position => {
    let node: unknown = doc.contents;
    let found = nodeStart(node) ?? 0;
    for (const segment of pointerSegments(pointer)) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment);
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
  return { value, locate, diagnostics: [] };
}

export type { Node };
