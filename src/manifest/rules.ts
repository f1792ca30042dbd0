/**
 * The rules every kind shares beyond the JSON Schema (unique, printable names; previous names;
 * metadata within the API's limits and clear of agentform's marker), and the driver that runs
 * them and each kind's own rules (src/kinds/<kind>/rules.ts). Pure: plain manifests in,
 * diagnostics out.
 */
import { KINDS } from "../kinds/index.js";
import { AGENT_LIMITS } from "../kinds/agent/rules.js";
import type { RuleContext, RuleSink } from "../kinds/rules.js";
import type { ByKind, ResourceKind } from "../kinds/types.js";
import { pointerToPath, sortDiagnostics } from "./format.js";
import { toPointer } from "./source.js";
import type { Diagnostic, LoadedManifest } from "./types.js";
import { MAX_PREVIOUS_NAME_LENGTH, MAX_PREVIOUS_NAMES } from "../lock/types.js";

// The tool-counting rule is the agent kind's, but part of this module's public surface.
export { countToolConfigs } from "../kinds/agent/rules.js";

/** Limits on what every kind shares: names and metadata. */
const SHARED_LIMITS = {
  /** 16 on the API, one reserved for agentform's ownership marker. */
  metadataKeys: 15,
  metadataKeyLength: 64,
  metadataValueLength: 512,
} as const;

/** Every API limit agentform checks, in one table for callers (each kind's own live with its rules). */
export const LIMITS = { ...AGENT_LIMITS, ...SHARED_LIMITS } as const;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const quote = (s: unknown) => JSON.stringify(s);

export interface RuleOptions {
  /** Names, per kind, of manifests whose files exist but did not parse: references to them are not "unknown". */
  unparsedNames?: Partial<ByKind<readonly string[]>>;
  /** Names live in the workspace, per kind, when the caller knows them (plan), for rename checks. */
  liveNames?: Partial<ByKind<readonly string[]>>;
  /** Model ids the installed SDK knows; a near miss gets a warning with a suggestion. */
  knownModels?: readonly string[];
  /** The variables holding the project's API keys (each target's api_key_env). */
  keyVariables?: readonly string[];
}

class Sink implements RuleSink {
  readonly out: Diagnostic[] = [];
  add(m: LoadedManifest, segments: ReadonlyArray<string | number>, code: string, message: string, hint: string, severity: "error" | "warning" = "error"): void {
    const pointer = toPointer(segments);
    const pos = m.locate(pointer);
    // A nested manifest's path names where it sits in its file (credentials.github.auth.token).
    this.out.push({ code, severity, file: m.file, line: pos.line, column: pos.column, path: pointerToPath((m.within ?? "") + pointer), message, hint });
  }
}

/**
 * Pure: the rules beyond the schema, over already-parsed (schema-valid) manifests of every kind.
 * Sorted by file, line and column, so the order does not depend on the registry's kind order.
 */
export function checkRules(manifests: ByKind<LoadedManifest[]>, options: RuleOptions = {}): Diagnostic[] {
  const sink = new Sink();
  const kinds = Object.keys(KINDS) as ResourceKind[];
  for (const kind of kinds) {
    checkNames(manifests[kind], kind, sink);
    checkPreviousNames(manifests[kind], kind, options.liveNames?.[kind], sink);
  }
  const ctx: RuleContext = {
    unparsedNames: (kind) => options.unparsedNames?.[kind] ?? [],
    manifestNames: (kind) => manifests[kind].map((m) => m.name),
    manifestsOf: (kind) => manifests[kind],
    ...(options.knownModels ? { knownModels: options.knownModels } : {}),
    ...(options.keyVariables ? { keyVariables: options.keyVariables } : {}),
  };
  for (const kind of kinds) KINDS[kind].rules(manifests[kind], ctx, sink);
  for (const kind of kinds) for (const m of manifests[kind]) checkMetadata(m, sink);
  return sortDiagnostics(sink.out);
}

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional embeddings,
 * overrides and isolates: in a name
 * they make two different resources print alike (or a name print as something else entirely)
 * in plans, logs and the lockfile.
 */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The name quoted with every control character as an escape, so the message shows where they are without carrying them. */
