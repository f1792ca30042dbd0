/**
 * The skill kind: a folder in git (SKILL.md plus the files beside it), versions in the API.
 * No metadata, so the lockfile entry is the only ownership record; no update endpoint, so a
 * changed folder uploads a new version; agents reference a skill by name and follow its latest
 * version (a new version re-pins them).
 */
import type { KindSpec } from "../spec.js";
import { skillCreateFields, skillFieldBody } from "./body.js";
import { canonicalSkillDesired, canonicalSkillLive } from "./canonical.js";
import { SKILL_MANIFEST } from "./files.js";
import { skillRules } from "./rules.js";
import { skillFindings } from "./security.js";

export const skillKind: KindSpec<"skill"> = {
  kind: "skill",
  schema: "skill",
  maxNameLength: 64,
  nameField: "name",
  folder: "skills",
  layout: "folder",
  manifestFile: SKILL_MANIFEST,
  extensions: [".md"],
  // Skills are found only as folders under the skills folder, never by a file's content.
  looksLike: () => false,
  ownership: "lockfile",
  referencedFrom: "An agent",
  concurrency: "pin",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "skills",
  lockVersion: "id",
  pinOf: (live) => live.latest_version_id,
  // The API's skill has display_name (its identity here) and is never archived, only deleted.
  // (`files` is set by the backend from what it uploaded or downloaded; a list item's `files`
  // is never compared: refresh replaces it from the lockfile or a download.)
  fromApi: (raw) => ({ ...raw, name: raw.display_name, archived_at: null }) as never,
  // The list returns no file digests: refresh reads them from the content of the latest version
  // (never from the lockfile, which a pull request can edit); the lockfile records them.
  partialList: {
    lockDetail: (live) => (live.files ? { files: { ...live.files } } : {}),
  },
  uploads: true,
  deletable: true,
  // No update endpoint: display_name cannot change.
  renamable: false,
  // Skills have no archive: prune deletes one (with every version) once nothing references it.
  removal: "delete",
  versionOf: () => undefined,
  runtimePin: (entry) => ({ type: "custom", skill_id: entry.id, version: entry.version }),
  updateImpact: "new-version",
  wholeFields: new Set(["files"]),
  canonicalDesired: (spec) => canonicalSkillDesired(spec),
  canonicalLive: (live) => canonicalSkillLive(live),
  // A skill references nothing.
  resolveRefs: (spec) => spec,
  createFields: skillCreateFields,
  fieldBody: skillFieldBody,
  reviewSecurity: skillFindings,
  references: () => [],
  liveReferenceIds: () => [],
  followedRefKey: () => null,
  rules: skillRules,
  // Import downloads the files separately; the manifest itself only needs the name.
  toManifest: (live) => ({ name: live.display_name }),
};
