/**
 * Skill request bodies (pure). There is no update endpoint: a change uploads a whole new
 * version, so `files` is always the complete list. Each path carries the `<name>/` prefix the
 * API requires (every file under one top-level folder named after the skill, SKILL.md at its
 * root); apply replaces each entry's digest by the bytes it names, checking the digest.
 */
import { isObj, type Obj } from "../values.js";
import { canonicalFiles } from "./canonical.js";

/** One file of an upload: its path as sent (`<name>/<relative path>`) and the sha256 of its bytes. */
export interface SkillUploadEntry {
  path: string;
  sha256: string;
}

/** Every file as `{path: "<name>/<relative path>", sha256}`, sorted by path. */
export function uploadList(name: unknown, files: unknown): SkillUploadEntry[] {
  const top = String(name);
  // canonicalFiles sorts the relative paths; a shared prefix keeps that order.
  return Object.entries(canonicalFiles(isObj(files) ? files : {})).map(([path, sha256]) => ({ path: `${top}/${path}`, sha256 }));
}

/** The create body: the display name (the slug, as the folder is named) and every file. */
export function skillCreateFields(spec: Obj): Obj {
  return { display_name: spec.name, files: uploadList(spec.name, spec.files) };
}

/**
 * One field of a new version's body. `files` is the whole upload. `desired` may be the canonical
 * form (`display_name`) or the manifest spec (`name`, what the planner passes): both name the
 * folder the same. The display name cannot change after create (no update endpoint).
 */
export function skillFieldBody(field: string, desired: Obj): unknown {
  if (field === "files") return uploadList(desired.display_name ?? desired.name, desired.files);
  const v = desired[field];
  return v === undefined ? null : v;
}
