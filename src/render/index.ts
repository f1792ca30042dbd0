/**
 * Plan renderers (pure): the same Plan value as text for a terminal, JSON for machines and
 * saved plans, and Markdown for a pull-request comment. None of them prints.
 */
import { kindSpec } from "../kinds/index.js";
import { OWNERSHIP_KEY } from "../manifest/types.js";
import { nullRecord } from "../util/record.js";
import type { FieldChange, LockOnlyChange, Plan, PlannedResource } from "../plan/types.js";
import {
  ACTION_MARKER,
  actionLabel,
  changeMarker,
  changedResources,
  createdFields,
  driftNote,
  formatBlock,
  formatValue,
  hasChanges,
  isLongText,
  summaryLine,
  textDiffLines,
} from "./format.js";
import { inertJson, inertText, MAX_RENDER_DEPTH, TOO_DEEP } from "./inert.js";
import { escapeHtml, escapeMarkdown, fenced, stickyMarker } from "./markdown-escape.js";
import { redactPlanValues } from "./redact.js";
import { lockOnlyEntries, lockOnlyHeadline, lockOnlyNote, pinnedNote } from "./lock-only.js";

export { summaryLine, hasChanges } from "./format.js";
export { inertText, MAX_RENDER_DEPTH, TOO_DEEP } from "./inert.js";
export { redactPlanValues } from "./redact.js";
export { escapeMarkdown, fenced } from "./markdown-escape.js";

/**
 * Reviewers know resources by name, not by id: canonical forms key references (roster entries)
 * by id, so for display every pointer segment (and message word) that is the id of a resource in
 * this plan is shown as its name. The JSON plan keeps the ids (it is data).
 */
