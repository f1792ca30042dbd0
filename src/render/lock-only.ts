/**
 * Lockfile-only changes (pure): resources whose live state already equals the manifest but
 * whose lockfile entry apply rewrites or drops, with no API write. Shown in every format, so a
 * plan never says "No changes" while apply is about to rewrite the lockfile, and a lockfile
 * edited to pin another version is visible in review.
 */
import type { Plan, PlannedResource } from "../plan/types.js";

export function lockOnlyEntries(plan: Plan): PlannedResource[] {
  return plan.resources.filter((r) => r.lockOnly !== undefined);
}

/** One sentence on what the lockfile records and what apply does about it. */
export function lockOnlyNote(r: PlannedResource): string {
  const lockOnly = r.lockOnly;
  if (!lockOnly) return "";
  const locked = lockOnly.locked;
  const lockedText = locked ? `${locked.id}${locked.version !== undefined ? ` version ${locked.version}` : ""}` : "";
  const liveVersion = r.basis?.version ?? r.basis?.pin;
  const live = liveVersion !== undefined ? `live version ${liveVersion}` : "live";
  switch (lockOnly.reason) {
    case "missing":
      return `not in the lockfile; ${live} matches the manifest, so apply records it`;
    case "gone":
      return `the lockfile still lists ${lockedText}, which was archived or deleted outside agentform and has no manifest; apply drops the entry`;
    case "foreign":
      return `the lockfile lists ${lockedText}, which has no manifest and is not marked as this project's; apply drops the entry and leaves the resource alone`;
    case "duplicate":
      return `the lockfile also lists ${lockedText} under this name, which no manifest has (the resource is another manifest's); apply drops the entry`;
    default:
      return `${behindWhat(r, lockedText)}; apply rewrites the entry`;
  }
}

function behindWhat(r: PlannedResource, lockedText: string): string {
  const locked = r.lockOnly?.locked;
  // A number for versioned kinds, the version id references pin for the others (skills).
  const liveVersion = r.basis?.version ?? r.basis?.pin;
  if (locked && locked.id !== r.id) return `the lockfile records ${lockedText}, but live is ${r.id ?? "?"}${liveVersion !== undefined ? ` version ${liveVersion}` : ""}, which already matches the manifest`;
  if (locked && locked.version !== liveVersion) return `the lockfile records version ${locked.version ?? "?"}, but live version ${liveVersion ?? "?"} already matches the manifest`;
  return "the lockfile's entry is out of date (its digests, or the previous names it answers to; live already matches the manifest)";
}

/**
 * When the lockfile pins an agent version other than live: what that version is, compared with
 * the manifest. Null when the plan did not read it.
 */
export function pinnedNote(r: PlannedResource): { warn: boolean; text: string } | null {
  const pinned = r.lockOnly?.pinned;
  if (!pinned) return null;
  if (pinned.matchesManifest === true) return { warn: false, text: `the pinned version ${pinned.version} has the manifest's content` };
  if (pinned.matchesManifest === null) return { warn: true, text: `the pinned version ${pinned.version} of ${pinned.id} cannot be read` };
  const fields = (pinned.changes ?? []).map((c) => c.pointer);
  const shown = fields.slice(0, 8).join(", ") + (fields.length > 8 ? `, and ${fields.length - 8} more` : "");
  return { warn: true, text: `runtimes reading this lockfile get version ${pinned.version}, which differs from the manifest in ${shown}` };
}

/** The headline when nothing is written to the API but the lockfile changes. */
export function lockOnlyHeadline(count: number): string {
  return `No changes to live resources. The lockfile is behind: apply updates ${count} lockfile ${count === 1 ? "entry" : "entries"}, with no API writes.`;
}
