/**
 * Security review of a skill change (pure). A skill is code and instructions that run in the
 * agent's container, so any new or changed file widens what the agents using it do: one
 * "skill-changed" finding naming the files (added, changed, removed). `before` null: the skill
 * is created, and every file is new code.
 */
import type { Findings } from "../findings.js";
import type { Obj } from "../values.js";
import { canonicalFiles } from "./canonical.js";

/** How many paths a finding lists before "and N more": enough to review, short enough to read. */
export const LISTED_FILES = 10;

interface FileChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

function fileChanges(before: Record<string, string>, after: Record<string, string>): FileChanges {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [path, digest] of Object.entries(after)) {
    if (!Object.hasOwn(before, path)) added.push(path);
    else if (before[path] !== digest) changed.push(path);
  }
  const removed = Object.keys(before).filter((path) => !Object.hasOwn(after, path));
  return { added, changed, removed };
}

/** "added a, b; changed c; and 4 more": the first LISTED_FILES paths, in that order of groups. */
export function describeChanges(changes: FileChanges): string {
  let budget = LISTED_FILES;
  const parts: string[] = [];
  for (const how of ["added", "changed", "removed"] as const) {
    const shown = changes[how].slice(0, budget);
    budget -= shown.length;
    if (shown.length > 0) parts.push(`${how} ${shown.join(", ")}`);
  }
  const total = changes.added.length + changes.changed.length + changes.removed.length;
  if (total > LISTED_FILES) parts.push(`and ${total - LISTED_FILES} more`);
  return parts.join("; ");
}

export function skillFindings(f: Findings, before: Obj | null, after: Obj): void {
  const changes = fileChanges(canonicalFiles(before?.files), canonicalFiles(after.files));
  const count = changes.added.length + changes.changed.length + changes.removed.length;
  if (count === 0) return;
  const message =
    before === null
      ? `new skill (code that runs in the agent's container), ${count} file(s): ${describeChanges(changes)}`
      : `skill files changed (code that runs in the agent's container): ${describeChanges(changes)}`;
  f.add("skill-changed", "broadening", "/files", message);
}
