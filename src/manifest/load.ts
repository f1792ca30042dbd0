/**
 * Finding and reading the project: agentform.yaml, then every manifest file under the
 * configured folders. Bad manifests never throw; they become diagnostics, so one run reports
 * every problem. A missing or broken agentform.yaml does throw (ConfigError, exit 4): without
 * it there is nothing to validate against.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ByKind, ResourceKind } from "../kinds/types.js";
import { byKind, KIND_ORDER, KINDS } from "../kinds/index.js";
import { nullRecord, ownValue } from "../util/record.js";
import { eachInSlices, letThrough, mapInSlices } from "../util/slices.js";
import { formatDiagnostics, sortDiagnostics } from "./format.js";
import { checkRules } from "./rules.js";
import { knownModels, schemaDiagnostics } from "./schema.js";
import { analyzeFile, fileDiag, isInside, lazyLocator, readSource, spotLocator, toPosix, type Candidate, type FileReport } from "./file.js";
import { analyzeFolder, folderSpec, folderTexts, manifestFileOf, ownerOf } from "./folder.js";
import { scanTexts, scrubDiagnostic, secretDiagnostics } from "./secrets.js";
import { LineIndex, parseYaml, toPointer, type ParsedYaml } from "./source.js";
import type { Diagnostic, LoadResult, LoadedManifest, ManifestSettings, ProjectConfig, TargetConfig, VarValue } from "./types.js";
import { defaultTarget, varScope } from "./vars.js";

export { MAX_FILE_BYTES } from "./file.js";

export const CONFIG_FILE = "agentform.yaml";


/** Any kind's extension: a file whose kind is not known yet (auto) may be any of them. */
const ANY_EXTENSIONS = [...new Set(Object.values(KINDS).flatMap((k) => k.extensions))];

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// agentform.yaml

