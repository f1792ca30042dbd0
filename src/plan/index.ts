/**
 * The planner (pure): (manifests, live resources, lockfile, options) → Plan.
 *
 * Matching is by name, then `previous_names` (rename in place), then the lockfile id (a
 * resource renamed outside agentform is renamed back and reported as drift). Ownership rules
 * turn into refusals, never into silent takeovers. Agents are planned sub-agents first so a
 * coordinator can tell whether a roster target moves in this plan (then its roster version is
 * known after apply and it depends on the target) or moved before (then it is re-pinned now).
 */
import type { KindRef, LiveResource, RequestBody, ResourceKind } from "../kinds/types.js";
import { lockTable, previousNamesToRecord, samePreviousNames, type LockedEntry } from "../lock/table.js";
import type { LoadedManifest } from "../manifest/types.js";
import { canonicalDesired, canonicalLive, liveDigest, ownerOf, specDigest, type ResolvedRef } from "../normalize/index.js";
import { buildCreateBody, buildUpdateBody, resolveSpecRefs, type BodyRefResolver } from "./body.js";
import { diffCanonical, escapePointer, isUnder, pointerSegments } from "./diff.js";
import { reviewSecurity } from "./security.js";
import { adoptTargetMissing, ownershipPolicy, prunePolicy } from "./ownership.js";
import { groupByName } from "../util/group.js";
import { ownValue } from "../util/record.js";
import { addressOf, byKind, KIND_ORDER, kindSpec, parentOf, pinOf, versionOf } from "../kinds/index.js";
import { SECRET_STATUS_KEY, type SecretStatus } from "../kinds/spec.js";
import {
  IMPACT_ORDER,
  KNOWN_AFTER_APPLY,
  type DriftInfo,
  type FieldChange,
  type Impact,
  type Plan,
  type PlanAction,
  type PlanInput,
  type PlannedResource,
  type PlanSummary,
  type Refusal,
  type SecurityFinding,
} from "./types.js";

export { diffCanonical } from "./diff.js";
export { reviewSecurity } from "./security.js";
export { ownershipPolicy, prunePolicy } from "./ownership.js";

type Live = LiveResource;
type Obj = Record<string, unknown>;

interface Match {
  manifest: LoadedManifest;
  live: Live | null;
  /** The live name when it differs from the manifest's (rename). */
  renamedFrom?: string;
  /** Found through the lockfile id: renamed outside agentform. */
  renamedOutOfBand: boolean;
  adopt: boolean;
}

function sortByName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Match the manifests of one kind to live resources and apply the ownership rules. Refused
 * manifests get no match (and so no plan entry): only the refusal says what is wrong.
 */
function matchKind(
  kind: ResourceKind,
  manifests: readonly LoadedManifest[],
  allLive: readonly Live[],
  locked: Record<string, { id: string }>,
  input: PlanInput,
  refusals: Refusal[],
  claimed: Set<string>,
  scope: Scope,
): Match[] {
  let manifestNames: Set<string> | undefined; // made when first needed: renames outside agentform are rare
  const matches: Match[] = [];
  // Kinds inside another match only inside the parent their manifest names (a credential, in its vault).
  const indexFor = scopedIndex(allLive, scope);
  for (const manifest of sortByName(manifests)) {
    const { byName, byId } = indexFor(manifest);
    const byNames = findByNames(kind, manifest, byName, claimed, ownValue(locked, manifest.name)?.id);
    if ("refusal" in byNames) {
      refusals.push(byNames.refusal);
      continue;
    }
    let { found, renamedFrom } = byNames;
    let renamedOutOfBand = false;
    if (!found) {
      // Renamed outside agentform: the locked id under a name no manifest holds.
      const lockedId = ownValue(locked, manifest.name)?.id;
      const l = lockedId ? byId.get(lockedId) : undefined;
      if (l && !claimed.has(l.id) && !(manifestNames ??= new Set(manifests.map((m) => m.name))).has(l.name) && (byName.get(l.name)?.length ?? 0) === 1) {
        found = l;
        renamedFrom = l.name;
        renamedOutOfBand = true;
      }
    }
    const missing = found ? undefined : adoptTargetMissing(kind, manifest, byId);
    if (missing) {
      refusals.push(missing);
      continue;
    }
    const ownership = found ? ownershipPolicy(kind, manifest, found, input, locked) : { adopt: false };
    if ("refusal" in ownership) {
      refusals.push(ownership.refusal);
      continue;
    }
    if (found) claimed.add(found.id);
    matches.push({ manifest, live: found, renamedFrom, renamedOutOfBand, adopt: ownership.adopt });
  }
  return matches;
}

/**
 * For a kind inside another (credentials in vaults): which live resources a manifest may match,
 * those inside the live parent its own parent manifest matched. A manifest whose parent is to be
 * created matches nothing (a new vault holds no credentials). Other kinds: every live resource.
 */
type Scope = { key: (manifest: LoadedManifest) => string | null; of: (l: Live) => string | null } | null;

function parentScope(kind: ResourceKind, matches: ReadonlyMap<ResourceKind, Match[]>): Scope {
  const spec = kindSpec(kind);
  const parentKind = spec.parentKind;
  const parentIdOf = spec.parentIdOf as ((l: Live) => string | undefined) | undefined;
  if (parentKind === undefined || !parentIdOf) return null;
  const parentIds = new Map((matches.get(parentKind) ?? []).map((m) => [m.manifest.name, m.live?.id] as const));
  return {
    key: (manifest) => {
      const parent = spec.references(manifest.spec).find((r) => r.kind === parentKind);
      return (parent ? parentIds.get(parent.name) : undefined) ?? null;
    },
    of: (l) => parentIdOf(l) ?? null,
  };
}

/** The live resources a manifest may match, indexed once per scope (one for kinds with no parent). */
function scopedIndex(live: readonly Live[], scope: Scope): (manifest: LoadedManifest) => { byName: Map<string, Live[]>; byId: Map<string, Live> } {
  const cache = new Map<string | null, { byName: Map<string, Live[]>; byId: Map<string, Live> }>();
  const index = (key: string | null) => {
    let found = cache.get(key);
    if (!found) {
      // A manifest whose parent is not live yet (to be created) matches nothing inside it.
      const inScope = scope === null ? live : key === null ? [] : live.filter((l) => scope.of(l) === key);
      found = { byName: groupByName(inScope), byId: new Map(inScope.map((l) => [l.id, l] as const)) };
      cache.set(key, found);
    }
    return found;
  };
  return (manifest) => index(scope === null ? null : scope.key(manifest));
}

/** The live resource a manifest names, by its name then its previous names; several is a refusal. */
function findByNames(
  kind: ResourceKind,
  manifest: LoadedManifest,
  byName: ReadonlyMap<string, Live[]>,
  claimed: ReadonlySet<string>,
  lockedId: string | undefined,
): { found: Live | null; renamedFrom?: string } | { refusal: Refusal } {
  const spec = kindSpec(kind);
  for (const name of [manifest.name, ...manifest.settings.previous_names]) {
    let hits = (byName.get(name) ?? []).filter((l) => !claimed.has(l.id));
    // Names of lockfile-owned kinds are not unique in the API (skills): the lockfile's id, which
    // is the whole ownership record, tells this project's one from another of the same name.
    if (hits.length > 1 && spec.ownership === "lockfile" && hits.some((h) => h.id === lockedId)) hits = hits.filter((h) => h.id === lockedId);
    // `adopt: "<id>"` names the one to take over among several of the same name.
    const adoptId = manifest.settings.adoptId;
    if (hits.length > 1 && adoptId !== undefined && hits.some((h) => h.id === adoptId)) hits = hits.filter((h) => h.id === adoptId);
    if (hits.length > 1) {
      const ids = hits.map((h) => h.id).sort();
      return {
        refusal: {
          address: addressOf(kind, manifest.name),
          code: "duplicate-live-name",
          message: `${hits.length} live ${kind}s are named "${name}" (${ids.join(", ")}); agentform cannot tell which one ${manifest.file} describes.`,
          hint: `${spec.removal === "delete" ? "Delete" : "Archive or rename"} all but one of them in the Console or with the API, then plan again.`,
          ids,
        },
      };
    }
    if (hits.length === 1) return name !== manifest.name ? { found: hits[0] as Live, renamedFrom: name } : { found: hits[0] as Live };
  }
  return { found: null };
}

