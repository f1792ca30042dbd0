/**
 * The memory store kind over plain data: canonical forms (a description "" and one left out are
 * the same; the API answers "" for none, never null), create and update bodies ("" clears a
 * description), the description rule, what makes its removal irreversible, and the planner's
 * create, update, noop and prune archive of one.
 */
import { describe, expect, it } from "vitest";
import type { BetaManagedAgentsMemoryStore } from "@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores";
import { KINDS } from "../../src/kinds/index.js";
import { MEMORY_STORE_DESCRIPTION_MAX, memoryStoreRules } from "../../src/kinds/memory-store/rules.js";
import { checkRules } from "../../src/manifest/index.js";
import type { Diagnostic, LoadedManifest } from "../../src/manifest/types.js";
import { liveDigest, specDigest } from "../../src/normalize/index.js";
import { buildCreateBody } from "../../src/plan/body.js";
import { buildPlan, buildUpdateBody, diffCanonical } from "../../src/plan/index.js";
import type { Plan, PlanInput, PlannedResource } from "../../src/plan/types.js";
import { renderText } from "../../src/render/index.js";
import { emptyByKind, lockfile, MARKER, planInput, PROJECT } from "../plan/helpers.js";

type Obj = Record<string, unknown>;

const store = KINDS.memory_store;
const NAME = "support-notes";
const DESCRIPTION = "Recurring customer issues and how they were resolved, kept by the nightly triage run.";

/** The manifest of memory_stores/support-notes.yaml, as the loader reads it. */
const notesSpec = (over: Obj = {}): Obj => ({ name: NAME, description: DESCRIPTION, metadata: { team: "support-platform" }, ...over });

/** A memory store as the API returns it: description "" when unset, never null. */
function liveStore(fields: Partial<BetaManagedAgentsMemoryStore> & { name: string }): BetaManagedAgentsMemoryStore {
  const slug = fields.name.replace(/[^a-z0-9]/gi, "");
  return {
    id: `memstore_011${slug}`,
    type: "memory_store",
    description: "",
    metadata: { ...MARKER },
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    ...fields,
  };
}

function loaded(spec: Obj, settings: Partial<LoadedManifest["settings"]> = {}): LoadedManifest {
  const name = String(spec.name);
  return {
    kind: "memory_store",
    name,
    file: `memory_stores/${name}.yaml`,
    spec,
    settings: { previous_names: [], adopt: false, ignore: [], ...settings },
    locate: () => ({ line: 1, column: 1 }),
  };
}

function input(parts: { manifests: LoadedManifest[]; live: BetaManagedAgentsMemoryStore[]; prune?: boolean; lock?: PlanInput["lock"] }): PlanInput {
  const base = planInput({ lock: parts.lock ?? null, options: { prune: parts.prune ?? false } });
  return { ...base, manifests: { ...base.manifests, memory_store: parts.manifests }, live: { ...base.live, memory_store: parts.live } };
}

const entry = (plan: Plan, address: string): PlannedResource => {
  const found = plan.resources.find((r) => r.address === address);
  expect(found, `${address} in ${plan.resources.map((r) => r.address).join(", ")}`).toBeDefined();
  return found as PlannedResource;
};

/** A lockfile entry recording a live store as applied. */
const locked = (l: BetaManagedAgentsMemoryStore, spec: Obj = notesSpec({ name: l.name })) => ({ id: l.id, specDigest: specDigest(loaded(spec)), liveDigest: liveDigest("memory_store", l) });