const configHashes = new WeakMap<ProjectConfig, { file: string; sha256: string }>();

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function findConfig(cwd: string): Promise<string | undefined> {
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE);
    if (await exists(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Text offset → field of agentform.yaml, for secret findings. */
function configSpot(parsed: ParsedYaml, lines: LineIndex): (offset: number) => { segments?: string[]; inKey: boolean; position: { line: number; column: number } } {
  return (offset) => {
    const node = parsed.nodeAt(offset);
    const position = node.inScalar ? parsed.locate(toPointer(node.segments)) : lines.position(offset);
    return node.inScalar ? { segments: node.segments, inKey: node.inKey, position } : { inKey: false, position };
  };
}

/** A var's value found to look like a secret: where secrets go instead. */
const VAR_SECRET_HINT = "Vars are committed with agentform.yaml and written into manifests: keep secrets in environment variables (a vault credential's `token_env`, a target's `api_key_env`), and rotate this one: it is in your git history.";

/** Under `vars:` or `targets.<name>.vars:` (diagnostic paths as pointerToPath writes them). */
const VARS_PATH = /^(targets(\.[^.[]+|\[[^\]]+\])\.)?vars(\.|\[|$)/;

/** `paths:` entries that leave the project folder (absolute, or climbing out with `..`). */
function outsidePaths(value: unknown, locate: (pointer: string) => { line: number; column: number }, file: string): Diagnostic[] {
  const paths = isObject(value) && isObject(value.paths) ? value.paths : {};
  const out: Diagnostic[] = [];
  for (const key of KIND_ORDER.map((k) => KINDS[k].folder)) {
    const given = paths[key];
    if (typeof given !== "string" || isInside(path.resolve("/project", given), "/project")) continue;
    const pos = locate(`/paths/${key}`);
    out.push({ code: "AF-PATH-OUTSIDE", severity: "error", file, line: pos.line, column: pos.column, path: `paths.${key}`, message: `${JSON.stringify(given)} is outside the project folder`, hint: "Manifest folders are relative paths inside the folder that holds agentform.yaml." });
  }
  return out;
}

/** `all` names every target on the command line (`plan --target all`), so no target may take it. */
function reservedTargets(value: unknown, locate: (pointer: string) => { line: number; column: number }, file: string): Diagnostic[] {
  const targets = isObject(value) && isObject(value.targets) ? value.targets : {};
  if (!Object.hasOwn(targets, "all")) return [];
  const pos = locate("/targets/all");
  return [{ code: "AF-TARGET-RESERVED", severity: "error", file, line: pos.line, column: pos.column, path: "targets.all", message: `the target name "all" is reserved: \`--target all\` means every target`, hint: "Rename the target (its lockfile is agentform.<target>.lock.json: rename that too)." }];
}

/**
 * Find agentform.yaml (walking up from `cwd` unless `configPath` is given) and parse and
 * validate it. Throws ConfigError (exit 4) naming file:line:col when it is missing or invalid.
 */
export async function loadConfig(options: { cwd: string; configPath?: string | undefined }): Promise<ProjectConfig> {
  const abs = options.configPath !== undefined ? path.resolve(options.cwd, options.configPath) : await findConfig(options.cwd);
  if (abs === undefined || !(await exists(abs))) {
    throw new ConfigError(
      "AF-CONFIG-MISSING",
      abs === undefined ? `no ${CONFIG_FILE} found in ${options.cwd} or any parent folder` : `config file ${options.configPath} does not exist`,
      { hint: `Create ${CONFIG_FILE} with at least \`project: <name>\` (see docs/manifests.md), or pass --config FILE.` },
    );
  }
  const root = path.dirname(abs);
  const file = toPosix(path.relative(root, abs));
  const read = readSource(abs, file);
  const fail = (diags: Diagnostic[]): never => {
    const sorted = sortDiagnostics(diags);
    throw new ConfigError("AF-CONFIG-INVALID", `${file} is invalid:\n${formatDiagnostics(sorted, { color: false }).trimEnd()}`, {
      hint: sorted[0]?.hint ?? "Fix agentform.yaml; see docs/manifests.md.",
      details: { diagnostics: sorted, root },
    });
  };
  if ("diagnostic" in read) return fail([read.diagnostic]);
  const lines = new LineIndex(read.text);
  const parsed = parseYaml(read.text, { file, lines });
  const [textFindings] = await scanTexts([read.text]);
  const secrets = secretDiagnostics(
    { file, ...(parsed.diagnostics.length === 0 ? { value: parsed.value } : {}), textFindings: textFindings!, spot: configSpot(parsed, lines), locate: parsed.locate },
    "Keep the key in an environment variable and set the target's api_key_env to that variable's name; rotate the key: it is in your git history.",
  );
  const scrub = (diags: Diagnostic[]) => diags.map((d) => scrubDiagnostic(d, secrets.secrets));
  const secretDiags = secrets.diagnostics.map((d) => (VARS_PATH.test(d.path) ? { ...d, hint: VAR_SECRET_HINT } : d));
  if (parsed.diagnostics.length > 0) return fail(scrub([...parsed.diagnostics, ...secretDiags]));
  const problems = [...schemaDiagnostics("project", parsed.value, { file, locate: parsed.locate }), ...secretDiags, ...outsidePaths(parsed.value, parsed.locate, file), ...reservedTargets(parsed.value, parsed.locate, file)];
  if (problems.length > 0) return fail(scrub(problems));
  const value = parsed.value as { project: string; paths?: Record<string, string>; targets?: Record<string, TargetConfig>; vars?: Record<string, VarValue>; adopt?: Record<string, true | string> };
  const targets = value.targets && Object.keys(value.targets).length > 0 ? value.targets : { default: {} };
  const config: ProjectConfig = {
    project: value.project,
    paths: Object.fromEntries(KIND_ORDER.map((k) => [KINDS[k].folder, ownValue(value.paths ?? {}, KINDS[k].folder) ?? KINDS[k].folder])),
    targets,
    ...(value.vars !== undefined ? { vars: value.vars } : {}),
    ...(value.adopt !== undefined ? { adopt: nullRecord(Object.entries(value.adopt)) } : {}),
    root,
    file,
  };
  configHashes.set(config, { file, sha256: read.sha256 });
  return config;
}

// ---------------------------------------------------------------------------------------------
// manifests


/** Where a scan is: the project root (real path, symlinks resolved) and where refusals go. */
interface ScanContext {
  root: string;
  realRoot: string;
  diagnostics: Diagnostic[];
  /** Real paths of the folders scanned so far (a folder reached twice through links is read once). */
  visited?: Set<string>;
}

function outsideDiag(ctx: ScanContext, abs: string, what: string): Diagnostic {
  const file = toPosix(path.relative(ctx.root, abs));
  return fileDiag(file, "AF-PATH-OUTSIDE", `${what} leads outside the project folder; it was not read`, "agentform reads only files inside the folder that holds agentform.yaml; copy the file in instead of linking to it.");
}

/** Whether `abs`, with every symlink resolved, is inside the project; undefined when it does not resolve. */
async function resolvesInside(ctx: ScanContext, abs: string): Promise<boolean | undefined> {
  const real = await realpath(abs).catch(() => undefined);
  return real === undefined ? undefined : isInside(real, ctx.realRoot);
}

/**
 * Collects manifest files under `dir`; false when the folder does not exist (or is unreadable).
 * Every entry with a manifest extension is a candidate, whatever it is: a FIFO or a device is
 * refused when read (AF-FILE-NOT-REGULAR) rather than silently skipped, since a manifest that
 * vanished looks like a resource to delete.
 */
async function scanDir(dir: string, kind: ResourceKind | "auto", out: Candidate[], ctx: ScanContext): Promise<boolean> {
  // Each real folder once: links may lead back into a folder already scanned.
  const real = await realpath(dir).catch(() => undefined);
  ctx.visited ??= new Set();
  if (real !== undefined && ctx.visited.has(real)) return true;
  if (real !== undefined) ctx.visited.add(real);
  const entries = await sortedEntries(dir);
  if (!entries) return false;
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && (await stat(abs).catch(() => undefined))?.isDirectory())) {
      await scanFolder(abs, entry.isSymbolicLink(), kind, out, ctx);
      continue;
    }
    const ext = path.extname(entry.name).toLowerCase();
    const allowed = kind === "auto" ? ANY_EXTENSIONS : KINDS[kind].extensions;
    // A README.md beside the agents documents them; it is not an agent.
    if (!allowed.includes(ext) || /^readme\.md$/i.test(entry.name)) continue;
    if (entry.isSymbolicLink()) {
      // Symlinked files are followed, inside the project only.
      if ((await resolvesInside(ctx, abs)) === false) {
        ctx.diagnostics.push(outsideDiag(ctx, abs, "this symbolic link"));
        continue;
      }
    }
    out.push({ abs, kind });
  }
  return true;
}