function lockedEntryFor<T extends { id: string }>(locked: Record<string, T>, name: string, liveId: string | undefined): T | undefined {
  const byName = ownValue(locked, name);
  if (byName) return byName;
  if (!liveId) return undefined;
  return Object.values(locked).find((e) => e.id === liveId);
}

function driftOf(
  input: PlanInput,
  kind: ResourceKind,
  lockedEntry: LockedEntry | undefined,
  live: Live | null,
  forceDetected: boolean,
): DriftInfo | null {
  if (!lockedEntry) return null;
  // Only numbered versions are drift information; a skill's version id is checked through its digest.
  const lockedVersion = typeof lockedEntry.version === "number" ? { lockedVersion: lockedEntry.version } : {};
  if (!live && liveIds(input, kind).has(lockedEntry.id)) {
    // The locked resource still exists but under a name another manifest (or resource) holds:
    // changed outside agentform, not gone.
    return { detected: true, lockedLiveDigest: lockedEntry.liveDigest, ...lockedVersion };
  }
  if (!live) {
    // In the lockfile, absent from the live list: archived or deleted behind agentform's back.
    return { detected: true, missing: true, lockedLiveDigest: lockedEntry.liveDigest, ...lockedVersion };
  }
  const digestNow = liveDigestIn(input, kind, live);
  const info: DriftInfo = { detected: false, lockedLiveDigest: lockedEntry.liveDigest, liveDigest: digestNow };
  let detected = forceDetected || lockedEntry.id !== live.id || lockedEntry.liveDigest !== digestNow;
  const cur = versionOf(kind, live);
  if (cur !== undefined) {
    info.lockedVersion = lockedEntry.version as number;
    info.liveVersion = cur;
    detected = detected || lockedEntry.version !== cur;
  }
  info.detected = detected;
  return info;
}

function basisOf(input: PlanInput, kind: ResourceKind, live: Live | null): PlannedResource["basis"] {
  if (!live) return null;
  const version = versionOf(kind, live);
  if (version !== undefined) return { kind, version, liveDigest: liveDigestIn(input, kind, live) };
  if (kindSpec(kind).concurrency === "pin") return { kind, pin: String(pinOf(kind, live)), liveDigest: liveDigestIn(input, kind, live) };
  return { kind, liveDigest: liveDigestIn(input, kind, live) };
}

/**
 * Each live resource's digest, computed once per plan (its basis and its drift both need it),
 * or taken from what the caller computed of the same objects while the lists were still paging.
 * Keyed by the plan's own input object, so no digest outlives the plan that computed it.
 */
const liveDigestMemo = new WeakMap<PlanInput, Map<Live, string>>();
function liveDigestIn(input: PlanInput, kind: ResourceKind, live: Live): string {
  const paged = input.precomputed?.liveDigests?.get(live);
  if (paged !== undefined) return paged;
  let memo = liveDigestMemo.get(input);
  if (!memo) liveDigestMemo.set(input, (memo = new Map()));
  let found = memo.get(live);
  if (found === undefined) memo.set(live, (found = liveDigest(kind, live)));
  return found;
}

function impactOf(kind: ResourceKind, action: PlanAction): Impact {
  switch (action) {
    case "noop":
    case "orphan":
      return "none";
    case "create":
      return "create";
    case "archive":
    case "replace":
      // A replace archives the resource it replaces: one-way, like an archive.
      return "archive";
    case "delete":
      return "delete";
    default:
      return kindSpec(kind).updateImpact;
  }
}

/** Manifests of one kind ordered so that referenced ones come before those referencing them; ties by name. */
function topoOrder(kind: ResourceKind, matches: readonly Match[]): Match[] {
  const sameKindRefs = matches.map((m) => kindSpec(kind).references(m.manifest.spec).filter((r) => r.kind === kind).map((r) => r.name));
  // No manifest of the kind names another (most kinds, most plans): name order is the order.
  if (sameKindRefs.every((names) => names.length === 0)) {
    const sorted = sortByName(matches.map((m) => ({ name: m.manifest.name, m })));
    if (sorted.every((x, i) => i === 0 || (sorted[i - 1] as { name: string }).name !== x.name)) return sorted.map(({ m }) => m);
  }
  const byName = new Map(matches.map((m) => [m.manifest.name, m] as const));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [i, m] of matches.entries()) {
    const names = sameKindRefs[i] as string[];
    const deps = names.length === 0 ? [] : [...new Set(names)].filter((r) => byName.has(r) && r !== m.manifest.name);
    waitingOn.set(m.manifest.name, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), m.manifest.name]);
  }
  // Kahn's algorithm with the ready set kept sorted, so the smallest ready name always goes next.
  const ready = [...waitingOn].filter(([, n]) => n === 0).map(([name]) => name).sort();
  const insert = (name: string): void => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ready[mid] as string) < name) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, name);
  };
  const order: Match[] = [];
  const done = new Set<string>();
  while (ready.length > 0) {
    const name = ready.shift() as string;
    done.add(name);
    order.push(byName.get(name) as Match);
    for (const dep of dependents.get(name) ?? []) {
      const left = (waitingOn.get(dep) ?? 0) - 1;
      waitingOn.set(dep, left);
      if (left === 0) insert(dep);
    }
  }
  // A reference cycle cannot be ordered; its members follow in name order.
  for (const name of [...byName.keys()].sort()) if (!done.has(name)) order.push(byName.get(name) as Match);
  return order;
}

interface Planned {
  entry: PlannedResource;
  live: Live | null;
  /**
   * The manifest's canonical form, references resolved: kept only for creates and replaces, the
   * one use of it once the entry is planned (unique keys, rename hints). Thousands of unchanged
   * resources need not hold theirs until the plan is done.
   */
  desired?: Obj;
  /** Where in its file the manifest is written, for kinds written inside another's (a JSON pointer). */
  within?: string;
}

function emptySummary(): PlanSummary {
  return { create: 0, update: 0, repin: 0, adopt: 0, rename: 0, replace: 0, noop: 0, archive: 0, delete: 0, orphan: 0 };
}

function isIgnored(pointer: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => isUnder(pointer, p));
}

/** How a by-name reference resolves while planning, and the address the entry then waits for. */
type RefResolution = { ref: ResolvedRef; dependsOn?: string } | undefined;
/** `from`: the address of the resource holding the reference (for messages). */
type PlanResolver = (target: KindRef, from?: string) => RefResolution;

/**
 * Plan one manifest against its match. `resolve` answers by-name references and records which
 * targets the entry depends on.
 */