describe("canonical forms", () => {
  it("the desired form: name, description and metadata without agentform's keys", () => {
    expect(store.canonicalDesired(notesSpec({ metadata: { team: "support-platform", "agentform.project": "other", gone: null } }))).toEqual({
      name: NAME,
      description: DESCRIPTION,
      metadata: { team: "support-platform" },
    });
  });

  it("a description left out, null or \"\" is \"\" on the desired side", () => {
    const { description: _d, ...without } = notesSpec();
    expect(store.canonicalDesired(without).description).toBe("");
    expect(store.canonicalDesired(notesSpec({ description: "" })).description).toBe("");
    expect(store.canonicalDesired(notesSpec({ description: null })).description).toBe("");
    expect(store.canonicalDesired(without)).toEqual(store.canonicalDesired(notesSpec({ description: "" })));
  });

  it("a live store without a description reads \"\" (never null), and equals a manifest that leaves it out", () => {
    const live = liveStore({ name: NAME, metadata: { ...MARKER, team: "support-platform" } });
    expect(store.canonicalLive(live)).toEqual({ name: NAME, description: "", metadata: { team: "support-platform" } });
    expect(store.canonicalLive(live).description).not.toBeNull();
    // Even a response carrying null reads as "": null and "" are one state.
    expect(store.canonicalLive({ ...live, description: null } as unknown as BetaManagedAgentsMemoryStore).description).toBe("");
    const { description: _d, ...without } = notesSpec();
    expect(diffCanonical(store.canonicalLive(live), store.canonicalDesired(without))).toEqual([]);
    expect(diffCanonical(store.canonicalLive(live), store.canonicalDesired(notesSpec({ description: "" })))).toEqual([]);
  });

  it("a live description the manifest leaves out is a change to \"\"", () => {
    const live = liveStore({ name: NAME, description: "old words", metadata: { ...MARKER, team: "support-platform" } });
    const { description: _d, ...without } = notesSpec();
    expect(diffCanonical(store.canonicalLive(live), store.canonicalDesired(without))).toEqual([{ pointer: "/description", op: "replace", before: "old words", after: "" }]);
  });

  it("the marker is not part of the live form, and so not of its digest", () => {
    const a = liveStore({ name: NAME, metadata: { ...MARKER } });
    const b = liveStore({ name: NAME, metadata: {} });
    expect(store.canonicalLive(a).metadata).toEqual({});
    expect(liveDigest("memory_store", a)).toBe(liveDigest("memory_store", b));
    expect(liveDigest("memory_store", a)).not.toBe(liveDigest("memory_store", liveStore({ name: NAME, description: "x" })));
  });

  it("imports a live store as the manifest that reproduces it, leaving an empty description out", () => {
    const bare = liveStore({ name: NAME, metadata: { ...MARKER, team: "support-platform" } });
    expect(store.toManifest(bare)).toEqual({ name: NAME, metadata: { team: "support-platform" } });
    const described = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER } });
    expect(store.toManifest(described)).toEqual({ name: NAME, description: DESCRIPTION });
    expect(store.canonicalDesired(store.toManifest(described))).toEqual(store.canonicalLive(described));
  });
});

describe("request bodies", () => {
  it("create: the manifest's fields with the ownership marker added to metadata", () => {
    expect(buildCreateBody("memory_store", notesSpec(), PROJECT)).toEqual({ name: NAME, description: DESCRIPTION, metadata: { team: "support-platform", "agentform.project": PROJECT } });
    expect(buildCreateBody("memory_store", { name: NAME }, PROJECT)).toEqual({ name: NAME, metadata: { "agentform.project": PROJECT } });
  });

  it("the description field body: as written, \"\" when left out or empty (\"\" is what clears it)", () => {
    expect(store.fieldBody("description", notesSpec())).toBe(DESCRIPTION);
    expect(store.fieldBody("description", notesSpec({ description: "" }))).toBe("");
    expect(store.fieldBody("description", { name: NAME })).toBe("");
    expect(store.fieldBody("description", notesSpec({ description: null }))).toBe("");
    expect(store.fieldBody("name", notesSpec({ name: "renamed" }))).toBe("renamed");
  });

  it("update: only the changed fields; a removed description is sent as \"\"", () => {
    const live = liveStore({ name: NAME, description: "old words", metadata: { ...MARKER, team: "support-platform" } });
    const { description: _d, ...without } = notesSpec();
    const changes = diffCanonical(store.canonicalLive(live), store.canonicalDesired(without));
    expect(buildUpdateBody("memory_store", without, live, changes, PROJECT)).toEqual({ description: "" });
  });

  it("update: a metadata change is a patch that keeps the marker", () => {
    const live = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support", old: "x" } });
    const changes = diffCanonical(store.canonicalLive(live), store.canonicalDesired(notesSpec()));
    expect(changes.map((c) => c.pointer)).toEqual(["/metadata/old", "/metadata/team"]);
    expect(buildUpdateBody("memory_store", notesSpec(), live, changes, PROJECT)).toEqual({ metadata: { team: "support-platform", old: null } });
  });
});

