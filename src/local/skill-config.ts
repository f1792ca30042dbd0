/**
 * The rules of a skill upload: which form parts are allowed, the file paths, the SKILL.md
 * frontmatter, the display name and the size limits. The same functions check request bodies and
 * (through state-check.ts) the skills of a state file, so a stored skill always satisfies the
 * rules an upload would.
 */
import { isMap, isScalar, parseDocument } from "yaml";
import { ApiError, badRequest } from "./api-error.js";
import type { FormPart, MultipartLimits } from "./multipart.js";

/** Most files in one upload (this server's choice; the real limit is not documented). */
export const SKILL_MAX_FILES = 200;
/** Most bytes of file content in one upload, all files together (this server's choice). */
export const SKILL_MAX_TOTAL_BYTES = 10 * 1024 * 1024;
/** Longest file path, in characters. */
export const SKILL_MAX_PATH_LENGTH = 1024;
/** Longest SKILL.md frontmatter, in characters: enough for any real one, and it bounds the YAML parser's work. */
export const SKILL_MAX_FRONTMATTER = 64 * 1024;
export const SKILL_NAME_MAX = 64;
export const SKILL_DESCRIPTION_MAX = 1024;
export const SKILL_DISPLAY_NAME_MAX = 255;

/** Parser limits for a skill upload: every file, one display_name, and a little slack for a clear message. */
export const SKILL_FORM_LIMITS: MultipartLimits = { maxParts: SKILL_MAX_FILES + 2, maxHeaderBytes: 16 * 1024 };

/** One uploaded file: `path` is `<top-dir>/<relative path>`. */
export interface SkillFile {
  path: string;
  data: Buffer;
}

/** What an upload resolves to: the slug and description from SKILL.md, and the files as sent. */
export interface ResolvedSkillFiles {
  name: string;
  description: string;
  files: SkillFile[];
}

const SLUG = /^[a-z0-9-]+$/;
const RESERVED = ["anthropic", "claude"];
// An XML-like tag: `<tag>`, `</tag>`, `<tag attr="x">`, `<tag/>`.
const XML_TAG = /<\/?[A-Za-z][^<>]*>/;
// C0 and C1 controls (CR and LF included) and the Unicode line and paragraph separators.
const NOT_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A path problem names the (truncated) path, so the client can find the file. */
const badPath = (path: string, why: string) => badRequest(`files: ${JSON.stringify(path.slice(0, 200))} ${why}`);

function checkPath(path: string): string[] {
  if (path.length === 0) throw badRequest("files: a file was sent without a filename");
  if (path.length > SKILL_MAX_PATH_LENGTH) throw badPath(path, `is longer than ${SKILL_MAX_PATH_LENGTH} characters`);
  if (path.includes("\\")) throw badPath(path, "contains a backslash; use / between directories");
  if (NOT_SINGLE_LINE.test(path)) throw badPath(path, "contains control characters");
  if (path.startsWith("/")) throw badPath(path, "is absolute; paths are relative, starting with the skill's directory");
  const segments = path.split("/");
  if (segments.some((s) => s === "")) throw badPath(path, "has an empty segment (a leading, trailing or doubled /)");
  if (segments.some((s) => s === "." || s === "..")) throw badPath(path, "contains a . or .. segment");
  if (segments.length < 2) throw badPath(path, "is not inside a top-level directory (expected <skill-dir>/<file>)");
  return segments;
}

/** Every file under one top-level directory, no path twice; returns that directory. */
function checkLayout(files: readonly SkillFile[]): string {
  const seen = new Set<string>();
  let top: string | null = null;
  for (const file of files) {
    const first = checkPath(file.path)[0] as string;
    if (seen.has(file.path)) throw badPath(file.path, "was sent more than once");
    seen.add(file.path);
    top ??= first;
    if (first !== top) throw badRequest(`files: all files must be under one top-level directory (found ${JSON.stringify(top)} and ${JSON.stringify(first.slice(0, 200))})`);
  }
  return top as string;
}

/** The frontmatter block of SKILL.md: between a first line `---` and the next line `---`. */
function frontmatterOf(data: Buffer, where: string): string {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw badRequest(`${where}: is not valid UTF-8`);
  }
  const m = /^(?:\uFEFF)?---[ \t]*\r?\n(?:([\s\S]*?)\r?\n)?---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) throw badRequest(`${where}: must start with YAML frontmatter between two --- lines`);
  const block = m[1] ?? "";
  if (block.length > SKILL_MAX_FRONTMATTER) throw badRequest(`${where}: the frontmatter is longer than ${SKILL_MAX_FRONTMATTER} characters`);
  return block;
}

/** A top-level string field of the frontmatter; an alias, a number or a list is not a string. */
function stringField(map: unknown, key: string, where: string): string {
  const node = isMap(map) ? map.get(key, true) : undefined;
  if (node === undefined || node === null) throw badRequest(`${where}: frontmatter ${key}: is required`);
  if (!isScalar(node) || typeof node.value !== "string") throw badRequest(`${where}: frontmatter ${key}: must be a string`);
  return node.value;
}

