/**
 * The registry of resource kinds. Typed as a Record over ResourceKind, so adding a kind to
 * LiveByKind (src/kinds/types.ts) fails to compile until its spec is registered here.
 */
import { agentKind } from "./agent/index.js";
import { environmentKind } from "./environment/index.js";
import { skillKind } from "./skill/index.js";
import { vaultKind } from "./vault/index.js";
import { credentialKind } from "./credential/index.js";
import { memoryStoreKind } from "./memory-store/index.js";
import { deploymentKind } from "./deployment/index.js";
import type { KindSpec } from "./spec.js";
import type { ByKind, LiveResource, ResourceKind } from "./types.js";

/**
 * In dependency order: a kind comes after the kinds its resources may use (agents run in
 * environments and use skills; deployments run agents with vaults and memory stores).
 */
export const KINDS: { readonly [K in ResourceKind]: KindSpec<K> } = {
  environment: environmentKind,
  skill: skillKind,
  vault: vaultKind,
  credential: credentialKind,
  memory_store: memoryStoreKind,
  agent: agentKind,
  deployment: deploymentKind,
};

/** Every kind, in dependency order (the registry's key order). */
export const KIND_ORDER: readonly ResourceKind[] = Object.keys(KINDS) as ResourceKind[];

/** A resource's address in plans, pins and messages: `<kind>.<name>` (the one copy of that format). */
export function addressOf(kind: ResourceKind, name: string): string {
  return `${kind}.${name}`;
}

/** The spec of a kind. */
export function kindSpec<K extends ResourceKind>(kind: K): KindSpec<K> {
  return KINDS[kind];
}

/** What a by-name reference to a live resource pins (a version number or version id); undefined when nothing. */
export function pinOf(kind: ResourceKind, live: LiveResource): number | string | undefined {
  return (KINDS[kind].pinOf as (l: LiveResource) => number | string | undefined)(live);
}

/** The version a live resource is at, for kinds with versions; undefined for the others. */
export function versionOf(kind: ResourceKind, live: LiveResource): number | undefined {
  return (KINDS[kind].versionOf as (l: LiveResource) => number | undefined)(live);
}

export type { KindSpec } from "./spec.js";
export type { ByKind, KindRef, LiveAgent, LiveEnvironment, LiveOf, LiveResource, LiveSets, RequestBody, ResourceKind } from "./types.js";

/** The parent a resource (or a create body) of a kind inside another is in (a credential's vault); undefined for other kinds. */
export function parentOf(kind: ResourceKind, value: unknown): string | undefined {
  const parentIdOf = KINDS[kind].parentIdOf as ((l: unknown) => string | undefined) | undefined;
  return parentIdOf && value !== null && typeof value === "object" ? parentIdOf(value) : undefined;
}

/**
 * The resources of a kind that share `parent`: all of them for kinds without a parent; for a kind
 * inside another, those in that parent, and none while it is unknown (a parent being created).
 */
export function inParent<T>(kind: ResourceKind, all: readonly T[], parent: string | undefined): readonly T[] {
  if (!KINDS[kind].parentIdOf) return all;
  return parent === undefined ? [] : all.filter((l) => parentOf(kind, l) === parent);
}

/** One value per kind, built by calling `make` for each kind in dependency order. */
export function byKind<T>(make: (kind: ResourceKind) => T): ByKind<T> {
  return Object.fromEntries(KIND_ORDER.map((kind) => [kind, make(kind)])) as ByKind<T>;
}
