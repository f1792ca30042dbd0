import { describe, expect, it } from "vitest";
import { checkSavedPlan, inputsDigest } from "../../src/apply/saved-plan.js";
import { plan, resource } from "./helpers.js";

const options = { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.1.0" };
const parts = {
  sources: [
    { file: "agentform.yaml", sha256: "aa" },
    { file: "agents/triage.md", sha256: "bb" },
  ],
  lockSha256: "8d5c1c6c4a0b1f0e2e1c3b6a9f6b2b4e0d1c8a7f6e5d4c3b2a1f0e9d8c7b6a5f",
  agentformVersion: "0.1.0",
  target: "default",
  options,
};

describe("inputsDigest", () => {
  it("is stable and ignores the order of sources", () => {
    const a = inputsDigest(parts);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(inputsDigest({ ...parts, sources: [...parts.sources].reverse() })).toBe(a);
  });
  it.each([
    ["a manifest", { sources: [parts.sources[0]!, { file: "agents/triage.md", sha256: "cc" }] }],
    ["the lockfile", { lockSha256: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0" }],
    ["no lockfile", { lockSha256: null }],
    ["the agentform version", { agentformVersion: "0.2.0" }],
    ["the target", { target: "prod" }],
    ["an option", { options: { ...options, prune: true } }],
  ])("changes when %s changes", (_what, change) => {
    expect(inputsDigest({ ...parts, ...change })).not.toBe(inputsDigest(parts));
  });
});

describe("checkSavedPlan", () => {
  const triage = resource({ address: "agent.triage", action: "update", id: "agent_1", basis: { kind: "agent", version: 3, liveDigest: "sha256:x" } });
  const sandbox = resource({ address: "environment.sandbox", action: "update", id: "env_1", basis: { kind: "environment", liveDigest: "sha256:e" } });
  const fresh = resource({ address: "agent.new", action: "create" });
  const opts = { adopt: false, prune: false, allowEmpty: false };
  const saved = plan([triage, sandbox, fresh], { inputsDigest: "sha256:in", options: opts });

  it("accepts an identical re-plan", () => {
    expect(checkSavedPlan(saved, plan([triage, sandbox, fresh], { inputsDigest: "sha256:in" }), opts)).toEqual([]);
  });

  it("refuses when the inputs digest differs or is missing", () => {
    expect(checkSavedPlan(saved, plan([triage, sandbox, fresh], { inputsDigest: "sha256:other" }), opts).map((r) => r.code)).toEqual(["saved-plan-inputs-changed"]);
    const { inputsDigest: _ignored, ...undigested } = saved;
    expect(checkSavedPlan(undigested, plan([triage, sandbox, fresh], { inputsDigest: "sha256:in" }), opts).map((r) => r.code)).toEqual(["saved-plan-undigested"]);
  });

  it("refuses when an agent's version moved", () => {
    const moved = { ...triage, basis: { kind: "agent" as const, version: 4, liveDigest: "sha256:y" } };
    const refusals = checkSavedPlan(saved, plan([moved, sandbox, fresh], { inputsDigest: "sha256:in" }), opts);
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ address: "agent.triage", code: "saved-plan-basis-changed" });
    expect(refusals[0]!.message).toMatch(/version 3 to 4/);
  });

  it("refuses when an environment's digest moved", () => {
    const moved = { ...sandbox, basis: { kind: "environment" as const, liveDigest: "sha256:f" } };
    expect(checkSavedPlan(saved, plan([triage, moved, fresh], { inputsDigest: "sha256:in" }), opts).map((r) => r.address)).toEqual(["environment.sandbox"]);
  });

  it("refuses when a resource to create appeared live, or a new change appeared", () => {
    const appeared = { ...fresh, action: "update" as const, id: "agent_9", basis: { kind: "agent" as const, version: 1, liveDigest: "sha256:z" } };
    const extra = resource({ address: "agent.other", action: "create" });
    const codes = checkSavedPlan(saved, plan([triage, sandbox, appeared, extra], { inputsDigest: "sha256:in" }), opts);
    expect(codes.map((r) => r.address)).toEqual(["agent.new", "agent.other"]);
  });

  it("refuses when this apply's options differ from the saved ones, naming the flag", () => {
    const refusals = checkSavedPlan(saved, plan([triage, sandbox, fresh], { inputsDigest: "sha256:in" }), { ...opts, prune: true });
    expect(refusals.map((r) => [r.code, r.message])).toEqual([["saved-plan-options", "it was saved without --prune, but this apply runs with it"]]);
  });

  it("refuses an edited request body, a changed method and a duplicated entry", () => {
    const body = { ...fresh, request: { method: "create" as const, body: { name: "new", system: "Do anything the user asks." } } };
    const current = plan([triage, sandbox, { ...fresh, request: { method: "create" as const, body: { name: "new" } } }], { inputsDigest: "sha256:in" });
    const edited = plan([triage, sandbox, body], { inputsDigest: "sha256:in", options: opts });
    expect(checkSavedPlan(edited, current, opts).map((r) => [r.address, r.code])).toEqual([["agent.new", "saved-plan-mismatch"]]);
    const deleting = plan([{ ...triage, request: { method: "delete" as const } }, sandbox, current.resources[2]!], { inputsDigest: "sha256:in", options: opts });
    expect(checkSavedPlan(deleting, current, opts)[0]?.message).toMatch(/agent\.triage differs .* request \(method or body\)/);
    const doubled = plan([triage, sandbox, current.resources[2]!, current.resources[2]!], { inputsDigest: "sha256:in", options: opts });
    expect(checkSavedPlan(doubled, current, opts).map((r) => r.code)).toEqual(["saved-plan-tampered"]);
  });
});
