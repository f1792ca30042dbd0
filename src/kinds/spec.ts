/**
 * The KindSpec interface: everything agentform knows about one resource kind. The planner,
 * executor, lockfile, renderers and backends loop over the registry (src/kinds/index.ts) and
 * ask the spec; only src/kinds/ (and src/local/, which stands in for the API) know a kind by name.
 */
import type { AntForm } from "./ant.js";
import type { Findings } from "./findings.js";
import type { Obj } from "./values.js";
import type { KindRef, LiveOf, LockKeyOf, ResourceKind } from "./types.js";
import type { KindRules } from "./rules.js";
import type { FieldChange, PlanAction } from "../plan/types.js";

/**
 * What plan knows of a resource's write-only secrets, computed by the CLI from the environment
 * and the digest kept in the resource's metadata (the planner itself reads no environment):
 * - current: the variables hold what was last sent
 * - rotated: they hold something else (an update resends them)
 * - missing: a variable is not set here (a pull-request plan has none), so nothing is checked
 * - unrecorded: the live resource has no digest agentform can check (made elsewhere), so
 *   nothing is checked until `--rotate` resends them
 * - forced: `--rotate` resends them whatever they hold
 */
export type SecretStatus = "current" | "rotated" | "missing" | "unrecorded" | "forced";

/** The spec key the planner puts a resource's SecretStatus under, for its kind to read (never sent). */
export const SECRET_STATUS_KEY = "$secret";

/** A request body's stand-in for a secret: apply replaces it with the variable's value just before sending. */
export interface SecretPlaceholder {
  $env: string;
}

/** Kinds with write-only secrets: where manifests name their variables, where bodies carry them. */
export interface SecretSpec {
  /**
   * JSON pointers into a request body where a placeholder may stand (a credential's secret fields,
   * a deployment's repository tokens); apply resolves nowhere else.
   */
  bodyPointers(body: Obj): string[];
  /**
   * Whether a body replaces every secret-bearing field whole (a deployment's `resources`): sent
   * without a secret, it leaves none on the server, and apply clears the recorded digest.
   */
  replacesAll?(body: Obj): boolean;
}

/**
 * Manifests one manifest holds for another kind (a vault's credentials), each at a pointer of its
 * file, with the earlier local names it gives itself (`previousLocal`, under the same holder).
 */
export interface NestedManifests {
  readonly kind: ResourceKind;
  of(spec: Obj, name: string): Array<{ name: string; pointer: string; spec: Obj; previousNames: string[] }>;
  /**
   * For import: the entry a live resource of the nested kind becomes in its holder's manifest
   * named `holder` (its local name, what the entry holds, and a change the next plan will show
   * because of how manifests name it), or why it cannot be written.
   */
  fromLive?(live: Obj, holder: string): { local: string; entry: Obj; note?: string } | { reason: string };
}

/** Marks a value that only apply can know (the version a re-pin will point at, a new id). */
export const KNOWN_AFTER_APPLY = "(known after apply)";

/** How a by-name reference resolves for a request body; undefined keeps `{type, ref}`. */
export type BodyRefResolver = (target: KindRef) => ResolvedRef | undefined;

/** A resolved by-name reference: `version` may be the known-after-apply marker string. */
export interface ResolvedRef {
  /** Live id, or the known-after-apply marker when the target is created in the same plan. */
  id: string;
  /** For targets of versioned kinds. */
  version?: number | string;
}

/** How canonical forms resolve by-name references (absent: kept by name). */
export interface DesiredContext {
  resolveRef?: BodyRefResolver;
}

