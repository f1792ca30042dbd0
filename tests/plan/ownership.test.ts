/** The ownership policy as plain data: manage, adopt, refuse; archive, drop or keep on prune. */
import { describe, expect, it } from "vitest";
import { ownershipPolicy, prunePolicy } from "../../src/plan/index.js";
import { liveAgent, manifest, MARKER } from "./helpers.js";

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
