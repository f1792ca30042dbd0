/**
 * `agentform validate [paths…]`: load → schema → rules → report. Offline: no API call, no key.
 * Reports every problem in one run, sorted by file and line; exit 0 when clean, 4 otherwise.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { joinAnd, kindCounts, kindNoun } from "./kind-counts.js";
import { Option, type Command } from "commander";
import { ConfigError, ExitCode } from "../errors.js";
import { defaultTarget, formatDiagnostics, formatDiagnosticsJson, loadConfig, loadProject, type Diagnostic, type ProjectConfig } from "../manifest/index.js";
import { formatDiagnosticsGithub } from "../manifest/format.js";
import type { CommandContext } from "./main.js";
import { paintFor, useColor } from "./output.js";
import { selectTarget } from "./target.js";

interface ValidateFlags {
  format: "text" | "json" | "github";
  config?: string;
  target?: string;
  annotationRoot?: string;
}

export function registerValidate(program: Command, ctx: CommandContext): void {
  program
    .command("validate")
    .description("Check manifests (agents, environments, skills, vaults) offline: YAML, JSON Schema and agentform's rules.")
    .argument("[paths...]", "manifest files or folders to check (default: the folders in agentform.yaml)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json", "github"]).default("text"))
    .option("-c, --config <file>", "path to agentform.yaml (default: search upwards from the current folder)")
    .option("-t, --target <name>", "resolve ${vars.NAME} with this target's values (default: the default target's, with every target's names checked)")
    .option("--annotation-root <dir>", "with --format github: the folder annotation paths are relative to (default: the git repository holding agentform.yaml)")
    .addHelpText(
      "after",
      `
Every problem is reported as file:line:column, the path inside the manifest, what is wrong and
a hint. Codes are explained in docs/diagnostics.md. Nothing is sent to the API.

With --format github, each problem is a GitHub Actions workflow command
(::error file=…,line=…,col=…,title=CODE::message) that shows as an annotation on the file;
paths are relative to the repository root (the nearest folder above agentform.yaml holding .git,
or --annotation-root). See docs/diagnostics.md.

Exit codes: 0 all manifests valid, 4 problems found (or agentform.yaml missing or invalid).

Examples:
  agentform validate                         # everything under agents/ and environments/
  agentform validate agents/triage.yaml      # one file (the rest of the project is read for references)
  agentform validate --format json           # {"valid": false, "diagnostics": [...]} for CI tools
  agentform validate --format github         # annotations on the pull request's files, in GitHub Actions
  agentform validate --target production     # with production's vars (docs/manifests.md, "Per-target values")`,
    )
    .action(async (paths: string[], flags: ValidateFlags) => {
      if (flags.annotationRoot !== undefined && flags.format !== "github") {
        throw new ConfigError("invalid-flag", "--annotation-root applies only to --format github", { hint: "Add --format github, or drop --annotation-root." });
      }
      const cwd = process.cwd();
      let config;
      try {
        config = await loadConfig({ cwd, configPath: flags.config });
      } catch (err) {
        // A broken agentform.yaml is reported like a broken manifest, so CI tools reading
        // --format json see one shape; anything else (a missing file) is main's to print.
        const diagnostics = err instanceof ConfigError ? (err.details?.diagnostics as Diagnostic[] | undefined) : undefined;
        if (!diagnostics) throw err;
        ctx.exitCode = ExitCode.invalid;
        const root = err instanceof ConfigError ? err.details?.root : undefined;
        reportConfigProblems(ctx, flags, diagnostics, annotationPath(typeof root === "string" ? root : cwd, flags.annotationRoot, cwd));
        return;
      }
      // Without --target: the default target's values, and every other target's names, so a
      // name only production lacks fails CI before anyone plans production.
      if (flags.target !== undefined) selectTarget(config, flags.target);
      const result = await loadProject(config, { paths, cwd, target: flags.target, everyTarget: flags.target === undefined });
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      ctx.exitCode = errors > 0 ? ExitCode.invalid : ExitCode.ok;
      if (flags.format === "json") {
        ctx.io.stdout.write(formatDiagnosticsJson(result.diagnostics));
        return;
      }
      const paint = paintFor(ctx.io.stdout, ctx.io.env);
      if (flags.format === "github") ctx.io.stdout.write(formatDiagnosticsGithub(result.diagnostics, annotationPath(config.root, flags.annotationRoot, cwd)));
      else ctx.io.stdout.write(formatDiagnostics(result.diagnostics, { color: useColor(ctx.io.stdout, ctx.io.env) }));
      const checked = joinAnd(kindCounts((kind) => result.manifests[kind].length, (kind, n) => plural(n, kindNoun(kind)), "0 manifests"));
      if (errors === 0) {
        const warnings = result.diagnostics.length;
        ctx.io.stdout.write(`${paint.green("✓")} ${checked} valid${valuesOf(config, flags.target)}${warnings > 0 ? ` (${plural(warnings, "warning")})` : ""}\n`);
      } else {
        const files = new Set(result.diagnostics.filter((d) => d.severity === "error").map((d) => d.file)).size;
        ctx.io.stdout.write(`${paint.red("✗")} ${plural(errors, "problem")} in ${plural(files, "file")}; ${checked} valid\n`);
      }
    });
}

/** Problems in agentform.yaml itself: printed in the chosen format, with a line saying nothing else was checked. */
function reportConfigProblems(ctx: CommandContext, flags: ValidateFlags, diagnostics: Diagnostic[], fileOf: (file: string) => string): void {
  if (flags.format === "json") {
    ctx.io.stdout.write(formatDiagnosticsJson(diagnostics));
    return;
  }
  if (flags.format === "github") ctx.io.stdout.write(formatDiagnosticsGithub(diagnostics, fileOf));
  else ctx.io.stdout.write(formatDiagnostics(diagnostics, { color: useColor(ctx.io.stdout, ctx.io.env) }));
  ctx.io.stdout.write(`${paintFor(ctx.io.stdout, ctx.io.env).red("✗")} the project config is invalid; no manifest was checked\n`);
}

/**
 * Maps a diagnostic's file (relative to the project root) to the path GitHub annotates: relative
 * to `--annotation-root` when given, else to the git repository holding the project (the nearest
 * folder at or above the project root with a `.git` entry: a folder, or a file in a worktree or
 * submodule), else to the project root. Forward slashes on every OS.
 */
function annotationPath(projectRoot: string, annotationRoot: string | undefined, cwd: string): (file: string) => string {
  const base = annotationRoot !== undefined ? path.resolve(cwd, annotationRoot) : (gitRoot(projectRoot) ?? projectRoot);
  return (file) => path.relative(base, path.resolve(projectRoot, file)).split(path.sep).join("/");
}

function gitRoot(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, ".git"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** ` with target "dev"'s vars`, when the project has vars at all: which values were checked. */
function valuesOf(config: ProjectConfig, target: string | undefined): string {
  const declared = config.vars !== undefined || Object.values(config.targets).some((t) => t.vars !== undefined);
  return declared ? ` with target ${JSON.stringify(target ?? defaultTarget(config))}'s vars` : "";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
