/**
 * Making text from manifests and from the API inert before it reaches a terminal (pure).
 *
 * Names, descriptions, prompts, metadata and URLs are printed in plans, on the apply review
 * screen and in progress lines. Written raw, an ESC could recolour or clear the screen, move the
 * cursor or set the window title; a lone CR could overwrite the start of a line (so a hostile
 * value could rewrite "security" into something harmless); bidi overrides could make text read
 * in a different order from the one it is stored in ("Trojan Source"). Escaping them as visible
 * sequences (`\x1b`, `\r`, `\u202e`) shows a reviewer what the input really contains.
 */

/**
 * C0 controls except tab, DEL, C1 controls (U+009B is a one-character CSI on some terminals),
 * the Arabic letter mark, LRM/RLM, line and paragraph separators, the bidi embeddings and
 * overrides U+202A–U+202E and the isolates U+2066–U+2069.
 */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The part of UNSAFE that JSON.stringify leaves raw (it escapes U+0000–U+001F itself). */
const NOT_ESCAPED_BY_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r" };

function escapeOne(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * One line of terminal-safe text: control characters (newlines included), C1 controls and bidi
 * controls become visible escapes; tabs and everything else are kept. Renderers split multi-line
 * values (prompts) into lines first and pass each line through this, so line breaks stay
 * meaningful where they are the renderer's own and can never be forged by a value.
 * Backslashes are not doubled: prompts with regexes or paths stay readable, at the cost that a
 * literal `\x1b` typed into a prompt looks like an escaped ESC.
 */
export function inertText(s: string): string {
  return s.replace(UNSAFE, escapeOne);
}

/**
 * Text whose line breaks are its author's (multi-line error messages): each line made inert
 * by inertText, the "\n" between them kept. Use inertText for anything a value could fill alone.
 */
export function inertLines(s: string): string {
  return s.split("\n").map(inertText).join("\n");
}

/**
 * JSON text with the characters `inertText` escapes, other than those JSON.stringify already
 * escapes, written as `\uXXXX`. They can only occur inside string literals, where the escape
 * means the same character: the document parses to exactly the same value.
 */
export function inertJson(json: string): string {
  return json.replace(NOT_ESCAPED_BY_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Nesting deeper than this is shown as TOO_DEEP instead of being walked. */
export const MAX_RENDER_DEPTH = 64;
export const TOO_DEEP = "…(nested too deep)";

/**
 * A copy of a JSON-like value whose arrays and objects below MAX_RENDER_DEPTH levels are replaced
 * by TOO_DEEP. Validation refuses such values in manifests, but a hostile or broken server can
 * return them, and JSON.stringify, YAML and recursive walks would overflow the stack on them.
 * The recursion here stops at the cap, so it cannot overflow itself.
 */
export function capDepth(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== "object") return v;
  if (depth >= MAX_RENDER_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) return v.map((x) => capDepth(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = capDepth(x, depth + 1);
  return out;
}
