/**
 * The ControlPlane interface (docs/architecture.md): the only way the reconciler talks to the
 * Managed Agents API. Two implementations share one contract test suite: `sdk.ts`
 * (@anthropic-ai/sdk) and `ant.ts` (the official `ant` CLI for the kinds it writes, the SDK for
 * the others).
 *
 * Live resources are returned exactly as the API sent them (parsed JSON); normalizing them is
 * the job of `src/normalize`, never of a backend.
 */
import type { AgentformError } from "../errors.js";
import type { LiveOf, RequestBody, ResourceKind } from "../kinds/types.js";

// The kinds are defined by the core; backends implement them.
export type { LiveAgent, LiveEnvironment, LiveOf, LiveResource, LiveSets, RequestBody, ResourceKind } from "../kinds/types.js";

export interface ListOptions {
  includeArchived?: boolean;
  /**
   * For kinds inside another (credentials in vaults): the parents to list in, when the caller has
   * just listed them; without it the backend lists the parents itself.
   */
  parents?: readonly ParentRef[];
}

/** A parent resource as a child kind's list needs it: its id, and its name (children are named within it). */
export interface ParentRef {
  id: string;
  name: string;
}

export interface ControlPlane {
  /** "sdk" or "ant"; shown in messages. */
  readonly backend: "sdk" | "ant";
  /** The base URL requests go to (never includes credentials). */
  readonly baseUrl: string;

  /** Every resource of a kind, following all pages (agents: 100 per page; environments: 1000). */
  list<K extends ResourceKind>(kind: K, options?: ListOptions): Promise<LiveOf<K>[]>;
  /** One resource; for agents `version` reads an exact historical version. */
  get<K extends ResourceKind>(kind: K, id: string, options?: { version?: number }): Promise<LiveOf<K>>;
  create<K extends ResourceKind>(kind: K, body: RequestBody): Promise<LiveOf<K>>;
  /**
   * Partial update, with the API's update semantics. For agents `expectedVersion` is sent as the
   * body's `version`, the optimistic lock; a mismatch raises a BackendError with status 409.
   */
  update<K extends ResourceKind>(
    kind: K,
    id: string,
    body: RequestBody,
    options?: { expectedVersion?: number },
  ): Promise<LiveOf<K>>;
  archive<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>>;
  /** Only kinds whose spec says `deletable` (environments); the others refuse with a 400. */
  delete(kind: ResourceKind, id: string): Promise<void>;
  /**
   * A listed resource completed with what the list omits (a skill's file digests, read from its
   * latest version's content); the resource as it is for kinds whose list is complete.
   */
  detail<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<LiveOf<K>>;
  /**
   * The files of a resource kept as a folder (a skill's latest version), path inside the folder
   * → bytes, for import; kinds without files refuse.
   */
  files<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<Record<string, Uint8Array>>;
  /** Every version of a versioned resource, oldest first. */
  listVersions<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>[]>;
  /**
   * The error a create or update of `kind` with `body` would raise before anything is sent (a
   * value the `ant` CLI cannot pass on), or undefined when it would not. Asked at plan time, so
   * that the plan refuses what apply would; the SDK backend sends any body and has no such method.
   */
  unsendable?(kind: ResourceKind, body: RequestBody): AgentformError | undefined;
}

/** Connection settings for a target, resolved from agentform.yaml and the environment. */
export interface ConnectionSettings {
  baseUrl: string;
  /** The credential itself; held in memory only, never logged or written. */
  apiKey: string;
  workspaceId?: string | undefined;
}
