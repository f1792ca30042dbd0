/** Shared formatting helpers for the plan renderers (pure). */
import { stringify as stringifyYaml } from "yaml";
import { kindSpec } from "../kinds/index.js";
import { OWNERSHIP_KEY } from "../manifest/types.js";
import { canonicalJson } from "../normalize/index.js";
import type { FieldChange, Plan, PlannedResource } from "../plan/types.js";
import { hasChanges } from "../plan/index.js";
import { capDepth, inertText } from "./inert.js";
import { diffLineArrays, unifiedLines } from "./line-diff.js";

export { hasChanges };

/** The one-line headline, e.g. `Plan: 2 to create, 1 to update, 1 to re-pin, 0 to archive.` */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const parts = [`${s.create} to create`, `${s.update} to update`, `${s.repin} to re-pin`];
  if (s.adopt > 0) parts.push(`${s.adopt} to adopt`);
  if (s.rename > 0) parts.push(`${s.rename} to rename`);
  if (s.replace > 0) parts.push(`${s.replace} to replace`);
  parts.push(`${s.archive} to archive`);
  if (s.delete > 0) parts.push(`${s.delete} to delete`);
  // Orphans are not written, but a reviewer must see them in the headline: a deleted manifest.
  const orphans = s.orphan > 0 ? ` ${s.orphan} orphaned (no manifest, not pruned).` : "";
  return `Plan: ${parts.join(", ")}.${orphans}`;
}

/** True when applying the plan would write something. */
export function changedResources(plan: Plan): PlannedResource[] {
  return plan.resources.filter((r) => r.action !== "noop");
}

export const ACTION_MARKER: Record<PlannedResource["action"], string> = {
  create: "+",
  update: "~",
  repin: "~",
  adopt: "~",
  rename: "~",
  replace: "-/+",
  noop: " ",
  archive: "-",
  delete: "-",
  orphan: "!",
};

/** A field change's marker: + add, - remove, ~ replace. */
export function changeMarker(c: FieldChange): string {
  return c.op === "add" ? "+" : c.op === "remove" ? "-" : "~";
}

/**
 * Compact JSON for a value (strings quoted), stable key order as produced by the planner;
 * terminal-safe, and nesting beyond MAX_RENDER_DEPTH shown as TOO_DEEP.
 */
export function formatValue(v: unknown): string {
  return v === undefined ? "(absent)" : inertText(JSON.stringify(capDepth(v)));
}

/**
 * A structured value too long for one readable line (tools, networking, rosters on create),
 * as YAML lines: the same shape reviewers wrote in the manifest. Null when one line is fine.
 */
export function formatBlock(v: unknown): string[] | null {
  if (v === null || typeof v !== "object") return null;
  const capped = capDepth(v);
  if (JSON.stringify(capped).length <= 72) return null;
  return stringifyYaml(capped, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd().split("\n").map(inertText);
}

/** A change whose before or after is multi-line text: shown as a unified line diff. */
export function isLongText(c: FieldChange): boolean {
  const multi = (v: unknown): boolean => typeof v === "string" && v.includes("\n");
  return multi(c.before) || multi(c.after);
}

/**
 * Unified diff lines (hunk headers and +/-/space lines) between two texts, each line
 * terminal-safe. Work and output are linear in the size of the texts (see line-diff.ts).
 */
export function textDiffLines(before: unknown, after: unknown): string[] {
  const a = textLines(typeof before === "string" ? before : "");
  const b = textLines(typeof after === "string" ? after : "");
  return unifiedLines(a, b, diffLineArrays(a, b).ops).map(inertText);
}

/** The lines of a text; a missing final newline is not a difference. */
function textLines(s: string): string[] {
  const lines = s.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function actionLabel(r: PlannedResource): string {
  switch (r.action) {
    case "repin":
      return "re-pin";
    case "rename":
      return `rename from "${r.renamedFrom ?? "?"}"`;
    case "replace":
      return "replace (archive, then create anew: no update can make this change)";
    case "orphan":
      return orphanLabel(r);
    default:
      return r.action;
  }
}

export function driftNote(r: PlannedResource): string | null {
  if (!r.drift?.detected) return null;
  if (r.drift.missing) {
    return "the locked resource was archived or deleted outside agentform; apply creates a new one (a new id for everything pinned to it)";
  }
  if (r.drift.lockedVersion !== undefined && r.drift.liveVersion !== undefined && r.drift.lockedVersion !== r.drift.liveVersion) {
    return `changed outside agentform since the lockfile (version ${r.drift.lockedVersion} → ${r.drift.liveVersion})`;
  }
  return "changed outside agentform since the lockfile";
}

/** What happens to a resource whose manifest is gone, and what would prune it. */
function orphanLabel(r: PlannedResource): string {
  const verb = kindSpec(r.kind).removal;
  switch (r.orphan?.why) {
    case "irreversible":
      return `orphan: its manifest is gone; not pruned, because ${verb === "delete" ? "deleting" : "archiving"} it cannot be undone: only --prune on the command line ${verb}s it`;
    case "still-used":
      return `orphan: its manifest is gone; not pruned, because something still uses it (see below)`;
    case "would-empty":
      return `orphan: its manifest is gone; not pruned, because that would ${verb} every ${r.kind} of the project (see below)`;
    default:
      return `orphan: its manifest is gone; not pruned (set \`prune: true\` on the target, or pass --prune, to ${verb} it)`;
  }
}

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A create's fields as a reviewer should read them: what the manifest says, without the ownership
 * marker agentform adds (the action says it is created by this project) and without the values
 * the kind spells out only because the API assumes them anyway (its `createDefaults`).
 */
export function createdFields(r: PlannedResource): Fields {
  const body = r.request?.body ?? {};
  const shown = withoutDefaults(body, kindSpec(r.kind).createDefaults ?? {});
  const metadata = shown.metadata;
  if (isFields(metadata) && Object.hasOwn(metadata, OWNERSHIP_KEY)) {
    const { [OWNERSHIP_KEY]: _marker, ...rest } = metadata;
    if (Object.keys(rest).length > 0) shown.metadata = rest;
    else delete shown.metadata;
  }
  return shown;
}

/** `value` without every field holding exactly its default, at any depth; objects left empty go too. */
function withoutDefaults(value: Fields, defaults: Readonly<Fields>): Fields {
  const out: Fields = { ...value };
  for (const [k, d] of Object.entries(defaults)) {
    const v = out[k];
    if (v === undefined) continue;
    if (canonicalJson(v) === canonicalJson(d)) delete out[k];
    else if (isFields(v) && isFields(d)) out[k] = withoutDefaults(v, d);
  }
  return out;
}