/** `name` and `description` from SKILL.md, with the API's rules for both. */
export function readSkillMd(data: Buffer, where: string): { name: string; description: string } {
  const block = frontmatterOf(data, where);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(block, { uniqueKeys: true, strict: true, prettyErrors: false });
  } catch (err) {
    throw badRequest(`${where}: the frontmatter could not be parsed (${(err as Error).message.slice(0, 200)})`);
  }
  const yamlError = doc.errors[0];
  if (yamlError) throw badRequest(`${where}: the frontmatter is not valid YAML (${yamlError.message.split("\n")[0]?.slice(0, 200)})`);
  if (!isMap(doc.contents)) throw badRequest(`${where}: the frontmatter must be a YAML mapping with name and description`);
  const name = stringField(doc.contents, "name", where);
  if (name.length < 1 || name.length > SKILL_NAME_MAX || !SLUG.test(name)) {
    throw badRequest(`${where}: frontmatter name: must be 1 to ${SKILL_NAME_MAX} characters of lowercase letters, digits and hyphens`);
  }
  const reserved = RESERVED.find((word) => name.includes(word));
  if (reserved) throw badRequest(`${where}: frontmatter name: must not contain the reserved word "${reserved}"`);
  const description = stringField(doc.contents, "description", where);
  if (description.trim() === "") throw badRequest(`${where}: frontmatter description: must not be empty`);
  if (description.length > SKILL_DESCRIPTION_MAX) throw badRequest(`${where}: frontmatter description: must be at most ${SKILL_DESCRIPTION_MAX} characters`);
  if (XML_TAG.test(description)) throw badRequest(`${where}: frontmatter description: must not contain XML tags`);
  return { name, description };
}

/**
 * Check a whole upload and read its SKILL.md. Order: count and size limits first (cheap, and a
 * 413 should not depend on which file is malformed), then paths, then SKILL.md.
 */
export function resolveSkillFiles(files: SkillFile[]): ResolvedSkillFiles {
  if (files.length === 0) throw badRequest("files: at least one file is required");
  if (files.length > SKILL_MAX_FILES) throw badRequest(`files: at most ${SKILL_MAX_FILES} files per upload (got ${files.length})`);
  const total = files.reduce((sum, f) => sum + f.data.length, 0);
  if (total > SKILL_MAX_TOTAL_BYTES) {
    throw new ApiError(413, "request_too_large", `files: the files total ${total} bytes; a skill upload may hold at most ${SKILL_MAX_TOTAL_BYTES} bytes`);
  }
  const top = checkLayout(files);
  const skillMd = files.find((f) => f.path === `${top}/SKILL.md`);
  if (!skillMd) throw badRequest(`files: no SKILL.md at the root of the skill directory (expected ${JSON.stringify(`${top}/SKILL.md`)})`);
  const { name, description } = readSkillMd(skillMd.data, `${top}/SKILL.md`);
  if (name !== top) throw badRequest(`files: the top-level directory ${JSON.stringify(top)} must be named after the skill (frontmatter name ${JSON.stringify(name)})`);
  return { name, description, files };
}

/** `display_name`: 1 to 255 characters (code points) on one line. */
export function resolveDisplayName(value: string): string {
  const length = [...value].length;
  if (length < 1 || length > SKILL_DISPLAY_NAME_MAX) throw badRequest(`display_name: must be 1 to ${SKILL_DISPLAY_NAME_MAX} characters`);
  if (NOT_SINGLE_LINE.test(value)) throw badRequest("display_name: must be a single line without control characters");
  return value;
}

/** A plain form field as text. */
function fieldText(part: FormPart): string {
  if (part.filename !== null) throw badRequest(`${part.name}: must be a plain form field, not a file`);
  try {
    return utf8.decode(part.data);
  } catch {
    throw badRequest(`${part.name}: is not valid UTF-8`);
  }
}

/**
 * The parts of a create (`allowDisplayName`) or new-version form. Files may come as `files[]`
 * (what the SDK sends) or `files`; any other part name is refused, as unknown JSON keys are.
 */
export function readSkillForm(parts: readonly FormPart[], allowDisplayName: boolean): { files: SkillFile[]; displayName: string | null } {
  const files: SkillFile[] = [];
  let displayName: string | null = null;
  for (const part of parts) {
    if (part.name === "files[]" || part.name === "files") {
      if (part.filename === null) throw badRequest("files: every file part needs a filename (<skill-dir>/<path>)");
      files.push({ path: part.filename, data: part.data });
    } else if (part.name === "display_name" && allowDisplayName) {
      if (displayName !== null) throw badRequest("display_name: sent more than once");
      displayName = resolveDisplayName(fieldText(part));
    } else {
      throw badRequest(`${part.name.slice(0, 100)}: Extra inputs are not permitted`);
    }
  }
  return { files, displayName };
}
