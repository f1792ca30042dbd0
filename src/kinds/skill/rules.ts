/**
 * The skill kind's rules beyond the JSON Schema: what the API refuses in an upload (the SKILL.md
 * frontmatter, the file limits, the paths) and what makes the uploaded files differ between
 * checkouts (CRLF line endings; names that collide on case-insensitive file systems). Pure:
 * manifests in, diagnostics to the sink; rules that need the bytes read `manifest.uploads`.
 */
import { LineIndex } from "../../manifest/source.js";
import type { LoadedManifest, Position } from "../../manifest/types.js";
import type { KindRules, RuleSink } from "../rules.js";
import { canonicalFiles } from "./canonical.js";
import { pathFoldKey, SKILL_LIMITS, skillPathProblem, textOf } from "./files.js";

const SLUG = /^[a-z0-9-]+$/;
/** Words the API reserves in skill names. */
const RESERVED = ["anthropic", "claude"];
/** An XML-like tag (`<tag>`, `</tag>`, `<tag attr="x">`); a lone `<` or `>` is fine. */
const XML_TAG = /<\/?[A-Za-z][^<>]*>/;

const quote = (s: unknown) => JSON.stringify(s);

/** The skill's folder (`skills/<name>`) and its name: the manifest file sits at its root. */
function folderOf(m: LoadedManifest): { dir: string; name: string } {
  const dir = m.file.includes("/") ? m.file.slice(0, m.file.lastIndexOf("/")) : ".";
  return { dir, name: dir.slice(dir.lastIndexOf("/") + 1) };
}

/** The manifest seen from one of its files, so a diagnostic names that file and a position in it. */
function fileOf(m: LoadedManifest, rel: string, pos: Position = { line: 1, column: 1 }): LoadedManifest {
  return { ...m, file: `${folderOf(m).dir}/${rel}`, locate: () => pos };
}

/** A slug close to `name`, for hints: lower case, every other character a hyphen, reserved words dropped. */
function slugLike(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  for (const word of RESERVED) slug = slug.split(word).join("");
  slug = slug.replace(/-{2,}/g, "-").replace(/^-|-$/g, "").slice(0, SKILL_LIMITS.nameLength);
  return slug === "" ? "my-skill" : slug;
}

function checkName(m: LoadedManifest, sink: RuleSink): void {
  const name = m.spec.name;
  if (typeof name !== "string") return; // the schema reports it
  const rename = `Rename the skill (and its folder), e.g. to ${quote(slugLike(name))}.`;
  if (name.length < 1 || name.length > SKILL_LIMITS.nameLength || !SLUG.test(name)) {
    sink.add(m, ["name"], "AF-SKILL-NAME", `the skill name ${quote(name)} must be 1 to ${SKILL_LIMITS.nameLength} characters of lowercase letters, digits and hyphens`, rename);
  } else {
    const reserved = RESERVED.find((word) => name.includes(word));
    if (reserved) sink.add(m, ["name"], "AF-SKILL-NAME", `the skill name ${quote(name)} contains the reserved word ${quote(reserved)}`, rename);
  }
  const folder = folderOf(m);
  if (name !== folder.name) {
    sink.add(m, ["name"], "AF-SKILL-NAME-MISMATCH", `the SKILL.md name ${quote(name)} differs from its folder's name ${quote(folder.name)}`, `The folder is the skill's identity, and the API wants the uploaded folder named after the skill: rename ${folder.dir}/ or set \`name: ${folder.name}\`.`);
  }
}

function checkDescription(m: LoadedManifest, sink: RuleSink): void {
  const description = m.spec.description;
  if (typeof description !== "string") return; // the schema reports it
  const tag = XML_TAG.exec(description);
  if (description.trim() === "") {
    sink.add(m, ["description"], "AF-SKILL-DESCRIPTION", "the skill description is empty", "Say what the skill does and when to use it: agents choose skills by their description.");
  } else if (description.length > SKILL_LIMITS.descriptionLength) {
    sink.add(m, ["description"], "AF-SKILL-DESCRIPTION", `the skill description has ${description.length} characters; at most ${SKILL_LIMITS.descriptionLength} are allowed`, "Keep the description to a summary; details belong in the body of SKILL.md.");
  } else if (tag) {
    sink.add(m, ["description"], "AF-SKILL-DESCRIPTION", `the skill description contains the XML-like tag ${quote(tag[0].slice(0, 40))}; the API refuses tags there`, "Write it without angle brackets (name the tag in words, or drop the brackets).");
  }
}

