/**
 * Request bodies for create and update (pure), for every kind: only the top-level fields a
 * change touches, each as its kind sends it (src/kinds/), and metadata as a patch that keeps the
 * ownership marker. The one copy of the metadata rule lives here.
 */
import { kindSpec } from "../kinds/index.js";
import type { BodyRefResolver } from "../kinds/spec.js";
import type { RequestBody, ResourceKind } from "../kinds/types.js";
import { isObj, type Obj } from "../kinds/values.js";
import { OWNERSHIP_KEY, RESERVED_METADATA_KEYS } from "../manifest/types.js";
import { pointerSegments } from "./diff.js";
import type { FieldChange } from "./types.js";

export type { BodyRefResolver } from "../kinds/spec.js";

/** The spec with by-name references resolved where the target is known. */
export function resolveSpecRefs(kind: ResourceKind, spec: Obj, resolve: BodyRefResolver): Obj {
  return kindSpec(kind).resolveRefs(spec, resolve);
}

/**
 * The metadata patch: changed or added user keys set, removed user keys null, the ownership
 * marker set whenever live lacks it (adoption); agentform's own keys never removed (a secret's
 * digest is set by apply, with the secret). `ignoredKeys` are not sent.
 */
export function metadataPatch(desired: unknown, live: unknown, project: string, ignoredKeys: ReadonlySet<string> = new Set()): Obj {
  const d = isObj(desired) ? desired : {};
  const l = isObj(live) ? live : {};
  const patch: Obj = {};
  for (const [k, v] of Object.entries(d)) {
    if (RESERVED_METADATA_KEYS.has(k) || ignoredKeys.has(k)) continue;
    if (l[k] !== v) patch[k] = v;
  }
  for (const k of Object.keys(l)) {
    if (RESERVED_METADATA_KEYS.has(k) || ignoredKeys.has(k)) continue;
    if (!(k in d)) patch[k] = null;
  }
  if (l[OWNERSHIP_KEY] !== project) patch[OWNERSHIP_KEY] = project;
  return patch;
}

/**
 * The update that lets go of a resource (`state forget`): its ownership marker removed, the rest
 * of its metadata as it is (a metadata update is a patch; null removes a key).
 */
export function markerRelease(): RequestBody {
  return { metadata: { [OWNERSHIP_KEY]: null } };
}

/**
 * The update body for a resource: only the top-level fields touched by `changes` (plus the
 * ownership marker when live lacks it). `desiredResolved` is the manifest spec with references
 * resolved (see resolveSpecRefs); `liveRaw` the live resource as listed.
 */
export function buildUpdateBody(
  kind: ResourceKind,
  desiredResolved: Record<string, unknown>,
  liveRaw: unknown,
  changes: FieldChange[],
  project: string,
  ignore: readonly string[] = [],
): RequestBody {
  const live = isObj(liveRaw) ? liveRaw : {};
  const fields = new Set(changes.map((c) => pointerSegments(c.pointer)[0]).filter((f): f is string => f !== undefined));
  const body: Obj = {};
  for (const field of [...fields].sort()) {
    if (field === "metadata") continue;
    const under = changes.map((c) => c.pointer).filter((ptr) => pointerSegments(ptr)[0] === field);
    body[field] = kindSpec(kind).fieldBody(field, desiredResolved, under);
  }
  // Kinds owned through the lockfile alone have no metadata to carry a marker.
  if (kindSpec(kind).ownership !== "marker") return body;
  const ignoredKeys = new Set(
    ignore.filter((p) => p.startsWith("/metadata/")).map((p) => pointerSegments(p)[1] as string),
  );
  const patch = metadataPatch(desiredResolved.metadata, live.metadata, project, ignoredKeys);
  if (Object.keys(patch).length > 0) body.metadata = patch;
  return body;
}

/** The create body: the manifest as the API expects it, with the ownership marker (kinds that carry one). */
export function buildCreateBody(kind: ResourceKind, desiredResolved: Record<string, unknown>, project: string): RequestBody {
  const body = kindSpec(kind).createFields(desiredResolved);
  if (kindSpec(kind).ownership !== "marker") return body;
  const md = isObj(desiredResolved.metadata) ? desiredResolved.metadata : {};
  body.metadata = { ...md, [OWNERSHIP_KEY]: project };
  return body;
}