function escapeControls(name: string): string {
  // JSON.stringify already escapes C0; DEL, C1 and the bidi controls it leaves as they are.
  return JSON.stringify(name).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function checkNameChars(m: LoadedManifest, segments: Array<string | number>, name: string, kind: string, sink: RuleSink): void {
  if (!CONTROL_CHARS.test(name)) return;
  sink.add(m, segments, "AF-NAME-CONTROL-CHAR", `the ${kind} name ${escapeControls(name)} contains control or bidirectional-override characters`, "Use printable characters only; invisible characters make different names look alike in plans and logs.");
}

function checkNames(manifests: LoadedManifest[], kind: string, sink: RuleSink): void {
  const byName = new Map<string, LoadedManifest[]>();
  for (const m of manifests) {
    const max = KINDS[m.kind].maxNameLength;
    // Characters as the API counts them: code points, so an emoji is one.
    if (m.name.trim() === "" || [...m.name].length > max) {
      sink.add(m, [nameField(m)], "AF-NAME-INVALID", `the ${kind} name must be 1 to ${max} characters and not blank`, `Give the ${kind} a short, unique name; it is its identity in the workspace.`);
    }
    checkNameChars(m, [nameField(m)], m.name, kind, sink);
    m.settings.previous_names.forEach((prev, i) => checkNameChars(m, ["agentform", "previous_names", i], prev, kind, sink));
    checkPreviousNamesBounds(m, sink);
    byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  }
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const m of group) {
      const others = group.filter((o) => o !== m).map((o) => o.file);
      sink.add(m, [nameField(m)], "AF-NAME-DUPLICATE", `${kind} name ${quote(name)} is also used by ${others.join(", ")}`, `Names identify ${kind}s in the workspace; give each manifest its own name.`);
    }
  }
}

/**
 * A kind the API cannot rename in place (skills: no endpoint changes a display_name) would plan
 * a rename apply cannot do: refused here, once per manifest, before any other previous-name rule.
 */
function checkRenamable(manifests: LoadedManifest[], kind: ResourceKind, sink: RuleSink): boolean {
  const spec = KINDS[kind];
  if (spec.renamable) return true;
  const prune = spec.removal === "delete" ? "prune deletes it" : "prune archives it";
  for (const m of manifests) {
    if (m.settings.previous_names.length === 0) continue;
    sink.add(m, ["agentform", "previous_names"], "AF-RENAME-UNSUPPORTED", `${kind}s cannot be renamed in place`, `Remove previous_names; to rename a ${kind}, create it under the new name and remove the old one (${prune} once nothing uses it).`);
  }
  return false;
}

function checkPreviousNames(manifests: LoadedManifest[], kind: ResourceKind, liveNames: readonly string[] | undefined, sink: RuleSink): void {
  if (!checkRenamable(manifests, kind, sink)) return;
  const current = new Map(manifests.map((m) => [m.name, m]));
  const claimedBy = new Map<string, LoadedManifest>();
  const live = new Set(liveNames ?? []);
  for (const m of manifests) {
    const seen = new Set<string>();
    m.settings.previous_names.forEach((prev, i) => {
      const at = ["agentform", "previous_names", i];
      if (seen.has(prev) || prev === m.name) {
        sink.add(m, at, "AF-PREVIOUS-NAME-DUPLICATE", prev === m.name ? `${quote(prev)} is this ${kind}'s current name` : `${quote(prev)} is listed twice`, "List each earlier name once, and never the current name.");
        return;
      }
      seen.add(prev);
      const owner = current.get(prev);
      if (owner && owner !== m) {
        sink.add(m, at, "AF-PREVIOUS-NAME-COLLISION", `${quote(prev)} is the current name of ${owner.file}`, `A rename source cannot also be another ${kind}'s name; remove it from previous_names.`);
        return;
      }
      const other = claimedBy.get(prev);
      if (other) {
        sink.add(m, at, "AF-PREVIOUS-NAME-DUPLICATE", `${quote(prev)} is also a previous name of ${other.file}`, `Only one ${kind} can be renamed from a given name.`);
        return;
      }
      claimedBy.set(prev, m);
      if (live.has(prev) && live.has(m.name)) {
        sink.add(m, at, "AF-PREVIOUS-NAME-LIVE", `both ${quote(prev)} and ${quote(m.name)} exist in the workspace, so the rename is ambiguous`, `Archive one of them first, or remove ${quote(prev)} from previous_names.`);
      }
    });
  }
}

