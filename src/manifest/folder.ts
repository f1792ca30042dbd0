/**
 * One folder-layout manifest (a skill): `<folder>/<name>/` holds the manifest file (SKILL.md,
 * whose YAML frontmatter is the manifest) and every other file uploaded with it. Everything in
 * the folder is read, hidden files included, since everything in it would be uploaded; nothing
 * is skipped silently. Reading is bounded by the upload limits: a folder with more files or
 * bytes than an upload may hold is reported where reading stopped, never read whole. Symbolic
 * links are followed only while they stay inside the folder.
 */
import { lstatSync, opendirSync, realpathSync, type Stats } from "node:fs";
import path from "node:path";
import { KINDS } from "../kinds/index.js";
// The loader stops reading at the upload limits, so it knows them; they live with the kind.
import { scanTextOf, SKILL_LIMITS } from "../kinds/skill/files.js";
import { nullRecord } from "../util/record.js";
import { isObj } from "../kinds/values.js";
import type { ResourceKind } from "../kinds/types.js";
import { decodeSource, fileDiag, isInside, locatorOf, parseText, readBytes, toPosix, type Candidate, type FileReport } from "./file.js";
import { pointerToPath } from "./format.js";
import { schemaDiagnostics } from "./schema.js";
import type { Diagnostic, Position, UploadFile } from "./types.js";
import { varMentions } from "./vars.js";

/** Entries (files and folders) read from one folder before giving up: empty folders cost no upload, but reading them still costs. */
export const MAX_FOLDER_ENTRIES = 5 * SKILL_LIMITS.files;

type Obj = Record<string, unknown>;

/** The file holding a folder-layout kind's manifest. */
export function manifestFileOf(kind: ResourceKind): string {
  return KINDS[kind].manifestFile ?? "MANIFEST.md";
}

/** A walk over one manifest folder: what was read so far, and whether a limit stopped it. */
interface Walk {
  /** The folder's real path: links must stay inside it. */
  real: string;
  /** The folder relative to the project root (forward slashes), for diagnostics. */
  rel: string;
  /** The manifest file relative to the project root: limit diagnostics point at it. */
  manifest: string;
  /** The manifest file's name inside the folder: read first, so a limit never hides it. */
  manifestName: string;
  files: UploadFile[];
  total: number;
  entries: number;
  stopped: boolean;
  diagnostics: Diagnostic[];
}

function stop(w: Walk, message: string, hint: string): void {
  w.stopped = true;
  w.diagnostics.push(fileDiag(w.manifest, "AF-SKILL-LIMIT", message, hint));
}

/** One folder's entry names, sorted (the manifest file first at the root), at most the entry budget. */
function listNames(w: Walk, dir: string, atRoot: boolean): string[] {
  const names: string[] = [];
  const handle = opendirSync(dir);
  try {
    for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
      if (++w.entries > MAX_FOLDER_ENTRIES) {
        stop(w, `${w.rel} holds more than ${MAX_FOLDER_ENTRIES} files and folders; reading stopped there`, "Remove what the skill does not need (build output, caches, a nested .git).");
        break;
      }
      names.push(entry.name);
    }
  } finally {
    handle.closeSync();
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const first = atRoot ? names.indexOf(w.manifestName) : -1;
  if (first > 0) names.unshift(...names.splice(first, 1));
  return names;
}

/** Reads one regular file (or the file a link inside the folder leads to) into the walk, within the limits. */
function readFile(w: Walk, abs: string, rel: string, st: Stats): void {
  const file = `${w.rel}/${rel}`;
  if (w.files.length >= SKILL_LIMITS.files) {
    stop(w, `${w.rel} holds more than ${SKILL_LIMITS.files} files; reading stopped at ${rel}`, "An upload holds at most 200 files: remove what the skill does not need (build output, caches, a nested .git).");
    return;
  }
  const budget = SKILL_LIMITS.totalBytes - w.total;
  const read = st.size > budget ? { over: st.size } : readBytes(abs, file, budget);
  if ("over" in read) {
    stop(w, `${w.rel} holds more than ${SKILL_LIMITS.totalBytes} bytes (10 MiB); reading stopped at ${rel} (${read.over} bytes)`, "An upload holds at most 10 MiB: remove large files the skill does not need, or fetch them at run time.");
    return;
  }
  if ("diagnostic" in read) {
    w.diagnostics.push(read.diagnostic);
    return;
  }
  w.files.push({ path: rel, bytes: read.bytes, sha256: read.sha256 });
  w.total += read.bytes.length;
}

