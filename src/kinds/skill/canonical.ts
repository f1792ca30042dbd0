/**
 * The canonical form of a skill (pure): its display name and the sha256 of each file, by path
 * relative to the skill's folder. Skill content cannot be read back as a spec, so the digests
 * are what is compared: an unchanged folder never uploads, and the diff names the files that
 * changed (docs/manifests.md, "Skills").
 */
import type { LiveSkill } from "../types.js";
import { nullRecord, ownValue } from "../../util/record.js";
import { isObj, type Obj } from "../values.js";

/**
 * path → sha256, string digests only, keys sorted (code-unit order, as on every machine). A
 * record without a prototype: a file may be named `__proto__` or `constructor`, and on a plain
 * object the first would replace the prototype (the file silently gone) and the second be found
 * where there is none.
 */
export function canonicalFiles(v: unknown): Record<string, string> {
  const out = nullRecord<string>();
  if (!isObj(v)) return out;
  for (const path of Object.keys(v).sort()) {
    const digest = ownValue(v, path);
    if (typeof digest === "string") out[path] = digest;
  }
  return out;
}

/** The manifest spec `{name, description, files}`: the name is the display name (and the slug). */
export function canonicalSkillDesired(spec: Obj): Obj {
  return { display_name: spec.name ?? null, files: canonicalFiles(spec.files) };
}

/**
 * The live skill: `files` are its latest version's digests, when known (the list omits them;
 * refresh completes them from the lockfile or the version's content).
 */
export function canonicalSkillLive(live: LiveSkill): Obj {
  return { display_name: live.display_name, files: canonicalFiles(live.files ?? {}) };
}