function checkMetadata(m: LoadedManifest, sink: RuleSink): void {
  const md = m.spec.metadata;
  if (!isObject(md)) return;
  const keys = Object.keys(md);
  // A kind holding secrets keeps their digest in one more key.
  const max = SHARED_LIMITS.metadataKeys - (KINDS[m.kind].secrets ? 1 : 0);
  if (keys.length > max) {
    const reserved = KINDS[m.kind].secrets ? "two keys (agentform.project and agentform.secret_digest)" : "one for its ownership marker (agentform.project)";
    sink.add(m, ["metadata"], "AF-METADATA-TOO-MANY", `${keys.length} metadata keys; at most ${max} are allowed`, `The API allows 16 and agentform reserves ${reserved}.`);
  }
  for (const key of keys) {
    const value = md[key];
    if (key.startsWith("agentform.")) {
      sink.add(m, ["metadata", key], "AF-METADATA-RESERVED", `metadata key ${quote(key)} is reserved for agentform`, "agentform sets agentform.* keys itself; rename the key.");
    } else if (key.length === 0 || key.length > SHARED_LIMITS.metadataKeyLength) {
      sink.add(m, ["metadata", key], "AF-METADATA-KEY", `metadata keys must be 1 to ${SHARED_LIMITS.metadataKeyLength} characters (this one has ${key.length})`, "Shorten the key.");
    }
    if (value === "") {
      sink.add(m, ["metadata", key], "AF-METADATA-EMPTY-VALUE", `metadata value for ${quote(key)} is empty`, "Environments treat \"\" as \"delete this key\" and agents store it as an empty value; remove the key or give it a value.");
    } else if (typeof value === "string" && value.length > SHARED_LIMITS.metadataValueLength) {
      sink.add(m, ["metadata", key], "AF-METADATA-VALUE", `metadata value for ${quote(key)} has ${value.length} characters; at most ${SHARED_LIMITS.metadataValueLength} are allowed`, "Shorten the value, or keep the data elsewhere and store a reference.");
    }
  }
}

/** The manifest field holding a resource's name (`display_name` for vaults). */
function nameField(m: LoadedManifest): string {
  return KINDS[m.kind].nameField;
}

/** The lockfile records a resource's previous names within bounds: say so here, not at plan time. */
function checkPreviousNamesBounds(m: LoadedManifest, sink: RuleSink): void {
  const names = m.settings.previous_names;
  if (names.length > MAX_PREVIOUS_NAMES) {
    sink.add(m, ["agentform", "previous_names"], "AF-PREVIOUS-NAMES-LIMIT", `${names.length} previous names; the lockfile records at most ${MAX_PREVIOUS_NAMES}`, "Keep only the names runtime services may still ask for.");
  }
  names.forEach((prev, i) => {
    if (prev.length <= MAX_PREVIOUS_NAME_LENGTH) return;
    sink.add(m, ["agentform", "previous_names", i], "AF-PREVIOUS-NAMES-LIMIT", `a previous name of ${prev.length} characters; the lockfile records at most ${MAX_PREVIOUS_NAME_LENGTH}`, "Previous names are names the resource had; they are as short as names.");
  });
}
