/**
 * The texts the Action publishes (pure): the sticky comment's body and the job summary.
 *
 * Everything here may carry attacker-controlled text (manifest names, error messages quoting
 * manifests, a server's answers): agentform's own Markdown is already escaped, and whatever the
 * Action adds goes through the same escaping (escapeMarkdown, fenced + inertText). Every text is
 * also scrubbed of the run's secrets before it leaves, whatever printed them.
 */
import { redactSecrets } from "../errors.js";
import { escapeMarkdown, fenced, inertText } from "../render/index.js";
import { stickyMarker } from "./sticky.js";
import type { FindingKey } from "./findings.js";

/** GitHub refuses comments over 65,536 characters; agentform's Markdown stays under 60,000. */
export const MAX_COMMENT_CHARS = 65000;
/** How much of agentform's error output a comment quotes (the job log has all of it). */
export const MAX_ERROR_CHARS = 20000;

export interface Where {
  project: string;
  target: string;
  /** The commit planned (a pull request's head) or applied. */
  sha?: string | undefined;
}

const EXIT_MEANING: Record<number, string> = {
  1: "an error (API, network or internal)",
  3: "refused by a safety rule",
  4: "invalid manifests or config",
};

export function exitMeaning(code: number): string {
  return EXIT_MEANING[code] ?? "an unexpected exit code";
}

/** Text from agentform's output as a code block: secrets scrubbed, lines inert, cut to `max`. */
export function outputBlock(text: string, secrets: readonly string[], max = MAX_ERROR_CHARS): string {
  const clean = redactSecrets(text, secrets).trimEnd();
  let kept = clean;
  let note = "";
  if (clean.length > max) {
    const cut = clean.lastIndexOf("\n", max);
    kept = clean.slice(0, cut > 0 ? cut : max);
    note = `\n\n_…${clean.length - kept.length} more characters; see the job log._`;
  }
  const lines = kept.split("\n").map((l) => inertText(l.endsWith("\r") ? l.slice(0, -1) : l));
  return `${fenced(lines.join("\n"), "text")}${note}`;
}

function heading(title: string, where: Where): string {
  return `## ${title} · ${escapeMarkdown(where.project)} → ${escapeMarkdown(where.target)}`;
}

function commitLine(where: Where, what: string): string[] {
  return where.sha && /^[0-9a-f]{7,64}$/.test(where.sha) ? [`_${what} commit ${where.sha.slice(0, 12)}._`, ""] : [];
}

/** A successful plan: agentform's Markdown (its marker first), the commit, the hidden findings line. */
export function planCommentBody(markdown: string, where: Where, findingsLine: string): string {
  return [markdown.trimEnd(), "", ...commitLine(where, "Planned at"), findingsLine, ""].join("\n");
}

/**
 * A failed plan: the marker (built here, so it is there when agentform printed nothing), the
 * failure, agentform's error output, and (exit 3) the plan as far as it went. No findings line:
 * a failed plan is never a reviewed one.
 */
export function failedCommentBody(where: Where, exitCode: number, out: { stdout: string; stderr: string }, secrets: readonly string[]): string {
  const marker = stickyMarker(where.project, where.target);
  const parts = [marker, heading(`❌ plan failed (exit ${exitCode})`, where), ""];
  parts.push(`agentform plan exited ${exitCode}: ${exitMeaning(exitCode)}. Fix it and push again; this comment is updated in place.`, "");
  if (out.stderr.trim() !== "") parts.push(outputBlock(out.stderr, secrets), "");
  parts.push(...commitLine(where, "Failed at"));
  const plan = out.stdout.startsWith(`${marker}\n`) ? redactSecrets(out.stdout.slice(marker.length + 1), secrets).trimEnd() : "";
  const sofar = parts.join("\n");
  if (plan !== "") {
    const block = ["<details><summary>The plan as far as it went</summary>", "", plan, "", "</details>", ""].join("\n");
    if (sofar.length + block.length < MAX_COMMENT_CHARS) return `${sofar}\n${block}`;
    return `${sofar}\n_The plan itself is too long to quote here; see the job summary._\n`;
  }
  return sofar;
}

/** A pull request from a fork: validated only, because GitHub gives such runs no secrets. */
export function forkCommentBody(where: Where, validateCode: number, output: string, secrets: readonly string[]): string {
  const marker = stickyMarker(where.project, where.target);
  const verdict = validateCode === 0 ? "✅ the manifests are valid" : `❌ the manifests are invalid (exit ${validateCode}: ${exitMeaning(validateCode)})`;
  const parts = [marker, heading("plan skipped: pull request from a fork", where), ""];
  parts.push(
    "Pull requests from forks run without secrets, so this run did not plan against the workspace: it only checked the manifests offline (`agentform validate`).",
    "",
    `Result: ${verdict}.`,
    "",
    "No plan was reviewed here, so the apply workflow finds no reviewed plan for this pull request: a maintainer plans and applies it by hand (or from a branch of this repository).",
    "",
  );
  if (output.trim() !== "") parts.push(outputBlock(output, secrets), "");
  parts.push(...commitLine(where, "Validated at"));
  return parts.join("\n");
}

/** The comment's body without its hidden findings line (for the job summary). */
export function withoutFindingsLine(body: string): string {
  return body.replace(/\n<!-- agentform-findings:[A-Za-z0-9+/=]* -->\n?$/, "\n");
}

/** Findings a reviewer never saw, as a Markdown table (summary) and as log lines. */
export function unreviewedTable(keys: readonly FindingKey[]): string {
  const cell = (s: string | undefined) => escapeMarkdown(s ?? "");
  const rows = keys.slice(0, 50).map((k) => `| ${cell(k.address)} | ${cell(k.category)} | ${cell(k.pointer)} | ${cell(k.message)} |`);
  const more = keys.length > 50 ? [`| … and ${keys.length - 50} more | | | |`] : [];
  return ["| Resource | Category | Field | Detail |", "|---|---|---|---|", ...rows, ...more].join("\n");
}

export function unreviewedLines(keys: readonly FindingKey[]): string {
  return keys
    .slice(0, 50)
    .map((k) => `  - ${inertText(k.address)}: ${inertText(k.category)} at ${inertText(k.pointer || "/")}${k.message ? `: ${inertText(k.message)}` : ""}`)
    .concat(keys.length > 50 ? [`  - and ${keys.length - 50} more`] : [])
    .join("\n");
}

/** A job summary section: a heading, paragraphs (already Markdown) and optional output. */
export function summarySection(title: string, where: Where, paragraphs: readonly string[], block?: string): string {
  return [heading(title, where), "", ...paragraphs.flatMap((p) => [p, ""]), ...(block ? [block, ""] : [])].join("\n");
}