function planResource(kind: ResourceKind, match: Match, input: PlanInput, locked: Record<string, LockedEntry>, resolve: PlanResolver): Planned {
  const { manifest, live } = match;
  const address = addressOf(kind, manifest.name);
  // Made on the first reference resolved: most resources reference nothing.
  let dependsOn: Set<string> | undefined;
  let followedKeys: Map<string, string> | undefined; // reference key → target address, for refs without a version
  const resolveRef = (target: KindRef): ResolvedRef | undefined => {
    const r = resolve(target, address);
    if (!r) return undefined;
    if (r.dependsOn) (dependsOn ??= new Set()).add(r.dependsOn);
    if (target.version === undefined) (followedKeys ??= new Map()).set(r.ref.id === KNOWN_AFTER_APPLY ? `ref:${target.name}` : r.ref.id, addressOf(target.kind, target.name));
    return r.ref;
  };
  const spec = withSecretStatus(manifest.spec, input.secretStatus?.[live ? `${address}@${live.id}` : address]);
  // Compared already while the lists paged (and found equal): nothing to compare again.
  const known = live !== null && spec === manifest.spec && input.precomputed?.unchanged?.get(manifest) === live;
  const desired = known ? null : canonicalDesired(kind, spec, { resolveRef });
  const bodyResolver: BodyRefResolver = (target) => resolve(target)?.ref;
  const resolvedSpec = resolveSpecRefs(kind, spec, bodyResolver);

  // A create is never `known` (that takes a live resource): its desired form is there.
  const diff = live
    ? planUpdate(kind, match, live, desired, resolvedSpec, followedKeys ?? NO_KEYS, input.project)
    : { action: "create" as const, changes: [], ignored: [], security: reviewSecurity(kind, null, desired as Obj), request: { method: "create" as const, body: buildCreateBody(kind, resolvedSpec, input.project) } };
  const { action, changes, ignored, security, request, repinReasons } = diff as DiffOutcome;

  // A manifest renamed through previous_names whose old resource is gone: its lockfile entry is
  // still under the old name. Report the drift, and let apply replace that entry (no leftover
  // that `lock verify` would flag forever).
  let lockedHere = lockedEntryFor(locked, manifest.name, live?.id);
  let replacesLockEntry: string | undefined;
  if (!lockedHere && !live) {
    replacesLockEntry = manifest.settings.previous_names.find((n) => ownValue(locked, n) !== undefined);
    if (replacesLockEntry !== undefined) lockedHere = ownValue(locked, replacesLockEntry);
  }

  const entry: PlannedResource = {
    address,
    kind,
    name: manifest.name,
    action,
    id: live?.id ?? null,
    file: manifest.file,
    basis: basisOf(input, kind, live),
    changes,
    ignored,
    drift: driftOf(input, kind, lockedHere, live, match.renamedOutOfBand),
    // An adoption without a request (a kind owned through the lockfile, unchanged) touches nothing.
    impact: request === null && action === "adopt" ? "none" : impactOf(kind, action),
    security,
    dependsOn: dependsOn ? [...dependsOn].sort() : [],
    request,
    specDigest: input.precomputed?.specDigests?.get(manifest) ?? specDigest(manifest),
  };
  if (repinReasons) entry.repinReasons = repinReasons;
  if (match.renamedFrom !== undefined) entry.renamedFrom = match.renamedFrom;
  else if (replacesLockEntry !== undefined) entry.renamedFrom = replacesLockEntry;
  const previousNames = previousNamesToRecord(entry.address, manifest.settings.previous_names);
  if (previousNames) entry.previousNames = previousNames;
  if (action === "noop" && live) markLockBehind(entry, ownValue(locked, manifest.name));
  const serverDrift = live ? (kindSpec(kind).serverDrift as ((l: Live) => string | undefined) | undefined)?.(live) : undefined;
  const notes = [...(kindSpec(kind).notes?.(spec, action) ?? []), ...(serverDrift !== undefined ? [serverDrift] : [])];
  if (notes.length > 0) entry.notes = notes;
  // A state the server put the resource in (a deployment paused for an error) is drift on every
  // plan while it lasts, whatever the lockfile recorded.
  if (serverDrift !== undefined) entry.drift = { ...(entry.drift ?? {}), detected: true };
  const creates = (action === "create" || action === "replace") && desired !== null;
  return { entry, live, ...(creates ? { desired } : {}), ...(manifest.within !== undefined ? { within: manifest.within } : {}) };
}

const NO_KEYS: ReadonlyMap<string, string> = new Map();

/** The spec with what the CLI found of its secrets, for its kind to compare and send (src/kinds/spec.ts). */
function withSecretStatus(spec: Obj, status: SecretStatus | undefined): Obj {
  return status === undefined ? spec : { ...spec, [SECRET_STATUS_KEY]: status };
}

interface DiffOutcome {
  action: PlanAction;
  changes: FieldChange[];
  ignored: FieldChange[];
  security: SecurityFinding[];
  request: PlannedResource["request"];
  repinReasons?: string[];
}

/** A match's differences sorted into changes and ignored ones, with the changes' security review and re-pins. */
function sortedChanges(
  kind: ResourceKind,
  all: FieldChange[],
  { current, desired, ignore, followedKeys }: { current: Obj; desired: Obj; ignore: readonly string[]; followedKeys: ReadonlyMap<string, string> },
): { changes: FieldChange[]; ignored: FieldChange[]; security: SecurityFinding[]; repins: number; repinReasons?: string[] } {
  // The API replaces these fields whole, so once one is sent for another change, an ignored
  // difference inside it is overwritten too: it is a change, shown and security-reviewed as one.
  const wholeFields = kindSpec(kind).wholeFields;
  const sentWhole = new Set(all.filter((c) => !isIgnored(c.pointer, ignore)).map((c) => topField(c.pointer)).filter((f) => wholeFields.has(f)));
  const overwritten = (pointer: string) => isIgnored(pointer, ignore) && sentWhole.has(topField(pointer));
  const changes = all.filter((c) => !isIgnored(c.pointer, ignore) || overwritten(c.pointer));
  const ignored = all.filter((c) => isIgnored(c.pointer, ignore) && !overwritten(c.pointer));
  const followedKey = (pointer: string): string | undefined => {
    const key = kindSpec(kind).followedRefKey(pointer);
    return key === null ? undefined : followedKeys.get(key);
  };
  const security = reviewSecurity(kind, current, desired)
    .filter((f) => !isIgnored(f.pointer, ignore) || overwritten(f.pointer))
    // A re-pin follows its target; what changed is reviewed on the target's own entry.
    .filter((f) => followedKey(f.pointer) === undefined);
  const repinChanges = changes.filter((c) => followedKey(c.pointer) !== undefined);
  const repinReasons = repinChanges.length > 0 ? [...new Set(repinChanges.map((c) => followedKey(c.pointer) as string))].sort() : undefined;
  return { changes, ignored, security, repins: repinChanges.length, ...(repinReasons ? { repinReasons } : {}) };
}

