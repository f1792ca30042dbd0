/** Tiny builders for plan data in tests. */
import type { Plan, PlannedResource } from "../../src/plan/types.js";

export function resource(partial: Partial<PlannedResource> & Pick<PlannedResource, "address">): PlannedResource {
  const [kind, ...rest] = partial.address.split(".");
  return {
    kind: kind === "environment" ? "environment" : "agent",
    name: rest.join("."),
    action: "noop",
    id: null,
    file: null,
    basis: null,
    changes: [],
    ignored: [],
    drift: null,
    impact: "none",
    security: [],
    dependsOn: [],
    request: null,
    specDigest: null,
    ...partial,
  };
}

export function plan(resources: PlannedResource[], extra: Partial<Plan> = {}): Plan {
  const summary = { create: 0, update: 0, repin: 0, adopt: 0, rename: 0, replace: 0, noop: 0, archive: 0, delete: 0, orphan: 0 };
  for (const r of resources) summary[r.action]++;
  return {
    formatVersion: 1,
    agentformVersion: "0.1.0",
    project: "support-bots",
    target: "default",
    origin: { baseUrl: "http://127.0.0.1:1", workspaceId: null },
    summary,
    resources,
    driftDetected: false,
    refusals: [],
    ...extra,
  };
}