describe("the description rule", () => {
  const rules = (spec: Obj): Diagnostic[] => checkRules({ ...emptyByKind(), memory_store: [loaded(spec)] });

  it("accepts 1,024 characters, counting code points as the API does", () => {
    expect(MEMORY_STORE_DESCRIPTION_MAX).toBe(1024);
    expect(rules(notesSpec({ description: "a".repeat(1024) }))).toEqual([]);
    // 1,024 emoji are 2,048 UTF-16 units but 1,024 characters.
    expect(rules(notesSpec({ description: "🦀".repeat(1024) }))).toEqual([]);
    expect(rules(notesSpec())).toEqual([]);
  });

  it("refuses 1,025 characters at the description, saying how many", () => {
    const diags = rules(notesSpec({ description: "🦀".repeat(1025) }));
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({
      code: "AF-MEMORY-STORE-DESCRIPTION",
      severity: "error",
      file: "memory_stores/support-notes.yaml",
      path: "description",
      message: "the description has 1025 characters; the API stores at most 1024",
    });
    expect(diags[0]?.hint).toContain("system prompt");
  });

  it("is the kind's rule, reporting each manifest over the limit", () => {
    const seen: string[] = [];
    const sink = { add: (m: LoadedManifest, at: ReadonlyArray<string | number>, code: string) => void seen.push(`${m.name} ${at.join(".")} ${code}`) };
    const ctx = { unparsedNames: () => [], manifestNames: () => [], manifestsOf: () => [] };
    memoryStoreRules([loaded(notesSpec({ name: "a", description: "x".repeat(2000) })), loaded(notesSpec({ name: "b" })), loaded(notesSpec({ name: "c", description: "y".repeat(1025) }))], ctx, sink);
    expect(seen).toEqual(["a description AF-MEMORY-STORE-DESCRIPTION", "c description AF-MEMORY-STORE-DESCRIPTION"]);
    expect(store.rules).toBe(memoryStoreRules);
  });
});

describe("removal", () => {
  it("is an irreversible archive, and its note says so", () => {
    expect(store.removal).toBe("archive");
    expect(store.irreversible).toBe(true);
    expect(store.removalNote).toBe("irreversible: an archived memory store cannot be updated, attached to new sessions or unarchived; deployments using it pause");
    // Kinds whose archive keeps nothing irreplaceable are not marked so.
    expect(KINDS.deployment.irreversible).toBeUndefined();
    expect(KINDS.vault.irreversible).toBeUndefined();
  });

  it("the store's other properties: named, marker-owned, digest-checked, in place, unversioned, referenced by deployments", () => {
    expect(store).toMatchObject({
      nameField: "name",
      folder: "memory_stores",
      ownership: "marker",
      concurrency: "digest",
      updateImpact: "in-place",
      lockKey: "memory_stores",
      lockVersion: "none",
      renamable: true,
      referencedFrom: "A deployment",
    });
    const live = liveStore({ name: NAME });
    expect(store.versionOf(live)).toBeUndefined();
    expect(store.pinOf(live)).toBeUndefined();
    expect(store.runtimePin({ id: live.id })).toEqual({ id: live.id });
    expect(store.references(notesSpec())).toEqual([]);
    expect(store.liveReferenceIds(live)).toEqual([]);
  });

  it("looks like a store only without a model, config, agent or initial events", () => {
    expect(store.looksLike(notesSpec(), false)).toBe(true);
    expect(store.looksLike(notesSpec(), true)).toBe(false);
    expect(store.looksLike({ name: "x", model: "m" }, false)).toBe(false);
    expect(store.looksLike({ name: "x", config: {} }, false)).toBe(false);
    expect(store.looksLike({ name: "x", agent: { ref: "a" } }, false)).toBe(false);
    expect(store.looksLike({ name: "x", initial_events: [] }, false)).toBe(false);
  });
});