/** A matched manifest against its live resource: changes, ignored differences, action, update body. */
function planUpdate(
  kind: ResourceKind,
  match: Match,
  live: Live,
  desired: Obj | null,
  resolvedSpec: Obj,
  followedKeys: ReadonlyMap<string, string>,
  project: string,
): DiffOutcome {
  const ignore = match.manifest.settings.ignore;
  // null: known equal to live (compared while the lists paged), so no difference to find.
  const current = desired === null ? null : canonicalLive(kind, live, desired);
  const all = current === null ? [] : diffCanonical(current, desired);
  // Identical forms (most entries of most plans) change nothing: nothing to sort, review or send.
  const { changes, ignored, security, repins, repinReasons } = all.length === 0 ? { changes: [], ignored: [], security: [], repins: 0 } : sortedChanges(kind, all, { current: current as Obj, desired: desired as Obj, ignore, followedKeys });
  const replaces = kindSpec(kind).replaces;
  if (replaces && changes.some((c) => replaces(c))) {
    // No update can make this change: archive the resource and create it anew, shown as such.
    return { action: "replace", changes, ignored, security, request: { method: "replace", body: buildCreateBody(kind, resolvedSpec, project) } };
  }
  let action: PlanAction;
  // A name that differs only in how it is derived (a credential under a vault renamed back in
  // this same plan) has nothing to send: not a rename.
  if (match.renamedFrom !== undefined && changes.length > 0) action = "rename";
  else if (match.adopt) action = "adopt";
  else if (changes.length === 0) action = "noop";
  else if (repins === changes.length) action = "repin";
  else action = "update";
  let request: PlannedResource["request"] = null;
  // Adopting a resource owned through the lockfile alone, with nothing to change, is a lockfile
  // entry and no write: there is no marker to set, and an empty update would mint a version.
  const lockOnlyAdopt = action === "adopt" && changes.length === 0 && kindSpec(kind).ownership === "lockfile";
  if (action !== "noop" && !lockOnlyAdopt) {
    const body: RequestBody = buildUpdateBody(kind, resolvedSpec, live, changes, project, ignore);
    const expectedVersion = kindSpec(kind).concurrency === "version" ? versionOf(kind, live) : undefined;
    request = expectedVersion !== undefined ? { method: "update", body, expectedVersion } : { method: "update", body };
  }
  return { action, changes, ignored, security, request, ...(repinReasons ? { repinReasons } : {}) };
}

/**
 * A noop means live already equals the manifest. If the lockfile does not record exactly that
 * (it lags after a lost commit, or was edited to pin something else), the difference is the
 * lockfile's alone: not drift, and apply fixes it by rewriting the entry, with no API write.
 */
function markLockBehind(entry: PlannedResource, lockedEntry: LockedEntry | undefined): void {
  if (!entry.id || !entry.basis) return;
  if (!lockedEntry) {
    entry.lockOnly = { reason: "missing" };
    return;
  }
  const lockedVersion = lockedEntry.version;
  // What the lockfile records as the version: the number, or the pinned version id.
  const liveVersion = entry.basis.version ?? entry.basis.pin;
  const current =
    lockedEntry.id === entry.id &&
    lockedVersion === liveVersion &&
    lockedEntry.specDigest === entry.specDigest &&
    lockedEntry.liveDigest === entry.basis.liveDigest &&
    // Runtimes resolve old names through them: a rename's names added or retired in the manifest
    // alone must reach the lockfile too (the specDigest does not cover the agentform: block).
    samePreviousNames(lockedEntry.previous_names, entry.previousNames);
  if (current) return;
  entry.lockOnly = { reason: "behind", locked: lockedVersion === undefined ? { id: lockedEntry.id } : { id: lockedEntry.id, version: lockedVersion } };
  if (entry.drift) entry.drift.detected = false;
  const extra = (lockedEntry.previous_names ?? []).filter((n) => !(entry.previousNames ?? []).includes(n));
  if (extra.length > 0) {
    // Callers asking for these names get this resource, which its manifest does not say.
    entry.security.push(pinFinding(`the lockfile answers callers asking for ${extra.slice(0, 5).map((n) => JSON.stringify(n)).join(", ")}${extra.length > 5 ? ", …" : ""} with ${entry.address}, whose manifest does not list ${extra.length === 1 ? "that name" : "those names"} in previous_names`));
  }
  if (lockedEntry.id !== entry.id) {
    entry.security.push(pinFinding(`the lockfile points ${entry.address} at ${lockedEntry.id}, not at the live ${entry.id} that matches the manifest`));
  } else if (typeof lockedVersion === "string" && lockedVersion !== liveVersion) {
    // A pinned version id (a skill's) cannot be compared with the manifest without reading its
    // content: that runtimes would use another version is the finding.
    entry.security.push(pinFinding(`the lockfile pins ${entry.address} at version ${lockedVersion}, not at the live ${liveVersion} that matches the manifest`));
  }
}

/**
 * Runtimes read the lockfile, so a pin to something other than what the manifest describes is a
 * security matter for review, whether it lags or was edited. Apply replaces it with live.
 */
function pinFinding(what: string): SecurityFinding {
  return { category: "lockfile-pin-changed", severity: "broadening", pointer: "", message: `${what}; runtimes reading the lockfile use that until apply rewrites it` };
}

/**
 * Lockfile entries pinning an agent id or version other than live, for `pinnedVersionsWanted`
 * reads: the CLI fetches each and `annotatePinned` compares it with the manifest.
 */
export function pinnedVersionsWanted(plan: Plan): Array<{ address: string; kind: ResourceKind; id: string; version: number }> {
  return plan.resources.flatMap((r) => {
    const locked = r.lockOnly?.locked;
    if (!locked || typeof locked.version !== "number" || r.basis?.version === undefined) return [];
    if (locked.id === r.id && locked.version === r.basis.version) return [];
    return [{ address: r.address, kind: r.kind, id: locked.id, version: locked.version }];
  });
}

/**
 * Record, on each entry whose lockfile pins another agent version, whether that pinned version
 * equals the manifest (live equals it, since the entry is a noop). `pinned` maps addresses to
 * the version read (null: it could not be read). Pure; returns a new plan.
 */
export function annotatePinned(plan: Plan, pinned: ReadonlyMap<string, LiveResource | null>, live: readonly LiveResource[]): Plan {
  const liveById = new Map(live.map((a) => [a.id, a] as const));
  const next = JSON.parse(JSON.stringify(plan)) as Plan;
  for (const want of pinnedVersionsWanted(next)) {
    const r = next.resources.find((x) => x.address === want.address) as PlannedResource;
    const read = pinned.get(want.address);
    const live = r.id ? liveById.get(r.id) : undefined;
    if (read === undefined || !live || !r.lockOnly) continue;
    if (read === null) {
      r.lockOnly.pinned = { id: want.id, version: want.version, matchesManifest: null };
      if (want.id === r.id) r.security.push(pinFinding(`the lockfile pins ${r.address} at version ${want.version}, which cannot be read`));
      continue;
    }
    const changes = diffCanonical(canonicalLive(r.kind, live), canonicalLive(r.kind, read));
    r.lockOnly.pinned = { id: want.id, version: want.version, matchesManifest: changes.length === 0, ...(changes.length > 0 ? { changes } : {}) };
    if (changes.length > 0 && want.id === r.id) {
      const fields = changes.map((c) => c.pointer).slice(0, 5).join(", ");
      r.security.push(pinFinding(`the lockfile pins ${r.address} at version ${want.version}, which differs from the manifest in ${fields}`));
    }
  }
  return next;
}

