/** The environment kind: unversioned (digest-checked before each write), owned through its metadata marker. */
import type { KindSpec } from "../spec.js";
import { environmentFindings } from "./security.js";
import type { Obj } from "../values.js";
import { environmentCreateFields, environmentFieldBody } from "./body.js";
import { canonicalEnvironmentDesired, canonicalEnvironmentLive } from "./canonical.js";

export const environmentKind: KindSpec<"environment"> = {
  kind: "environment",
  folder: "environments",
  extensions: [".yaml", ".yml"],
  concurrency: "digest",
  limitedInFlight: true,
  emptyMetadataDeletes: true,
  lockKey: "environments",
  deletable: true,
  versionOf: () => undefined,
  runtimePin: (entry) => ({ id: entry.id }),
  updateImpact: "in-place",
  wholeFields: new Set(["config"]),
  canonicalDesired: (spec) => canonicalEnvironmentDesired(spec),
  canonicalLive: (live, hint) => canonicalEnvironmentLive(live as unknown as Obj, hint),
  // Environments reference nothing by name.
  resolveRefs: (spec) => spec,
  createFields: environmentCreateFields,
  reviewSecurity: environmentFindings,
  fieldBody: environmentFieldBody,
};
