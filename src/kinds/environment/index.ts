/** The environment kind: unversioned (digest-checked before each write), owned through its metadata marker. */
import type { KindSpec } from "../spec.js";
import { environmentFindings } from "./security.js";
import { minimalManifest, type Obj } from "../values.js";
import { environmentCreateFields, environmentFieldBody } from "./body.js";
import { canonicalEnvironmentDesired, canonicalEnvironmentLive, PACKAGE_MANAGERS } from "./canonical.js";
import { environmentRules } from "./rules.js";

const CREATE_FIELDS = ["name", "description", "config", "scope", "metadata"];

export const environmentKind: KindSpec<"environment"> = {
  kind: "environment",
  schema: "environment",
  maxNameLength: 256,
  nameField: "name",
  folder: "environments",
  layout: "file",
  extensions: [".yaml", ".yml", ".md"],
  // Markdown: the body is the description, the one free text an environment has.
  markdownBody: { field: "description", what: "the environment's description", fromBody: (text) => text, toBody: (value) => (typeof value === "string" ? value : undefined) },
  // Agents have a model, vaults a display_name; what has neither is an environment.
  // Outside the folders, only a file with a config reads as an environment: without one it has
  // a memory store's shape (name, description, metadata), and deployments have initial events.
  looksLike: (value, markdown) => !markdown && "config" in value && !("model" in value) && !("display_name" in value) && !("initial_events" in value),
  ownership: "marker",
  // Nothing pins an environment's version: environments have none.
  referencedFrom: "A reference",
  concurrency: "digest",
  limitedInFlight: true,
  emptyMetadataDeletes: true,
  lockKey: "environments",
  lockVersion: "none",
  pinOf: () => undefined,
  uploads: false,
  renamable: true,
  removal: "archive",
  deletable: true,
  antCommand: { resource: "beta:environments", idFlag: "--environment-id" },
  // The body always sends the whole config (the server merges package lists per manager).
  createDefaults: {
    config: {
      networking: { allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false },
      packages: Object.fromEntries(PACKAGE_MANAGERS.map((m) => [m, []])),
    },
  },
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
  references: () => [],
  liveReferenceIds: () => [],
  followedRefKey: () => null,
  rules: environmentRules,
  toManifest: (live) => {
    const raw = live as unknown as Obj;
    return minimalManifest(raw, CREATE_FIELDS, (spec) => canonicalEnvironmentDesired(spec), canonicalEnvironmentLive(raw));
  },
};
