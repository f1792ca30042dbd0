/**
 * `agentform import --from-ant <claude-lock.json>`: migrate a repository kept by the official
 * CLI's `ant apply`, in place (docs/import.md). It reads the lockfile and every resource file,
 * checks that the lockfile's workspace is the target's and which tracked ids are still live,
 * converts everything first, and writes only when nothing is wrong: never a partial migration.
 * It sends nothing to the API; the next plan adopts each resource by the id ant recorded.
 */
import { lstatSync, readdirSync, type Stats } from "node:fs";
import path from "node:path";
import { convertAntRepo, type AntFile, type AntIO, type AntOutput, type AntResult } from "../ant/convert.js";
import { parseAntLock, type AntLock } from "../ant/lockfile.js";
import { ConfigError, ExitCode, SafetyError } from "../errors.js";
import { addressOf, byKind, KIND_ORDER, kindSpec } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import { fileDiag, parseText, readSource, toPosix } from "../manifest/file.js";
import { formatDiagnostics } from "../manifest/format.js";
import { checkManifestValues, loadConfig } from "../manifest/load.js";
import { interpolate, varScope, type VarScope } from "../manifest/vars.js";
import { isObj, type Obj } from "../kinds/values.js";
import type { Diagnostic, ProjectConfig } from "../manifest/types.js";
import { inertText } from "../render/inert.js";
import type { CommandContext } from "./main.js";
import type { FileOp } from "./file-batch.js";
import { writeImport } from "./project-adopt.js";
import { openTarget, type OpenTarget } from "./target.js";
import { listEveryKind } from "./workflow.js";

export interface AntImportFlags {
  fromAnt: string;
  target?: string | undefined;
  config?: string | undefined;
  backend?: "sdk" | "ant" | undefined;
  antPath?: string | undefined;
  dryRun?: boolean | undefined;
}

const RESOURCE_EXTENSIONS = [".md", ".yml", ".yaml", ".json"];

/** Entries read below the kind folders' sub-folders before the walk stops. */
const MAX_WALK_ENTRIES = 10_000;

export async function runAntImport(flags: AntImportFlags, ctx: CommandContext): Promise<number> {
  const config = await loadConfig({ cwd: process.cwd(), configPath: flags.config });
  const lockRel = atProjectRoot(config, path.resolve(process.cwd(), flags.fromAnt), flags.fromAnt);
  const lockRead = readSource(path.join(config.root, lockRel), lockRel);
  if ("diagnostic" in lockRead) {
    throw new ConfigError("AF-ANT-LOCK-READ", `${lockRel}: ${lockRead.diagnostic.message}`, { hint: "Name the claude-lock.json that `ant apply` wrote, at the root of its repository." });
  }
  const lock = parseAntLock(lockRead.text, lockRel, "");
  const target = await openTarget(config, flags.target, { backend: flags.backend, antPath: flags.antPath, env: ctx.io.env });
  try {
    checkOrigin(lock, target, lockRel);
    const { files, subFolderFiles, diagnostics } = readAntFiles(config);
    if (diagnostics.length > 0) throw invalid(diagnostics);
    const live = await listEveryKind(target.backend);
    const liveNames = new Map(KIND_ORDER.flatMap((k) => (live[k] as LiveResource[]).map((l) => [`${k}\0${l.id}`, l.name] as const)));
    const io = projectIO(config);
    const result = convertAntRepo({ files, lock, kindFolders: kindFolders(config), io, liveNames, subFolderFiles });
    if (result.diagnostics.length > 0) throw invalid(result.diagnostics);
    // What is written must pass validate: checked as validate will, before anything is written.
    const problems = checkManifestValues(config, byKind(() => []), convertedValues(result, varScope(config, flags.target)), byKind((k) => result.outputs.filter((o) => o.kind === k && o.text === undefined).map((o) => o.name)));
    if (problems.length > 0) throw invalid(problems);
    // A file written where it was read changes only when its text does (the text read above).
    const read = new Map(files.map((f) => [f.rel, f.text]));
    const changed = result.outputs.filter((o) => o.text !== undefined && (o.rel !== o.from || read.get(o.rel) !== o.text));
    report(result, changed, flags.dryRun === true, ctx);
    if (flags.dryRun !== true) await writeMigration(config, result, changed, ctx);
    return ExitCode.ok;
  } finally {
    await target.close();
  }
}

/**
 * The manifests the migration writes, as the loader will read them: each text parsed, its
 * Markdown body given to the kind's field, its strings interpolated as the loader does (the
 * conversion escaped every `${`, so `$${` reads back as `${` and nothing else changes).
 */