/**
 * A sub-folder, or a symbolic link to one. A linked folder is followed when it resolves inside
 * the project (scanDir reads each real folder once, so a link loop ends): skipping it silently
 * would make its manifests look deleted, and `--prune` would archive their resources.
 */
async function scanFolder(abs: string, linked: boolean, kind: ResourceKind | "auto", out: Candidate[], ctx: ScanContext): Promise<void> {
  const real = await realpath(abs).catch(() => undefined);
  if (real === undefined) return;
  if (linked && !isInside(real, ctx.realRoot)) {
    ctx.diagnostics.push(outsideDiag(ctx, abs, "this symbolic link"));
    return;
  }
  await scanDir(abs, kind, out, ctx);
}

/**
 * A folder-layout kind's folder: each sub-folder (or link to one inside the project) is one
 * manifest. A file directly in it belongs to no manifest and is uploaded with none: a warning,
 * except README.md and hidden entries (.gitkeep), which document or keep the folder.
 */
/** A folder's entries sorted by name, so every run (and every machine) sees files in the same order; undefined when unreadable. */
async function sortedEntries(dir: string) {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return undefined;
  }
}

async function scanManifestFolders(dir: string, kind: ResourceKind, out: Candidate[], ctx: ScanContext): Promise<boolean> {
  ctx.visited ??= new Set();
  const real = await realpath(dir).catch(() => undefined);
  // Marked as scanned, so a file-layout kind whose folder holds this one does not read it too.
  if (real !== undefined) ctx.visited.add(real);
  const entries = await sortedEntries(dir);
  if (!entries) return false;
  for (const entry of entries) {
    if (entry.name.startsWith(".") || /^readme\.md$/i.test(entry.name)) continue;
    const abs = path.join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(abs).catch(() => undefined))?.isDirectory() === true);
    if (!isDir) {
      ctx.diagnostics.push(strayDiag(ctx, abs, dir, kind));
      continue;
    }
    if (entry.isSymbolicLink() && (await resolvesInside(ctx, abs)) === false) {
      ctx.diagnostics.push(outsideDiag(ctx, abs, "this symbolic link"));
      continue;
    }
    const folderReal = await realpath(abs).catch(() => undefined);
    if (folderReal !== undefined) ctx.visited.add(folderReal);
    out.push({ abs: path.join(abs, manifestFileOf(kind)), kind, folder: abs });
  }
  return true;
}

