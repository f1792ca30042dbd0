/**
 * Finding and reading the project: agentform.yaml, then every manifest file under the
 * configured folders. Bad manifests never throw; they become diagnostics, so one run reports
 * every problem. A missing or broken agentform.yaml does throw (ConfigError, exit 4): without
 * it there is nothing to validate against.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ResourceKind } from "../backends/types.js";
import { formatDiagnostics, pointerToPath, sortDiagnostics } from "./format.js";
import { checkRules, findSecrets, secretText } from "./rules.js";
import { knownModels, schemaDiagnostics } from "./schema.js";
import { LineIndex, parseYaml, toPointer, type ParsedYaml } from "./source.js";
import type { Diagnostic, LoadResult, LoadedManifest, ManifestSettings, Position, ProjectConfig, TargetConfig } from "./types.js";

/** Larger files are refused before being read whole: no manifest needs a megabyte. */
export const MAX_FILE_BYTES = 1024 * 1024;
export const CONFIG_FILE = "agentform.yaml";

const AGENT_EXTENSIONS = [".yaml", ".yml", ".md"];
const ENVIRONMENT_EXTENSIONS = [".yaml", ".yml"];

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}

function fileDiag(file: string, code: string, message: string, hint: string, pos: Position = { line: 1, column: 1 }): Diagnostic {
  return { code, severity: "error", file, line: pos.line, column: pos.column, path: "", message, hint };
}

interface ReadOk {
  text: string;
  sha256: string;
}

/**
 * Read a file as UTF-8 with the size and encoding checks every input gets. Synchronous on
 * purpose: for thousands of small files the thread-pool round trips of fs/promises cost more
 * than the reads themselves (see bench/validate.ts).
 */
