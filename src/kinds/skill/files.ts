/**
 * What agentform knows about a skill's files (pure, no imports): the limits an upload must stay
 * within, and which files are text. The rules check them (src/kinds/skill/rules.ts), and the
 * loader stops reading a folder at them (src/manifest/folder.ts): a skill folder that holds
 * gigabytes is reported, never read whole.
 */

/**
 * The API's limits on one upload. The real API documents none for file count and size; these
 * are the local control plane's choices (docs/local-control-plane.md, "Skills"), so what
 * validates here uploads there.
 */
export const SKILL_LIMITS = {
  /** Files per upload. */
  files: 200,
  /** Bytes of file content per upload, all files together (10 MiB). */
  totalBytes: 10 * 1024 * 1024,
  /** Characters of an uploaded path, `<name>/<relative path>`. */
  pathLength: 1024,
  /** SKILL.md frontmatter `name`. */
  nameLength: 64,
  /** SKILL.md frontmatter `description`. */
  descriptionLength: 1024,
} as const;

/** The file holding a skill's manifest, at the root of its folder (exact case: the API wants this name). */
export const SKILL_MANIFEST = "SKILL.md";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A file's text when it is text (valid UTF-8 without NUL bytes), else undefined. Binary files
 * (images, archives) are uploaded as they are; only text is scanned for secrets or line endings.
 */
export function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
