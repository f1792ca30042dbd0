/**
 * Data shapes produced by manifest loading and validation (src/manifest) and consumed by the
 * planner. Everything here is plain data except `locate`, a lookup into the source positions
 * of the parsed file.
 */
import type { ByKind, ResourceKind } from "../kinds/types.js";

/** 1-based line and column in a source file. */
export interface Position {
  line: number;
  column: number;
}

export type Severity = "error" | "warning";

/**
 * One problem found in a manifest or in the project config. Sorted by file, line, column
 * when reported. `code` is stable (documented in docs/diagnostics.md), e.g. "AF-SCHEMA",
 * "AF-REF-UNKNOWN".
 */
export interface Diagnostic {
  code: string;
  severity: Severity;
  /** Path relative to the project root, with forward slashes. */
  file: string;
  line: number;
  column: number;
  /** Human path into the document, e.g. `tools[0].configs[2].name`; "" for the document itself. */
  path: string;
  message: string;
  hint?: string;
}

/** The `agentform:` block of a manifest: reconciler settings, never sent to the API. */
export interface ManifestSettings {
  /** Earlier names: a live resource found under one of them is renamed in place. */
  previous_names: string[];
  /** Take over an existing unmanaged resource of the same name. */
  adopt: boolean;
  /** `adopt: "<id>"`: take over only the live resource with this id (a same-name one with another id is refused). */
  adoptId?: string;
  /** JSON pointers (into the API body) left to someone else: never diffed, never sent on update. */
  ignore: string[];
}

export interface LoadedManifest {
  kind: ResourceKind;
  /** The manifest's `name`, its identity within the kind. */
  name: string;
  /** Path relative to the project root, with forward slashes. */
  file: string;
  /**
   * The API create body (snake_case), without the `agentform:` block. For `.md` agents the
   * trimmed Markdown body is `system`. References to other manifests are `{ref: name}` entries (each kind's spec lists them).
   */
  spec: Record<string, unknown>;
  settings: ManifestSettings;
  /** For a manifest written inside another's file (a vault's credential): where in that file, as a JSON pointer. */
  within?: string;
  /** Source position of a JSON pointer into `spec` (or into the file), falling back to the document start. */
  locate(pointer: string): Position;
  /**
   * Folder-layout kinds (skills): every file of the folder as read, path relative to the folder
   * (forward slashes), with its sha256. `spec.files` maps the same paths to the same digests.
   */
  uploads?: ReadonlyArray<UploadFile>;
}

/** One file of a folder-layout manifest, as read from disk. */
export interface UploadFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

export interface TargetConfig {
  base_url?: string;
  /** Name of the environment variable that holds the API key; default ANTHROPIC_API_KEY. */
  api_key_env?: string;
  workspace_id?: string;
  /** Use the embedded local control plane (no key needed). */
  local?: boolean;
  /** Local control plane state file, relative to the project root (local targets only). */
  state_file?: string;
  backend?: "sdk" | "ant";
  /**
   * Archive inventory resources whose manifest is gone on every apply, as `--prune` does, except
   * kinds whose removal cannot be undone (memory stores): those only with `--prune`.
   */
  prune?: boolean;
  /**
   * Write pacing: the most writes per minute; default 150, about half the API's documented 300
   * creates a minute, which the runtime's own session creates share. A 429 halves the pace (and
   * honours retry-after); runs of successful writes raise it back, never above this value
   * (docs/apply.md, "Retries, pacing and lost responses").
   */
  writes_per_minute?: number;
  environment_concurrency?: number;
  /** This target's values for `${vars.NAME}` in manifests, over the top-level `vars` (docs/manifests.md, "Per-target values"). */
  vars?: Record<string, VarValue>;
}

/** A per-target value: what `${vars.NAME}` in a manifest becomes. */
export type VarValue = string | number | boolean;

export interface ProjectConfig {
  /** Ownership marker value: [a-z0-9-], at most 40 characters. */
  project: string;
  /** Directories scanned for manifests, relative to the project root, by each kind's folder name (`paths.agents`). */
  paths: Readonly<Record<string, string>>;
  /** Always at least one target; "default" when the file declares none. */
  targets: Record<string, TargetConfig>;
  /** Values for `${vars.NAME}` in manifests, for every target; a target's own `vars` override them. */
  vars?: Record<string, VarValue>;
  /** `adopt:`: address (`<kind>/<name>`) → true or the id to take over, for manifests that cannot say it themselves (skills). */
  adopt?: Record<string, true | string>;
  /** Absolute path of the project root (the folder holding agentform.yaml). */
  root: string;
  /** agentform.yaml relative to root, for diagnostics. */
  file: string;
}

/** What loading a project yields: manifests that parsed, plus every problem found. */
export interface LoadResult {
  config: ProjectConfig;
  /** Manifests without errors, per kind, sorted by file. */
  manifests: ByKind<LoadedManifest[]>;
  diagnostics: Diagnostic[];
  /** Every input file read (config and manifests) with the sha256 of its bytes, sorted by file; for saved-plan staleness checks. */
  sources: Array<{ file: string; sha256: string }>;
}

/** The metadata key that marks ownership (docs/manifests.md). */
export const OWNERSHIP_KEY = "agentform.project";

/**
 * The metadata key where a resource holding secrets (a vault credential) keeps the salted, slow
 * digest of the secrets agentform last sent (src/kinds/credential/secret-digest.ts).
 */
export const SECRET_DIGEST_KEY = "agentform.secret_digest";

/** Metadata keys that are agentform's own: never diffed, never removed by an update, refused in manifests. */
export const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set([OWNERSHIP_KEY, SECRET_DIGEST_KEY]);
