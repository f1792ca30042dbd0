/**
 * Saved plans (`plan --out` then `apply plan.json`): apply must execute exactly what was
 * reviewed, so it re-plans and refuses when any input or any resource's live basis moved.
 * Pure: no I/O, the CLI passes in what it read.
 */
import { createHash } from "node:crypto";
import type { Plan, PlanOptions, PlannedResource, Refusal } from "../plan/types.js";

export interface InputsDigestParts {
  /** Every input file (config and manifests) with the sha256 of its bytes. */
  sources: Array<{ file: string; sha256: string }>;
  /** The lockfile's bytes, or null when there is none. */
  lockText: string | null;
  agentformVersion: string;
  target: string;
  options: PlanOptions;
}

/** A digest of everything a plan was computed from apart from live state (which `basis` covers). */
export function inputsDigest(parts: InputsDigestParts): string {
  const sources = [...parts.sources]
    .map((s) => ({ file: s.file, sha256: s.sha256 }))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const document = {
    agentformVersion: parts.agentformVersion,
    lockSha256: parts.lockText === null ? null : createHash("sha256").update(parts.lockText, "utf8").digest("hex"),
    options: {
      adopt: parts.options.adopt,
      agentformVersion: parts.options.agentformVersion,
      allowEmpty: parts.options.allowEmpty,
      prune: parts.options.prune,
    },
    sources,
    target: parts.target,
  };
  return "sha256:" + createHash("sha256").update(JSON.stringify(document), "utf8").digest("hex");
}

/**
 * Compare a saved plan with a plan computed now from the same kind of inputs. Returns one
 * refusal per difference; an empty list means the saved plan may be applied as it is.
 */
export function checkSavedPlan(saved: Plan, current: Plan): Refusal[] {
  const refusals: Refusal[] = [];
  const hint = "Run `agentform plan --out <file>` again, review it, and apply the new plan.";
  if (saved.formatVersion !== 1) {
    refusals.push({ address: "(plan)", code: "saved-plan-format", message: `the saved plan has formatVersion ${String(saved.formatVersion)}`, hint });
    return refusals;
  }
  if (!saved.inputsDigest) {
    refusals.push({ address: "(plan)", code: "saved-plan-undigested", message: "the saved plan carries no inputs digest (was it written by `plan --out`?)", hint });
  } else if (saved.inputsDigest !== current.inputsDigest) {
    refusals.push({
      address: "(plan)",
      code: "saved-plan-inputs-changed",
      message: "the manifests, config, lockfile, target, options or agentform version changed since it was saved",
      hint,
    });
  }
  if (saved.project !== current.project || saved.target !== current.target) {
    refusals.push({ address: "(plan)", code: "saved-plan-target", message: `it was made for ${saved.project}/${saved.target}, not ${current.project}/${current.target}`, hint });
  }
  if (saved.origin.baseUrl !== current.origin.baseUrl || (saved.origin.workspaceId ?? null) !== (current.origin.workspaceId ?? null)) {
    refusals.push({ address: "(plan)", code: "saved-plan-target", message: `it was made against ${saved.origin.baseUrl}, not ${current.origin.baseUrl}`, hint });
  }

  const now = new Map(current.resources.map((r) => [r.address, r]));
  const seen = new Set<string>();
  for (const before of saved.resources) {
    seen.add(before.address);
    const after = now.get(before.address);
    if (!after) {
      refusals.push({ address: before.address, code: "saved-plan-basis-changed", message: `${before.address} is no longer part of the plan`, hint });
      continue;
    }
    const why = basisDifference(before, after);
    if (why) refusals.push({ address: before.address, code: "saved-plan-basis-changed", message: `${before.address} ${why}`, hint });
  }
  for (const r of current.resources) {
    if (!seen.has(r.address) && r.action !== "noop") {
      refusals.push({ address: r.address, code: "saved-plan-basis-changed", message: `${r.address} would now be ${r.action}d but is not in the saved plan`, hint });
    }
  }
  return refusals;
}

function basisDifference(before: PlannedResource, after: PlannedResource): string | null {
  if (before.id !== after.id) return `now matches a different live resource (${after.id ?? "none"} instead of ${before.id ?? "none"})`;
  const a = before.basis;
  const b = after.basis;
  if (a === null || b === null) {
    if (a !== b) return a === null ? "appeared in the workspace since the plan was saved" : "disappeared from the workspace since the plan was saved";
  } else {
    if (a.kind !== b.kind) return "changed kind";
    if (a.kind === "agent" && b.kind === "agent" && a.version !== b.version) return `moved from version ${a.version} to ${b.version} since the plan was saved`;
    if (a.liveDigest !== b.liveDigest) return "changed in the workspace since the plan was saved";
  }
  if (before.action !== after.action) return `would now be ${after.action} instead of ${before.action}`;
  return null;
}
