/**
 * The registry of resource kinds. Typed as a Record over ResourceKind, so adding a kind to
 * LiveByKind (src/kinds/types.ts) fails to compile until its spec is registered here.
 */
import { agentKind } from "./agent/index.js";
import { environmentKind } from "./environment/index.js";
import type { KindSpec } from "./spec.js";
import type { LiveResource, ResourceKind } from "./types.js";

/** In dependency order: a kind comes after the kinds its resources may use (agents run in environments). */
export const KINDS: { readonly [K in ResourceKind]: KindSpec<K> } = {
  environment: environmentKind,
  agent: agentKind,
};

/** The spec of a kind. */
export function kindSpec<K extends ResourceKind>(kind: K): KindSpec<K> {
  return KINDS[kind];
}

/** The version a live resource is at, for kinds with versions; undefined for the others. */
export function versionOf(kind: ResourceKind, live: LiveResource): number | undefined {
  return (KINDS[kind].versionOf as (l: LiveResource) => number | undefined)(live);
}

export type { KindSpec } from "./spec.js";
export type { LiveAgent, LiveEnvironment, LiveOf, LiveResource, RequestBody, ResourceKind } from "./types.js";