/** Build the plan. Pure: everything it needs is in `input`; inputs are never mutated. */
export function buildPlan(full: PlanInput): Plan {
  const only = full.options.only ? onlyManifests(full.manifests, full.options.only) : null;
  // A new object for every call: what is memoised per plan (live digests, live ids) is keyed by it.
  const input = only ? { ...full, manifests: only.manifests } : { ...full };
  const refusals: Refusal[] = [];
  const claimed = new Map(KIND_ORDER.map((kind) => [kind, new Set<string>()] as const));
  const matches = new Map<ResourceKind, Match[]>();
  for (const kind of KIND_ORDER) {
    matches.set(kind, matchKind(kind, input.manifests[kind], input.live[kind], lockedOf(input, kind), input, refusals, claimed.get(kind) as Set<string>, parentScope(kind, matches)));
  }

  // Kinds in dependency order, and within a kind referenced resources first, so every reference
  // sees its target's planned action.
  const planned = new Map<string, Planned>();
  const impossiblePins = new Map<string, ImpossiblePin>();
  const resolve = refResolver(planned, input, impossiblePins);
  const entries: PlannedResource[] = [];
  for (const kind of KIND_ORDER) {
    for (const m of topoOrder(kind, matches.get(kind) as Match[])) {
      const p = planResource(kind, m, input, lockedOf(input, kind), resolve);
      planned.set(p.entry.address, p);
      entries.push(p.entry);
    }
  }
  refusals.push(...pinRefusals(impossiblePins, planned));

  // Inventory resources (in the lockfile, and ours) with no manifest: archived when pruning is
  // on for their kind, listed as orphans otherwise; dependents before what they use.
  const pruned: Pruned = { archives: [], gone: [], orphans: [] };
  // Under --only the rest of the project is simply not planned: none of it is an orphan.
  // A rename in this plan replaces its old lockfile entry itself.
  const replaced = new Set(entries.flatMap((e) => (e.renamedFrom !== undefined ? [addressOf(e.kind, e.renamedFrom)] : [])));
  if (!only) for (const kind of [...KIND_ORDER].reverse()) planPrune(kind, lockedOf(input, kind), claimed.get(kind) as Set<string>, input, pruned, replaced);
  refusals.push(...pruneRefusals(input, pruned, planned), ...transferOrphanRefusals(input, pruned.orphans));
  renameHints([...pruned.archives, ...pruned.orphans], planned, input);
  orderArchives(pruned.archives, planned, input);
  const first = archivesFirst(pruned.archives, entries);
  refusals.push(...uniqueKeyRefusals(input, planned, new Set(first.map((a) => a.id as string))));
  // Other archives last, so nothing still being re-pinned loses its target first.
  const plan = assemblePlan(input, [...first, ...entries, ...pruned.archives.filter((a) => !first.includes(a)), ...pruned.orphans, ...pruned.gone], refusals);
  return only ? { ...plan, only: only.addresses } : plan;
}

/**
 * The manifests `--only` selects: those named and, transitively, every manifest they reference
 * (a coordinator's roster, a deployment's agent and vaults), and the manifests written inside a
 * selected one (a vault's credentials). Dependents are not included: they keep their pins.
 */
function onlyManifests(manifests: PlanInput["manifests"], only: readonly string[]): { manifests: PlanInput["manifests"]; addresses: string[] } {
  const byAddress = new Map(KIND_ORDER.flatMap((kind) => manifests[kind].map((m) => [addressOf(kind, m.name), { kind, m }] as const)));
  const chosen = new Set<string>();
  const visit = (queue: string[]): void => {
    for (let address = queue.pop(); address !== undefined; address = queue.pop()) {
      const found = byAddress.get(address);
      if (!found || chosen.has(address)) continue;
      chosen.add(address);
      for (const r of kindSpec(found.kind).references(found.m.spec)) queue.push(addressOf(r.kind, r.name));
    }
  };
  visit([...only]);
  // Kinds written inside another come with a parent asked for by name (a vault brings its
  // credentials); a parent that came along as a dependency (a credential's vault) brings none.
  const asked = new Set(only);
  const children = [...byAddress].filter(([address, { kind, m }]) => {
    const parent = kindSpec(kind).parentKind;
    return !chosen.has(address) && parent !== undefined && kindSpec(kind).references(m.spec).some((r) => r.kind === parent && asked.has(addressOf(r.kind, r.name)));
  });
  visit(children.map(([address]) => address));
  const selected = byKind((kind) => manifests[kind].filter((m) => chosen.has(addressOf(kind, m.name))));
  return { manifests: selected, addresses: [...chosen].sort() };
}

/**
 * Archives of kinds whose archive frees what a create needs (a credential frees its vault's key
 * and one of its 20 places) and that nothing references: they go first, and the kind's creates
 * and replaces wait for them, so a swap within a full vault, or a key moving to a new entry, works
 * in one apply.
 */
function archivesFirst(archives: readonly PlannedResource[], entries: readonly PlannedResource[]): PlannedResource[] {
  const first = archives.filter((a) => kindSpec(a.kind).archivesFirst === true);
  for (const e of entries) {
    if (e.action !== "create" && e.action !== "replace") continue;
    const waits = first.filter((a) => a.kind === e.kind).map((a) => a.address);
    if (waits.length > 0) e.dependsOn = [...new Set([...e.dependsOn, ...waits])].sort();
  }
  return first;
}

function lockedOf(input: PlanInput, kind: ResourceKind): Record<string, LockedEntry> {
  return input.lock ? lockTable(input.lock, kind) : {};
}

interface ImpossiblePin {
  target: KindRef & { version: number };
  latest: number;
  /** The addresses of the resources holding the pin. */
  from: Set<string>;
}

/**
 * How by-name references resolve while resources are planned in dependency order: to the
 * target's planned state (known after apply when it is created or changes now), else to the
 * live resource of that name. Pins that can never be satisfied are collected as they are seen.
 */
function refResolver(planned: ReadonlyMap<string, Planned>, input: PlanInput, impossible: Map<string, ImpossiblePin>): PlanResolver {
  // Indexed per kind when a reference first needs it: most plans resolve none outside the plan.
  const liveByName = new Map<ResourceKind, Map<string, Live[]>>();
  const liveNamed = (kind: ResourceKind, name: string): Live[] => {
    let index = liveByName.get(kind);
    if (!index) liveByName.set(kind, (index = groupByName<Live>(input.live[kind])));
    return index.get(name) ?? [];
  };
  return (target, from) => {
    const { kind, name, version: explicit } = target;
    // Only numbered versions can be checked offline; a pinned version id is the API's to refuse.
    const unreachable = (latest: number): void => {
      if (typeof explicit !== "number") return;
      const key = `${addressOf(kind, name)}@${explicit}`;
      const pin = impossible.get(key) ?? { target: { ...target, version: explicit }, latest, from: new Set<string>() };
      if (from !== undefined) pin.from.add(from);
      impossible.set(key, pin);
    };
    const withVersion = (id: string, version: number | string | undefined): ResolvedRef => (version === undefined ? { id } : { id, version });
    const pinnable = kindSpec(kind).lockVersion !== "none";
    const found = planned.get(addressOf(kind, name));
    if (found) {
      const { entry, live } = found;
      if (entry.action === "create" || !live) {
        // A new resource starts at version 1: a pin to any other number can never be satisfied.
        if (explicit !== 1) unreachable(1);
        return { ref: withVersion(KNOWN_AFTER_APPLY, explicit ?? (pinnable ? KNOWN_AFTER_APPLY : undefined)), dependsOn: entry.address };
      }
      if (explicit !== undefined) {
        // The target reaches its live version, or one more if this plan writes it; nothing beyond.
        const reachable = (versionOf(kind, live) ?? 0) + (entry.request !== null ? 1 : 0);
        if (typeof explicit === "number" && explicit > reachable) unreachable(reachable);
        // A pin to the version this plan makes must wait for it.
        const made = entry.request !== null && explicit === reachable && reachable > (versionOf(kind, live) ?? 0);
        return made ? { ref: { id: live.id, version: explicit }, dependsOn: entry.address } : { ref: { id: live.id, version: explicit } };
      }
      // A target with no write (unchanged, or adopted as it is) keeps the version it has.
      if (entry.request === null || !pinnable) return { ref: withVersion(live.id, pinOf(kind, live)) };
      return { ref: { id: live.id, version: KNOWN_AFTER_APPLY }, dependsOn: entry.address };
    }
    // Not planned here (refused, in a reference cycle, or not a manifest): use the live resource if unambiguous.
    const hits = liveNamed(kind, name);
    if (hits.length !== 1) return undefined;
    const l = hits[0] as Live;
    return { ref: withVersion(l.id, explicit ?? pinOf(kind, l)) };
  };
}