function strayDiag(ctx: ScanContext, abs: string, dir: string, kind: ResourceKind): Diagnostic {
  const rel = toPosix(path.relative(ctx.root, abs));
  const folder = toPosix(path.relative(ctx.root, dir)) || ".";
  return {
    ...fileDiag(rel, "AF-SKILL-STRAY", `${rel} is directly in ${folder}/, outside any ${kind}'s folder, so it belongs to no ${kind} and is not uploaded`, `Each ${kind} is a folder ${folder}/<name>/ holding ${manifestFileOf(kind)}: move the file into one, or out of ${folder}/.`),
    severity: "warning",
  };
}

/**
 * A path named on the command line inside a folder-layout kind's folder: the folder itself (every
 * manifest), or the manifest whose folder holds the path. A stray file is only selected (its
 * warning comes from the configured scan).
 */
async function selectInFolders(abs: string, dir: string, kind: ResourceKind, found: Candidate[], ctx: ScanContext): Promise<void> {
  const rel = path.relative(dir, abs);
  if (rel === "") {
    await scanManifestFolders(dir, kind, found, ctx);
    return;
  }
  const folder = path.join(dir, rel.split(path.sep)[0]!);
  if ((await stat(folder).catch(() => undefined))?.isDirectory()) found.push({ abs: path.join(folder, manifestFileOf(kind)), kind, folder });
}


function settingsOf(value: Obj): ManifestSettings {
  const block = isObject(value.agentform) ? value.agentform : {};
  return {
    previous_names: Array.isArray(block.previous_names) ? block.previous_names.filter((n): n is string => typeof n === "string") : [],
    ...adoptSetting(block.adopt),
    ignore: Array.isArray(block.ignore) ? block.ignore.filter((n): n is string => typeof n === "string") : [],
  };
}

/** `adopt: true` or `adopt: "<id>"` (in a manifest's block or agentform.yaml's `adopt:`) as settings. */
function adoptSetting(adopt: unknown): Pick<ManifestSettings, "adopt" | "adoptId"> {
  if (typeof adopt === "string" && adopt !== "") return { adopt: true, adoptId: adopt };
  return { adopt: adopt === true };
}

/** agentform.yaml's `adopt:` entries on the manifests they name (a manifest's own block wins). */
function withProjectAdoptions(config: ProjectConfig, manifests: LoadedManifest[]): LoadedManifest[] {
  const adopt = config.adopt;
  if (adopt === undefined) return manifests;
  return manifests.map((m) => {
    const entry = ownValue(adopt, `${m.kind}/${m.name}`);
    return entry === undefined || m.settings.adopt ? m : { ...m, settings: { ...m.settings, ...adoptSetting(entry) } };
  });
}

/**
 * The manifests a manifest holds for another kind (a vault's credentials): same file, located
 * under their own pointer, renamed and adopted along with their holder.
 */
function nestedManifests(holder: LoadedManifest): LoadedManifest[] {
  const nested = KINDS[holder.kind].nested;
  if (!nested) return [];
  return nested.of(holder.spec, holder.name).map(({ name, pointer, spec, previousNames }) => {
    // Earlier names: its own, and every name it had under each of the holder's earlier names.
    const locals = [name, ...previousNames].map((n) => n.slice(holder.name.length));
    const carried = holder.settings.previous_names.flatMap((old) => locals.map((l) => old + l));
    // Fields the holder writes for its children (the name, the reference to it) point at the entry itself.
    const locate = (p: string) => holder.locate(/^\/(auth|metadata)(\/|$)/.test(p) ? pointer + p : pointer);
    const settings: ManifestSettings = { previous_names: [...previousNames, ...carried], adopt: holder.settings.adopt, ignore: [] };
    return { kind: nested.kind, name, file: holder.file, spec, settings, locate, within: pointer };
  });
}

