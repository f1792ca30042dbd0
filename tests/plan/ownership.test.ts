/** The ownership policy as plain data: manage, adopt, refuse; archive, drop or keep on prune. */
import { describe, expect, it } from "vitest";
import { buildPlan, ownershipPolicy, prunePolicy } from "../../src/plan/index.js";
import { liveAgent, liveSkill, lockfile, manifest, MARKER, planInput, skillManifest } from "./helpers.js";

const input = (adopt = false) => ({ project: "support-bots", options: { adopt, prune: false, allowEmpty: false, agentformVersion: "0.1.0" } });
const spec = { name: "triage", model: "claude-sonnet-5-5" };

describe("ownershipPolicy", () => {
  it("manages a resource carrying this project's marker, with no adoption", () => {
    expect(ownershipPolicy("agent", manifest("agent", spec), liveAgent({ name: "triage", metadata: MARKER }), input(), {})).toEqual({ adopt: false });
  });

  it("refuses an unmarked resource unless adoption is asked for, by flag or by the manifest", () => {
    const unmarked = liveAgent({ name: "triage", metadata: {} });
    const refused = ownershipPolicy("agent", manifest("agent", spec), unmarked, input(), {});
    expect(refused).toMatchObject({ refusal: { code: "unmanaged-needs-adopt", address: "agent.triage", ids: [unmarked.id] } });
    expect(ownershipPolicy("agent", manifest("agent", spec), unmarked, input(true), {})).toEqual({ adopt: true });
    expect(ownershipPolicy("agent", manifest("agent", spec, { adopt: true }), unmarked, input(), {})).toEqual({ adopt: true });
  });

  it("never takes over another project's resource, even with --adopt", () => {
    const foreign = liveAgent({ name: "triage", metadata: { "agentform.project": "other-team" } });
    expect(ownershipPolicy("agent", manifest("agent", spec), foreign, input(true), {})).toMatchObject({ refusal: { code: "foreign-owner" } });
  });
});

describe("prunePolicy", () => {
  it("archives what is live and ours; drops the entry of what is gone or not ours; keeps what a rename claimed", () => {
    const ours = liveAgent({ name: "old", metadata: MARKER });
    expect(prunePolicy("agent", ours, new Set(), "support-bots")).toBe("archive");
    expect(prunePolicy("agent", undefined, new Set(), "support-bots")).toBe("gone");
    expect(prunePolicy("agent", liveAgent({ name: "old", metadata: {} }), new Set(), "support-bots")).toBe("foreign");
    expect(prunePolicy("agent", liveAgent({ name: "old", metadata: { "agentform.project": "other-team" } }), new Set(), "support-bots")).toBe("foreign");
    expect(prunePolicy("agent", ours, new Set([ours.id]), "support-bots")).toBe("keep");
  });
});

describe("skills with the same display_name (the API does not keep them unique)", () => {
  const files = { "SKILL.md": "a".repeat(64) };
  const ours = liveSkill({ name: "notes", id: "skill_011ours", files });
  const theirs = liveSkill({ name: "notes", id: "skill_011theirs", files });
  const lockEntry = { id: "skill_011ours", version: ours.latest_version_id, specDigest: "sha256:x", liveDigest: "sha256:y" };

  it("the one the lockfile records is this project's; the other is left alone", () => {
    const plan = buildPlan(planInput({ skills: [skillManifest("notes", files)], liveSkills: [theirs, ours], lock: lockfile({ skills: { notes: lockEntry } }) }));
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.map((r) => `${r.address} ${r.action} ${r.id}`)).toEqual(["skill.notes noop skill_011ours"]);
  });

  it("without a lockfile entry it is a refusal whose hint says to delete (skills have no archive)", () => {
    const plan = buildPlan(planInput({ skills: [skillManifest("notes", files)], liveSkills: [theirs, ours] }));
    expect(plan.refusals).toMatchObject([{ code: "duplicate-live-name", ids: ["skill_011ours", "skill_011theirs"] }]);
    expect(plan.refusals[0]!.hint).toMatch(/^Delete all but one/);
  });
});
