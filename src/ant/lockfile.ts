/**
 * The official CLI's lockfile (`claude-lock.json`, written by `ant apply`), read for migration
 * (pure): which resource each file became (kind and id), the version it was left at, and the
 * workspace it lives in. It can come from anyone, so every field is checked and a problem is a
 * coded error naming the file, never a crash.
 */
import path from "node:path";
import { ConfigError } from "../errors.js";
import { KINDS } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import { LineIndex, parseYaml } from "../manifest/source.js";
import { isObj } from "../kinds/values.js";

/** The format version this reader understands; a newer one may mean things it cannot know. */
export const ANT_LOCK_FORMAT = 1;

export interface AntLockEntry {
  /** The key as written: `./…`/`../…` relative to the lockfile's folder, or an `https://` URL. */
  key: string;
  /** For a path key: the resource's path relative to the project root (posix); absent for a URL. */
  rel?: string;
  kind: ResourceKind;
  id: string;
  /** The version the resource was left at, as written (a string; an agent's is an integer's digits). */
  version?: string;
}

export interface AntLock {
  /** The workspace the ids belong to, as far as the lockfile says. */
  origin: { base_url?: string; organization_id?: string; workspace_id?: string } | undefined;
  entries: AntLockEntry[];
}

/**
 * Parse a claude-lock.json whose folder is `lockDir` (relative to the project root, posix; "" for
 * the root). `file` names it in errors.
 */
export function parseAntLock(text: string, file: string, lockDir: string): AntLock {
  const bad = (code: string, what: string, hint: string, at?: string): never => {
    const pos = at === undefined ? { line: 1, column: 1 } : parsed.locate(at);
    throw new ConfigError(code, `${file}:${pos.line}:${pos.column}: ${what}`, { hint });
  };
  const parsed = parseYaml(text, { file, lines: new LineIndex(text) });
  if (parsed.diagnostics.length > 0 || !isObj(parsed.value)) {
    const d = parsed.diagnostics[0];
    throw new ConfigError("AF-ANT-LOCK-INVALID", `${file}:${d?.line ?? 1}:${d?.column ?? 1}: not a claude-lock.json object${d ? ` (${d.message})` : ""}`, { hint: "Restore the file from git; it is written by `ant apply`." });
  }
  const value = parsed.value;
  if (typeof value.version !== "number" || !Number.isInteger(value.version) || value.version < 1) bad("AF-ANT-LOCK-INVALID", "`version` must be a positive integer", "Restore the file from git; it is written by `ant apply`.", "/version");
  if ((value.version as number) > ANT_LOCK_FORMAT) {
    bad("AF-ANT-LOCK-NEWER", `written by a newer ant (format ${String(value.version)}; this agentform reads format ${ANT_LOCK_FORMAT})`, "Upgrade agentform, or migrate from a lockfile written by an ant release using format 1.", "/version");
  }
  if (!isObj(value.resources)) bad("AF-ANT-LOCK-INVALID", "`resources` must be an object of path → resource", "Restore the file from git; it is written by `ant apply`.", "/resources");
  const entries = Object.entries(value.resources as Record<string, unknown>).map(([key, raw]) => entryOf(key, raw, lockDir, bad));
  return { origin: originOf(value.origin, bad), entries };
}

type Bad = (code: string, what: string, hint: string, at?: string) => never;

function entryOf(key: string, raw: unknown, lockDir: string, bad: Bad): AntLockEntry {
  const at = `/resources/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  const hint = "Each entry needs `kind` (agent, environment, skill, vault, memory_store, deployment) and `id`; restore the file from git.";
  if (!isObj(raw)) return bad("AF-ANT-LOCK-INVALID", `the entry ${JSON.stringify(key)} is not an object`, hint, at);
  const kind = raw.kind;
  if (typeof kind !== "string" || !Object.hasOwn(KINDS, kind) || KINDS[kind as ResourceKind].parentKind !== undefined) return bad("AF-ANT-LOCK-INVALID", `the entry ${JSON.stringify(key)} has no known kind`, hint, at);
  if (typeof raw.id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/.test(raw.id)) return bad("AF-ANT-LOCK-INVALID", `the entry ${JSON.stringify(key)} has no valid id`, hint, at);
  const version = typeof raw.version === "string" || typeof raw.version === "number" ? String(raw.version) : undefined;
  const base = { key, kind: kind as ResourceKind, id: raw.id, ...(version !== undefined ? { version } : {}) };
  if (key.startsWith("https://")) return base;
  if (!key.startsWith("./") && !key.startsWith("../")) return bad("AF-ANT-LOCK-KEY", `the key ${JSON.stringify(key)} is neither a ./ or ../ path nor an https:// URL`, hint, at);
  const rel = path.posix.normalize(path.posix.join(lockDir, key)).replace(/\/$/, "");
  if (rel === ".." || rel.startsWith("../") || rel === "." || path.posix.isAbsolute(rel)) {
    return bad("AF-ANT-LOCK-KEY", `the key ${JSON.stringify(key)} leads outside the project`, "A lockfile names files of its own repository only; restore it from git.", at);
  }
  return { ...base, rel };
}

function originOf(raw: unknown, bad: Bad): AntLock["origin"] {
  if (raw === undefined) return undefined;
  if (!isObj(raw)) return bad("AF-ANT-LOCK-INVALID", "`origin` must be an object", "Restore the file from git; it is written by `ant apply`.", "/origin");
  const out: NonNullable<AntLock["origin"]> = {};
  for (const key of ["base_url", "organization_id", "workspace_id"] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") return bad("AF-ANT-LOCK-INVALID", `\`origin.${key}\` must be a string`, "Restore the file from git; it is written by `ant apply`.", `/origin/${key}`);
    out[key] = v;
  }
  return out;
}
