/**
 * The planner (pure): (manifests, live resources, lockfile, options) → Plan.
 *
 * Matching is by name, then `previous_names` (rename in place), then the lockfile id (a
 * resource renamed outside agentform is renamed back and reported as drift). Ownership rules
 * turn into refusals, never into silent takeovers. Agents are planned sub-agents first so a
 * coordinator can tell whether a roster target moves in this plan (then its roster version is
 * known after apply and it depends on the target) or moved before (then it is re-pinned now).
 */
import type { LiveAgent, LiveEnvironment, LiveResource, RequestBody, ResourceKind } from "../kinds/types.js";
import type { LockedEntry } from "../lock/table.js";
import type { LoadedManifest } from "../manifest/types.js";
import { canonicalDesired, canonicalLive, liveDigest, specDigest, type ResolvedRef } from "../normalize/index.js";
import { buildCreateBody, buildUpdateBody, resolveSpecRefs, type BodyRefResolver } from "./body.js";
import { diffCanonical, escapePointer, isUnder, pointerSegments } from "./diff.js";
import { reviewSecurity } from "./security.js";
import { ownershipPolicy, prunePolicy } from "./ownership.js";
import { groupByName } from "../util/group.js";
import { ownValue } from "../util/record.js";
import { kindSpec, versionOf } from "../kinds/index.js";
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

type Live = LiveAgent | LiveEnvironment;
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

function address(kind: ResourceKind, name: string): string {
  return `${kind}.${name}`;
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
  live: readonly Live[],
  locked: Record<string, { id: string }>,
  input: PlanInput,
  refusals: Refusal[],
  claimed: Set<string>,
): Match[] {
  const byName = groupByName(live);
  const byId = new Map(live.map((l) => [l.id, l] as const));
  const manifestNames = new Set(manifests.map((m) => m.name));
  const matches: Match[] = [];
  for (const manifest of sortByName(manifests)) {
    const byNames = findByNames(kind, manifest, byName, claimed);
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
      if (l && !claimed.has(l.id) && !manifestNames.has(l.name) && (byName.get(l.name)?.length ?? 0) === 1) {
        found = l;
        renamedFrom = l.name;
        renamedOutOfBand = true;
      }
    }
    const ownership = found ? ownershipPolicy(kind, manifest, found, input) : { adopt: false };
    if ("refusal" in ownership) {
      refusals.push(ownership.refusal);
      continue;
    }
    if (found) claimed.add(found.id);
    matches.push({ manifest, live: found, renamedFrom, renamedOutOfBand, adopt: ownership.adopt });
  }
  return matches;
}

