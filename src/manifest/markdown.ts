/**
 * Writing a manifest in its kind's Markdown form, the inverse of reading one (src/manifest/file.ts):
 * YAML frontmatter between two `---` lines, then the kind's long text field (an agent's system
 * prompt) as the Markdown body, where it reads and diffs as prose rather than as a block scalar.
 * For writers of manifests (import); pure: it returns text and writes nothing. A manifest comes
 * back only when loading the text gives back exactly the same value, so a written file never
 * plans a change of its own.
 */
import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { KINDS } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import { MAX_FILE_BYTES } from "./file.js";
import { LineIndex, parseYaml } from "./source.js";

/** A one-line body value longer than this reads better as Markdown too. */
const LONG_TEXT = 200;

/** A UTF-16 surrogate without its pair (in `u` mode, a pair is one code point, not a surrogate). */
const LONE_SURROGATE = /\p{Cs}/u;

/** What the loader reads as the end of the frontmatter: a `---` line (at column 0). */
const FRONTMATTER_CLOSE = /^---[ \t]*\r?$/m;

/**
 * The body that loads back as exactly `value`, or undefined. The loader trims the body, turns
 * CR and CRLF into LF, and takes an empty body as no value at all, so text that any of these
 * would change has no body form.
 */
function bodyText(kind: ResourceKind, value: unknown): string | undefined {
  const form = KINDS[kind].markdownBody;
  if (form === undefined || value === undefined) return undefined;
  const text = form.toBody(value);
  if (text === undefined || text === "" || text !== text.trim() || text.includes("\r")) return undefined;
  // The kind's own inverse, checked: a toBody that drops part of the value must not write a file that loads as less.
  return isDeepStrictEqual(form.fromBody(text), value) ? text : undefined;
}

/** The frontmatter's YAML, or undefined when the loader would not read it back as exactly `rest`. */
function frontmatterYaml(rest: Record<string, unknown>): string | undefined {
  // lineWidth 0: no folding, so every line is as written; no anchors for repeated objects.
  const yaml = stringify(rest, { lineWidth: 0, aliasDuplicateObjects: false });
  if (FRONTMATTER_CLOSE.test(yaml)) return undefined;
  // Read back as the loader reads it: the yaml package does not always read what it writes (a
  // key that is a lone byte-order mark comes back empty), and the loader refuses some values
  // (nested deeper than 64 levels, more than 100 aliases).
  const back = parseYaml(yaml, { file: "", lines: new LineIndex(yaml) });
  return back.diagnostics.length === 0 && isDeepStrictEqual(back.value, rest) ? yaml : undefined;
}

/**
 * The `.md` text of a manifest of `kind`: the manifest without its body field as YAML
 * frontmatter, then the field as the Markdown body. Undefined when the kind has no Markdown form,
 * the manifest has no value there, or the value has no body that loads back as exactly it (text
 * with leading or trailing whitespace or a CR; a deployment's `initial_events` other than one
 * user.message with one text block).
 */
export function markdownManifest(kind: ResourceKind, manifest: Record<string, unknown>): string | undefined {
  const form = KINDS[kind].markdownBody;
  if (form === undefined || !Object.hasOwn(manifest, form.field)) return undefined;
  const body = bodyText(kind, manifest[form.field]);
  if (body === undefined) return undefined;
  const rest = Object.fromEntries(Object.entries(manifest).filter(([key]) => key !== form.field));
  const yaml = frontmatterYaml(rest);
  if (yaml === undefined) return undefined;
  const text = `---\n${yaml}---\n\n${body}\n`;
  // Text the file could not hold as it is: over the loader's size limit, or a lone surrogate, which UTF-8 cannot encode.
  return Buffer.byteLength(text, "utf8") > MAX_FILE_BYTES || LONE_SURROGATE.test(text) ? undefined : text;
}

/**
 * Whether a writer should prefer the Markdown form for this manifest: its body value is prose
 * (several lines, or a long line) and the Markdown form loads back exactly.
 */
export function prefersMarkdown(kind: ResourceKind, manifest: Record<string, unknown>): boolean {
  const form = KINDS[kind].markdownBody;
  if (form === undefined || !Object.hasOwn(manifest, form.field)) return false;
  const body = bodyText(kind, manifest[form.field]);
  if (body === undefined || (!body.includes("\n") && [...body].length <= LONG_TEXT)) return false;
  return markdownManifest(kind, manifest) !== undefined;
}