/** Count, total size and paths: what the API refuses in an upload. */
function checkLimits(m: LoadedManifest, sink: RuleSink): void {
  const paths = Object.keys(canonicalFiles(m.spec.files));
  const { name } = folderOf(m);
  if (paths.length > SKILL_LIMITS.files) {
    sink.add(m, ["files"], "AF-SKILL-LIMIT", `the skill has ${paths.length} files; an upload may hold at most ${SKILL_LIMITS.files}`, "Remove files the skill does not need (build output, caches, a nested .git), or bundle them into an archive.");
  }
  const total = (m.uploads ?? []).reduce((sum, f) => sum + f.bytes.length, 0);
  if (total > SKILL_LIMITS.totalBytes) {
    sink.add(m, ["files"], "AF-SKILL-LIMIT", `the skill's files total ${total} bytes; an upload may hold at most ${SKILL_LIMITS.totalBytes} (10 MiB)`, "Remove large files the skill does not need; fetch big data at run time instead.");
  }
  for (const rel of paths) {
    const sent = `${name}/${rel}`;
    if (sent.length > SKILL_LIMITS.pathLength) {
      sink.add(fileOf(m, rel), ["files", rel], "AF-SKILL-LIMIT", `the uploaded path ${quote(sent.slice(0, 80) + "…")} has ${sent.length} characters; at most ${SKILL_LIMITS.pathLength} are allowed`, "Shorten the folder or file names.");
    } else {
      // The rule apply and the content download use too: what passes here is never refused there.
      const problem = skillPathProblem(sent);
      if (problem !== undefined) sink.add(fileOf(m, rel), ["files", rel], "AF-SKILL-PATH", `the uploaded path ${quote(sent)} ${problem}; agentform will not upload it`, "Rename the file: upload paths use / between folders and printable characters only (no control or bidirectional characters).");
    }
  }
}

/**
 * Paths that differ only by case or Unicode normalisation (`README.md` and `Readme.md`, NFC and
 * NFD `café.txt`): a macOS or Windows checkout holds one file (or one folder) for both, so it
 * uploads other files than Linux does, and the review shows two names that look alike. Folders
 * count as well (`Docs/a.md` and `docs/b.md` share one folder there). One error per colliding pair.
 */
function checkCollisions(m: LoadedManifest, sink: RuleSink): void {
  const seen = new Map<string, { spelled: string; file: string }>();
  for (const rel of Object.keys(canonicalFiles(m.spec.files))) {
    const segments = rel.split("/");
    for (let n = 1; n <= segments.length; n++) {
      const spelled = segments.slice(0, n).join("/");
      const key = pathFoldKey(spelled);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, { spelled, file: rel });
      } else if (first.spelled !== spelled) {
        const which = n === segments.length ? "" : ` (in the folders ${quote(first.spelled)} and ${quote(spelled)})`;
        sink.add(fileOf(m, rel), ["files", rel], "AF-SKILL-PATH-COLLISION", `the files ${quote(first.file)} and ${quote(rel)} differ only by case or Unicode normalisation${which}; a macOS or Windows checkout holds one of them only`, "Rename (or merge) one of them so the names differ by more than case or Unicode normalisation: a checkout on macOS or Windows would upload other files than one on Linux.");
        break;
      }
    }
  }
}

/** CRLF text files: a checkout with core.autocrlf has other bytes, so another digest and a new version. */
function checkLineEndings(m: LoadedManifest, sink: RuleSink): void {
  const kindFolder = folderOf(m).dir.replace(/\/?[^/]*$/, "") || ".";
  for (const upload of m.uploads ?? []) {
    const text = textOf(upload.bytes);
    const at = text === undefined ? -1 : text.indexOf("\r\n");
    if (at < 0) continue;
    const pos = new LineIndex(text!).position(at);
    sink.add(fileOf(m, upload.path, pos), ["files", upload.path], "AF-SKILL-CRLF", `${upload.path} has CRLF line endings (first on line ${pos.line}); its bytes, and so its digest, differ between checkouts with and without core.autocrlf`, `Add \`${kindFolder}/** text=auto eol=lf\` to .gitattributes and run \`git add --renormalize .\`, so every checkout uploads the same bytes.`, "warning");
  }
}

/** Each skill stands alone: no rule compares skills with each other (names are checked for every kind). */
export const skillRules: KindRules = (skills, _ctx, sink) => {
  for (const m of skills) {
    checkName(m, sink);
    checkDescription(m, sink);
    checkLimits(m, sink);
    checkCollisions(m, sink);
    checkLineEndings(m, sink);
  }
};
