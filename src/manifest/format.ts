/**
 * Turning diagnostics into text for people and JSON for machines. Pure: the CLI decides
 * whether colour is wanted and where the text goes.
 */
import { redactSecrets } from "../errors.js";
import { inertJson, inertText } from "../render/inert.js";
import { colors, noColors } from "../util/paint.js";
import { pointerSegments } from "./source.js";
import type { Diagnostic } from "./types.js";

/** `/tools/0/configs/2/name` → `tools[0].configs[2].name`; keys that are not identifiers are quoted. */
export function pointerToPath(pointer: string): string {
  let out = "";
  for (const segment of pointerSegments(pointer)) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Order diagnostics are reported in: file, line, column, then code for a stable tie-break. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.column !== b.column) return a.column - b.column;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort(compareDiagnostics);
}

/**
 * Human-readable rendering, one problem per line plus its hint:
 * `agents/triage.yaml:14:9 tools[0].configs[2].name: "webfetch" is not … [AF-TOOL-UNKNOWN]`
 * followed by `  hint: …`. Sorted by file, line and column.
 */
export function formatDiagnostics(diags: Diagnostic[], options: { color: boolean }): string {
  const paint = options.color ? colors : noColors;
  const lines: string[] = [];
  // File names, keys and quoted values come from the repository: printed inert.
  for (const d of sortDiagnostics(diags).map(redacted).map(inert)) {
    const where = paint.bold(`${d.file}:${d.line}:${d.column}`);
    const severity = d.severity === "warning" ? paint.yellow("warning") + " " : "";
    const path = d.path === "" ? "" : `${paint.cyan(d.path)}: `;
    lines.push(`${where} ${severity}${path}${d.message} ${paint.dim(`[${d.code}]`)}`);
    if (d.hint) lines.push(`  ${paint.bold("hint:")} ${d.hint}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** The `--format json` document: `{ "valid": bool, "diagnostics": [...] }`, sorted like the text form. */
export function formatDiagnosticsJson(diags: Diagnostic[]): string {
  const sorted = sortDiagnostics(diags).map(redacted);
  const valid = !sorted.some((d) => d.severity === "error");
  return inertJson(JSON.stringify({ valid, diagnostics: sorted }, null, 2)) + "\n";
}

/**
 * The `--format github` rendering: one GitHub workflow command per diagnostic,
 * `::error file=…,line=…,col=…,title=<code>::<path>: <message> (hint: <hint>)` (`::warning` for
 * warnings), which the runner turns into annotations on the pull request's files. `fileOf` maps
 * a diagnostic's project-relative file to the path GitHub expects (relative to the repository
 * root). Manifest text is made inert, then escaped by the workflow-command rules, so no value can
 * end the line and start a command of its own (`::add-mask::`, `::set-output`).
 */
export function formatDiagnosticsGithub(diags: Diagnostic[], fileOf: (file: string) => string): string {
  const lines = sortDiagnostics(diags)
    .map(redacted)
    .map((d) => {
      const file = inertText(fileOf(d.file));
      const properties = `file=${workflowProperty(file)},line=${d.line},col=${d.column},title=${workflowProperty(inertText(d.code))}`;
      const message = `${d.path === "" ? "" : `${d.path}: `}${d.message}${d.hint ? ` (hint: ${d.hint})` : ""}`;
      return `::${d.severity === "warning" ? "warning" : "error"} ${properties}::${workflowData(inertText(message))}`;
    });
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** A workflow command's message: `%`, CR and LF escaped as the runner unescapes them. */
export function workflowData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value: as workflowData, and `:` and `,`, which end a value. */
export function workflowProperty(s: string): string {
  return workflowData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

function inert(d: Diagnostic): Diagnostic {
  return { ...d, file: inertText(d.file), path: inertText(d.path), message: inertText(d.message), ...(d.hint ? { hint: inertText(d.hint) } : {}) };
}

/** A message may quote manifest text (an unknown key, a value); never let that print a credential. */
function redacted(d: Diagnostic): Diagnostic {
  return { ...d, path: redactSecrets(d.path), message: redactSecrets(d.message), ...(d.hint ? { hint: redactSecrets(d.hint) } : {}) };
}