function toManifest(report: FileReport): LoadedManifest {
  if (report.folder) {
    // A folder manifest is named by its folder (its frontmatter `name` must agree: a rule).
    const { name, uploads } = report.folder;
    return { kind: report.kind, name, file: report.file, spec: folderSpec(report), settings: settingsOf(report.value!), locate: lazyLocator(report), uploads };
  }
  const value = report.value!;
  const spec = specOf(value);
  return { kind: report.kind, name: spec[KINDS[report.kind].nameField] as string, file: report.file, spec, settings: settingsOf(value), locate: lazyLocator(report) };
}

/**
 * A manifest's spec: its value without the `agentform:` block. A plain object without one is the
 * spec as it is: no copy of it is kept, for thousands of manifests, a whole plan long.
 */
function specOf(value: Obj): Obj {
  if (!Object.hasOwn(value, "agentform") && Object.getPrototypeOf(value) === Object.prototype) return value;
  const { agentform: _settings, ...spec } = value;
  return spec;
}

function keyVariablesOf(config: ProjectConfig): string[] {
  return [...new Set(Object.values(config.targets).map((t) => t.api_key_env ?? "ANTHROPIC_API_KEY"))];
}

/**
 * The problems of manifests not yet written (what `agentform import` is about to write), checked
 * with the project's manifests as `validate` would: each value's schema, then every rule over
 * both. Positions are line 1 (there is no text yet); only problems of the new files are returned.
 */
export function checkManifestValues(
  config: ProjectConfig,
  existing: ByKind<readonly LoadedManifest[]>,
  values: ReadonlyArray<{ kind: ResourceKind; file: string; value: Obj }>,
  /** Names of manifests about to be written without a value to check (a skill's downloaded folder): references may name them. */
  otherNames: Partial<ByKind<string[]>> = {},
): Diagnostic[] {
  const locate = () => ({ line: 1, column: 1 });
  const files = new Set(values.map((v) => v.file));
  const out = values.flatMap((v) => schemaDiagnostics(KINDS[v.kind].schema, v.value, { file: v.file, locate }));
  const all = byKind((k): LoadedManifest[] => [...existing[k]]);
  for (const v of values) {
    const { agentform: _settings, ...spec } = v.value;
    const manifest: LoadedManifest = { kind: v.kind, name: String(spec[KINDS[v.kind].nameField]), file: v.file, spec, settings: settingsOf(v.value), locate };
    all[v.kind].push(manifest);
    for (const child of nestedManifests(manifest)) all[child.kind].push(child);
  }
  out.push(...checkRules(all, { unparsedNames: otherNames, knownModels: knownModels(), keyVariables: keyVariablesOf(config) }).filter((d) => files.has(d.file)));
  return out.filter((d) => d.severity === "error");
}

export interface LoadProjectOptions {
  /** Files or folders to check instead of the configured folders (relative to `cwd`). The rest of the project is still read, for references, but only these are reported. */
  paths?: string[] | undefined;
  /** Base for relative `paths`; default: the project root. */
  cwd?: string | undefined;
  /** Names live in the workspace, when known, for rename (previous_names) checks. */
  liveNames?: Partial<ByKind<readonly string[]>> | undefined;
  /**
   * The target whose `vars` resolve `${vars.NAME}` in manifests: "default", else the first
   * declared target, when left out. A target agentform.yaml does not declare is a ConfigError.
   */
  target?: string | undefined;
  /**
   * Also report `${vars.NAME}` for names some other declared target does not define (validate
   * without --target: a name only production lacks must fail CI too). Only names are checked
   * against the other targets; the schema sees the selected target's values alone.
   */
  everyTarget?: boolean | undefined;
}

