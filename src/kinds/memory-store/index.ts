/**
 * The memory store kind: a named store of memories sessions mount, owned through its metadata
 * marker, unversioned (digest-checked before each write), updated in place. Its memories are data,
 * not configuration: agentform manages the store (name, description, metadata) and never reads or
 * writes what is in it. Archiving one cannot be undone and ends access to its memories, so prune
 * treats it as irreversible.
 */
import type { KindSpec } from "../spec.js";
import { canonicalMetadata, createFieldsOf, minimalManifest, type Obj } from "../values.js";
import { memoryStoreRules } from "./rules.js";

const CREATE_FIELDS = ["name", "description", "metadata"];

/** The API answers "" for a description never set (never null), and "" clears one. */
function canonicalMemoryStore(src: Obj): Obj {
  return { name: src.name ?? null, description: typeof src.description === "string" ? src.description : "", metadata: canonicalMetadata(src.metadata) };
}

export const memoryStoreKind: KindSpec<"memory_store"> = {
  kind: "memory_store",
  schema: "memory_store",
  maxNameLength: 255,
  nameField: "name",
  folder: "memory_stores",
  layout: "file",
  extensions: [".yaml", ".yml", ".md"],
  // Markdown: the body is the description, which agents read in their system prompt: prose.
  markdownBody: { field: "description", what: "the store's description", fromBody: (text) => text, toBody: (value) => (typeof value === "string" ? value : undefined) },
  // Named like agents and environments, but neither a model nor a config.
  looksLike: (value, markdown) => !markdown && "name" in value && !("model" in value) && !("config" in value) && !("agent" in value) && !("initial_events" in value),
  ownership: "marker",
  referencedFrom: "A deployment",
  concurrency: "digest",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "memory_stores",
  lockVersion: "none",
  pinOf: () => undefined,
  uploads: false,
  renamable: true,
  removal: "archive",
  removalNote: "irreversible: an archived memory store cannot be updated, attached to new sessions or unarchived; deployments using it pause",
  irreversible: true,
  deletable: true,
  versionOf: () => undefined,
  runtimePin: (entry) => ({ id: entry.id }),
  updateImpact: "in-place",
  wholeFields: new Set(),
  canonicalDesired: (spec) => canonicalMemoryStore(spec),
  canonicalLive: (live) => canonicalMemoryStore(live as unknown as Obj),
  resolveRefs: (spec) => spec,
  createFields: (spec) => createFieldsOf(spec, {}),
  fieldBody: (field, desired) => (field === "description" ? (typeof desired.description === "string" ? desired.description : "") : (desired[field] ?? null)),
  // A store on its own reaches nothing: attaching it to a deployment is reviewed there.
  reviewSecurity: () => undefined,
  references: () => [],
  liveReferenceIds: () => [],
  followedRefKey: () => null,
  rules: memoryStoreRules,
  toManifest: (live) => {
    const raw = live as unknown as Obj;
    return minimalManifest(raw, CREATE_FIELDS, (spec) => canonicalMemoryStore(spec), canonicalMemoryStore(raw));
  },
};