export interface KindSpec<K extends ResourceKind = ResourceKind> {
  readonly kind: K;
  /** The JSON Schema manifests of this kind are validated against (schemas/<schema>.schema.json). */
  readonly schema: K;
  /** The longest name the API accepts, in characters (code points, as the API counts them). */
  readonly maxNameLength: number;
  /** The manifest field holding the resource's name, its identity: `name`, or `display_name` for kinds the API names that way (vaults). */
  readonly nameField: "name" | "display_name";
  /** The default manifest folder (and its key under `paths:` in agentform.yaml). */
  readonly folder: string;
  /**
   * "file": each manifest is one file in the folder; "folder": each manifest is a subfolder
   * named after the resource, whose `manifestFile` holds the manifest and whose every file is
   * content uploaded with it (skills).
   */
  readonly layout: "file" | "folder";
  /** For the folder layout: the file holding the manifest (SKILL.md). */
  readonly manifestFile?: string;
  /**
   * How agentform knows a live resource is this project's: the `agentform.project` metadata
   * marker, or (kinds without metadata) the lockfile entry alone.
   */
  readonly ownership: "marker" | "lockfile";
  /** Who pins a resource of this kind, for messages ("A roster" pins an agent). */
  readonly referencedFrom: string;
  /** File extensions a manifest of this kind may have (lower case, with the dot). */
  readonly extensions: readonly string[];
  /** Whether a parsed file named outside the configured folders looks like a manifest of this kind. */
  looksLike(value: Obj, markdown: boolean): boolean;
  /**
   * The Markdown form of this kind's manifests (`.md` in `extensions`): YAML frontmatter between
   * two `---` lines is the manifest, and the Markdown after it, trimmed and with LF line endings,
   * gives one long text field, which reads and diffs better as prose than as a YAML block scalar
   * (an agent's system prompt). An empty body sets nothing; the frontmatter must not set the field
   * when the body is not empty. Absent: the kind has no Markdown form, and a `.md` file is not one
   * of its manifests (skills, a folder with SKILL.md, are not read this way either).
   */
  readonly markdownBody?: {
    /** The top-level manifest field the body gives (`system`). */
    readonly field: string;
    /**
     * Where the body's text lands inside the field's value, as path segments (a deployment's
     * `["0", "content", "0", "text"]`); absent when the value is the text. Findings in the body
     * (secrets) name this place, as they would in the YAML form.
     */
    readonly textPath?: readonly string[];
    /** What the body is, for messages: "the system prompt". */
    readonly what: string;
    /** The field's value for a body (never empty: an empty body sets nothing). */
    fromBody(text: string): unknown;
    /**
     * The body text whose `fromBody` is `value`, or undefined when the value has another shape
     * (for writing manifests as Markdown; the writer checks that the text survives trimming).
     */
    toBody(value: unknown): string | undefined;
  };
  /**
   * How apply guards against lost updates: "version" sends the version seen at plan time (the
   * API refuses a stale one); "digest" re-reads the resource and compares its live digest
   * before each write (the API has no version to send); "pin" re-reads it and compares what a
   * reference would pin (a skill's latest version id), since a new version is the only change.
   */
  readonly concurrency: "version" | "digest" | "pin";
  /**
   * Whether the API holds only a few calls of this kind in flight at once (environments: 5); the
   * resilience layer then queues them (targets.<name>.environment_concurrency).
   */
  readonly limitedInFlight: boolean;
  /** Whether a metadata value of "" deletes the key (environments), or is stored as a value (agents). */
  readonly emptyMetadataDeletes: boolean;
  /** The lockfile's top-level map for this kind. */
  readonly lockKey: LockKeyOf<K>;
  /**
   * What the lockfile's `version` holds: the version number ("integer": every update makes a new,
   * numbered version references can pin), the id of the version a reference pins ("id", skills),
   * or nothing.
   */
  readonly lockVersion: "integer" | "id" | "none";
  /**
   * The live resource from what the API returned (already shape-checked): kinds whose responses
   * lack a field every kind has (a skill's `name`) fill it here, the one copy of that rule.
   */
  fromApi?(raw: Obj): LiveOf<K>;
  /**
   * What is wrong with a live resource the API returned, beyond what every kind checks (an id, a
   * name): fields comparison relies on (a deployment's agent and resources) missing or of the
   * wrong type, so a broken answer is refused instead of read as something else.
   */
  shapeProblem?(raw: Obj): string | undefined;
  /** What a by-name reference to this resource pins: its version number, or version id; undefined when nothing. */
  pinOf(live: LiveOf<K>): number | string | undefined;
  /**
   * Kinds whose list omits what comparison needs (a skill's file digests): refresh completes
   * each resource it compares with the backend's `detail` (never from the lockfile, which a pull
   * request can edit); `lockDetail` is what the lockfile records of it, for people and runtimes.
   */
  readonly partialList?: {
    lockDetail(live: LiveOf<K>): { files?: Record<string, string> };
  };
  /**
   * Whether request bodies carry files (`files: [{path, sha256}]`) whose bytes apply takes from
   * the manifest's folder, checking each digest, just before sending.
   */
  readonly uploads: boolean;
  /** Whether the API can delete it (otherwise only archive). */
  readonly deletable: boolean;
  /** Whether the API can change the resource's name in place (`agentform.previous_names` renames it). */
  readonly renamable: boolean;
  /** What prune does with a resource no manifest wants: archive it (reversible use stops), or delete it (kinds without archive). */
  readonly removal: "archive" | "delete";
  /** What else a removal takes with it, shown on the plan entry (a vault's credentials). */
  readonly removalNote?: string;
  /**
   * Values a create body spells out that are also what the API assumes when they are left out
   * (an environment's empty package lists): a plan shows a create as the user wrote it, so these
   * are left out of its display wherever the body holds exactly them.
   */
  readonly createDefaults?: Readonly<Record<string, unknown>>;
  /**
   * Whether a removal cannot be undone and takes data with it (a memory store's memories): prune
   * removes one only when `--prune` is on the command line, and plans mark it irreversible.
   */
  readonly irreversible?: boolean;
  /** What `lock get` prints and runtimes use for a lockfile entry (an agent: {type, id, version}). */
  runtimePin(entry: { id: string; version?: number | string }): Record<string, unknown>;
  /** The version a live resource is at, for kinds with versions (recorded in the lockfile, pinned by references). */
  versionOf(live: LiveOf<K>): number | undefined;
  /** What an update of an existing resource does (a new version, or a change in place). */
  readonly updateImpact: "new-version" | "in-place";
  /** Top-level fields the API replaces whole on update (an ignored difference inside is overwritten). */
  readonly wholeFields: ReadonlySet<string>;
  /** Canonical form of a manifest's spec; `context` resolves by-name references. */
  canonicalDesired(spec: Obj, context?: DesiredContext): Obj;
  /**
   * Canonical form of a live resource. `desiredHint` is the desired form it will be compared
   * with: fields the manifest leaves to the server are dropped from the live side.
   */
  canonicalLive(live: LiveOf<K>, desiredHint?: Obj): Obj;
  /** The spec with by-name references resolved where the target is known (request bodies). */
  resolveRefs(spec: Obj, resolve: BodyRefResolver): Obj;
  /** The create body's fields; the generic layer adds the ownership marker to `metadata`. */
  createFields(spec: Obj): Obj;
  /**
   * One top-level field of an update body, as the API's update semantics want it sent; `changed`
   * holds the canonical pointers that changed under it (for fields sent in part).
   */
  fieldBody(field: string, desired: Obj, changed?: readonly string[]): unknown;
  /** Security review of canonical forms; `before` null: the resource is being created. */
  reviewSecurity(findings: Findings, before: Obj | null, after: Obj): void;
  /** The by-name references a manifest's spec holds (`{ref: name}`), in document order. */
  references(spec: Obj): KindRef[];
  /** The ids of other resources a live resource references (an archive waits for them to let go). */
  liveReferenceIds(live: LiveOf<K>): string[];
  /**
   * For a changed pointer of the canonical form: the key of the reference whose version it is,
   * when the reference follows its target's latest version (a re-pin, not an edit); else null.
   * Keys are the target's id, or `ref:<name>` while it has none.
   */
  followedRefKey(pointer: string): string | null;
  /**
   * The kind whose resources hold this kind's (a credential lives in a vault): its manifests come
   * from the parent's (`nested` there), and the backend finds the parent of each id itself.
   */
  readonly parentKind?: ResourceKind;
  /** For kinds inside another: the id of the parent a live resource is in (a credential's vault_id). */
  parentIdOf?(live: LiveOf<K>): string | undefined;
  /** Manifests of another kind held in this kind's manifests (a vault's `credentials:`). */
  readonly nested?: NestedManifests;
  /**
   * A change the API cannot make in place (a credential's server URL): the resource is archived
   * and created again, a `replace`. Absent: every change is an update.
   */
  replaces?(change: FieldChange): boolean;
  /**
   * What the API keeps unique among live resources of this kind beyond the name (a credential's
   * vault and server URL), from a canonical form, as words for messages (`mcp_server_url "…" in
   * vault vlt_…`); undefined when unknown yet. A create whose key
   * a live resource of another name holds is refused at plan time instead of failing at apply.
   */
  uniqueKey?(canonical: Obj): string | undefined;
  /**
   * Whether archiving one frees what creating another needs (a vault's key, one of its 20
   * places) while nothing references this kind: prune's archives then run before the kind's
   * creates and replaces, which wait for them.
   */
  readonly archivesFirst?: boolean;
  /**
   * What `previous_names` must list for a manifest named `name` to claim the live resource named
   * `live` (a credential lists the part after its vault's name); absent: the live name itself.
   */
  previousNameFor?(live: string, name: string): string;
  /** Write-only secrets, read from environment variables at apply (vault credentials). */
  readonly secrets?: SecretSpec;
  /** What a plan entry with this action should say beyond its changes (a secret that could not be checked). */
  notes?(spec: Obj, action: PlanAction): string[];
  /**
   * A state the server put the live resource in that the manifest cannot undo and agentform will
   * not (a deployment paused for an error): the plan reports it as drift, with this reason.
   */
  serverDrift?(live: LiveOf<K>): string | undefined;
  /** Rules beyond the JSON Schema: what the API would reject at write time. */
  readonly rules: KindRules;
  /**
   * The live → manifest conversion (for import): a manifest spec whose canonical form equals
   * the live resource's, with server defaults and read-only fields left out.
   */
  toManifest(live: LiveOf<K>): Obj;
  /**
   * For import: `toManifest`'s output with references to resources that have manifests written
   * by name (`{ref: name}`, a version only where it is not the target's latest); ids kept otherwise.
   * Absent: the kind holds no references.
   */
  namedRefs?(manifest: Obj, nameOf: ImportNameOf): Obj;
  /** How its files in an `ant apply` repository are read, for `import --from-ant`; absent: as they are (no references, no data files). */
  readonly ant?: AntForm;
  /**
   * How the official `ant` CLI reaches this kind: the ant backend reads and writes it through
   * the binary. Absent: the ant backend sends it through the SDK (skills, which ant 1.20 speaks
   * only in the legacy shape, and the kinds newer than it).
   */
  readonly antCommand?: AntCommand;
}

/** A kind's commands in the `ant` CLI. */
export interface AntCommand {
  /** The resource, e.g. `beta:agents` (`ant beta:agents create`). */
  readonly resource: string;
  /** The flag naming one resource, e.g. `--agent-id`; its path parameter is the same with `_`. */
  readonly idFlag: string;
  /** The versions resource of a versioned kind, e.g. `beta:agents:versions`. */
  readonly versions?: string;
  /**
   * Body fields sent as flags (`--multiagent=<json>`), not piped: ant has flags for some of
   * their keys (`multiagent.type`, `multiagent.agents`), fills those from a piped object, and then
   * rebuilds the field from them alone, dropping every other key (a `multiagent_20261001`
   * roster's advisor and subagents). A field given as a flag is taken whole.
   */
  readonly flagFields?: readonly string[];
}

/**
 * For import: the name a live resource has in the manifests being written (or already managed),
 * and what references pin when they follow it (an agent's latest version, a skill's latest
 * version id); undefined when it has no manifest there.
 */
export type ImportNameOf = (kind: ResourceKind, id: string) => { name: string; latest?: number | string } | undefined;