/**
 * Load every manifest under config.paths (or the given paths), parse with positions,
 * schema-validate and apply the rules. Never throws for bad manifests: problems come back as
 * diagnostics (sorted by file, line, column), and only manifests without errors are returned
 * in `manifests`.
 */

/** The configured folders' manifests; a folder named in `paths:` that is missing or leads outside the project is reported. */
async function scanConfigured(config: ProjectConfig, dirs: Record<ResourceKind, string>, candidates: Candidate[], ctx: ScanContext): Promise<void> {
  // A missing folder is legal (a project may have no environments), but it is also what a typo
  // in `paths:` looks like, and then every resource of that kind would look deleted: say so.
  // Only folders named in `paths:` are reported: the default ones are often absent on purpose.
  for (const kind of KIND_ORDER) {
    // A kind written inside another kind's manifests has no folder of its own.
    if (KINDS[kind].parentKind) continue;
    const dir = dirs[kind];
    const configured = config.paths[KINDS[kind].folder] ?? KINDS[kind].folder;
    const rel = toPosix(path.relative(config.root, dir)) || ".";
    if ((await resolvesInside(ctx, dir)) === false) {
      ctx.diagnostics.push({ ...fileDiag(config.file, "AF-PATH-OUTSIDE", `the ${kind}s folder "${rel}" leads outside the project folder (through a symbolic link); it was not read`, `Point \`paths.${kind}s\` at a real folder inside the project.`), path: `paths.${kind}s` });
      continue;
    }
    const scanned = KINDS[kind].layout === "folder" ? await scanManifestFolders(dir, kind, candidates, ctx) : await scanDir(dir, kind, candidates, ctx);
    if (!scanned && path.normalize(configured) !== KINDS[kind].folder) {
      ctx.diagnostics.push({
        ...fileDiag(config.file, "AF-PATH-MISSING", `the ${kind}s folder "${rel}" does not exist, so no ${kind} manifests were loaded`, `Create ${rel}/ or fix \`paths.${kind}s\` in ${config.file}; \`--prune\` refuses to archive every ${kind} while none are found.`),
        severity: "warning",
      });
    }
  }
}

/** The files named on the command line (added to `candidates` if new); undefined when none were named. */
async function selectPaths(given: string[] | undefined, cwd: string, dirs: Record<ResourceKind, string>, candidates: Candidate[], ctx: ScanContext): Promise<Set<string> | undefined> {
  if (!given || given.length === 0) return undefined;
  const selected = new Set<string>();
  const known = new Set(candidates.map((c) => c.abs));
  const kindOf = (p: string): ResourceKind | "auto" => KIND_ORDER.find((k) => isInside(p, dirs[k])) ?? "auto";
  for (const one of given) {
    const abs = path.resolve(cwd, one);
    let isDir: boolean;
    try {
      isDir = (await stat(abs)).isDirectory();
    } catch {
      ctx.diagnostics.push(fileDiag(toPosix(path.relative(ctx.root, abs)), "AF-PATH-NOT-FOUND", `${one} does not exist`, "Pass manifest files or folders that exist, relative to the current folder."));
      continue;
    }
    if (!isInside(abs, ctx.root) || (await resolvesInside(ctx, abs)) === false) {
      ctx.diagnostics.push(outsideDiag(ctx, abs, one));
      continue;
    }
    const found: Candidate[] = [];
    const kind = kindOf(abs);
    if (kind !== "auto" && KINDS[kind].layout === "folder") await selectInFolders(abs, dirs[kind], kind, found, ctx);
    else if (isDir) await scanDir(abs, kind, found, ctx);
    else found.push({ abs, kind });
    // A stray file in a folder-layout kind's folder is no manifest; selected, its warning shows.
    if (found.length === 0) selected.add(abs);
    for (const c of found) {
      selected.add(c.abs);
      if (!known.has(c.abs)) {
        known.add(c.abs);
        candidates.push(c);
      }
    }
  }
  return selected;
}

