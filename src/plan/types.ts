/**
 * The plan document (docs/architecture.md; schema in schemas/plan.schema.json).
 * A plan is data: the planner (pure) builds it, renderers turn it into text/JSON/Markdown,
 * apply executes it, `plan --out` saves it. Everything in it is JSON-serializable.
 */
import type { ByKind, LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import type { SecretStatus } from "../kinds/spec.js";
import type { Lockfile } from "../lock/types.js";
import type { LoadedManifest } from "../manifest/types.js";

/**
 * `replace`: a change no update can make (a credential's server URL): archive, then create anew.
 * `orphan`: a resource this project manages (in the lockfile, carrying its marker) whose manifest
 * is gone, left alone because pruning is off for it; every plan lists it until it is pruned or
 * its manifest comes back.
 */
export type PlanAction = "create" | "update" | "repin" | "adopt" | "rename" | "replace" | "noop" | "archive" | "delete" | "orphan";

/**
 * How far-reaching a change is, in increasing order (a resource's impact is its worst change's).
 * - none: nothing happens
 * - create: a new resource, nothing existing is touched
 * - new-version: an agent gets a new version; running sessions keep their pinned version
 * - in-place: an environment changes for containers created afterwards
 * - archive: the resource becomes read-only and unusable by new sessions (one-way)
 * - delete: the resource is removed
 */
export type Impact = "none" | "create" | "new-version" | "in-place" | "archive" | "delete";
export const IMPACT_ORDER: readonly Impact[] = ["none", "create", "new-version", "in-place", "archive", "delete"];

/** One field-level change, addressed by a JSON pointer into the canonical (normalized) form. */
export interface FieldChange {
  pointer: string;
  op: "add" | "remove" | "replace";
  /** Canonical value before (absent for add). */
  before?: unknown;
  /** Canonical value after (absent for remove). The string "(known after apply)" marks re-pinned versions. */
  after?: unknown;
}

export { KNOWN_AFTER_APPLY } from "../kinds/spec.js";

export type SecurityCategory =
  | "tool-enabled"
  | "permission-loosened"
  | "mcp-server-added"
  | "mcp-toolset-added"
  | "custom-tool-added"
  | "skill-added"
  | "network-opened"
  | "hosts-added"
  | "network-flag-enabled"
  | "packages-added"
  | "domains-widened"
  | "execution-identity-changed"
  | "multiagent-enabled"
  | "system-prompt-changed"
  /** A skill's files were added or changed: code that runs in the agent's container. */
  | "skill-changed"
  /** The lockfile pins another resource or version than the manifest describes (runtimes read it). */
  | "lockfile-pin-changed"
  /** A vault credential added (or replaced by one for another server): sessions using the vault send it. */
  | "credential-added"
  /** A credential's secret sent again. */
  | "credential-rotated"
  /** An environment-variable credential may reach more hosts, or is injected in more places. */
  | "credential-widened"
  /** A deployment runs on a schedule it did not have. */
  | "schedule-added"
  /** A deployment's schedule fires more often (runs per 30 days). */
  | "schedule-more-frequent"
  /** A deployment's budget raised or removed. */
  | "budget-raised"
  /** A paused deployment set to run again. */
  | "deployment-unpaused"
  /** A vault attached to a deployment: its credentials go with every run. */
  | "vault-attached"
  /** A memory store attached to a deployment (or its access widened to read_write). */
  | "memory-store-attached"
  /** A removal that cannot be undone and takes data with it (a memory store's memories). */
  | "irreversible-removal";

export interface SecurityFinding {
  category: SecurityCategory;
  /** "broadening" widens what the agent can do or reach; "notable" deserves a reviewer's eye. */
  severity: "broadening" | "notable";
  pointer: string;
  message: string;
}

/** What a resource's plan entry was computed from; apply refuses when live no longer matches. */
/**
 * `version` for kinds with versions (the optimistic lock); `pin` for kinds checked by what a
 * reference pins (a skill's latest version id); neither for the others.
 */
export type PlanBasis = { kind: ResourceKind; version?: number; pin?: string; liveDigest: string } | null;

export interface DriftInfo {
  /** Live differs from what the lockfile recorded after the last apply. */
  detected: boolean;
  lockedVersion?: number;
  liveVersion?: number;
  lockedLiveDigest?: string;
  liveDigest?: string;
  /**
   * The locked resource is gone from the live list: archived (or, for environments, deleted)
   * outside agentform. The manifest's entry is then a create, of a new id.
   */
  missing?: boolean;
  /** Filled by `--explain`: locked version vs live, as field changes. */
  changes?: FieldChange[];
}

/**
 * The request apply will send. Roster entries whose target is created or changed in the same
 * plan stay `{type: "agent", ref, version?}` and are resolved by apply from earlier results.
 */
export interface PlannedRequest {
  /** `replace` archives the resource at the entry's id, then creates `body`. */
  method: "create" | "update" | "replace" | "archive" | "delete";
  body?: Record<string, unknown>;
  /** Agents: the optimistic lock sent as `version` (the version observed at plan time). */
  expectedVersion?: number;
}

/**
 * A change to the lockfile alone, with no API write. One definition of "lockfile behind", used by
 * plan, apply and `lock verify`: live already equals the manifest, but the lockfile does not
 * record it (a lost commit after apply, or a hand edit pinning another version or id).
 */
export interface LockOnlyChange {
  /**
   * - behind: the entry differs from what apply records now (id, version or digests)
   * - missing: the lockfile has no entry for this resource
   * - gone: the resource was archived or deleted outside agentform and has no manifest; the
   *   entry is dropped (when pruning: --prune or the target's prune: true)
   * - foreign: the resource has no manifest and does not carry this project's marker; the entry
   *   is dropped and the resource left alone (always: runtimes must not be handed it)
   * - duplicate: the entry's name has no manifest, and its resource is another manifest's (a
   *   leftover of a rename, or a hand edit); the entry is dropped (always)
   */
  reason: "behind" | "missing" | "gone" | "foreign" | "duplicate";
  /** What the lockfile records now (absent for "missing"). */
  locked?: { id: string; version?: number | string };
  /**
   * For an agent whose lockfile pins another id or version than live: that pinned version,
   * read from the API and compared with the manifest (null when it could not be read).
   */
  pinned?: { id: string; version: number; matchesManifest: boolean | null; changes?: FieldChange[] };
}

export interface PlannedResource {
  /** Stable identifier within a plan, e.g. "agent.triage", "environment.python-sandbox". */
  address: string;
  kind: ResourceKind;
  /** Desired name (or the live name, for archive/delete). */
  name: string;
  action: PlanAction;
  /** Live id, or null when the resource will be created. */
  id: string | null;
  /** The manifest file this entry comes from (null for prune entries). */
  file: string | null;
  basis: PlanBasis;
  /** Field changes of the canonical form, sorted by pointer. */
  changes: FieldChange[];
  /** Pointers ignored through `agentform.ignore` that differ (shown, never applied). */
  ignored: FieldChange[];
  drift: DriftInfo | null;
  impact: Impact;
  security: SecurityFinding[];
  /** Addresses this entry must wait for (roster targets changed in this plan). */
  dependsOn: string[];
  /** Why a repin happens: the addresses (or names) of roster targets that moved. */
  repinReasons?: string[];
  /**
   * Previous name: for `rename`, the live name being changed; for a `create`, the previous name
   * whose locked resource is gone (apply replaces that lockfile entry).
   */
  renamedFrom?: string;
  /**
   * The manifest's `agentform.previous_names`, sorted and without duplicates (absent when none):
   * apply records them in the lockfile entry, where runtimes still asking for an old name find
   * the resource. An entry recording others is a lockfile-only change (`lockOnly` "behind").
   */
  previousNames?: string[];
  request: PlannedRequest | null;
  /** Canonical digest of the desired spec, as it will be recorded in the lockfile. */
  specDigest: string | null;
  /** Set on noop entries whose lockfile entry apply rewrites (or drops) with no API write. */
  lockOnly?: LockOnlyChange;
  /** What a reviewer should know beyond the changes (a secret that could not be checked). */
  notes?: string[];
  /** On `orphan` entries, why it is not pruned (OrphanReason). */
  orphan?: { why: OrphanReason };
}

/**
 * Why an orphan is not pruned: `prune-off` (neither the target's `prune: true` nor `--prune`),
 * `irreversible` (a removal that cannot be undone: only `--prune` on the command line makes it),
 * `still-used` and `would-empty` (the target prunes, but something still uses the resource, or
 * it would remove every resource of its kind: refused under `--prune`, left alone here).
 */
export type OrphanReason = "prune-off" | "irreversible" | "still-used" | "would-empty";

export interface PlanSummary {
  create: number;
  update: number;
  repin: number;
  adopt: number;
  rename: number;
  replace: number;
  noop: number;
  archive: number;
  delete: number;
  orphan: number;
}

export interface Plan {
  formatVersion: 1;
  agentformVersion: string;
  project: string;
  target: string;
  origin: { baseUrl: string; workspaceId: string | null };
  summary: PlanSummary;
  /** Entries in execution (dependency) order. */
  resources: PlannedResource[];
  /** True when any entry has drift.detected. */
  driftDetected: boolean;
  /**
   * Safety-rule violations found while matching (duplicate live names, unmarked resource
   * without adopt, foreign-owned name, prune of everything without allowEmpty). Non-empty ⇒
   * the CLI exits 3 and apply writes nothing.
   */
  refusals: Refusal[];
  /** Set by `plan --out`: digest of manifests, config, lockfile and agentform version. */
  inputsDigest?: string;
  /** Set by `plan --out`: the options it was made with (apply refuses when its own differ). */
  options?: SavedPlanOptions;
  /** Under --only: every address planned (those asked for and what they reference), sorted. */
  only?: string[];
}

export interface Refusal {
  /** Address of the manifest concerned, e.g. "agent.triage". */
  address: string;
  /** Stable code, e.g. "duplicate-live-name", "unmanaged-needs-adopt", "foreign-owner", "prune-everything". */
  code: string;
  message: string;
  hint: string;
  /** Live ids involved (e.g. both duplicates). */
  ids?: string[];
}

/** The plan options a saved plan records; apply must be run with the same ones. */
export interface SavedPlanOptions {
  adopt: boolean;
  prune: boolean;
  allowEmpty: boolean;
  /** --rotate (resend every secret); absent in plans saved before it existed, which means false. */
  rotate?: boolean;
  /** --only: the addresses asked for (absent: the whole project). */
  only?: string[];
}

export interface PlanOptions {
  /** --adopt: take over unmarked live resources with a manifest's name. */
  adopt: boolean;
  /** --prune: archive inventory resources (lockfile + this project's marker) with no manifest. */
  prune: boolean;
  /**
   * The target's `prune: true`: the same, except for kinds whose removal cannot be undone
   * (memory stores), which only `--prune` on the command line archives. Absent means false.
   */
  targetPrune?: boolean;
  /** --allow-empty: permit a prune that would archive every managed resource. */
  allowEmpty: boolean;
  /**
   * --only: plan just these addresses (`agent.triage`) and, transitively, the manifests they
   * reference; nothing else is planned, and nothing is pruned or listed as an orphan.
   */
  only?: readonly string[];
  /**
   * `state transfer --from-project OLD`: resources carrying OLD's marker are this project's to
   * take over (an adopt that rewrites the marker), as the renamed project they are.
   */
  transferFrom?: string;
  agentformVersion: string;
}

/** Everything the pure planner needs, already read from disk and from the API. */
export interface PlanInput {
  project: string;
  target: string;
  origin: { baseUrl: string; workspaceId: string | null };
  manifests: ByKind<LoadedManifest[]>;
  /** Live resources from list calls (archived ones excluded). */
  live: LiveSets;
  lock: Lockfile | null;
  options: PlanOptions;
  /**
   * When pruning: older versions the lockfile still pins (runtimes use them), so a resource one
   * of them references is not removed. Read by the caller; absent when the lockfile is current.
   */
  lockedVersions?: Array<{ kind: ResourceKind; live: LiveResource }>;
  /**
   * For resources holding secrets (vault credentials): whether the environment still holds what
   * was last sent, by `<address>@<live id>` for each live resource the manifest may match, and by
   * `<address>` for one to be created (src/cli/secrets.ts reads the environment; the planner
   * does not, and picks the status of the resource it matched).
   */
  secretStatus?: Readonly<Record<string, SecretStatus>>;
  /**
   * Digests the caller already computed of these very objects (the CLI does it while list pages
   * are still arriving): a live resource's liveDigest, a manifest's specDigest. Anything absent
   * is computed here; a digest given must be what normalize's liveDigest/specDigest return.
   */
  precomputed?: {
    liveDigests?: ReadonlyMap<LiveResource, string>;
    specDigests?: ReadonlyMap<LoadedManifest, string>;
    /**
     * Manifests the caller found equal to a live resource (src/cli/compare-pages.ts, while the
     * lists paged): the manifest's canonical form, with no reference resolved (none asked to
     * be), has no difference from that resource's canonical form. Used only when the planner
     * matches the manifest to that very object and sends it no secret status.
     */
    unchanged?: ReadonlyMap<LoadedManifest, LiveResource>;
  };
}