/**
 * A create (or the create of a replace) whose unique key (a credential's vault and server URL)
 * a live resource of another name already holds: the API would refuse it with a 409 at apply.
 */
function uniqueKeyRefusals(input: PlanInput, planned: ReadonlyMap<string, Planned>, archivedFirst: ReadonlySet<string>): Refusal[] {
  const refusals: Refusal[] = [];
  for (const { entry, desired } of planned.values()) {
    const keyOf = kindSpec(entry.kind).uniqueKey;
    const key = (entry.action === "create" || entry.action === "replace") && desired ? keyOf?.(desired) : undefined;
    if (!keyOf || key === undefined) continue;
    // A holder this plan archives before the create frees the key in time.
    const holder = (input.live[entry.kind] as Live[]).find((l) => l.id !== entry.id && !archivedFirst.has(l.id) && keyOf(canonicalLive(entry.kind, l)) === key);
    if (!holder) continue;
    refusals.push({
      address: entry.address,
      code: "unique-key-taken",
      message: `${entry.address} would be created with ${key}, which live ${entry.kind} "${holder.name}" (${holder.id}) already holds; the API refuses a second one.`,
      hint: `If "${holder.name}" is this one under an earlier name, list ${JSON.stringify(kindSpec(entry.kind).previousNameFor?.(holder.name, entry.name) ?? holder.name)} in \`agentform.previous_names\` to rename it in place; otherwise archive it first (remove its manifest and apply with --prune, or in the Console).`,
      ids: [holder.id],
    });
  }
  return refusals;
}

function pinRefusals(impossible: ReadonlyMap<string, ImpossiblePin>, planned: ReadonlyMap<string, Planned>): Refusal[] {
  return [...impossible.values()].map(({ target, latest, from }) => {
    const { kind, name, version } = target;
    const entry = planned.get(addressOf(kind, name))?.entry;
    const missing = entry?.drift?.missing === true;
    // Who holds the pin (a coordinator's roster, a deployment), by address.
    const holders = [...from].sort();
    const holder = holders.length === 0 ? kindSpec(kind).referencedFrom : holders.length === 1 ? (holders[0] as string) : `${holders.join(" and ")} each`;
    return {
      address: addressOf(kind, name),
      code: "pinned-version-unavailable",
      message:
        latest === 1 && entry?.action === "create"
          ? `${holder} pins ${kind} "${name}" at version ${version}, but "${name}" ${missing ? "was archived outside agentform and " : ""}will be created now, at version 1.`
          : `${holder} pins ${kind} "${name}" at version ${version}, but its newest version after this plan is ${latest}.`,
      hint: `Drop \`version: ${version}\` from the reference (to follow the latest) or pin an existing version (at most ${latest}).`,
    };
  });
}

interface Pruned {
  archives: PlannedResource[];
  gone: PlannedResource[];
  orphans: PlannedResource[];
}

/**
 * The prune safety rules (every resource of a kind; a resource something still uses). Asked for
 * on the command line, a violation refuses the plan. Pruning that comes from the target's
 * `prune: true` runs on every apply, so a violation must not block the target: each archive
 * concerned stays an orphan instead, saying why, and the rules run again on what is left (an
 * archive kept may keep what it uses in use).
 */
function pruneRefusals(input: PlanInput, pruned: Pruned, planned: ReadonlyMap<string, Planned>): Refusal[] {
  for (;;) {
    const refusals = [...pruneEverythingRefusals(input, pruned.archives), ...stillUsedRefusals(input, pruned.archives, planned)];
    if (refusals.length === 0 || input.options.prune) return refusals;
    const before = pruned.archives.length;
    for (const refusal of refusals) {
      for (const a of pruned.archives.filter((x) => refusal.ids?.includes(x.id as string))) {
        pruned.archives.splice(pruned.archives.indexOf(a), 1);
        pruned.orphans.push(keptOrphan(a, refusal));
      }
    }
    // Every refusal names the archives it concerns; should one not, refuse rather than loop.
    if (pruned.archives.length === before) return refusals;
  }
}

/**
 * A transfer takes over what the renamed project's manifests describe; a resource of the old
 * project with no manifest would keep the old marker and drop out of every later plan (it would
 * be nobody's), so the transfer waits until it has a manifest again or is pruned.
 */
function transferOrphanRefusals(input: PlanInput, orphans: readonly PlannedResource[]): Refusal[] {
  const from = input.options.transferFrom;
  if (from === undefined) return [];
  return orphans.flatMap((o) => {
    const live = (input.live[o.kind] as Live[]).find((l) => l.id === o.id);
    if (!live || ownerOf(live) !== from) return [];
    return [{
      address: o.address,
      code: "transfer-orphan",
      message: `${o.address} (${o.id}) carries project "${from}"'s marker but has no manifest here; the transfer would leave it marked for a project name nothing uses any more.`,
      hint: "Restore its manifest for the transfer (remove it afterwards to make it an orphan of this project), or add --prune to archive it, then run the transfer again.",
      ids: [o.id as string],
    }];
  });
}

/** An archive the target's pruning may not make: an orphan, with the rule that kept it. */
function keptOrphan(a: PlannedResource, refusal: Refusal): PlannedResource {
  const why = refusal.code === "prune-everything" ? "would-empty" : "still-used";
  return { ...a, action: "orphan", impact: "none", security: [], request: null, dependsOn: [], drift: null, orphan: { why }, notes: [...(a.notes ?? []), `${refusal.message} ${refusal.hint}`] };
}

/**
 * What happens to a kind's inventory resources with no manifest: archived when `--prune` is on
 * the command line, or the target prunes and the kind's removal can be undone; else left alone,
 * and shown as orphans, with why. A removal that cannot be undone is never automatic: a memory
 * store's archive takes its memories, and a skill's delete is final and rests on the lockfile
 * alone (a skill carries no marker), which a pull request can edit.
 */
function pruningOf(kind: ResourceKind, input: PlanInput): "archive" | "prune-off" | "irreversible" {
  if (input.options.prune) return "archive";
  const spec = kindSpec(kind);
  if (spec.irreversible || spec.removal === "delete") return "irreversible";
  return input.options.targetPrune ? "archive" : "prune-off";
}

/**
 * The lockfile entries of one kind that no manifest wants: archived (or listed as orphans) when
 * they are ours and live; dropped from the lockfile, when pruning, if they are gone or not ours.
 */
function planPrune(
  kind: ResourceKind,
  lockEntries: Record<string, LockedEntry>,
  claimed: ReadonlySet<string>,
  input: PlanInput,
  out: Pruned,
  replaced: ReadonlySet<string>,
): void {
  const manifests = input.manifests[kind];
  const names = new Set(manifests.map((m) => m.name));
  const previousNames = new Set(manifests.flatMap((m) => m.settings.previous_names));
  const byId = new Map((input.live[kind] as readonly Live[]).map((l) => [l.id, l] as const));
  const pruning = pruningOf(kind, input);
  const dropsEntries = input.options.prune || input.options.targetPrune === true;
  for (const name of Object.keys(lockEntries).sort()) {
    if (names.has(name)) continue;
    const locked = lockEntries[name] as LockedEntry;
    const l = byId.get(locked.id);
    // A renamed manifest's create replaces its old entry itself.
    if (!l && previousNames.has(name)) continue;
    const decision = prunePolicy(kind, l, claimed, input.project, input.options.transferFrom);
    // Entries runtimes must not be handed go whether or not the plan prunes: another
    // project's resource, or a managed resource under a name no manifest has.
    if (decision === "keep" && replaced.has(addressOf(kind, name))) continue;
    if (decision === "foreign" || decision === "keep") {
      out.gone.push(pinnedElsewhere(goneEntry(kind, name, locked, decision === "keep" ? "duplicate" : "foreign"), previousNames.has(name)));
      continue;
    }
    if (decision === "archive" && pruning === "archive") out.archives.push(withLockName(archiveEntry(kind, l as Live, locked, input), name));
    else if (decision === "archive") out.orphans.push(withLockName(orphanEntry(kind, l as Live, locked, input, pruning === "archive" ? "prune-off" : pruning), name));
    else if (dropsEntries) out.gone.push(goneEntry(kind, name, locked, decision));
  }
}

