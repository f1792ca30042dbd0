/**
 * The contract of a kind's validation rules (beyond the JSON Schema): what the API would reject
 * at write time. The generic rules every kind shares (names, previous names, metadata) are in
 * src/manifest/rules.ts, which calls each kind's rules with the kind's parsed manifests.
 */
import type { LoadedManifest } from "../manifest/types.js";
import type { ResourceKind } from "./types.js";

/** Where rules report: one diagnostic at a path (segments into the manifest) of a manifest. */
export interface RuleSink {
  add(m: LoadedManifest, segments: ReadonlyArray<string | number>, code: string, message: string, hint: string, severity?: "error" | "warning"): void;
}

export interface RuleContext {
  /**
   * Names of manifests, per kind, whose files exist but did not parse: references to them are
   * not reported as unknown (the parse error is the real problem).
   */
  unparsedNames: (kind: ResourceKind) => readonly string[];
  /** Names of every parsed manifest of a kind, for references across kinds. */
  manifestNames: (kind: ResourceKind) => readonly string[];
  /** Every parsed manifest of a kind, for rules across kinds (an agent's MCP server and the credentials for it). */
  manifestsOf: (kind: ResourceKind) => readonly LoadedManifest[];
  /** Model ids the installed SDK knows; a near miss gets a warning with a suggestion. */
  knownModels?: readonly string[];
  /** Environment variables that hold the project's API keys (each target's api_key_env): never a secret's source. */
  keyVariables?: readonly string[];
}

/** A kind's rules over all of its parsed manifests (some rules compare manifests with each other). */
export type KindRules = (manifests: readonly LoadedManifest[], ctx: RuleContext, sink: RuleSink) => void;
