/**
 * Saved plans (`plan --out` then `apply plan.json`). A saved plan is untrusted input: anyone who
 * can edit the file can edit its request bodies, and its digests are plain hashes anyone can
 * recompute. So apply never executes the file. It recomputes the plan from the manifests, the
 * lockfile and live state, with the options of its own command line, and executes that plan only
 * when it equals the saved one resource by resource; the file is only the record of what was
 * reviewed. Pure: no I/O, the CLI passes in what it read.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../normalize/index.js";
import type { Plan, PlanOptions, PlannedResource, Refusal, SavedPlanOptions } from "../plan/types.js";

export interface InputsDigestParts {
  /** Every input file (config and manifests) with the sha256 of its bytes. */
  sources: Array<{ file: string; sha256: string }>;
  /** The sha256 (hex) of the lockfile's text, or null when there is none. */
  lockSha256: string | null;
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
    lockSha256: parts.lockSha256,
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

const HINT = "Run `agentform plan --out <file>` again, review it, and apply the new plan.";

const FLAG: Record<keyof SavedPlanOptions, string> = { adopt: "--adopt", prune: "--prune", allowEmpty: "--allow-empty", rotate: "--rotate", only: "--only" };

/**
 * Compare a saved plan with the plan computed now, from the same inputs and the options of this
 * apply's command line. Returns one refusal per difference; an empty list means the plan computed
 * now is the plan that was reviewed, and may be executed.
 */
export function checkSavedPlan(saved: Plan, current: Plan, options: SavedPlanOptions): Refusal[] {
  const refusals = [...headerDifferences(saved, current, options)];
  const now = new Map(current.resources.map((r) => [r.address, r]));
  const seen = new Set<string>();
  for (const before of saved.resources) {
    if (seen.has(before.address)) {
      refusals.push(refusal(before.address, "saved-plan-tampered", `${before.address} appears more than once in the saved plan`));
      continue;
    }
    seen.add(before.address);
    const after = now.get(before.address);
    if (!after) {
      refusals.push(refusal(before.address, "saved-plan-basis-changed", `${before.address} is no longer part of the plan`));
      continue;
    }
    const why = basisDifference(before, after) ?? contentDifference(before, after);
    if (why) refusals.push(refusal(before.address, why.code, `${before.address} ${why.message}`));
  }
  for (const r of current.resources) {
    if (seen.has(r.address)) continue;
    const what = r.action === "noop" ? "is now part of the plan" : `would now be ${r.action}d`;
    refusals.push(refusal(r.address, "saved-plan-basis-changed", `${r.address} ${what} but is not in the saved plan`));
  }
  return refusals;
}

function refusal(address: string, code: string, message: string): Refusal {
  return { address, code, message, hint: HINT };
}

function headerDifferences(saved: Plan, current: Plan, options: SavedPlanOptions): Refusal[] {
  const out: Refusal[] = [];
  if (!saved.options) {
    out.push(refusal("(plan)", "saved-plan-undigested", "the saved plan records no options (was it written by `agentform plan --out`?)"));
  } else {
    for (const key of Object.keys(FLAG) as Array<keyof SavedPlanOptions>) {
      const [before, now] = [optionValue(saved.options, key), optionValue(options, key)];
      if (before === now) continue;
      const message =
        key === "only" && before !== "false" && now !== "false"
          ? `it was saved with ${FLAG[key]} ${before}, but this apply runs with ${FLAG[key]} ${now}`
          : before !== "false"
            ? `it was saved with ${FLAG[key]}, but this apply runs without it`
            : `it was saved without ${FLAG[key]}, but this apply runs with it`;
      out.push({ ...refusal("(plan)", "saved-plan-options", message), hint: `Run apply with the options the plan was made with, or make a new plan with the options you want.` });
    }
  }
  if (!saved.inputsDigest) {
    out.push(refusal("(plan)", "saved-plan-undigested", "the saved plan carries no inputs digest (was it written by `agentform plan --out`?)"));
  } else if (saved.options && saved.inputsDigest !== current.inputsDigest) {
    out.push(refusal("(plan)", "saved-plan-inputs-changed", "the manifests, config, lockfile, target or agentform version changed since it was saved"));
  }
  if (saved.project !== current.project || saved.target !== current.target) {
    out.push(refusal("(plan)", "saved-plan-target", `it was made for ${saved.project}/${saved.target}, not ${current.project}/${current.target}`));
  }
  if (saved.origin.baseUrl !== current.origin.baseUrl || (saved.origin.workspaceId ?? null) !== (current.origin.workspaceId ?? null)) {
    out.push(refusal("(plan)", "saved-plan-target", `it was made against ${saved.origin.baseUrl}, not ${current.origin.baseUrl}`));
  }
  return out;
}

function basisDifference(before: PlannedResource, after: PlannedResource): { code: string; message: string } | null {
  const moved = (message: string) => ({ code: "saved-plan-basis-changed", message });
  if (before.id !== after.id) return moved(`now matches a different live resource (${after.id ?? "none"} instead of ${before.id ?? "none"})`);
  const a = before.basis;
  const b = after.basis;
  if (a === null || b === null) {
    if (a !== b) return moved(a === null ? "appeared in the workspace since the plan was saved" : "disappeared from the workspace since the plan was saved");
  } else {
    if (a.kind !== b.kind) return moved("changed kind");
    if (a.version !== undefined && b.version !== undefined && a.version !== b.version) return moved(`moved from version ${a.version} to ${b.version} since the plan was saved`);
    if (a.liveDigest !== b.liveDigest) return moved("changed in the workspace since the plan was saved");
  }
  if (before.action !== after.action) return moved(`would now be ${after.action} instead of ${before.action}`);
  return null;
}

/**
 * Every part of an entry that decides what apply does or what the reviewer saw. Drift detail
 * from `--explain` is display only, so it is left out.
 */
const COMPARED: ReadonlyArray<keyof PlannedResource> = [
  "kind", "name", "file", "changes", "ignored", "impact", "security", "dependsOn", "repinReasons", "renamedFrom", "request", "specDigest", "lockOnly",
];

function contentDifference(before: PlannedResource, after: PlannedResource): { code: string; message: string } | null {
  const differing = COMPARED.filter((field) => canonicalJson(before[field]) !== canonicalJson(after[field]));
  const drift = (r: PlannedResource) => canonicalJson(r.drift === null ? null : { ...r.drift, changes: undefined });
  if (drift(before) !== drift(after)) differing.push("drift");
  if (differing.length === 0) return null;
  const fields = differing.map((f) => (f === "request" ? "request (method or body)" : f)).join(", ");
  return {
    code: "saved-plan-mismatch",
    message: `differs from the plan computed now in ${fields}: the saved file was edited, or the inputs changed`,
  };
}

/** An option as one comparable string: "false" when absent or off, the sorted addresses for --only. */
function optionValue(options: SavedPlanOptions, key: keyof SavedPlanOptions): string {
  const v = options[key];
  if (Array.isArray(v)) return v.length === 0 ? "false" : [...v].sort().join(",");
  return v === true ? "true" : "false";
}