export function withNames(plan: Plan): Plan {
  // Only pointers and messages get names: a plan without any (no change, no finding) is as it is.
  if (plan.resources.every((r) => r.changes.length === 0 && r.security.length === 0 && !r.drift?.changes)) return plan;
  const names = new Map<string, string>();
  for (const r of plan.resources) if (r.id) names.set(r.id, r.name);
  if (names.size === 0) return plan;
  // Ids are a kind prefix, an underscore and letters or digits (`agent_011…`, `env_011…`).
  const idPattern = /\b[a-z]+_[A-Za-z0-9]+\b/g;
  const inText = (text: string) => text.replace(idPattern, (id) => names.get(id) ?? id);
  const inPointer = (pointer: string) =>
    pointer
      .split("/")
      .map((seg) => {
        const name = names.get(seg);
        if (name === undefined) return seg;
        // An agent literally named "self" must not read like the roster's own `self` entry.
        const shown = name === "self" ? `self (${seg})` : name;
        return shown.replace(/~/g, "~0").replace(/\//g, "~1");
      })
      .join("/");
  const changes = (list: FieldChange[]) => list.map((c) => ({ ...c, pointer: inPointer(c.pointer) }));
  return {
    ...plan,
    // An entry without pointers or messages (most of a large plan) has no id to name: kept as it is.
    resources: plan.resources.map((r) => (r.changes.length === 0 && r.security.length === 0 && !r.drift?.changes ? r : {
      ...r,
      changes: changes(r.changes),
      // Ignored differences keep their canonical pointers: those are what `agentform.ignore`
      // matches, so a reviewer can copy them into the manifest as they are.
      drift: r.drift ? { ...r.drift, ...(r.drift.changes ? { changes: changes(r.drift.changes) } : {}) } : r.drift,
      security: r.security.map((f) => ({ ...f, pointer: inPointer(f.pointer), message: inText(f.message) })),
    })),
  };
}

/** An entry whose only free text is its address, name, id and file, none of which needs escaping: nothing to make inert. */
function alreadyInert(r: PlannedResource): boolean {
  const bare = r.changes.length === 0 && r.ignored.length === 0 && r.security.length === 0 && r.dependsOn.length === 0 && !r.drift?.changes;
  const plain = r.renamedFrom === undefined && !r.repinReasons && !r.lockOnly && !r.notes;
  const same = (s: string | null) => s === null || inertText(s) === s;
  return bare && plain && same(r.address) && same(r.name) && same(r.id) && same(r.file);
}

/**
 * The plan with every free-text field that renderers print as it is (names, addresses, files,
 * ids, pointers, messages, hints) made terminal-safe by inertText. Field values are not touched
 * here: formatValue, formatBlock and textDiffLines make them safe as they format them.
 */
function inertFields(plan: Plan): Plan {
  const t = inertText;
  const changes = (list: FieldChange[]) => list.map((c) => ({ ...c, pointer: t(c.pointer) }));
  return {
    ...plan,
    project: t(plan.project),
    target: t(plan.target),
    refusals: plan.refusals.map((f) => ({ ...f, address: t(f.address), code: t(f.code), message: t(f.message), hint: t(f.hint) })),
    resources: plan.resources.map((r) => (alreadyInert(r) ? r : {
      ...r,
      address: t(r.address),
      name: t(r.name),
      id: r.id === null ? null : t(r.id),
      file: r.file === null ? null : t(r.file),
      ...(r.renamedFrom !== undefined ? { renamedFrom: t(r.renamedFrom) } : {}),
      ...(r.repinReasons ? { repinReasons: r.repinReasons.map(t) } : {}),
      dependsOn: r.dependsOn.map(t),
      changes: changes(r.changes),
      ignored: changes(r.ignored),
      drift: r.drift?.changes ? { ...r.drift, changes: changes(r.drift.changes) } : r.drift,
      security: r.security.map((f) => ({ ...f, pointer: t(f.pointer), message: t(f.message), category: t(f.category) as typeof f.category })),
      ...(r.lockOnly ? { lockOnly: inertLockOnly(r.lockOnly, changes) } : {}),
      ...(r.notes ? { notes: r.notes.map(t) } : {}),
    })),
  };
}

/** Lockfile ids come from a file anyone can edit: as hostile as any other text. */
function inertLockOnly(lockOnly: LockOnlyChange, changes: (list: FieldChange[]) => FieldChange[]): LockOnlyChange {
  const { locked, pinned } = lockOnly;
  return {
    ...lockOnly,
    ...(locked ? { locked: { ...locked, id: inertText(locked.id) } } : {}),
    ...(pinned ? { pinned: { ...pinned, id: inertText(pinned.id), ...(pinned.changes ? { changes: changes(pinned.changes) } : {}) } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Text

const ANSI = { red: "\u001b[31m", green: "\u001b[32m", yellow: "\u001b[33m", cyan: "\u001b[36m", bold: "\u001b[1m", dim: "\u001b[2m", reset: "\u001b[0m" };

type Paint = (color: keyof typeof ANSI, s: string) => string;

function painter(color: boolean): Paint {
  return color ? (c, s) => `${ANSI[c]}${s}${ANSI.reset}` : (_c, s) => s;
}

function markerColor(m: string): keyof typeof ANSI {
  return m === "+" ? "green" : m === "-" ? "red" : "yellow";
}

function textChange(c: FieldChange, paint: Paint, indent: string): string[] {
  const m = changeMarker(c);
  if (isLongText(c)) {
    const lines = [`${indent}${paint(markerColor(m), m)} ${c.pointer}:`];
    for (const l of textDiffLines(c.before, c.after)) {
      const color = l.startsWith("+") ? "green" : l.startsWith("-") ? "red" : l.startsWith("@@") ? "cyan" : null;
      lines.push(`${indent}    ${color ? paint(color, l) : l}`);
    }
    return lines;
  }
  const value = c.op === "add" ? formatValue(c.after) : c.op === "remove" ? `${formatValue(c.before)} → (removed)` : `${formatValue(c.before)} → ${formatValue(c.after)}`;
  return [`${indent}${paint(markerColor(m), m)} ${c.pointer}: ${value}`];
}

function textCreateFields(r: PlannedResource, paint: Paint): string[] {
  const body = createdFields(r);
  const lines: string[] = [];
  for (const key of Object.keys(body).sort()) {
    const v = body[key];
    const block = formatBlock(v);
    const field = inertText(key);
    if (typeof v === "string" && v.includes("\n")) {
      lines.push(`    ${paint("green", "+")} /${field}:`);
      for (const l of v.split("\n")) lines.push(`        ${paint("green", `+${inertText(l)}`)}`);
    } else if (block) {
      lines.push(`    ${paint("green", "+")} /${field}:`);
      for (const l of block) lines.push(`        ${paint("green", `+ ${l}`)}`);
    } else {
      lines.push(`    ${paint("green", "+")} /${field}: ${formatValue(v)}`);
    }
  }
  return lines;
}

function textResource(r: PlannedResource, paint: Paint, explain: boolean): string[] {
  const m = ACTION_MARKER[r.action];
  const where = r.file ? `  ${paint("dim", `(${r.file})`)}` : r.id ? `  ${paint("dim", `(${r.id})`)}` : "";
  const impact = r.action === "create" || r.action === "archive" || r.action === "orphan" ? "" : `, impact ${r.impact}`;
  const lines = [`${paint(markerColor(m), m)} ${paint("bold", r.address)}: ${actionLabel(r)}${impact}${where}`];
  if (r.action === "adopt") lines.push(`    takes ownership: ${ownershipNote(r)}`);
  const removalNote = r.action === kindSpec(r.kind).removal ? kindSpec(r.kind).removalNote : undefined;
  if (removalNote) lines.push(`    ${paint("yellow", "!")} ${removalNote}`);
  const drift = driftNote(r);
  if (drift) lines.push(`    ${paint("yellow", "!")} drift: ${drift}`);
  if (explain && r.drift?.changes && r.drift.changes.length > 0) {
    lines.push(`    drift detail (locked version → live):`);
    for (const c of r.drift.changes) lines.push(...textChange(c, paint, "      "));
  }
  if (r.repinReasons && r.repinReasons.length > 0) lines.push(`    re-pinned because ${r.repinReasons.join(", ")} moved`);
  if (r.dependsOn.length > 0) lines.push(`    after ${r.dependsOn.join(", ")}`);
  for (const note of r.notes ?? []) lines.push(`    ${paint("yellow", "!")} ${note}`);
  if (r.action === "create") lines.push(...textCreateFields(r, paint));
  for (const c of r.changes) lines.push(...textChange(c, paint, "    "));
  if (r.ignored.length > 0) {
    if (explain) {
      lines.push(`    ignored (agentform.ignore; not applied):`);
      for (const c of r.ignored) lines.push(...textChange(c, paint, "      "));
    } else {
      lines.push(`    ${paint("dim", `${r.ignored.length} ignored difference(s) (agentform.ignore); --explain shows them`)}`);
    }
  }
  const findings = r.security.length;
  if (findings > 0) lines.push(`    ${paint("dim", `${findings} security finding(s), listed under "Security review" above`)}`);
  return lines;
}

/**
 * Every security finding of the plan, broadening ones first, before any change: what a reviewer
 * must look at is never below a screenful of diffs. Severity words are those of JSON and Markdown.
 */
function textSecurity(plan: Plan, paint: Paint): string[] {
  const rows = securityRows(plan);
  if (rows.length === 0) return [];
  const broadening = rows.filter(({ f }) => f.severity === "broadening").length;
  const out = [paint("bold", `Security review: ${broadening} broadening, ${rows.length - broadening} notable.`)];
  for (const { r, f } of rows) {
    const tag = f.severity === "broadening" ? paint("red", "broadening") : paint("yellow", "notable   ");
    out.push(`  ${tag} ${r.address} [${f.category}] ${f.message}${f.pointer === "" ? "" : ` (${f.pointer})`}`);
  }
  out.push("");
  return out;
}

/** The plan's findings with their resources: broadening first, each group in plan order. */
function securityRows(plan: Plan): Array<{ r: PlannedResource; f: PlannedResource["security"][number] }> {
  const rows = plan.resources.flatMap((r) => r.security.map((f) => ({ r, f })));
  return [...rows.filter(({ f }) => f.severity === "broadening"), ...rows.filter(({ f }) => f.severity !== "broadening")];
}

/** The plan for a terminal; colour codes only when `options.color`. */
function textLockOnly(entries: PlannedResource[], paint: Paint, explain: boolean): string[] {
  if (entries.length === 0) return [];
  const out = [paint("bold", "Lockfile only (no API writes):")];
  for (const r of entries) {
    out.push(`  ${paint("yellow", "~")} ${r.address}: ${lockOnlyNote(r)}`);
    const pinned = pinnedNote(r);
    if (pinned) out.push(`      ${pinned.warn ? paint("red", "! ") : ""}${pinned.text}`);
    if (explain && r.lockOnly?.pinned?.changes) {
      out.push(`      pinned version compared with the manifest (manifest → pinned):`);
      for (const c of r.lockOnly.pinned.changes) out.push(...textChange(c, paint, "        "));
    }
  }
  out.push("");
  return out;
}

export function renderText(rawPlan: Plan, options: { color: boolean; explain?: boolean }): string {
  const plan = inertFields(withNames(redactPlanValues(rawPlan)));
  const paint = painter(options.color);
  const explain = options.explain ?? false;
  const out: string[] = plan.only ? [paint("bold", onlyNote(plan.only)), ""] : [];
  if (plan.refusals.length > 0) {
    out.push(paint("red", paint("bold", `Refused: ${plan.refusals.length} safety rule(s) stop this plan; apply will write nothing.`)));
    for (const f of plan.refusals) {
      out.push(paint("red", `✗ ${f.address}: ${f.message} [${f.code}]`));
      out.push(`    hint: ${f.hint}`);
    }
    out.push("");
  }
  out.push(...textSecurity(plan, paint));
  const drifted = plan.resources.filter((r) => r.action === "noop" && r.drift?.detected);
  for (const r of drifted) {
    out.push(`${paint("yellow", "!")} ${r.address}: ${driftNote(r) ?? ""}; the manifest still matches live`);
    if (explain && r.drift?.changes) for (const c of r.drift.changes) out.push(...textChange(c, paint, "    "));
  }
  if (explain) {
    for (const r of plan.resources.filter((x) => x.action === "noop" && x.ignored.length > 0)) {
      out.push(`  ${r.address}: ignored (agentform.ignore; not applied):`);
      for (const c of r.ignored) out.push(...textChange(c, paint, "    "));
    }
  }
  // Unchanged resources with something a reviewer must know (a secret that was not checked).
  const noted = plan.resources.filter((r) => r.action === "noop" && r.notes);
  for (const r of noted) for (const note of r.notes ?? []) out.push(`${paint("yellow", "!")} ${r.address}: ${note}`);
  if (drifted.length > 0 || noted.length > 0) out.push("");
  const lockOnly = lockOnlyEntries(plan);
  out.push(...textLockOnly(lockOnly, paint, explain));
  if (!hasChanges(plan)) {
    out.push(plan.refusals.length > 0 ? summaryLine(plan) : lockOnly.length > 0 ? lockOnlyHeadline(lockOnly.length) : "No changes. Live resources match the manifests.");
    return `${out.join("\n")}\n`;
  }
  for (const r of changedResources(plan)) {
    out.push(...textResource(r, paint, explain));
    out.push("");
  }
  const unchanged = plan.summary.noop;
  out.push(paint("bold", summaryLine(plan)) + (unchanged > 0 ? ` ${unchanged} unchanged.` : ""));
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON

const PLAN_KEYS = ["formatVersion", "agentformVersion", "project", "target", "origin", "inputsDigest", "options", "only", "summary", "driftDetected", "refusals", "resources"];
const RESOURCE_KEYS = [
  "address", "kind", "name", "action", "id", "file", "renamedFrom", "previousNames", "impact", "security", "basis", "drift",
  "dependsOn", "repinReasons", "changes", "ignored", "request", "specDigest", "lockOnly", "notes", "orphan",
];
const SUMMARY_KEYS = ["create", "update", "repin", "adopt", "rename", "replace", "noop", "archive", "delete", "orphan"];

/** Keys sorted at every level; nesting beyond MAX_RENDER_DEPTH (only a hostile server sends it) cut. */
function sortedDeep(v: unknown, depth = 0): unknown {
  if (v && typeof v === "object" && depth >= MAX_RENDER_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) return v.map((x) => sortedDeep(x, depth + 1));
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const out = nullRecord<unknown>();
    // Prototype-free: plain assignment makes an own property, "__proto__" included.
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortedDeep(o[k], depth + 1);
    return out;
  }
  return v;
}

function ordered(o: Record<string, unknown>, keys: readonly string[], inner: (k: string, v: unknown) => unknown): Record<string, unknown> {
  const out = nullRecord<unknown>();
  for (const k of keys) if (Object.hasOwn(o, k) && o[k] !== undefined) out[k] = inner(k, o[k]);
  for (const k of Object.keys(o).sort()) if (!Object.hasOwn(out, k) && o[k] !== undefined) out[k] = inner(k, o[k]);
  return out;
}

/**
 * The plan as JSON: 2-space indent, trailing newline, a fixed key order at every level. C1 and
 * bidi controls in strings are written as \uXXXX escapes (the same value, safe on a terminal).
 */
export function renderJson(rawPlan: Plan): string {
  const plan = redactPlanValues(rawPlan);
  const doc = ordered(plan as unknown as Record<string, unknown>, PLAN_KEYS, (k, v) => {
    if (k === "summary") return ordered(v as Record<string, unknown>, SUMMARY_KEYS, (_k, x) => x);
    if (k === "resources") return (v as Record<string, unknown>[]).map((r) => ordered(r, RESOURCE_KEYS, (_k, x) => sortedDeep(x)));
    return sortedDeep(v);
  });
  return `${inertJson(JSON.stringify(doc, null, 2))}\n`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

function changeLines(c: FieldChange): string[] {
  const m = changeMarker(c);
  if (isLongText(c)) return [`${m} ${c.pointer}:`, ...textDiffLines(c.before, c.after).map((l) => `  ${l}`)];
  const value = c.op === "add" ? formatValue(c.after) : c.op === "remove" ? `${formatValue(c.before)} → (removed)` : `${formatValue(c.before)} → ${formatValue(c.after)}`;
  return [`${m} ${c.pointer}: ${value}`];
}

function resourceHeading(r: PlannedResource): string {
  const drift = r.drift?.detected ? " ⚠️ drift" : "";
  const sec = r.security.some((f) => f.severity === "broadening") ? " 🔐" : "";
  const impact = r.action === "create" || r.action === "archive" || r.action === "orphan" ? "" : ` (${r.impact})`;
  return `<code>${ACTION_MARKER[r.action]} ${escapeHtml(r.address)}</code> ${escapeHtml(actionLabel(r))}${impact}${drift}${sec}`;
}

type Detail = "full" | "table" | "summary";

function resourceBlock(r: PlannedResource, detail: Detail): string {
  const parts: string[] = [`<details><summary>${resourceHeading(r)}</summary>`, ""];
  if (r.file) parts.push(`File: ${escapeMarkdown(r.file)}${r.id ? ` · id ${escapeMarkdown(r.id)}` : ""}`, "");
  else if (r.id) parts.push(`Id: ${escapeMarkdown(r.id)}`, "");
  const drift = driftNote(r);
  if (drift) parts.push(`⚠️ Drift: ${escapeMarkdown(drift)}`, "");
  if (r.action === "adopt") parts.push(`Takes ownership: ${ownershipNote(r)}.`, "");
  const removalNote = r.action === kindSpec(r.kind).removal ? kindSpec(r.kind).removalNote : undefined;
  if (removalNote) parts.push(`⚠️ ${escapeMarkdown(removalNote)}.`, "");
  if (r.repinReasons?.length) parts.push(`Re-pinned because ${r.repinReasons.map(escapeMarkdown).join(", ")} moved.`, "");
  if (r.dependsOn.length) parts.push(`Applied after ${r.dependsOn.map(escapeMarkdown).join(", ")}.`, "");
  for (const note of r.notes ?? []) parts.push(`⚠️ ${escapeMarkdown(note)}`, "");
  if (detail === "full") {
    const lines: string[] = [];
    if (r.action === "create") {
      const body = createdFields(r);
      for (const k of Object.keys(body).sort()) {
        const block = formatBlock(body[k]);
        const field = inertText(k);
        if (block) lines.push(`+ /${field}:`, ...block.map((l) => `+   ${l}`));
        else lines.push(`+ /${field}: ${formatValue(body[k])}`);
      }
    }
    for (const c of r.changes) lines.push(...changeLines(c));
    if (lines.length > 0) parts.push(fenced(lines.join("\n"), "diff"), "");
  } else if (r.changes.length > 0) {
    parts.push("| | Field |", "|---|---|");
    for (const c of r.changes) parts.push(`| ${changeMarker(c) === "~" ? "\\~" : escapeMarkdown(changeMarker(c))} | ${escapeMarkdown(c.pointer)} |`);
    parts.push("");
  }
  if (r.ignored.length > 0) parts.push(`${r.ignored.length} ignored difference(s) (agentform.ignore), not applied.`, "");
  parts.push("</details>");
  return parts.join("\n");
}

function securitySection(plan: Plan): string[] {
  const rows = securityRows(plan);
  const out = ["### Security review", ""];
  if (rows.length === 0) {
    out.push("No change broadens what an agent can do or reach.", "");
    return out;
  }
  const broadening = rows.filter((x) => x.f.severity === "broadening").length;
  out.push(`${broadening} broadening change(s), ${rows.length - broadening} notable.`, "");
  out.push("| Resource | Severity | Category | Field | Detail |", "|---|---|---|---|---|");
  for (const { r, f } of rows) {
    out.push(`| ${escapeMarkdown(r.address)} | ${escapeMarkdown(f.severity)} | ${escapeMarkdown(f.category)} | ${escapeMarkdown(f.pointer)} | ${escapeMarkdown(f.message)} |`);
  }
  out.push("");
  return out;
}

function markdownLockOnly(entries: PlannedResource[]): string[] {
  if (entries.length === 0) return [];
  const out = ["### Lockfile only", "", "Apply changes these lockfile entries with no API write.", ""];
  for (const r of entries) {
    const pinned = pinnedNote(r);
    const extra = pinned ? ` ${pinned.warn ? "⚠️ " : ""}${escapeMarkdown(pinned.text)}.` : "";
    out.push(`- ${escapeMarkdown(r.address)}: ${escapeMarkdown(lockOnlyNote(r))}.${extra}`);
  }
  out.push("");
  return out;
}

function markdownDoc(plan: Plan, detail: Detail, maxChars: number): string {
  const head: string[] = [
    stickyMarker(plan.project, plan.target),
    `## agentform plan · ${escapeMarkdown(plan.project)} → ${escapeMarkdown(plan.target)}`,
    "",
  ];
  const changed = changedResources(plan);
  const unchanged = plan.summary.noop;
  head.push(`**${summaryLine(plan)}**${unchanged > 0 ? ` ${unchanged} unchanged.` : ""}`, "");
  if (plan.only) head.push(`_${escapeMarkdown(onlyNote(plan.only))}_`, "");
  if (plan.refusals.length > 0) {
    head.push(`### ⛔ Refused`, "", "Safety rules stop this plan; apply will write nothing.", "");
    for (const f of plan.refusals) {
      head.push(`- **${escapeMarkdown(f.address)}** (${escapeMarkdown(f.code)}): ${escapeMarkdown(f.message)} Hint: ${escapeMarkdown(f.hint)}`);
    }
    head.push("");
  }
  head.push(...securitySection(plan));
  const drifted = plan.resources.filter((r) => r.drift?.detected);
  if (drifted.length > 0) {
    head.push(`### ⚠️ Drift`, "");
    for (const r of drifted) head.push(`- ${escapeMarkdown(r.address)}: ${escapeMarkdown(driftNote(r) ?? "")}`);
    head.push("");
  }
  const noted = plan.resources.filter((r) => r.action === "noop" && r.notes);
  if (noted.length > 0) {
    head.push(`### Not checked`, "");
    for (const r of noted) for (const note of r.notes ?? []) head.push(`- ${escapeMarkdown(r.address)}: ${escapeMarkdown(note)}`);
    head.push("");
  }
  const lockOnly = lockOnlyEntries(plan);
  head.push(...markdownLockOnly(lockOnly));
  if (changed.length === 0) {
    head.push(lockOnly.length > 0 ? lockOnlyHeadline(lockOnly.length) : "No changes. Live resources match the manifests.", "");
    return head.join("\n");
  }
  head.push("### Changes", "");
  if (detail === "summary") {
    for (const r of changed) head.push(`- ${ACTION_MARKER[r.action] === "-" ? "−" : ACTION_MARKER[r.action]} ${escapeMarkdown(r.address)}: ${escapeMarkdown(actionLabel(r))}`);
    head.push("", `_Field diffs and per-resource details were left out to stay within ${maxChars} characters; run \`agentform plan\` for the full plan._`, "");
    return head.join("\n");
  }
  for (const r of changed) head.push(resourceBlock(r, detail), "");
  if (detail === "table") {
    head.push(`_Field values were left out to stay within ${maxChars} characters (changed fields are listed); run \`agentform plan\` for the full plan._`, "");
  }
  return head.join("\n");
}

/**
 * A pull-request comment: hidden marker first (for one sticky comment), headline, refusals,
 * security review, drift, then one collapsible block per changed resource. Degrades from full
 * field diffs to tables of changed fields to a summary to stay within `maxChars`.
 */
export function renderMarkdown(rawPlan: Plan, options?: { maxChars?: number }): string {
  const plan = inertFields(withNames(redactPlanValues(rawPlan)));
  const maxChars = options?.maxChars ?? 60000;
  for (const detail of ["full", "table", "summary"] as const) {
    const doc = markdownDoc(plan, detail, maxChars);
    if (doc.length <= maxChars) return doc;
  }
  // Even the summary is too long: cut whole lines and say so.
  const doc = markdownDoc(plan, "summary", maxChars);
  const note = `\n_…cut to ${maxChars} characters; run \`agentform plan\` for the full plan._\n`;
  const lines = doc.split("\n");
  let out = "";
  for (const l of lines) {
    if (out.length + l.length + 1 + note.length > maxChars) break;
    out += `${l}\n`;
  }
  return out + note;
}

/** What a plan made under --only covers, so nobody reads it as the whole project's. */
function onlyNote(only: readonly string[]): string {
  const shown = only.slice(0, 20).map(inertText).join(", ") + (only.length > 20 ? ` and ${only.length - 20} more` : "");
  return `Only ${shown} (--only, with what they reference); the rest of the project is not planned, and nothing is pruned.`;
}

/** How adoption takes a resource over: the metadata marker, or (kinds without metadata) the lockfile entry alone. */
function ownershipNote(r: PlannedResource): string {
  return kindSpec(r.kind).ownership === "marker" ? `sets metadata ${OWNERSHIP_KEY}` : "records it in the lockfile (it has no metadata to mark)";
}