/** A symbolic link: followed only when it resolves inside the folder, and never back into a folder it is in. */
function followLink(w: Walk, abs: string, rel: string, chain: readonly string[]): void {
  const file = `${w.rel}/${rel}`;
  const refuse = (why: string): void => {
    w.diagnostics.push(fileDiag(file, "AF-SKILL-SYMLINK", `this symbolic link ${why}; it was not read`, "Everything a skill uploads must be inside its folder: copy the file in instead of linking to it."));
  };
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return refuse("does not resolve (its target is missing)");
  }
  if (!isInside(real, w.real)) return refuse(`leads outside ${w.rel}/`);
  let st: Stats;
  try {
    st = lstatSync(real);
  } catch {
    return refuse("does not resolve (its target is missing)");
  }
  if (!st.isDirectory()) return readFile(w, real, rel, st);
  if (chain.includes(real)) return refuse("leads back into a folder it is in (a loop)");
  walkDir(w, real, rel, [...chain, real]);
}

/** Every entry of one folder, depth first, in sorted order. */
function walkDir(w: Walk, dir: string, relDir: string, chain: readonly string[]): void {
  let names: string[];
  try {
    names = listNames(w, dir, relDir === "");
  } catch (err) {
    w.diagnostics.push(fileDiag(relDir === "" ? w.rel : `${w.rel}/${relDir}`, "AF-FILE-READ", `cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the folder is readable."));
    return;
  }
  for (const name of names) {
    if (w.stopped) return;
    const abs = path.join(dir, name);
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch (err) {
      w.diagnostics.push(fileDiag(`${w.rel}/${rel}`, "AF-FILE-READ", `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the path exists and is readable."));
      continue;
    }
    if (st.isSymbolicLink()) followLink(w, abs, rel, chain);
    else if (st.isDirectory()) walkDir(w, abs, rel, [...chain, realpathSync(abs)]);
    // Not-regular entries (FIFOs, devices) are refused by readBytes, never skipped.
    else readFile(w, abs, rel, st);
  }
}

/** Read every file of a manifest folder, bounded by the upload limits; paths relative to the folder, sorted. */
export function readManifestFolder(folderAbs: string, root: string, manifestName: string): { files: UploadFile[]; diagnostics: Diagnostic[]; stopped: boolean } {
  const rel = toPosix(path.relative(root, folderAbs));
  let real: string;
  try {
    real = realpathSync(folderAbs);
  } catch (err) {
    return { files: [], stopped: false, diagnostics: [fileDiag(rel, "AF-FILE-READ", `cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the folder exists and is readable.")] };
  }
  const w: Walk = { real, rel, manifest: `${rel}/${manifestName}`, manifestName, files: [], total: 0, entries: 0, stopped: false, diagnostics: [] };
  walkDir(w, folderAbs, "", [real]);
  w.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: w.files, diagnostics: w.diagnostics, stopped: w.stopped };
}

const SKILL_MD_HINT = "SKILL.md starts with YAML frontmatter between two `---` lines (name, description); the Markdown after it is the skill's instructions.";

function noManifest(report: FileReport, folder: string, files: UploadFile[], manifestName: string): Diagnostic {
  const near = files.find((f) => f.path.toLowerCase() === manifestName.toLowerCase());
  const hint = near ? `Rename ${near.path} to ${manifestName}: the name is exact, upper case included.` : `Add ${folder}/${manifestName} (frontmatter with name and description), or move the folder out of the skills folder.`;
  return fileDiag(report.file, "AF-SKILL-NO-MANIFEST", `the folder ${folder}/ has no ${manifestName}, so it is not a skill`, hint);
}

/**
 * Read, parse and schema-check one folder-layout manifest. The manifest file's frontmatter is
 * the value (its body is content, uploaded as is); `folder.uploads` holds every file. Never
 * throws for bad content.
 */
export function analyzeFolder(candidate: Candidate & { folder: string }, root: string): FileReport {
  const kind = candidate.kind === "auto" ? (Object.keys(KINDS) as ResourceKind[]).find((k) => KINDS[k].layout === "folder")! : candidate.kind;
  const manifestName = manifestFileOf(kind);
  const read = readManifestFolder(candidate.folder, root, manifestName);
  const folderRel = toPosix(path.relative(root, candidate.folder));
  const report: FileReport = { file: `${folderRel}/${manifestName}`, kind, markdown: true, diagnostics: read.diagnostics, folder: { path: folderRel, name: path.basename(candidate.folder), uploads: read.files } };
  const manifest = read.files.find((f) => f.path === manifestName);
  if (!manifest) {
    // A manifest that was there but could not be read is already reported.
    if (!read.diagnostics.some((d) => d.file === report.file)) report.diagnostics.push(noManifest(report, folderRel, read.files, manifestName));
    return report;
  }
  report.sha256 = manifest.sha256;
  const decoded = decodeSource(manifest.bytes, manifest.sha256, report.file);
  if ("diagnostic" in decoded) {
    report.diagnostics.push(decoded.diagnostic);
    return report;
  }
  report.text = decoded.text;
  const parsed = parseText(decoded.text, report.file, true, SKILL_MD_HINT);
  if ("code" in parsed) {
    report.diagnostics.push(parsed);
    return report;
  }
  report.diagnostics.push(...parsed.parsed.diagnostics);
  if (parsed.parsed.diagnostics.length > 0 || !isObj(parsed.parsed.value)) return report;
  report.value = parsed.parsed.value;
  report.diagnostics.push(...schemaDiagnostics(KINDS[kind].schema, report.value, { file: report.file, locate: locatorOf(parsed) }));
  report.diagnostics.push(...varWarnings(kind, report.value, report.file, locatorOf(parsed)));
  return report;
}

/**
 * A folder manifest is uploaded byte for byte and checked by digest, so `${vars.NAME}` in it is
 * never replaced (nor can it be, without uploading other bytes than the digests name). A
 * reference in its frontmatter is almost certainly meant as one: a warning says it stays text.
 */
function varWarnings(kind: ResourceKind, value: Obj, file: string, locate: (pointer: string) => Position): Diagnostic[] {
  return varMentions(value).map((pointer) => {
    const pos = locate(pointer);
    return {
      code: "AF-VAR-IN-SKILL",
      severity: "warning",
      file,
      line: pos.line,
      column: pos.column,
      path: pointerToPath(pointer),
      message: `\`\${vars.…}\` is not replaced in a ${kind}: its ${manifestFileOf(kind)} and files are uploaded exactly as written`,
      hint: `Write the value itself: a ${kind} is the same in every target, and its text is uploaded as it is (\`$\${\` too).`,
    };
  });
}

/** The spec of a folder manifest: `{name, description, files}`, files mapping each path to its sha256 (sorted). */
export function folderSpec(report: FileReport): Obj {
  const value = report.value ?? {};
  // Paths are keys: without a prototype, a file named `__proto__` is a key like any other.
  const files = nullRecord((report.folder?.uploads ?? []).map((f) => [f.path, f.sha256] as const));
  return { name: value.name, description: value.description, files };
}

/**
 * Every file of a folder manifest as text for the secret scan: everything in the folder is
 * uploaded, so nothing is skipped for its encoding (see scanTextOf). The manifest file is left
 * out only when it was read as text, since the manifest scan covers it then.
 */
export function folderTexts(report: FileReport): Array<{ file: string; text: string }> {
  if (!report.folder) return [];
  const out: Array<{ file: string; text: string }> = [];
  for (const f of report.folder.uploads) {
    const file = `${report.folder.path}/${f.path}`;
    if (file !== report.file || report.text === undefined) out.push({ file, text: scanTextOf(f.bytes) });
  }
  return out;
}

/** The manifest file owning a file inside one of the reports' folders (the file itself otherwise). */
export function ownerOf(reports: readonly FileReport[]): (file: string) => string {
  const byFolder = new Map(reports.filter((r) => r.folder).map((r) => [r.folder!.path, r.file]));
  return (file) => {
    for (let cut = file.lastIndexOf("/"); cut > 0; cut = file.lastIndexOf("/", cut - 1)) {
      const owner = byFolder.get(file.slice(0, cut));
      if (owner !== undefined) return owner;
    }
    return file;
  };
}