function readSource(abs: string, file: string): ReadOk | { diagnostic: Diagnostic; sha256?: string } {
  const unreadable = (err: unknown) => ({
    diagnostic: fileDiag(file, "AF-FILE-READ", `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, "Check that the path exists and is readable."),
  });
  let bytes: Buffer;
  let fd: number;
  try {
    fd = openSync(abs, "r");
  } catch (err) {
    return unreadable(err);
  }
  try {
    // Size first, through the open descriptor: a huge file is refused without reading it.
    const { size } = fstatSync(fd);
    if (size > MAX_FILE_BYTES) {
      return { diagnostic: fileDiag(file, "AF-FILE-TOO-LARGE", `the file is ${size} bytes; manifests are limited to ${MAX_FILE_BYTES} bytes (1 MiB)`, "Split it up or move large text (long prompts) out; no manifest needs a megabyte.") };
    }
    bytes = readFileSync(fd);
  } catch (err) {
    return unreadable(err);
  } finally {
    closeSync(fd);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  try {
    return { text: utf8.decode(bytes), sha256 };
  } catch {
    return { diagnostic: fileDiag(file, "AF-FILE-ENCODING", "the file is not valid UTF-8", "Save the file as UTF-8 (without a byte-order mark is best).", { line: firstInvalidLine(bytes), column: 1 }), sha256 };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function firstInvalidLine(bytes: Buffer): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 10) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return 1;
}

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
      details: { diagnostics: sorted },
    });
  };
  if ("diagnostic" in read) return fail([read.diagnostic]);
  const parsed = parseYaml(read.text, { file, lines: new LineIndex(read.text) });
  if (parsed.diagnostics.length > 0) return fail(parsed.diagnostics);
  const schemaProblems = schemaDiagnostics("project", parsed.value, { file, locate: parsed.locate });
  for (const finding of findSecrets(parsed.value)) {
    const pos = parsed.locate(toPointer(finding.at));
    schemaProblems.push({ code: "AF-SECRET", severity: "error", file, line: pos.line, column: pos.column, path: pointerToPath(toPointer(finding.at)), ...secretText(finding) });
  }
  if (schemaProblems.length > 0) return fail(schemaProblems);
  const value = parsed.value as { project: string; paths?: { agents?: string; environments?: string }; targets?: Record<string, TargetConfig> };
  const targets = value.targets && Object.keys(value.targets).length > 0 ? value.targets : { default: {} };
  const config: ProjectConfig = {
    project: value.project,
    paths: { agents: value.paths?.agents ?? "agents", environments: value.paths?.environments ?? "environments" },
    targets,
    root,
    file,
  };
  configHashes.set(config, { file, sha256: read.sha256 });
  return config;
}

// ---------------------------------------------------------------------------------------------
// manifests

interface Candidate {
  abs: string;
  /** "auto": a file named on the command line outside the configured folders. */
  kind: ResourceKind | "auto";
}

async function scanDir(dir: string, kind: ResourceKind | "auto", out: Candidate[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const abs = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(abs).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      await scanDir(abs, kind, out);
      continue;
    }
    if (!isFile) continue;
    const ext = path.extname(entry.name).toLowerCase();
    // A README.md beside the agents documents them; it is not an agent.
    if (/^readme\.md$/i.test(entry.name)) continue;
    const allowed = kind === "environment" ? ENVIRONMENT_EXTENSIONS : AGENT_EXTENSIONS;
    if (allowed.includes(ext)) out.push({ abs, kind });
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

interface ParsedFile {
  file: string;
  kind: ResourceKind;
  diagnostics: Diagnostic[];
  /** Present when the file parsed to a mapping. */
  value?: Obj;
  parsed?: ParsedYaml;
  /** `.md` agents: the Markdown body, which becomes `system`. */
  body?: { text: string; position: Position };
}

const FRONTMATTER_CLOSE = /^---[ \t]*\r?$/m;

function parseMarkdown(text: string, file: string, lines: LineIndex): { parsed: ParsedYaml; body: { text: string; position: Position } } | Diagnostic {
  const open = /^---[ \t]*\r?\n/.exec(text);
  const hint = "An agent .md file starts with YAML frontmatter between two `---` lines; the Markdown after it is the system prompt.";
  if (!open) return fileDiag(file, "AF-MD-FRONTMATTER", "the file does not start with a `---` frontmatter block", hint);
  const rest = text.slice(open[0].length);
  const close = FRONTMATTER_CLOSE.exec(rest);
  if (!close) return fileDiag(file, "AF-MD-FRONTMATTER", "the frontmatter block is not closed by a `---` line", hint);
  const frontmatter = rest.slice(0, close.index);
  const bodyStart = open[0].length + close.index + close[0].length;
  const rawBody = text.slice(bodyStart);
  const lead = rawBody.length - rawBody.trimStart().length;
  const parsed = parseYaml(frontmatter, { file, lines, offset: open[0].length });
  return { parsed, body: { text: rawBody.trim(), position: lines.position(bodyStart + lead) } };
}

function parseFile(candidate: Candidate, root: string): { result: ParsedFile; sha256?: string } {
  const file = toPosix(path.relative(root, candidate.abs));
  const isMarkdown = path.extname(candidate.abs).toLowerCase() === ".md";
  let kind: ResourceKind = candidate.kind === "auto" ? "agent" : candidate.kind;
  const read = readSource(candidate.abs, file);
  if ("diagnostic" in read) return { result: { file, kind, diagnostics: [read.diagnostic] }, ...(read.sha256 ? { sha256: read.sha256 } : {}) };
  const lines = new LineIndex(read.text);
  let parsed: ParsedYaml;
  let body: ParsedFile["body"];
  if (isMarkdown) {
    const md = parseMarkdown(read.text, file, lines);
    if ("code" in md) return { result: { file, kind, diagnostics: [md] }, sha256: read.sha256 };
    parsed = md.parsed;
    body = md.body;
  } else {
    parsed = parseYaml(read.text, { file, lines });
  }
  if (parsed.diagnostics.length > 0 || !isObject(parsed.value)) return { result: { file, kind, diagnostics: parsed.diagnostics }, sha256: read.sha256 };
  const value = parsed.value;
  // Files named outside the configured folders: agents have a model, environments do not.
  if (candidate.kind === "auto") kind = isMarkdown || "model" in value ? "agent" : "environment";
  const diagnostics: Diagnostic[] = [];
  if (body !== undefined && "system" in value) {
    const pos = parsed.locate("/system");
    diagnostics.push({ code: "AF-MD-SYSTEM-CONFLICT", severity: "error", file, line: pos.line, column: pos.column, path: "system", message: "the frontmatter sets `system`, but in a .md agent the Markdown body is the system prompt", hint: "Remove `system:` from the frontmatter and keep the prompt in the body." });
  }
  const forSchema = body !== undefined && body.text !== "" && !("system" in value) ? { ...value, system: body.text } : value;
  const locate = (pointer: string): Position => (body !== undefined && (pointer === "/system" || pointer.startsWith("/system/")) && !("system" in value) ? body.position : parsed.locate(pointer));
  diagnostics.push(...schemaDiagnostics(kind, forSchema, { file, locate }));
  return { result: { file, kind, diagnostics, value: forSchema, parsed: { ...parsed, locate }, ...(body ? { body } : {}) }, sha256: read.sha256 };
}

function settingsOf(value: Obj): ManifestSettings {
  const block = isObject(value.agentform) ? value.agentform : {};
  return {
    previous_names: Array.isArray(block.previous_names) ? block.previous_names.filter((n): n is string => typeof n === "string") : [],
    adopt: block.adopt === true,
    ignore: Array.isArray(block.ignore) ? block.ignore.filter((n): n is string => typeof n === "string") : [],
  };
}

function toManifest(p: ParsedFile): LoadedManifest {
  const { agentform: _settings, ...spec } = p.value!;
  const locate = p.parsed!.locate;
  return { kind: p.kind, name: spec.name as string, file: p.file, spec, settings: settingsOf(p.value!), locate };
}

export interface LoadProjectOptions {
  /** Files or folders to check instead of the configured folders (relative to `cwd`). The rest of the project is still read, for references, but only these are reported. */
  paths?: string[] | undefined;
  /** Base for relative `paths`; default: the project root. */
  cwd?: string | undefined;
  /** Names live in the workspace, when known, for rename (previous_names) checks. */
  liveNames?: { agents: string[]; environments: string[] } | undefined;
}

/**
 * Load every manifest under config.paths (or the given paths), parse with positions,
 * schema-validate and apply the rules. Never throws for bad manifests: problems come back as
 * diagnostics (sorted by file, line, column), and only manifests without errors are returned
 * in agents/environments.
 */
export async function loadProject(config: ProjectConfig, options: LoadProjectOptions = {}): Promise<LoadResult> {
  const agentsDir = path.resolve(config.root, config.paths.agents);
  const environmentsDir = path.resolve(config.root, config.paths.environments);
  const candidates: Candidate[] = [];
  await scanDir(agentsDir, "agent", candidates);
  await scanDir(environmentsDir, "environment", candidates);
  const diagnostics: Diagnostic[] = [];

  let selected: Set<string> | undefined;
  if (options.paths && options.paths.length > 0) {
    selected = new Set();
    const known = new Set(candidates.map((c) => c.abs));
    for (const given of options.paths) {
      const abs = path.resolve(options.cwd ?? config.root, given);
      let isDir: boolean;
      try {
        isDir = (await stat(abs)).isDirectory();
      } catch {
        diagnostics.push(fileDiag(toPosix(path.relative(config.root, abs)), "AF-PATH-NOT-FOUND", `${given} does not exist`, "Pass manifest files or folders that exist, relative to the current folder."));
        continue;
      }
      const kindOf = (p: string): ResourceKind | "auto" => (isInside(p, agentsDir) ? "agent" : isInside(p, environmentsDir) ? "environment" : "auto");
      const found: Candidate[] = [];
      if (isDir) await scanDir(abs, kindOf(abs), found);
      else found.push({ abs, kind: kindOf(abs) });
      for (const c of found) {
        selected.add(c.abs);
        if (!known.has(c.abs)) {
          known.add(c.abs);
          candidates.push(c);
        }
      }
    }
  }

  const parsed = candidates.map((c) => parseFile(c, config.root));
  const sources: Array<{ file: string; sha256: string }> = [];
  const configHash = configHashes.get(config);
  if (configHash) sources.push(configHash);
  else {
    const read = readSource(path.join(config.root, config.file), config.file);
    if (read.sha256) sources.push({ file: config.file, sha256: read.sha256 });
  }
  for (const p of parsed) if (p.sha256) sources.push({ file: p.result.file, sha256: p.sha256 });
  sources.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const agents: LoadedManifest[] = [];
  const environments: LoadedManifest[] = [];
  const otherAgentNames: string[] = [];
  for (const { result } of parsed) {
    diagnostics.push(...result.diagnostics);
    if (!result.value) continue;
    // Rules also run over manifests with schema errors (they check shapes defensively), so
    // one run reports every problem; a manifest without a usable name is only a reference target.
    if (typeof result.value.name !== "string") continue;
    (result.kind === "agent" ? agents : environments).push(toManifest(result));
  }
  diagnostics.push(...checkRules(agents, environments, { otherAgentNames, knownModels: knownModels(), ...(options.liveNames ? { liveNames: options.liveNames } : {}) }));

  const selectedFiles = selected ? new Set([...selected].map((abs) => toPosix(path.relative(config.root, abs)))) : undefined;
  const inScope = (file: string) => (selectedFiles ? selectedFiles.has(file) : true);
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    // Two parser errors at one spot, or the schema and a rule agreeing, are one problem.
    const key = `${d.file}:${d.line}:${d.column}:${d.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const finalDiagnostics = sortDiagnostics(unique.filter((d) => inScope(d.file) || d.code === "AF-PATH-NOT-FOUND"));
  const failed = new Set(diagnostics.filter((d) => d.severity === "error").map((d) => d.file));
  const keep = (m: LoadedManifest) => !failed.has(m.file) && inScope(m.file);
  const byFile = (a: LoadedManifest, b: LoadedManifest) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return {
    config,
    agents: agents.filter(keep).sort(byFile),
    environments: environments.filter(keep).sort(byFile),
    diagnostics: finalDiagnostics,
    sources,
  };
}