/** Every input file's hash, config first, sorted by file. */
function sourceHashes(config: ProjectConfig, reports: FileReport[]): Array<{ file: string; sha256: string }> {
  const sources: Array<{ file: string; sha256: string }> = [];
  const configHash = configHashes.get(config);
  if (configHash) sources.push(configHash);
  else {
    const read = readSource(path.join(config.root, config.file), config.file);
    if (read.sha256) sources.push({ file: config.file, sha256: read.sha256 });
  }
  for (const r of reports) {
    if (r.sha256) sources.push({ file: r.file, sha256: r.sha256 });
    // Every file of a folder manifest is an input: a changed script makes a saved plan stale.
    for (const u of r.folder?.uploads ?? []) {
      const file = `${r.folder!.path}/${u.path}`;
      if (file !== r.file) sources.push({ file, sha256: u.sha256 });
    }
  }
  return sources.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function allowList(value: Obj | undefined): string[] {
  const block = value !== undefined && isObject(value.agentform) ? value.agentform : {};
  return Array.isArray(block.allow_secret_pattern) ? block.allow_secret_pattern.filter((p): p is string => typeof p === "string") : [];
}

/**
 * Secret scanning over every file that was read (parsed or not: a secret in a broken file is
 * committed just the same). Returns the AF-SECRET diagnostics and, per file, the secrets found,
 * to scrub from every other diagnostic of that file.
 */
async function scanReports(reports: FileReport[]): Promise<{ diagnostics: Diagnostic[]; secrets: Map<string, string[]> }> {
  // The other text files of folder manifests too: they are uploaded just the same.
  const extra = reports.flatMap(folderTexts);
  const found = await scanTexts([...reports.map((r) => r.text ?? ""), ...extra.map((e) => e.text)]);
  const diagnostics: Diagnostic[] = [];
  const secrets = new Map<string, string[]>();
  await eachInSlices(reports, (r, i) => {
    if (r.text === undefined) return;
    const input = { file: r.file, textFindings: found[i]!, spot: spotLocator(r), locate: lazyLocator(r), allow: allowList(r.value), ...(r.value ? { value: r.value } : {}) };
    const result = secretDiagnostics(input);
    diagnostics.push(...result.diagnostics);
    if (result.secrets.length > 0) secrets.set(r.file, result.secrets);
  });
  extra.forEach((e, i) => {
    const lines = new LineIndex(e.text);
    // Not a manifest: no fields to name, and no allow list (allow_secret_pattern names manifest fields).
    const input = { file: e.file, textFindings: found[reports.length + i]!, spot: (offset: number) => ({ inKey: false, position: lines.position(offset) }), locate: () => ({ line: 1, column: 1 }) };
    const result = secretDiagnostics(input, "Remove it from the file (everything in the folder is uploaded), keep it in a vault credential instead, and rotate it: it is already in your git history.");
    diagnostics.push(...result.diagnostics);
    if (result.secrets.length > 0) secrets.set(e.file, result.secrets);
  });
  return { diagnostics, secrets };
}

/** Dedupe, scope, scrub and sort: the diagnostics a caller sees. */
function finalDiagnostics(diagnostics: Diagnostic[], selectedFiles: Set<string> | undefined, secrets: Map<string, string[]>, owner: (file: string) => string): Diagnostic[] {
  // A file inside a selected folder manifest is in scope with it.
  const inScope = (file: string) => (selectedFiles ? selectedFiles.has(file) || selectedFiles.has(owner(file)) : true);
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    // Two parser errors at one spot, or the schema and a rule agreeing, are one problem.
    const key = `${d.file}:${d.line}:${d.column}:${d.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const kept = unique.filter((d) => inScope(d.file) || d.code === "AF-PATH-NOT-FOUND" || d.code === "AF-PATH-OUTSIDE");
  return sortDiagnostics(kept.map((d) => scrubDiagnostic(d, secrets.get(d.file) ?? [])));
}

/**
 * Load every manifest under config.paths (or the given paths), parse with positions,
 * schema-validate and apply the rules. Never throws for bad manifests: problems come back as
 * diagnostics (sorted by file, line, column), and only manifests without errors are returned
 * in `manifests`.
 */
export async function loadProject(config: ProjectConfig, options: LoadProjectOptions = {}): Promise<LoadResult> {
  const first = await loadForTarget(config, options);
  const usesVars = config.vars !== undefined || Object.values(config.targets).some((t) => t.vars !== undefined);
  if (options.everyTarget !== true || !usesVars) return first;
  // Values differ per target, and so may what they make of a manifest (a name that collides,
  // a number where text belongs): every other target is loaded as it would be planned.
  const key = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}:${d.code}`;
  const seen = new Set(first.diagnostics.map(key));
  const extra: Diagnostic[] = [];
  const selected = options.target ?? defaultTarget(config);
  for (const target of Object.keys(config.targets).filter((t) => t !== selected)) {
    const other = await loadForTarget(config, { ...options, target, everyTarget: false });
    for (const d of other.diagnostics) {
      // Unknown names are already reported for every target by the first load.
      if (d.code === "AF-VAR-UNKNOWN" || seen.has(key(d))) continue;
      seen.add(key(d));
      extra.push({ ...d, message: `${d.message} (with target "${target}"'s vars)` });
    }
  }
  return extra.length === 0 ? first : { ...first, diagnostics: sortDiagnostics([...first.diagnostics, ...extra]) };
}

async function loadForTarget(config: ProjectConfig, options: LoadProjectOptions): Promise<LoadResult> {
  const vars = varScope(config, options.target, options.everyTarget === true);
  const dirs = byKind((k) => path.resolve(config.root, config.paths[KINDS[k].folder] ?? KINDS[k].folder));
  const candidates: Candidate[] = [];
  const diagnostics: Diagnostic[] = [];
  const ctx: ScanContext = { root: config.root, realRoot: await realpath(config.root).catch(() => config.root), diagnostics };
  await scanConfigured(config, dirs, candidates, ctx);
  const selected = await selectPaths(options.paths, options.cwd ?? config.root, dirs, candidates, ctx);

  // One thread on purpose: worker threads were measured slower on 2-core machines (start-up and
  // schema compilation per worker outweigh the parsing they take over); see bench/validate.ts.
  // In slices: a plan's lists page meanwhile (src/cli/workflow.ts).
  const reports = await mapInSlices(candidates, (c) => (c.folder !== undefined ? analyzeFolder({ ...c, folder: c.folder }, config.root) : analyzeFile(c, config.root, vars)));
  const loaded = byKind((): LoadedManifest[] => []);
  const unparsedNames = byKind((): string[] => []);
  for (const result of reports) {
    diagnostics.push(...result.diagnostics);
    if (!result.value) {
      // A file that did not parse has no readable name; its file name is the best guess, and
      // saves every manifest that refers to it a second, misleading "unknown ref".
      unparsedNames[result.kind].push(result.folder?.name ?? path.basename(result.file).replace(/\.(ya?ml|md)$/i, ""));
      continue;
    }
    // Rules also run over manifests with schema errors (they check shapes defensively), so
    // one run reports every problem; a manifest without a usable name is only a reference target.
    if (!result.folder && typeof result.value[KINDS[result.kind].nameField] !== "string") continue;
    const manifest = toManifest(result);
    loaded[result.kind].push(manifest);
    for (const child of nestedManifests(manifest)) loaded[child.kind].push(child);
  }
  await letThrough();
  diagnostics.push(...checkRules(loaded, { unparsedNames, knownModels: knownModels(), keyVariables: keyVariablesOf(config), ...(options.liveNames ? { liveNames: options.liveNames } : {}) }));
  await letThrough();
  const scan = await scanReports(reports);
  diagnostics.push(...scan.diagnostics);

  const selectedFiles = selected ? new Set([...selected].map((abs) => toPosix(path.relative(config.root, abs)))) : undefined;
  // An error in any file of a folder manifest fails the manifest.
  const owner = ownerOf(reports);
  const failed = new Set(diagnostics.filter((d) => d.severity === "error").map((d) => owner(d.file)));
  const keep = (m: LoadedManifest) => !failed.has(m.file) && (selectedFiles ? selectedFiles.has(m.file) : true);
  const byFile = (a: LoadedManifest, b: LoadedManifest) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return {
    config,
    manifests: byKind((k) => withProjectAdoptions(config, loaded[k].filter(keep)).sort(byFile)),
    diagnostics: finalDiagnostics(diagnostics, selectedFiles, scan.secrets, owner),
    sources: sourceHashes(config, reports),
  };
}