function convertedValues(result: AntResult, scope: VarScope): Array<{ kind: ResourceKind; file: string; value: Obj }> {
  return result.outputs.flatMap((o) => {
    if (o.text === undefined) return [];
    const parsed = parseText(o.text, o.rel, o.rel.toLowerCase().endsWith(".md"));
    if ("code" in parsed || !isObj(parsed.parsed.value)) return [];
    const form = kindSpec(o.kind).markdownBody;
    const body = parsed.body?.text ?? "";
    const value = form !== undefined && body !== "" ? { ...parsed.parsed.value, [form.field]: form.fromBody(body) } : parsed.parsed.value;
    const { agentform, ...rest } = value;
    return [{ kind: o.kind, file: o.rel, value: { ...(interpolate(rest, scope).value as Obj), ...(agentform !== undefined ? { agentform } : {}) } }];
  });
}

function invalid(diagnostics: Diagnostic[]): ConfigError {
  return new ConfigError("AF-ANT-INVALID", `the ant apply repository cannot be migrated; nothing was written:\n${formatDiagnostics(diagnostics, { color: false }).trimEnd()}`, {
    hint: "Fix these in the ant files (they are what `ant apply` would refuse too), then run the import again.",
  });
}

/**
 * The lockfile's name at the project root. Its keys are relative to its folder, and the kind
 * folders are the project's: one folder must be both the ant repository and the agentform project.
 */
function atProjectRoot(config: ProjectConfig, abs: string, given: string): string {
  const rel = toPosix(path.relative(config.root, abs));
  if (rel === "" || rel.includes("/") || path.isAbsolute(rel)) {
    throw new ConfigError("AF-ANT-LOCK-PLACE", `${inertText(given)} is not at the project root (${inertText(config.root)}, the folder of ${config.file})`, {
      hint: `Put ${config.file} beside claude-lock.json, in the folder holding agents/, skills/ and the other kind folders, and run the import there.`,
    });
  }
  return rel;
}

/** The lockfile's ids belong to its workspace: only the target that is that workspace may take them over. */
function checkOrigin(lock: AntLock, target: OpenTarget, lockRel: string): void {
  const trim = (u: string) => u.replace(/\/+$/, "");
  const base = lock.origin?.base_url;
  const urls = [target.backend.baseUrl, target.origin.baseUrl].map(trim);
  if (base !== undefined && !urls.includes(trim(base))) {
    throw new SafetyError("AF-ANT-ORIGIN", `${lockRel} was written against ${inertText(base)}, but target "${inertText(target.name)}" points at ${inertText(target.backend.baseUrl)}`, {
      hint: "Import with the target whose workspace ant applied to (--target), or set that target's base_url.",
    });
  }
  const workspace = lock.origin?.workspace_id;
  if (workspace !== undefined && target.origin.workspaceId !== null && workspace !== target.origin.workspaceId) {
    throw new SafetyError("AF-ANT-ORIGIN", `${lockRel} was written for workspace ${inertText(workspace)}, but target "${inertText(target.name)}" uses ${inertText(target.origin.workspaceId)}`, {
      hint: "Import with the target whose workspace ant applied to (--target).",
    });
  }
}

function kindFolders(config: ProjectConfig): Set<string> {
  return new Set(KIND_ORDER.filter((k) => !kindSpec(k).parentKind).map((k) => folderOf(config, k)));
}

function folderOf(config: ProjectConfig, kind: ResourceKind): string {
  const folder = kindSpec(kind).folder;
  return toPosix(config.paths[folder] ?? folder).replace(/\/+$/, "");
}

/**
 * A path inside the project reached without any symbolic link on the way (every folder and the
 * entry itself checked): what a repository may plant as a link must not lead reads (or the
 * removal of a spliced data file) outside it.
 */
function reachable(config: ProjectConfig, rel: string): { abs: string; stat: Stats } | undefined {
  const segments = rel.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return undefined;
  let stat: Stats | undefined;
  for (let i = 1; i <= segments.length; i++) {
    stat = lstatSync(path.join(config.root, ...segments.slice(0, i)), { throwIfNoEntry: false });
    if (stat === undefined || stat.isSymbolicLink()) return undefined;
  }
  return stat ? { abs: path.join(config.root, ...segments), stat } : undefined;
}

