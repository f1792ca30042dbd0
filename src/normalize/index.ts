/**
 * Canonical forms of desired manifests and live resources (pure; no I/O), for every kind.
 *
 * Both sides are reduced to one shape so that "equal" means "the API would store the same
 * thing": server-filled defaults are filled on the desired side, unordered collections become
 * keyed objects (so reordering is a no-op and JSON pointers name tools, servers and skills
 * instead of array positions), and fields whose default the client cannot know are left out
 * of the comparison when the manifest leaves them out. Each kind's rules live in its module
 * under src/kinds/; every rule is listed in docs/normalization.md.
 */
import { kindSpec } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import { isObj, type Obj } from "../kinds/values.js";
import { OWNERSHIP_KEY, type LoadedManifest } from "../manifest/types.js";
import { digest } from "./json.js";
import type { DesiredContext } from "../kinds/spec.js";

export { canonicalJson, digest, sortedCopy } from "./json.js";
export { AGENT_TOOLS, AGENT_TOOLSET } from "../kinds/agent/canonical.js";
export type { DesiredContext, ResolvedRef } from "../kinds/spec.js";

/**
 * Canonical form of a manifest's spec (the API create body plus name references). With a
 * context, by-name references are resolved to ids and versions; without one they stay by name.
 */
export function canonicalDesired(kind: ResourceKind, spec: Record<string, unknown>, context?: DesiredContext): Record<string, unknown> {
  return kindSpec(kind).canonicalDesired(spec, context);
}

/**
 * Canonical form of a live resource. `desiredHint` is the canonical desired form it will be
 * compared with: fields the manifest leaves to the server are dropped from the live side so
 * they are not diffed. Without a hint everything the server stored is kept.
 */
export function canonicalLive(kind: ResourceKind, live: LiveResource, desiredHint?: Record<string, unknown>): Record<string, unknown> {
  return (kindSpec(kind).canonicalLive as (l: LiveResource, h?: Obj) => Obj)(live, desiredHint);
}

/** Digest of the canonical desired spec as written (references by name): recorded in the lockfile. */
export function specDigest(manifest: LoadedManifest): string {
  return digest(canonicalDesired(manifest.kind, manifest.spec));
}

/** Digest of the canonical live resource (no ids, timestamps or version): drift and staleness. */
export function liveDigest(kind: ResourceKind, live: LiveResource): string {
  return digest(canonicalLive(kind, live));
}

/** The ownership marker value carried by a live resource, or null. */
export function ownerOf(live: LiveResource): string | null {
  const m = (live as unknown as Obj).metadata;
  const v = isObj(m) ? m[OWNERSHIP_KEY] : undefined;
  return typeof v === "string" && v !== "" ? v : null;
}