describe("the planner", () => {
  it("creates a new store with the marker, and no security finding", () => {
    const plan = buildPlan(input({ manifests: [loaded(notesSpec())], live: [] }));
    const e = entry(plan, "memory_store.support-notes");
    expect(e).toMatchObject({ action: "create", impact: "create", id: null, dependsOn: [], security: [] });
    expect(e.request).toEqual({ method: "create", body: { name: NAME, description: DESCRIPTION, metadata: { team: "support-platform", "agentform.project": PROJECT } } });
  });

  it("a store created from its manifest plans a noop", () => {
    const live = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const plan = buildPlan(input({ manifests: [loaded(notesSpec())], live: [live], lock: lockfile({ memory_stores: { [NAME]: locked(live) } }) }));
    const e = entry(plan, "memory_store.support-notes");
    expect(e).toMatchObject({ action: "noop", impact: "none", request: null, changes: [] });
    expect(e.lockOnly).toBeUndefined();
    expect(plan.driftDetected).toBe(false);
  });

  it("a description removed from the manifest is an in-place update sending \"\"", () => {
    const live = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const { description: _d, ...without } = notesSpec();
    const e = entry(buildPlan(input({ manifests: [loaded(without)], live: [live] })), "memory_store.support-notes");
    expect(e).toMatchObject({ action: "update", impact: "in-place" });
    expect(e.changes).toEqual([{ pointer: "/description", op: "replace", before: DESCRIPTION, after: "" }]);
    expect(e.request).toEqual({ method: "update", body: { description: "" } });
    expect(e.basis).toEqual({ kind: "memory_store", liveDigest: liveDigest("memory_store", live) });
  });

  it("a description changed in the Console is drift against the lockfile", () => {
    const applied = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const changed = { ...applied, description: "edited in the Console" };
    const e = entry(buildPlan(input({ manifests: [loaded(notesSpec())], live: [changed], lock: lockfile({ memory_stores: { [NAME]: locked(applied) } }) })), "memory_store.support-notes");
    expect(e.action).toBe("update");
    expect(e.drift?.detected).toBe(true);
    expect(e.drift?.lockedLiveDigest).toBe(liveDigest("memory_store", applied));
    expect(e.drift?.liveDigest).toBe(liveDigest("memory_store", changed));
  });

  it("under --prune, archives a store no manifest wants: action and impact archive, with its removal note", () => {
    const kept = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const old = liveStore({ name: "old-notes", description: "Old notes." });
    const lock = lockfile({ memory_stores: { [NAME]: locked(kept), "old-notes": locked(old, notesSpec({ name: "old-notes", description: "Old notes.", metadata: undefined })) } });
    const plan = buildPlan(input({ manifests: [loaded(notesSpec())], live: [kept, old], lock, prune: true }));
    expect(plan.refusals).toEqual([]);
    const archived = entry(plan, "memory_store.old-notes");
    expect(archived).toMatchObject({ action: "archive", impact: "archive", id: old.id, file: null, request: { method: "archive" }, dependsOn: [] });
    expect(plan.summary).toMatchObject({ archive: 1, noop: 1 });
    expect(renderText(plan, { color: false })).toContain(store.removalNote as string);
  });

  it("without --prune the same lockfile archives nothing: an orphan, also when the target prunes", () => {
    const kept = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const old = liveStore({ name: "old-notes" });
    const lock = lockfile({ memory_stores: { [NAME]: locked(kept), "old-notes": locked(old) } });
    const plain = buildPlan(input({ manifests: [loaded(notesSpec())], live: [kept, old], lock }));
    expect(plain.resources.map((r) => `${r.address} ${r.action} ${r.orphan?.why ?? ""}`)).toEqual(["memory_store.support-notes noop ", "memory_store.old-notes orphan irreversible"]);
    const targetPrunes = buildPlan({ ...input({ manifests: [loaded(notesSpec())], live: [kept, old], lock }), options: { adopt: false, prune: false, targetPrune: true, allowEmpty: false, agentformVersion: "0.1.0" } });
    expect(targetPrunes.resources.map((r) => `${r.address} ${r.action} ${r.orphan?.why ?? ""}`)).toEqual(["memory_store.support-notes noop ", "memory_store.old-notes orphan irreversible"]);
    expect(targetPrunes.resources.every((r) => r.request === null)).toBe(true);
  });

  it("under --prune, a store of another project is left alone and only its lockfile entry dropped", () => {
    const kept = liveStore({ name: NAME, description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const foreign = liveStore({ name: "their-notes", metadata: { "agentform.project": "someone-else" } });
    const lock = lockfile({ memory_stores: { [NAME]: locked(kept), "their-notes": locked(foreign) } });
    const plan = buildPlan(input({ manifests: [loaded(notesSpec())], live: [kept, foreign], lock, prune: true }));
    const e = entry(plan, "memory_store.their-notes");
    expect(e).toMatchObject({ action: "noop", request: null, lockOnly: { reason: "foreign", locked: { id: foreign.id } } });
    expect(plan.summary.archive).toBe(0);
  });

  it("renames a store in place through previous_names", () => {
    const live = liveStore({ name: "notes", description: DESCRIPTION, metadata: { ...MARKER, team: "support-platform" } });
    const e = entry(buildPlan(input({ manifests: [loaded(notesSpec(), { previous_names: ["notes"] })], live: [live] })), "memory_store.support-notes");
    expect(e).toMatchObject({ action: "rename", renamedFrom: "notes", id: live.id });
    expect(e.request).toEqual({ method: "update", body: { name: NAME } });
  });
});