/** Reads inside the project only, never through a symbolic link, bounded as manifests are. */
function projectIO(config: ProjectConfig): AntIO {
  return {
    read(rel) {
      const at = reachable(config, rel);
      if (!at?.stat.isFile()) return undefined;
      const read = readSource(at.abs, rel);
      return "text" in read ? { text: read.text } : { problem: read.diagnostic.message };
    },
    list(rel) {
      const at = rel === "." ? { abs: config.root, stat: lstatSync(config.root) } : reachable(config, rel);
      return at?.stat.isDirectory() ? readdirSync(at.abs, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : undefined;
    },
  };
}

/** Every resource of the repository: files directly in each kind folder, folders of folder kinds. */
function readAntFiles(config: ProjectConfig): { files: AntFile[]; subFolderFiles: string[]; diagnostics: Diagnostic[] } {
  const files: AntFile[] = [];
  const subFolderFiles: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const kind of KIND_ORDER.filter((k) => !kindSpec(k).parentKind)) {
    const folder = folderOf(config, kind);
    const abs = path.join(config.root, ...folder.split("/"));
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) diagnostics.push(fileDiag(folder, "AF-ANT-LINK", "a kind folder that is a symbolic link is not followed by the migration", "Replace the link by the folder itself."));
    if (!stat?.isDirectory()) continue;
    for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = `${folder}/${e.name}`;
      if (e.name.startsWith(".") || /^readme\.md$/i.test(e.name)) continue;
      if (e.isSymbolicLink()) diagnostics.push(fileDiag(rel, "AF-ANT-LINK", "a symbolic link in a kind folder is not followed by the migration", "Replace the link by the file or folder itself."));
      else if (kindSpec(kind).layout === "folder") {
        if (e.isDirectory()) files.push({ rel, kind });
      } else if (e.isDirectory()) {
        subFolderFiles.push(...loadedBelow(path.join(abs, e.name), rel, kindSpec(kind).extensions));
      } else if (e.isFile() && RESOURCE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) {
        const read = readSource(path.join(abs, e.name), rel);
        if ("diagnostic" in read) diagnostics.push(read.diagnostic);
        else files.push({ rel, kind, text: read.text });
      }
    }
  }
  return { files, subFolderFiles, diagnostics };
}

/**
 * Files below a kind folder's sub-folder that agentform's loader would read as manifests (it
 * reads sub-folders too). Links are not followed; the walk stops at a generous number of entries.
 */
function loadedBelow(abs: string, rel: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  const pending: Array<[string, string]> = [[abs, rel]];
  for (let seen = 0; pending.length > 0 && seen < MAX_WALK_ENTRIES; ) {
    const [dir, dirRel] = pending.pop() as [string, string];
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      seen++;
      if (e.name.startsWith(".")) continue;
      if (e.isDirectory()) pending.push([path.join(dir, e.name), `${dirRel}/${e.name}`]);
      else if (e.isFile() && extensions.includes(path.extname(e.name).toLowerCase()) && !/^readme\.md$/i.test(e.name)) out.push(`${dirRel}/${e.name}`);
    }
  }
  return out.sort();
}

function report(result: AntResult, changed: readonly AntOutput[], dryRun: boolean, ctx: CommandContext): void {
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  const changedFrom = new Set(changed.map((o) => o.from));
  for (const o of result.outputs) {
    const address = inertText(addressOf(o.kind, o.name));
    const tracked = o.id !== undefined ? ` (${inertText(o.id)})` : "";
    const where = o.rel === o.from ? inertText(o.rel) : `${inertText(o.from)} -> ${inertText(o.rel)}`;
    const what = o.text === undefined ? "kept as it is" : changedFrom.has(o.from) ? "converted" : "already converted";
    const extra = o.gone !== undefined ? `; ${inertText(o.gone)} is not a live ${o.kind} of the workspace: nothing to adopt by id (the next plan creates it, or asks for adopt if one has its name)` : o.liveName !== undefined ? `; live as "${inertText(o.liveName)}": the adoption renames it` : o.id === undefined ? "; not tracked by claude-lock.json: the next plan creates it" : "";
    out(`${o.id !== undefined ? "~" : "+"} ${address}${tracked} ${where}: ${what}${extra}${dryRun ? " (dry run)" : ""}`);
  }
  for (const rel of result.removals) out(`- ${inertText(rel)}: spliced into the manifests using it; removed (agentform would read it as a manifest)${dryRun ? " (dry run)" : ""}`);
  for (const s of result.skipped) out(`! ${inertText(s.key)} (${inertText(s.id)}): not carried: ${s.why}`);
  const adopted = result.outputs.filter((o) => o.id !== undefined).length;
  out(`Import from ant: ${dryRun ? "would convert" : "converted"} ${changed.length} file(s); ${adopted} resource(s) to adopt by id, ${result.skipped.length} not carried.${dryRun ? "" : " Run `agentform plan`: each tracked resource is an adoption."}`);
}

/** Each manifest through a temporary file and a rename; then the replaced sources and spliced data files; then agentform.yaml's adopt: entries. */
async function writeMigration(config: ProjectConfig, result: AntResult, changed: readonly AntOutput[], ctx: CommandContext): Promise<void> {
  const ops: FileOp[] = [
    ...changed.map((o): FileOp => ({ rel: o.rel, mode: o.rel === o.from ? "replace" : "create", data: o.text as string })),
    ...changed.filter((o) => o.rel !== o.from).map((o): FileOp => ({ rel: o.from, mode: "remove" })),
    ...result.removals.map((rel): FileOp => ({ rel, mode: "remove" })),
  ];
  const byProject = result.outputs.filter((o) => o.id !== undefined && kindSpec(o.kind).ownership !== "marker");
  await writeImport(config, ops, byProject.map((o) => ({ kind: o.kind, name: o.name, id: o.id as string })), ctx);
}