/** The live resource a manifest names, by its name then its previous names; several is a refusal. */
function findByNames(
  kind: ResourceKind,
  manifest: LoadedManifest,
  byName: ReadonlyMap<string, Live[]>,
  claimed: ReadonlySet<string>,
): { found: Live | null; renamedFrom?: string } | { refusal: Refusal } {
  for (const name of [manifest.name, ...manifest.settings.previous_names]) {
    const hits = (byName.get(name) ?? []).filter((l) => !claimed.has(l.id));
    if (hits.length > 1) {
      const ids = hits.map((h) => h.id).sort();
      return {
        refusal: {
          address: address(kind, manifest.name),
          code: "duplicate-live-name",
          message: `${hits.length} live ${kind}s are named "${name}" (${ids.join(", ")}); agentform cannot tell which one ${manifest.file} describes.`,
          hint: `Archive or rename all but one of them in the Console or with the API, then plan again.`,
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
  kind: ResourceKind,
  lockedEntry: LockedEntry | undefined,
  live: Live | null,
  forceDetected: boolean,
  liveIdsOfKind: ReadonlySet<string>,
): DriftInfo | null {
  if (!lockedEntry) return null;
  const lockedVersion = lockedEntry.version !== undefined ? { lockedVersion: lockedEntry.version } : {};
  if (!live && liveIdsOfKind.has(lockedEntry.id)) {
    // The locked resource still exists but under a name another manifest (or resource) holds:
    // changed outside agentform, not gone.
    return { detected: true, lockedLiveDigest: lockedEntry.liveDigest, ...lockedVersion };
  }
  if (!live) {
    // In the lockfile, absent from the live list: archived or deleted behind agentform's back.
    return { detected: true, missing: true, lockedLiveDigest: lockedEntry.liveDigest, ...lockedVersion };
  }
  const digestNow = liveDigest(kind, live);
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

function basisOf(kind: ResourceKind, live: Live | null): PlannedResource["basis"] {
  if (!live) return null;
  const version = versionOf(kind, live);
  return version !== undefined ? { kind, version, liveDigest: liveDigest(kind, live) } : { kind, liveDigest: liveDigest(kind, live) };
}

function impactOf(kind: ResourceKind, action: PlanAction): Impact {
  switch (action) {
    case "noop":
      return "none";
    case "create":
      return "create";
    case "archive":
      return "archive";
    case "delete":
      return "delete";
    default:
      return kindSpec(kind).updateImpact;
  }
}

/** True for a pointer to a roster entry's version (coordinator agents or predefined_agents). */
function rosterKeyOfVersionPointer(pointer: string): string | null {
  const s = pointerSegments(pointer);
  if (s[0] !== "multiagent" || s[s.length - 1] !== "version") return null;
  if (s.length === 4 && s[1] === "agents") return s[2] as string;
  if (s.length === 5 && s[2] === "predefined_agents") return s[3] as string;
  return null;
}

/** Roster refs of a spec: names referenced through `{type: "agent", ref}` entries. */
function refsOf(spec: Obj): string[] {
  const out: string[] = [];
  const ma = spec.multiagent as Obj | null | undefined;
  const visit = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const e of list) if (e && typeof e === "object" && typeof (e as Obj).ref === "string") out.push((e as Obj).ref as string);
  };
  if (ma && typeof ma === "object") {
    visit(ma.agents);
    visit((ma.subagents as Obj | undefined)?.predefined_agents);
    visit((ma.workflows as Obj | undefined)?.predefined_agents);
  }
  return [...new Set(out)];
}

/** Agents ordered so that referenced agents come before the agents that reference them; ties by name. */
function topoOrder(matches: readonly Match[]): Match[] {
  const byName = new Map(matches.map((m) => [m.manifest.name, m] as const));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const m of matches) {
    const deps = refsOf(m.manifest.spec).filter((r) => byName.has(r) && r !== m.manifest.name);
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
}

function emptySummary(): PlanSummary {
  return { create: 0, update: 0, repin: 0, adopt: 0, rename: 0, noop: 0, archive: 0, delete: 0 };
}

function isIgnored(pointer: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => isUnder(pointer, p));
}

/**
 * Plan one manifest against its match. `resolve` answers roster references (agents only) and
 * records which targets the entry depends on.
 */
function planResource(
  kind: ResourceKind,
  match: Match,
  input: PlanInput,
  locked: Record<string, LockedEntry>,
  resolve: ((name: string, explicit: number | undefined) => { ref: ResolvedRef; dependsOn?: string } | undefined) | null,
): Planned {
  const { manifest, live } = match;
  const dependsOn = new Set<string>();
  const followedKeys = new Map<string, string>(); // roster key → target address, for refs without a version
  const resolveRef = (name: string, explicit: number | undefined): ResolvedRef | undefined => {
    const r = resolve?.(name, explicit);
    if (!r) return undefined;
    if (r.dependsOn) dependsOn.add(r.dependsOn);
    if (explicit === undefined) followedKeys.set(r.ref.id === KNOWN_AFTER_APPLY ? `ref:${name}` : r.ref.id, address("agent", name));
    return r.ref;
  };
  const desired = canonicalDesired(kind, manifest.spec, { resolveRef });
  const bodyResolver: BodyRefResolver = (name, explicit) => resolve?.(name, explicit)?.ref;
  const resolvedSpec = resolveSpecRefs(kind, manifest.spec, bodyResolver);

  const diff = live
    ? planUpdate(kind, match, live, desired, resolvedSpec, followedKeys, input.project)
    : { action: "create" as const, changes: [], ignored: [], security: reviewSecurity(kind, null, desired), request: { method: "create" as const, body: buildCreateBody(kind, resolvedSpec, input.project) } };
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
    address: address(kind, manifest.name),
    kind,
    name: manifest.name,
    action,
    id: live?.id ?? null,
    file: manifest.file,
    basis: basisOf(kind, live),
    changes,
    ignored,
    drift: driftOf(kind, lockedHere, live, match.renamedOutOfBand, liveIds(input, kind)),
    impact: impactOf(kind, action),
    security,
    dependsOn: [...dependsOn].sort(),
    request,
    specDigest: specDigest(manifest),
  };
  if (repinReasons) entry.repinReasons = repinReasons;
  if (match.renamedFrom !== undefined) entry.renamedFrom = match.renamedFrom;
  else if (replacesLockEntry !== undefined) entry.renamedFrom = replacesLockEntry;
  if (action === "noop" && live) markLockBehind(entry, ownValue(locked, manifest.name));
  return { entry, live };
}

interface DiffOutcome {
  action: PlanAction;
  changes: FieldChange[];
  ignored: FieldChange[];
  security: SecurityFinding[];
  request: PlannedResource["request"];
  repinReasons?: string[];
}

/** A matched manifest against its live resource: changes, ignored differences, action, update body. */
function planUpdate(
  kind: ResourceKind,
  match: Match,
  live: Live,
  desired: Obj,
  resolvedSpec: Obj,
  followedKeys: ReadonlyMap<string, string>,
  project: string,
): DiffOutcome {
  const ignore = match.manifest.settings.ignore;
  const current = canonicalLive(kind, live, desired);
  const all = diffCanonical(current, desired);
  // The API replaces these fields whole, so once one is sent for another change, an ignored
  // difference inside it is overwritten too: it is a change, shown and security-reviewed as one.
  const wholeFields = kindSpec(kind).wholeFields;
  const sentWhole = new Set(all.filter((c) => !isIgnored(c.pointer, ignore)).map((c) => topField(c.pointer)).filter((f) => wholeFields.has(f)));
  const overwritten = (pointer: string) => isIgnored(pointer, ignore) && sentWhole.has(topField(pointer));
  const changes = all.filter((c) => !isIgnored(c.pointer, ignore) || overwritten(c.pointer));
  const ignored = all.filter((c) => isIgnored(c.pointer, ignore) && !overwritten(c.pointer));
  const security = reviewSecurity(kind, current, desired).filter((f) => !isIgnored(f.pointer, ignore) || overwritten(f.pointer));
  const repinChanges = changes.filter((c) => {
    const key = rosterKeyOfVersionPointer(c.pointer);
    return key !== null && followedKeys.has(key);
  });
  const repinReasons = repinChanges.length > 0 ? [...new Set(repinChanges.map((c) => followedKeys.get(rosterKeyOfVersionPointer(c.pointer) as string) as string))].sort() : undefined;
  let action: PlanAction;
  if (match.renamedFrom !== undefined) action = "rename";
  else if (match.adopt) action = "adopt";
  else if (changes.length === 0) action = "noop";
  else if (repinChanges.length === changes.length) action = "repin";
  else action = "update";
  let request: PlannedResource["request"] = null;
  if (action !== "noop") {
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
  const liveVersion = entry.basis.version;
  const current =
    lockedEntry.id === entry.id &&
    lockedVersion === liveVersion &&
    lockedEntry.specDigest === entry.specDigest &&
    lockedEntry.liveDigest === entry.basis.liveDigest;
  if (current) return;
  entry.lockOnly = { reason: "behind", locked: lockedVersion === undefined ? { id: lockedEntry.id } : { id: lockedEntry.id, version: lockedVersion } };
  if (entry.drift) entry.drift.detected = false;
  if (lockedEntry.id !== entry.id) {
    entry.security.push(pinFinding(`the lockfile points ${entry.address} at ${lockedEntry.id}, not at the live ${entry.id} that matches the manifest`));
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
export function pinnedVersionsWanted(plan: Plan): Array<{ address: string; id: string; version: number }> {
  return plan.resources.flatMap((r) => {
    const locked = r.lockOnly?.locked;
    if (!locked || locked.version === undefined || r.basis?.version === undefined) return [];
    if (locked.id === r.id && locked.version === r.basis.version) return [];
    return [{ address: r.address, id: locked.id, version: locked.version }];
  });
}

/**
 * Record, on each entry whose lockfile pins another agent version, whether that pinned version
 * equals the manifest (live equals it, since the entry is a noop). `pinned` maps addresses to
 * the version read (null: it could not be read). Pure; returns a new plan.
 */
export function annotatePinned(plan: Plan, pinned: ReadonlyMap<string, LiveAgent | null>, liveAgents: readonly LiveAgent[]): Plan {
  const liveById = new Map(liveAgents.map((a) => [a.id, a] as const));
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
    const changes = diffCanonical(canonicalLive("agent", live), canonicalLive("agent", read));
    r.lockOnly.pinned = { id: want.id, version: want.version, matchesManifest: changes.length === 0, ...(changes.length > 0 ? { changes } : {}) };
    if (changes.length > 0 && want.id === r.id) {
      const fields = changes.map((c) => c.pointer).slice(0, 5).join(", ");
      r.security.push(pinFinding(`the lockfile pins ${r.address} at version ${want.version}, which differs from the manifest in ${fields}`));
    }
  }
  return next;
}

/** Build the plan. Pure: everything it needs is in `input`; inputs are never mutated. */
export function buildPlan(input: PlanInput): Plan {
  const refusals: Refusal[] = [];
  const lockAgents = input.lock?.agents ?? {};
  const lockEnvs = input.lock?.environments ?? {};
  const claimedEnvs = new Set<string>();
  const claimedAgents = new Set<string>();

  const envMatches = matchKind("environment", input.environments, input.live.environments, lockEnvs, input, refusals, claimedEnvs);
  const agentMatches = matchKind("agent", input.agents, input.live.agents, lockAgents, input, refusals, claimedAgents);

  const envEntries = envMatches.map((m) => planResource("environment", m, input, lockEnvs, null).entry);

  // Agents, sub-agents first, so each reference sees its target's planned action.
  const plannedAgents = new Map<string, Planned>();
  const impossiblePins = new Map<string, ImpossiblePin>();
  const resolve = refResolver(plannedAgents, input.live.agents, impossiblePins);
  const agentOrder = topoOrder(agentMatches);
  for (const m of agentOrder) {
    plannedAgents.set(m.manifest.name, planResource("agent", m, input, lockAgents, resolve));
  }
  const agentEntries = agentOrder.map((m) => (plannedAgents.get(m.manifest.name) as Planned).entry);
  refusals.push(...pinRefusals(impossiblePins, plannedAgents));

  // Prune: only inventory resources (in the lockfile, carrying this project's marker).
  const pruned = { archives: [] as PlannedResource[], gone: [] as PlannedResource[] };
  if (input.options.prune) {
    planPrune("agent", lockAgents, input.agents, input.live.agents, claimedAgents, input, pruned);
    planPrune("environment", lockEnvs, input.environments, input.live.environments, claimedEnvs, input, pruned);
    refusals.push(...pruneEverythingRefusals(input, pruned.archives));
  }
  orderAgentArchives(pruned.archives, plannedAgents);
  // Environments first (agents may run in them), then agents in dependency order, then
  // archives last so nothing still being re-pinned loses its target first.
  return assemblePlan(input, [...envEntries, ...agentEntries, ...pruned.archives, ...pruned.gone], refusals);
}

interface ImpossiblePin {
  name: string;
  version: number;
  latest: number;
}

type RefResolution = { ref: ResolvedRef; dependsOn?: string } | undefined;

/**
 * How roster references resolve while agents are planned in dependency order: to the target's
 * planned state (known after apply when it is created or changes now), else to the live agent
 * of that name. Pins that can never be satisfied are collected as they are seen.
 */
function refResolver(planned: ReadonlyMap<string, Planned>, liveAgents: readonly LiveAgent[], impossible: Map<string, ImpossiblePin>) {
  const liveByName = groupByName(liveAgents);
  return (name: string, explicit: number | undefined): RefResolution => {
    const target = planned.get(name);
    if (target) {
      const { entry, live } = target;
      if (entry.action === "create" || !live) {
        // A new agent starts at version 1: a pin to any other version can never be satisfied.
        if (explicit !== undefined && explicit !== 1) impossible.set(`${name}@${explicit}`, { name, version: explicit, latest: 1 });
        return { ref: { id: KNOWN_AFTER_APPLY, version: explicit ?? KNOWN_AFTER_APPLY }, dependsOn: entry.address };
      }
      if (explicit !== undefined) {
        // The target reaches live.version, or one more if this plan writes it; nothing beyond.
        const reachable = (live as LiveAgent).version + (entry.request !== null ? 1 : 0);
        if (explicit > reachable) impossible.set(`${name}@${explicit}`, { name, version: explicit, latest: reachable });
        return { ref: { id: live.id, version: explicit } };
      }
      if (entry.action === "noop") return { ref: { id: live.id, version: (live as LiveAgent).version } };
      return { ref: { id: live.id, version: KNOWN_AFTER_APPLY }, dependsOn: entry.address };
    }
    // Not planned here (refused, in a reference cycle, or not a manifest): use the live agent if unambiguous.
    const hits = liveByName.get(name) ?? [];
    if (hits.length === 1) {
      const l = hits[0] as LiveAgent;
      return { ref: { id: l.id, version: explicit ?? l.version } };
    }
    return undefined;
  };
}

function pinRefusals(impossible: ReadonlyMap<string, ImpossiblePin>, planned: ReadonlyMap<string, Planned>): Refusal[] {
  return [...impossible.values()].map((pin) => {
    const missing = planned.get(pin.name)?.entry.drift?.missing === true;
    return {
      address: address("agent", pin.name),
      code: "pinned-version-unavailable",
      message:
        pin.latest === 1 && planned.get(pin.name)?.entry.action === "create"
          ? `A roster pins agent "${pin.name}" at version ${pin.version}, but "${pin.name}" ${missing ? "was archived outside agentform and " : ""}will be created now, at version 1.`
          : `A roster pins agent "${pin.name}" at version ${pin.version}, but its newest version after this plan is ${pin.latest}.`,
      hint: `Drop \`version: ${pin.version}\` from the reference (to follow the latest) or pin an existing version (at most ${pin.latest}).`,
    };
  });
}

/**
 * The lockfile entries of one kind that no manifest wants: archived when they are ours and live,
 * dropped from the lockfile when they are gone or not ours.
 */
function planPrune(
  kind: ResourceKind,
  lockEntries: Record<string, LockedEntry>,
  manifests: readonly LoadedManifest[],
  live: readonly Live[],
  claimed: ReadonlySet<string>,
  input: PlanInput,
  out: { archives: PlannedResource[]; gone: PlannedResource[] },
): void {
  const names = new Set(manifests.map((m) => m.name));
  const previousNames = new Set(manifests.flatMap((m) => m.settings.previous_names));
  const byId = new Map(live.map((l) => [l.id, l] as const));
  for (const name of Object.keys(lockEntries).sort()) {
    if (names.has(name)) continue;
    const locked = lockEntries[name] as LockedEntry;
    const l = byId.get(locked.id);
    // A renamed manifest's create replaces its old entry itself.
    if (!l && previousNames.has(name)) continue;
    const decision = prunePolicy(l, claimed, input.project);
    if (decision === "archive") out.archives.push(archiveEntry(kind, l as Live, locked, input));
    else if (decision !== "keep") out.gone.push(goneEntry(kind, name, locked, decision));
  }
}

function archiveEntry(kind: ResourceKind, l: Live, locked: LockedEntry, input: PlanInput): PlannedResource {
  return {
    address: address(kind, l.name),
    kind,
    name: l.name,
    action: "archive",
    id: l.id,
    file: null,
    basis: basisOf(kind, l),
    changes: [],
    ignored: [],
    drift: driftOf(kind, locked, l, false, liveIds(input, kind)),
    impact: "archive",
    security: [],
    dependsOn: [],
    request: { method: "archive" },
    specDigest: null,
  };
}

/**
 * Per kind: a missing or misnamed agents folder must not archive the whole fleet just because
 * some environments were still found.
 */
function pruneEverythingRefusals(input: PlanInput, archives: readonly PlannedResource[]): Refusal[] {
  const refusals: Refusal[] = [];
  for (const [kind, manifests] of [["agent", input.agents], ["environment", input.environments]] as const) {
    const doomed = archives.filter((a) => a.kind === kind);
    if (doomed.length === 0 || manifests.length > 0 || input.options.allowEmpty) continue;
    refusals.push({
      address: `project.${input.project}`,
      code: "prune-everything",
      message: `--prune would archive every ${kind} of project "${input.project}" (${doomed.length}) because no ${kind} manifests were found.`,
      hint: `Check that agentform.yaml points at the right ${kind}s folder; if archiving every ${kind} is intended, add --allow-empty.`,
      ids: doomed.map((a) => a.id as string).sort(),
    });
  }
  return refusals;
}

/**
 * An agent may only be archived once no roster still names it: the API rejects a roster that
 * references an archived agent, and the executor runs entries concurrently, so plan order is not
 * enough on its own. Each agent archive waits for the writes of the agents whose live roster
 * names it (a ref must name a manifest, so such an agent always has a write).
 */
function orderAgentArchives(archives: PlannedResource[], planned: ReadonlyMap<string, Planned>): void {
  if (archives.length === 0) return;
  // Each written agent's live roster, read once (not once per archive).
  const writers = [...planned.values()]
    .filter(({ entry, live }) => entry.request !== null && live)
    .map(({ entry, live }) => ({ address: entry.address, roster: JSON.stringify((live as LiveAgent).multiagent ?? null) }));
  for (const a of archives) {
    // Only ids a roster can name appear in one: archives of other kinds wait for nothing.
    if (!a.id) continue;
    const quoted = `"${a.id}"`;
    a.dependsOn = writers.filter((w) => w.roster.includes(quoted)).map((w) => w.address).sort();
  }
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
 * A lockfile entry with no manifest whose resource is gone from the workspace (archived or
 * deleted outside agentform), or is not this project's: under --prune, apply drops the entry and
 * leaves the resource alone, with no API write.
 */
function goneEntry(kind: ResourceKind, name: string, locked: LockedEntry, reason: "gone" | "foreign" = "gone"): PlannedResource {
  const version = locked.version;
  return {
    address: address(kind, name),
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

const liveIdCache = new WeakMap<PlanInput, Record<ResourceKind, Set<string>>>();
function liveIds(input: PlanInput, kind: ResourceKind): ReadonlySet<string> {
  let cached = liveIdCache.get(input);
  if (!cached) {
    cached = { agent: new Set(input.live.agents.map((a) => a.id)), environment: new Set(input.live.environments.map((e) => e.id)) };
    liveIdCache.set(input, cached);
  }
  return cached[kind];
}

/** A plan has changes when any entry is not a noop (what `--detailed-exitcode` reports as 2). */
export function hasChanges(plan: Plan): boolean {
  return plan.resources.some((r) => r.action !== "noop");
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