/**
 * An inventory resource with no manifest, left alone: listed in every plan until it is pruned.
 * Not managed any more, so a change made to it is not drift (it would fail --fail-on-drift
 * forever, with nothing apply could overwrite).
 */
function orphanEntry(kind: ResourceKind, l: Live, locked: LockedEntry, input: PlanInput, why: "prune-off" | "irreversible"): PlannedResource {
  return { ...archiveEntry(kind, l, locked, input), action: "orphan", impact: "none", security: [], request: null, drift: null, orphan: { why } };
}

/**
 * Prune entries are addressed by the live name; when the lockfile lists the resource under
 * another key (a hand edit can point any key at any id), the plan says which, so a reviewer sees
 * what in the lockfile asks for the removal.
 */
function withLockName(entry: PlannedResource, lockName: string): PlannedResource {
  if (lockName === entry.name) return entry;
  return { ...entry, notes: [...(entry.notes ?? []), `the lockfile lists it as ${JSON.stringify(lockName)}, not under its live name`] };
}

/**
 * A manifest whose name changed without `previous_names` plans a create, and leaves its old
 * resource with no manifest. Each leftover is paired with the create of its kind and parent it
 * resembles most (fewest differing top-level fields, best pairs first), when at most half of the
 * create's fields differ, and both entries say how to rename in place.
 */
function renameHints(leftovers: readonly PlannedResource[], planned: ReadonlyMap<string, Planned>, input: PlanInput): void {
  const creates = [...planned.values()].flatMap((p) => (p.entry.action === "create" && p.desired && kindSpec(p.entry.kind).renamable ? [{ ...p, desired: p.desired }] : []));
  const pairs = leftovers.flatMap((old) => {
    const live = (input.live[old.kind] as Live[]).find((l) => l.id === old.id);
    if (!live || !kindSpec(old.kind).renamable) return [];
    const current = canonicalLive(old.kind, live);
    return creates
      .filter((p) => p.entry.kind === old.kind && parentOf(old.kind, p.desired) === parentOf(old.kind, current))
      .map((p) => ({ old, create: p, score: differingFields(canonicalLive(old.kind, live, p.desired), p.desired) }))
      .filter((x) => x.score * 2 <= Math.max(1, comparedFields(x.create.desired)));
  });
  pairs.sort((a, b) => a.score - b.score || (a.old.address < b.old.address ? -1 : a.old.address > b.old.address ? 1 : a.create.entry.address < b.create.entry.address ? -1 : 1));
  const taken = new Set<string>();
  for (const { old, create } of pairs) {
    if (taken.has(old.address) || taken.has(create.entry.address)) continue;
    taken.add(old.address).add(create.entry.address);
    noteRename(old, create);
  }
}

/** Top-level fields two canonical forms differ in, leaving out the name (a rename changes it). */
function differingFields(current: Obj, desired: Obj): number {
  return new Set(diffCanonical(current, desired).map((c) => topField(c.pointer)).filter((f) => !NAME_FIELDS.has(f))).size;
}

function comparedFields(desired: Obj): number {
  return Object.keys(desired).filter((f) => !NAME_FIELDS.has(f)).length;
}

const NAME_FIELDS: ReadonlySet<string> = new Set(["name", "display_name"]);

function noteRename(old: PlannedResource, { entry: create, within }: Planned): void {
  const previous = JSON.stringify(kindSpec(old.kind).previousNameFor?.(old.name, create.name) ?? old.name);
  // A manifest written inside another's file keeps its settings at its own place in that file.
  const at = within ? `${pointerSegments(within).join(".")}.agentform.previous_names` : "agentform.previous_names";
  const where = `list ${previous} in \`${at}\` of ${create.file ?? create.address} to rename it in place`;
  const outcome = old.action === "orphan" ? "is left with no manifest" : `is ${old.action}d`;
  create.notes = [...(create.notes ?? []), `if this is ${old.address} renamed, ${where}; as it is, a new ${old.kind} is created and ${old.address} ${outcome}`];
  old.notes = [...(old.notes ?? []), `if ${create.address} is this one renamed, ${where}`];
}

function archiveEntry(kind: ResourceKind, l: Live, locked: LockedEntry, input: PlanInput): PlannedResource {
  const removal = kindSpec(kind).removal;
  return {
    address: addressOf(kind, l.name),
    kind,
    name: l.name,
    action: removal,
    id: l.id,
    file: null,
    basis: basisOf(input, kind, l),
    changes: [],
    ignored: [],
    drift: driftOf(input, kind, locked, l, false),
    impact: removal,
    // Recorded as a finding too, so JSON plans and reviews carry it, not only the text note.
    security: kindSpec(kind).irreversible ? [{ category: "irreversible-removal", severity: "notable", pointer: "", message: `${removal === "archive" ? "archiving" : "deleting"} it cannot be undone` }] : [],
    dependsOn: [],
    request: { method: removal },
    specDigest: null,
  };
}

/**
 * A resource pruned while a live resource that this plan does not rewrite still uses it, or a
 * version the lockfile still pins does: the removal would break that user (an agent whose skill
 * is deleted fails its next session), so it is refused and the resource kept. A resource this
 * plan rewrites counts by what it will reference after its write; one that drops the reference
 * is waited for instead.
 */
function stillUsedRefusals(input: PlanInput, removals: readonly PlannedResource[], planned: ReadonlyMap<string, Planned>): Refusal[] {
  // Nothing removed, nothing to refuse: no need to gather what every live resource uses.
  if (removals.length === 0) return [];
  const removed = new Set(removals.map((r) => r.id));
  const writes = [...planned.values()].filter((p) => p.entry.request !== null);
  const rewritten = new Set(writes.flatMap((p) => (p.live ? [p.live.id] : [])));
  const user = (kind: ResourceKind, l: Live, note = "") => ({ kind, name: l.name, id: l.id, note, ids: new Set(referencedIds(kind, l)) });
  // What each written resource will reference once written: its live form with the body's fields.
  const afterWrite = writes.map((p) => user(p.entry.kind, { ...(p.live ?? {}), ...(p.entry.request?.body ?? {}), id: p.entry.id ?? "(new)", name: p.entry.name } as Live));
  const untouched = KIND_ORDER.flatMap((kind) => (input.live[kind] as Live[]).filter((l) => !rewritten.has(l.id) && !removed.has(l.id)).map((l) => user(kind, l)));
  // Versions the lockfile pins stay in use by runtimes whatever this plan rewrites.
  const pinned = (input.lockedVersions ?? []).map(({ kind, live: l }) => user(kind, l, ` version ${versionOf(kind, l)} (pinned in the lockfile)`));
  const users = [...untouched, ...afterWrite, ...pinned];
  return removals.flatMap((r) => {
    const by = users.filter((u) => u.ids.has(r.id as string)).map((u) => `${u.kind} "${u.name}" (${u.id})${u.note}`);
    if (by.length === 0) return [];
    return [{
      address: r.address,
      code: "prune-still-referenced",
      message: `Pruning would ${r.action} ${r.address}, but ${by.slice(0, 5).join(", ")}${by.length > 5 ? ` and ${by.length - 5} more` : ""} still ${by.length === 1 ? "uses" : "use"} it.`,
      hint: `Remove the reference from those resources first (or restore the manifest of ${r.address}), then plan again.`,
      ids: [r.id as string],
    }];
  });
}

