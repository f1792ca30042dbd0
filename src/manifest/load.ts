/**
 * Finding and reading the project: agentform.yaml, then every manifest file under the
 * configured folders. Bad manifests never throw; they become diagnostics, so one run reports
 * every problem. A missing or broken agentform.yaml does throw (ConfigError, exit 4): without
 * it there is nothing to validate against.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ResourceKind } from "../backends/types.js";
import { formatDiagnostics, pointerToPath, sortDiagnostics } from "./format.js";
import { checkRules, findSecrets, secretText } from "./rules.js";
import { knownModels, schemaDiagnostics } from "./schema.js";
import { analyzeFile, fileDiag, lazyLocator, readSource, toPosix, type Candidate, type FileReport } from "./file.js";
import { LineIndex, parseYaml, toPointer } from "./source.js";
import type { Diagnostic, LoadResult, LoadedManifest, ManifestSettings, ProjectConfig, TargetConfig } from "./types.js";

export { MAX_FILE_BYTES } from "./file.js";

export const CONFIG_FILE = "agentform.yaml";

const AGENT_EXTENSIONS = [".yaml", ".yml", ".md"];
const ENVIRONMENT_EXTENSIONS = [".yaml", ".yml"];

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
    schemaProblems.push({ code: "AF-SECRET", severity: "error", file, line: pos.line, column: pos.column, path: pointerToPath(toPointer(finding.at)), ...secretText(finding), hint: "Keep the key in an environment variable and set the target's api_key_env to that variable's name; rotate the key: it is in your git history." });
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

/** Collects manifest files under `dir`; false when the folder does not exist (or is unreadable). */
async function scanDir(dir: string, kind: ResourceKind | "auto", out: Candidate[]): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  // Sorted, so every run (and every machine) sees the files in the same order.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const abs = path.join(dir, entry.name);
    const isDir = entry.isDirectory();
    let isFile = entry.isFile();
    // Symlinked files are followed; symlinked folders are not, so a link loop cannot recurse.
    if (entry.isSymbolicLink()) isFile = (await stat(abs).catch(() => undefined))?.isFile() ?? false;
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
  return true;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function settingsOf(value: Obj): ManifestSettings {
  const block = isObject(value.agentform) ? value.agentform : {};
  return {
    previous_names: Array.isArray(block.previous_names) ? block.previous_names.filter((n): n is string => typeof n === "string") : [],
    adopt: block.adopt === true,
    ignore: Array.isArray(block.ignore) ? block.ignore.filter((n): n is string => typeof n === "string") : [],
  };
}

function toManifest(report: FileReport): LoadedManifest {
  const { agentform: _settings, ...spec } = report.value!;
  return { kind: report.kind, name: spec.name as string, file: report.file, spec, settings: settingsOf(report.value!), locate: lazyLocator(report) };
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
  const diagnostics: Diagnostic[] = [];
  // A missing folder is legal (a project may have no environments), but it is also what a typo
  // in `paths:` looks like, and then every resource of that kind would look deleted: say so.
  // Only folders named in `paths:` are reported: the default ones are often absent on purpose.
  const defaults = { agent: "agents", environment: "environments" } as const;
  for (const [dir, kind] of [[agentsDir, "agent"], [environmentsDir, "environment"]] as const) {
    const configured = kind === "agent" ? config.paths.agents : config.paths.environments;
    if (!(await scanDir(dir, kind, candidates)) && path.normalize(configured) !== defaults[kind]) {
      const rel = toPosix(path.relative(config.root, dir)) || ".";
      diagnostics.push({
        ...fileDiag(config.file, "AF-PATH-MISSING", `the ${kind}s folder "${rel}" does not exist, so no ${kind} manifests were loaded`, `Create ${rel}/ or fix \`paths.${kind}s\` in ${config.file}; \`--prune\` refuses to archive every ${kind} while none are found.`),
        severity: "warning",
      });
    }
  }

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

  // One thread on purpose: worker threads were measured slower on 2-core machines (start-up and
  // schema compilation per worker outweigh the parsing they take over); see bench/validate.ts.
  const reports = candidates.map((c) => analyzeFile(c, config.root));
  const sources: Array<{ file: string; sha256: string }> = [];
  const configHash = configHashes.get(config);
  if (configHash) sources.push(configHash);
  else {
    const read = readSource(path.join(config.root, config.file), config.file);
    if (read.sha256) sources.push({ file: config.file, sha256: read.sha256 });
  }
  for (const r of reports) if (r.sha256) sources.push({ file: r.file, sha256: r.sha256 });
  sources.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const agents: LoadedManifest[] = [];
  const environments: LoadedManifest[] = [];
  const otherAgentNames: string[] = [];
  for (const result of reports) {
    diagnostics.push(...result.diagnostics);
    if (!result.value) {
      // An agent file that did not parse has no readable name; its file name is the best guess,
      // and saves every coordinator that refers to it a second, misleading "unknown ref".
      if (result.kind === "agent") otherAgentNames.push(path.basename(result.file).replace(/\.(ya?ml|md)$/i, ""));
      continue;
    }
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
