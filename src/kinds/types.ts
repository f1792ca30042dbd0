/**
 * The resource kinds agentform manages, as the core sees them. Everything specific to one kind
 * lives in its module under src/kinds/; the layers below (normalize, plan, apply, lock, render,
 * backends) loop over the registry in src/kinds/index.ts and never test a kind's name.
 *
 * Adding a kind: add it to LiveByKind (its live shape, from the SDK's types), then write its
 * KindSpec; the registry is a Record over ResourceKind, so a kind without a spec fails to compile.
 */
import type { BetaManagedAgentsAgent } from "@anthropic-ai/sdk/resources/beta/agents/agents";
import type { BetaEnvironment } from "@anthropic-ai/sdk/resources/beta/environments/environments";
import type { Skill } from "@anthropic-ai/sdk/resources/skills/skills";
import type { BetaManagedAgentsVault } from "@anthropic-ai/sdk/resources/beta/vaults/vaults";
import type { BetaManagedAgentsCredential } from "@anthropic-ai/sdk/resources/beta/vaults/credentials";
import type { BetaManagedAgentsMemoryStore } from "@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores";
import type { BetaManagedAgentsDeployment } from "@anthropic-ai/sdk/resources/beta/deployments";

export type LiveAgent = BetaManagedAgentsAgent;
export type LiveEnvironment = BetaEnvironment;
/**
 * A skill as the API returns it, with the fields every kind has: `name` (its display_name, the
 * identity agentform matches on) and `archived_at` (always null: skills are deleted, never
 * archived), both set by the skill spec's `fromApi`; and `files`: the sha256 of each file of its
 * latest version (path relative to the skill's folder). The list does not return them: the
 * backend's `get` and `detail` read them from the version's content (never from the lockfile).
 */
export type LiveSkill = Skill & { name: string; archived_at: null; metadata?: undefined; files?: Record<string, string> };

/** A vault as the API returns it, with `name` (its display_name, the identity agentform matches on) set by the vault spec's `fromApi`. */
export type LiveVault = BetaManagedAgentsVault & { name: string };

/**
 * A vault credential as the API returns it, with `name` (its display_name, `<vault>/<key>` as
 * agentform writes it, the identity it matches on) set by the credential spec's `fromApi`.
 */
export type LiveCredential = BetaManagedAgentsCredential & { name: string };

/** Each kind's live resource, exactly as the API returns it. */
export interface LiveByKind {
  agent: LiveAgent;
  environment: LiveEnvironment;
  skill: LiveSkill;
  vault: LiveVault;
  credential: LiveCredential;
  memory_store: BetaManagedAgentsMemoryStore;
  deployment: BetaManagedAgentsDeployment;
}

export type ResourceKind = keyof LiveByKind;
export type LiveOf<K extends ResourceKind> = LiveByKind[K];
export type LiveResource = LiveByKind[ResourceKind];

/** A JSON request body: exactly what goes on the wire (snake_case, API shapes). */
export type RequestBody = Record<string, unknown>;

/** One value per kind (manifests by kind, live resources by kind, …). */
export type ByKind<T> = { [K in ResourceKind]: T };

/** Each kind's live resources, as list calls return them. */
export type LiveSets = { [K in ResourceKind]: LiveOf<K>[] };

/** A by-name reference a manifest holds to another resource (`{ref: name}`, maybe pinned at `version`). */
export interface KindRef {
  kind: ResourceKind;
  name: string;
  /** A pinned version: a number for versioned kinds, a version id for skills. */
  version?: number | string;
}

/** A kind's top-level map in the lockfile: its name plus "s" (agents, memory_stores). */
export type LockKeyOf<K extends ResourceKind> = `${K}s`;