/**
 * Per kind: a missing or misnamed agents folder must not archive the whole fleet just because
 * some environments were still found.
 */
function pruneEverythingRefusals(input: PlanInput, archives: readonly PlannedResource[]): Refusal[] {
  const refusals: Refusal[] = [];
  for (const kind of [...KIND_ORDER].reverse()) {
    const doomed = archives.filter((a) => a.kind === kind);
    // A kind written inside another's manifests was read whenever its parent's were: with vault
    // manifests found, no credential entries left is deliberate.
    const parent = kindSpec(kind).parentKind;
    const found = input.manifests[kind].length > 0 || (parent !== undefined && input.manifests[parent].length > 0);
    if (doomed.length === 0 || found || input.options.allowEmpty) continue;
    const verb = kindSpec(kind).removal;
    refusals.push({
      address: `project.${input.project}`,
      code: "prune-everything",
      message: `Pruning would ${verb} every ${kind} of project "${input.project}" (${doomed.length}) because no ${kind} manifests were found.`,
      hint: `Check that agentform.yaml points at the right ${kindSpec(kind).folder} folder; if ${verb === "delete" ? "deleting" : "archiving"} every ${kind} is intended, add --allow-empty.`,
      ids: doomed.map((a) => a.id as string).sort(),
    });
  }
  return refusals;
}

/**
 * A resource may only be archived once nothing still references it (the API rejects a roster
 * that names an archived agent), and the executor runs entries concurrently, so plan order is
 * not enough on its own. Each archive waits for the writes of the resources whose live form
 * references it (a ref must name a manifest, so such a resource always has a write).
 */
function orderArchives(archives: PlannedResource[], planned: ReadonlyMap<string, Planned>, input: PlanInput): void {
  if (archives.length === 0) return;
  // What each archived resource references: an archive also waits for the archives of its users
  // (a deployment goes before the memory store it mounts). Users are archived first in plan order.
  const liveOf = (a: PlannedResource) => (input.live[a.kind] as Live[]).find((l) => l.id === a.id);
  const usedBy = archives.map((b) => {
    const l = liveOf(b);
    return { address: b.address, ids: new Set(l ? referencedIds(b.kind, l) : []) };
  });
  // The ids each written resource references, read once (not once per archive).
  const writers = [...planned.values()]
    .filter(({ entry, live }) => entry.request !== null && live)
    .map(({ entry, live }) => ({ address: entry.address, ids: new Set(referencedIds(entry.kind, live as Live)) }));
  for (const a of archives) {
    if (!a.id) continue;
    const id = a.id;
    // Archiving a vault archives its credentials: theirs go first, so none finds its own gone.
    const children = archives.filter((c) => kindSpec(c.kind).parentKind === a.kind).map((c) => c.address);
    const users = usedBy.filter((u) => u.address !== a.address && u.ids.has(id)).map((u) => u.address);
    a.dependsOn = [...new Set([...writers.filter((w) => w.ids.has(id)).map((w) => w.address), ...children, ...users])].sort();
  }
}

function referencedIds(kind: ResourceKind, live: Live): string[] {
  return (kindSpec(kind).liveReferenceIds as (l: Live) => string[])(live);
}

function assemblePlan(input: PlanInput, resources: PlannedResource[], refusals: Refusal[]): Plan {
  const summary = emptySummary();
  for (const r of resources) summary[r.action] += 1;
  return {
    formatVersion: 1,
    agentformVersion: input.options.agentformVersion,
    project: input.project,
    target: input.target,
    origin: { baseUrl: input.origin.baseUrl, workspaceId: input.origin.workspaceId },
    summary,
    resources,
    driftDetected: resources.some((r) => r.drift?.detected === true),
    refusals: refusals.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.code < b.code ? -1 : 1)),
  };
}

/**
 * A lockfile name no manifest has that points at a live resource is what runtimes asking for that
 * name get: a review matter, unless the name is a previous name a manifest still lists (a rename
 * the lockfile has not caught up with; the runtime reader answers it from previous_names).
 */
function pinnedElsewhere(entry: PlannedResource, listedAsPrevious: boolean): PlannedResource {
  if (listedAsPrevious && entry.lockOnly?.reason === "duplicate") return entry;
  const whose = entry.lockOnly?.reason === "foreign" ? "a resource this project does not own" : "a resource another manifest manages";
  return { ...entry, security: [pinFinding(`the lockfile hands callers of ${entry.address} (no manifest here) ${entry.id}, ${whose}`)] };
}

/**
 * A lockfile entry with no manifest whose resource is gone from the workspace (archived or
 * deleted outside agentform), or is not this project's: under --prune, apply drops the entry and
 * leaves the resource alone, with no API write.
 */
function goneEntry(kind: ResourceKind, name: string, locked: LockedEntry, reason: "gone" | "foreign" | "duplicate" = "gone"): PlannedResource {
  const version = locked.version;
  return {
    address: addressOf(kind, name),
    kind,
    name,
    action: "noop",
    id: locked.id,
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
    lockOnly: { reason, locked: version === undefined ? { id: locked.id } : { id: locked.id, version } },
  };
}

/**
 * Fill `drift.changes` for drifted agents: the locked version (read with `?version=N`) against
 * live, in canonical form. Pure; returns a new plan.
 */
export function explainDrift(plan: Plan, lockedVersions: Record<string, LiveResource>, live: readonly LiveResource[]): Plan {
  const liveById = new Map(live.map((a) => [a.id, a] as const));
  const next = JSON.parse(JSON.stringify(plan)) as Plan;
  for (const r of next.resources) {
    // Only versioned kinds keep the locked version to read back.
    if (!r.drift?.detected || r.drift.lockedVersion === undefined || !r.id) continue;
    const locked = ownValue(lockedVersions, r.name);
    const now = liveById.get(r.id);
    if (!locked || !now) continue;
    r.drift.changes = diffCanonical(canonicalLive(r.kind, locked), canonicalLive(r.kind, now));
  }
  return next;
}

const liveIdCache = new WeakMap<PlanInput, Map<ResourceKind, Set<string>>>();
function liveIds(input: PlanInput, kind: ResourceKind): ReadonlySet<string> {
  let cached = liveIdCache.get(input);
  if (!cached) {
    cached = new Map(KIND_ORDER.map((k) => [k, new Set((input.live[k] as readonly Live[]).map((l) => l.id))] as const));
    liveIdCache.set(input, cached);
  }
  return cached.get(kind) as Set<string>;
}

/**
 * A plan has changes when any entry is not a noop (what `--detailed-exitcode` reports as 2): an
 * orphan counts, so a deleted manifest never passes as "no changes" in CI.
 */
export function hasChanges(plan: Plan): boolean {
  return plan.resources.some((r) => r.action !== "noop");
}

/** Whether applying the plan sends anything to the API (what apply asks confirmation for). */
export function hasWrites(plan: Plan): boolean {
  return plan.resources.some((r) => r.request !== null);
}


function topField(pointer: string): string {
  return pointerSegments(pointer)[0] ?? "";
}

/** The worst impact of a set of entries (IMPACT_ORDER). */
export function worstImpact(impacts: readonly Impact[]): Impact {
  let worst: Impact = "none";
  for (const i of impacts) if (IMPACT_ORDER.indexOf(i) > IMPACT_ORDER.indexOf(worst)) worst = i;
  return worst;
}

export { buildUpdateBody, escapePointer };
