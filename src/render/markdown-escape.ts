/**
 * Escaping for the Markdown pull-request comment (pure). GitHub renders the comment: a value
 * written raw could close the <details>/<summary> it sits in, start a heading, an image, a link
 * or an HTML tag, notify people with an @mention, or forge the hidden marker that picks the
 * comment to update. Values are escaped rather than stripped, so a reviewer sees what the input
 * really is; every function here first applies inertText (control and bidi characters become
 * visible escapes, so no value can contain a line break).
 */
import { inertText } from "./inert.js";

/** A zero-width joiner: invisible, but it stops GitHub from recognising what it splits. */
const ZWJ = "\u200d";

/**
 * What GitHub turns into links or notifications in text, even in escaped text and HTML: @mentions
 * (and e-mail addresses), bare URLs (`scheme://`, `www.`) and issue references (`#12`).
 */
function unlinked(s: string): string {
  return s
    .replace(/@/g, `@${ZWJ}`)
    .replace(/:\/\//g, `:${ZWJ}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWJ}.`)
    .replace(/#(?=\d)/g, `#${ZWJ}`);
}

/**
 * Escape text for Markdown prose and table cells: HTML entities for `& < >` (no tag, comment or
 * autolink can open), a backslash before every character that starts inline formatting, a link
 * or image (`[`), a table cell (`|`) or math (`$`), and the joiners of `unlinked`.
 */
export function escapeMarkdown(s: string): string {
  const text = inertText(s)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|~$])/g, "\\$1");
  return unlinked(text);
}

/** Escape text for HTML elements (summary, code): entities plus the joiners of `unlinked`. */
export function escapeHtml(s: string): string {
  return unlinked(inertText(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"));
}

/**
 * A fenced code block whose fence is longer than any backtick run in the content, so no content
 * can close it. Inside it GitHub renders nothing (no HTML, links or mentions); only an HTML
 * comment opener is split, so the raw comment never holds a second `<!--` marker-like line.
 * Callers pass lines already made inert (formatValue, textDiffLines).
 */
export function fenced(content: string, lang = ""): string {
  const safe = content.replace(/<!--/g, `<!${ZWJ}--`);
  let longest = 0; // a loop, not Math.max(...runs): a huge diff has too many runs to spread
  for (const m of safe.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${safe}\n${fence}`;
}

/**
 * The hidden first line that CI uses to find and update one comment per project and target.
 * Characters outside `[A-Za-z0-9._-]` are percent-encoded, so neither name can end the HTML
 * comment early, break the line, or make it match another project's marker.
 */
export function stickyMarker(project: string, target: string): string {
  const utf8 = new TextEncoder();
  const byte = (b: number) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  const enc = (s: string) => [...s].map((c) => (/^[A-Za-z0-9._-]$/.test(c) ? c : [...utf8.encode(c)].map(byte).join(""))).join("");
  return `<!-- agentform-plan:${enc(project)}/${enc(target)} -->`;
}
