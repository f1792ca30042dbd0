/** Shared formatting helpers for the plan renderers (pure). */
import { stringify as stringifyYaml } from "yaml";
import { structuredPatch } from "diff";
import type { FieldChange, Plan, PlannedResource } from "../plan/types.js";
import { hasChanges } from "../plan/index.js";

export { hasChanges };

/** The one-line headline, e.g. `Plan: 2 to create, 1 to update, 1 to re-pin, 0 to archive.` */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const parts = [`${s.create} to create`, `${s.update} to update`, `${s.repin} to re-pin`];
  if (s.adopt > 0) parts.push(`${s.adopt} to adopt`);
  if (s.rename > 0) parts.push(`${s.rename} to rename`);
  parts.push(`${s.archive} to archive`);
  if (s.delete > 0) parts.push(`${s.delete} to delete`);
  return `Plan: ${parts.join(", ")}.`;
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
  noop: " ",
  archive: "-",
  delete: "-",
};

/** A field change's marker: + add, - remove, ~ replace. */
export function changeMarker(c: FieldChange): string {
  return c.op === "add" ? "+" : c.op === "remove" ? "-" : "~";
}

/** Compact JSON for a value (strings quoted), stable key order as produced by the planner. */
export function formatValue(v: unknown): string {
  return v === undefined ? "(absent)" : JSON.stringify(v);
}

/**
 * A structured value too long for one readable line (tools, networking, rosters on create),
 * as YAML lines: the same shape reviewers wrote in the manifest. Null when one line is fine.
 */
export function formatBlock(v: unknown): string[] | null {
  if (v === null || typeof v !== "object") return null;
  if (JSON.stringify(v).length <= 72) return null;
  return stringifyYaml(v, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd().split("\n");
}

/** A change whose before or after is multi-line text: shown as a unified line diff. */
export function isLongText(c: FieldChange): boolean {
  const multi = (v: unknown): boolean => typeof v === "string" && v.includes("\n");
  return multi(c.before) || multi(c.after);
}

/** Unified diff lines (hunk headers and +/-/space lines) between two texts. */
export function textDiffLines(before: unknown, after: unknown): string[] {
  const a = typeof before === "string" ? before : "";
  const b = typeof after === "string" ? after : "";
  const patch = structuredPatch("before", "after", ensureNewline(a), ensureNewline(b), "", "", { context: 3 });
  const out: string[] = [];
  for (const h of patch.hunks) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) out.push(l);
  }
  return out;
}

function ensureNewline(s: string): string {
  return s === "" || s.endsWith("\n") ? s : `${s}\n`;
}

export function actionLabel(r: PlannedResource): string {
  switch (r.action) {
    case "repin":
      return "re-pin";
    case "rename":
      return `rename from "${r.renamedFrom ?? "?"}"`;
    default:
      return r.action;
  }
}

export function driftNote(r: PlannedResource): string | null {
  if (!r.drift?.detected) return null;
  if (r.drift.missing) {
    return "the locked resource was archived or deleted outside agentform; apply creates a new one (a new id for everything pinned to it)";
  }
  if (r.kind === "agent" && r.drift.lockedVersion !== undefined && r.drift.liveVersion !== undefined && r.drift.lockedVersion !== r.drift.liveVersion) {
    return `changed outside agentform since the lockfile (version ${r.drift.lockedVersion} → ${r.drift.liveVersion})`;
  }
  return "changed outside agentform since the lockfile";
}
