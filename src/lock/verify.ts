/**
 * `agentform lock verify`: is the lockfile something a runtime service can trust? Checks the
 * three-way agreement lockfile ↔ manifests ↔ live. Pure: the CLI reads everything first.
 *
 * Errors mean a runtime pinning through the lockfile would fail or use the wrong thing (an id
 * that is gone or archived, a pinned version that does not exist, a manifest never applied,
 * a manifest changed since apply). Warnings mean live moved outside agentform (drift) or the
 * lockfile carries an entry no manifest wants any more.
 */
import type { ByKind, LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import { OWNERSHIP_KEY, type LoadedManifest } from "../manifest/types.js";
import { addressOf, KIND_ORDER, kindSpec, versionOf } from "../kinds/index.js";
import { lockTable, samePreviousNames } from "./table.js";
import { ownValue } from "../util/record.js";
import { liveDigest, specDigest } from "../normalize/index.js";
import type { Plan, PlannedResource } from "../plan/types.js";
import type { Lockfile } from "./types.js";

export interface LockFinding {
  severity: "error" | "warning";
  code: string;
  /** e.g. "agent.triage". */
  address: string;
  message: string;
  hint: string;
}

export interface VerifyInput {
  lock: Lockfile;
  manifests: ByKind<LoadedManifest[]>;
  /** Live resources, including archived ones (so "archived" can be told from "gone"). */
  live: LiveSets;
  /** For each locked address of a versioned kind: does its locked version exist? Missing addresses are not checked. */
  versionsExist: Record<string, boolean>;
  /**
   * The plan computed from the same manifests, lockfile and live state: its lock-only entries
   * say where the lockfile is behind (the planner holds the one definition of that).
   */
  plan?: Pick<Plan, "resources">;
}

/** Findings that "lockfile behind" explains better, for an address that is behind. */
const EXPLAINED_BY_BEHIND = new Set(["live-version-moved", "live-drift", "lock-spec-stale"]);

const APPLY_HINT = "Run `agentform plan` to see the difference, then `agentform apply` to bring the lockfile up to date.";

type AddFinding = (severity: LockFinding["severity"], code: string, address: string, message: string, hint: string) => void;

/** Every problem found, sorted by address then code. Empty means the lockfile is sound. */
export function verifyLock(input: VerifyInput): LockFinding[] {
  const findings: LockFinding[] = [];
  const add: AddFinding = (severity, code, address, message, hint) => findings.push({ severity, code, address, message, hint });
  for (const kind of KIND_ORDER) checkKind(kind, input, add);
  const behind = (input.plan?.resources ?? []).filter((r) => r.lockOnly?.reason === "behind");
  const behindAddresses = new Set(behind.map((r) => r.address));
  const kept = findings.filter((f) => !(behindAddresses.has(f.address) && EXPLAINED_BY_BEHIND.has(f.code)));
  for (const r of behind) kept.push(behindFinding(r, ownValue(lockTable(input.lock, r.kind), r.name)?.previous_names));
  return kept.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/** The lockfile entries of one kind against its manifests and live resources. */
function checkKind(kind: ResourceKind, input: VerifyInput, add: AddFinding): void {
  const locked = lockTable(input.lock, kind);
  const manifests = input.manifests[kind];
  const byId = new Map((input.live[kind] as readonly LiveResource[]).map((r) => [r.id, r]));
  const byName = new Map(manifests.map((m) => [m.name, m]));
  for (const [name, entry] of Object.entries(locked).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const address = addressOf(kind, name);
    const manifest = byName.get(name);
    if (!manifest) {
      add("warning", "lock-orphan", address, `${address} is in the lockfile but has no manifest.`, "Run `agentform apply --prune` (or set `prune: true` on the target) to archive it and drop it from the lockfile, or restore its manifest.");
    }
    const resource = byId.get(entry.id);
    if (!resource) {
      add("error", "lock-id-missing", address, `${address} is locked to ${entry.id}, which does not exist in the workspace.`, APPLY_HINT);
      continue;
    }
    if (resource.archived_at) {
      add("error", "lock-archived", address, `${address} is locked to ${entry.id}, which is archived; sessions cannot use it.`, APPLY_HINT);
      continue;
    }
    if (resource.name !== name) {
      add("error", "lock-name-mismatch", address, `${address} is locked to ${entry.id}, which is now named "${resource.name}".`, APPLY_HINT);
    }
    checkOwner(kind, input.lock.project, address, entry.id, resource, add);
    checkLive(kind, input, address, entry, resource, add);
    if (manifest && specDigest(manifest) !== entry.specDigest) {
      add("error", "lock-spec-stale", address, `${manifest.file} changed since the lockfile was written; the locked ${kind} is not what it describes.`, "Run `agentform apply` so the lockfile pins what the manifest says.");
    }
  }
  for (const manifest of manifests) {
    if (!Object.prototype.hasOwnProperty.call(locked, manifest.name)) {
      add("error", "lock-entry-missing", addressOf(kind, manifest.name), `${manifest.file} defines ${kind} "${manifest.name}", which the lockfile does not list.`, "Run `agentform apply` to create it and record it in the lockfile.");
    }
  }
}

/** Kinds owned through a metadata marker must carry this project's; for the others the lockfile entry is the ownership. */
function checkOwner(kind: ResourceKind, project: string, address: string, id: string, resource: LiveResource, add: AddFinding): void {
  if (kindSpec(kind).ownership !== "marker") return;
  const owner = (resource.metadata as Record<string, unknown> | undefined)?.[OWNERSHIP_KEY];
  if (owner === project) return;
  add("error", "lock-foreign-owner", address, `${address} (${id}) is not marked as owned by project "${project}"${typeof owner === "string" ? ` (marker: "${owner}")` : ""}.`, "Check that the lockfile belongs to this workspace; `agentform apply --adopt` takes the resource over.");
}

/** Live against what the last apply recorded: a version that moved, or a digest that changed. */
function checkLive(kind: ResourceKind, input: VerifyInput, address: string, entry: { id: string; version?: number | string; liveDigest: string }, resource: LiveResource, add: AddFinding): void {
  const liveVersion = versionOf(kind, resource);
  if (liveVersion === undefined) {
    if (liveDigest(kind, resource) !== entry.liveDigest) add("warning", "live-drift", address, `${address} was changed outside agentform since the last apply.`, APPLY_HINT);
    return;
  }
  if (input.versionsExist[address] === false) {
    add("error", "lock-version-missing", address, `${address} pins version ${entry.version} of ${entry.id}, which does not exist.`, APPLY_HINT);
  }
  if (entry.version !== undefined && liveVersion !== entry.version) {
    add("warning", "live-version-moved", address, `${address} is locked at version ${entry.version}, but live is at version ${liveVersion} (changed outside agentform).`, APPLY_HINT);
  } else if (liveDigest(kind, resource) !== entry.liveDigest) {
    add("warning", "live-drift", address, `${address} differs from what the last apply left live.`, APPLY_HINT);
  }
}

/**
 * The lockfile records something other than live, while live already equals the manifest; or
 * other previous names than the manifest lists (which old names callers can still use).
 */
function behindFinding(r: PlannedResource, lockedPreviousNames: string[] | undefined): LockFinding {
  const locked = r.lockOnly?.locked;
  const pinned = r.lockOnly?.pinned;
  const liveVersion = r.basis?.version !== undefined ? ` version ${r.basis.version}` : "";
  const lockedText = locked ? `${locked.id}${locked.version !== undefined ? ` version ${locked.version}` : ""}` : "nothing";
  let detail = "";
  if (pinned?.matchesManifest === false) {
    const fields = (pinned.changes ?? []).map((c) => c.pointer).slice(0, 5).join(", ");
    detail = ` What it pins differs from the manifest (${fields}): runtimes reading the lockfile do not get the reviewed configuration.`;
  } else if (pinned?.matchesManifest === null) {
    detail = " The pinned version cannot be read.";
  }
  if (!samePreviousNames(lockedPreviousNames, r.previousNames)) {
    // At most five names each: the lockfile's list comes from a file anyone can edit.
    const list = (names: string[] | undefined) => (names && names.length > 0 ? names.slice(0, 5).map((n) => JSON.stringify(n)).join(", ") + (names.length > 5 ? ", …" : "") : "none");
    detail += ` The previous names it records (${list(lockedPreviousNames)}) are not the manifest's (${list(r.previousNames)}): callers still using an old name get what the lockfile says.`;
  }
  return {
    severity: "error",
    code: "lock-behind",
    address: r.address,
    message: `${r.address}: the lockfile records ${lockedText}, but live ${r.id ?? ""}${liveVersion} already matches the manifest; the lockfile is behind.${detail}`,
    hint: "Run `agentform apply` to rewrite the lockfile from live (no API writes). If nobody meant to change the lockfile, find out who edited it.",
  };
}
