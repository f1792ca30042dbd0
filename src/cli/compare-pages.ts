/**
 * Which manifests already equal the live resource of their name, compared page by page while the
 * lists are still paging (the CLI's lists are mostly waiting for the next page), so the planner
 * has nothing left to compare for them: the plan of thousands of unchanged resources is otherwise
 * mostly this comparison, done after the last page.
 *
 * Only what the planner would compare exactly this way is compared: a manifest whose canonical
 * form resolves no by-name reference (references resolve against the whole plan), of a kind with
 * no secrets (their status is read per live resource), no parent (matched within it) and a
 * complete list (a skill is compared once its content is read). Anything else is left to the
 * planner. A mark says only that the manifest equals that live resource, which stays true
 * whatever else is listed; the planner uses it when it matches the manifest to that very object.
 */
import { KIND_ORDER, kindSpec } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import type { LoadedManifest, LoadResult } from "../manifest/types.js";
import { canonicalDesired, canonicalLive } from "../normalize/index.js";
import { diffCanonical } from "../plan/index.js";

/** Manifests known equal to a live resource, each with that resource (the planner's `precomputed.unchanged`). */
export type Unchanged = Map<LoadedManifest, LiveResource>;

/** Compares the live resources of pages, as they come, with the manifests of their names. */
export function pageComparer(manifests: LoadResult["manifests"]): { unchanged: Unchanged; compare(kind: ResourceKind, live: LiveResource): void } {
  const named = new Map(KIND_ORDER.filter(comparable).map((kind) => [kind, new Map(manifests[kind].map((m) => [m.name, m] as const))] as const));
  const unchanged: Unchanged = new Map();
  return {
    unchanged,
    compare(kind, live) {
      const manifest = named.get(kind)?.get(live.name);
      if (manifest && equalsLive(kind, manifest, live)) unchanged.set(manifest, live);
    },
  };
}

function comparable(kind: ResourceKind): boolean {
  const spec = kindSpec(kind);
  return spec.parentKind === undefined && spec.secrets === undefined && spec.partialList === undefined;
}

/** Whether the manifest's canonical form, with no reference to resolve, equals the live resource's. */
function equalsLive(kind: ResourceKind, manifest: LoadedManifest, live: LiveResource): boolean {
  let resolves = false;
  const desired = canonicalDesired(kind, manifest.spec, {
    resolveRef: () => {
      resolves = true;
      return undefined;
    },
  });
  return !resolves && diffCanonical(canonicalLive(kind, live, desired), desired).length === 0;
}
