/**
 * `agentform plan`: load → validate → refresh → plan → render (→ save). Reads only: list
 * calls for the whole workspace, plus one GET per drifted agent under --explain.
 */
import { antPathOption, backendOption } from "./backend-options.js";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { AgentformError, ConfigError, ExitCode } from "../errors.js";
import type { LiveResource } from "../kinds/types.js";
import { nullRecord } from "../util/record.js";
import type { Plan } from "../plan/types.js";
import { explainDrift, hasChanges } from "../plan/index.js";
import { renderJson, renderMarkdown, renderText } from "../render/index.js";
import { inputsDigest } from "../apply/saved-plan.js";
import { AGENTFORM_VERSION } from "../version.js";
import type { CommandContext } from "./main.js";
import { reportError, useColor } from "./output.js";
import { loadConfig } from "../manifest/index.js";
import { escapeMarkdown, inertText } from "../render/index.js";
import { secretsMissing } from "../apply/index.js";
import { allLive, computePlan, openWorkspace, reportWarnings, type LiveState, type Workspace } from "./workflow.js";
import { collect, onlyAddresses } from "./only.js";

export interface PlanFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  out?: string;
  format: "text" | "json" | "markdown";
  detailedExitcode?: boolean;
  failOnDrift?: boolean;
  explain?: boolean;
  adopt?: boolean;
  prune?: boolean;
  allowEmpty?: boolean;
  rotate?: boolean;
  only?: string[];
}

export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command("plan")
    .description("Compare the manifests with the live workspace and show what apply would change.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\"); `all` plans every target")
    .option("-c, --config <file>", "path to agentform.yaml (default: search upwards from the current folder)")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("-o, --out <file>", "save the plan (with a digest of its inputs) for `agentform apply <file>`")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json", "markdown"]).default("text"))
    .option("--detailed-exitcode", "exit 2 when there are changes, 0 when there are none")
    .option("--fail-on-drift", "exit 3 when live resources changed outside agentform since the lockfile")
    .option("--explain", "show what changed in drifted agents (one extra GET each) and which fields are ignored")
    .option("--adopt", "take over unmanaged live resources that have a manifest's name")
    .option("--prune", "archive managed resources (in the lockfile, carrying this project's marker) that have no manifest")
    .option("--allow-empty", "with --prune, allow archiving every managed resource")
    .option("--rotate", "resend every credential's secret from its variable, also where agentform cannot tell whether it changed")
    .option("--only <kind/name>", "plan only this resource and what it references (repeatable), e.g. --only agent/triage", collect)
    .addHelpText(
      "after",
      `
Exit codes: 0 no changes (or changes without --detailed-exitcode), 2 changes (--detailed-exitcode),
3 refused by a safety rule or drift under --fail-on-drift, 4 invalid manifests or config, 1 other errors.

Examples:
  agentform plan                                  # text plan for the default target
  agentform plan --format markdown > plan.md      # pull-request comment
  agentform plan --out plan.json                  # save for \`agentform apply plan.json\`
  agentform plan --detailed-exitcode --fail-on-drift --target production`,
    )
    .action(async (flags: PlanFlags) => {
      ctx.exitCode = await runPlan(flags, ctx);
    });
}

export async function runPlan(flags: PlanFlags, ctx: CommandContext): Promise<number> {
  if (flags.target === ALL_TARGETS) return runPlanAll(flags, ctx);
  const { plan, exitCode } = await planTarget(flags, ctx);
  ctx.io.stdout.write(render(plan, flags, ctx));
  return exitCode;
}

/** The name `--target all` takes: a target may not be called that (agentform.yaml is refused). */
export const ALL_TARGETS = "all";

/**
 * `plan --target all`: every declared target in one run, one section each (a JSON array of
 * plans), in the order agentform.yaml declares them. A target that fails (unreachable, invalid
 * lockfile) gets its error in its section and the others still run; the exit code is the most
 * severe of them (4, 3, 1, 2, 0 in that order: an error in one outranks changes in another).
 */
async function runPlanAll(flags: PlanFlags, ctx: CommandContext): Promise<number> {
  if (flags.out) {
    throw new ConfigError("plan-out-all", "--out saves the plan of one target, not of --target all.", { hint: "Save each target's plan on its own: `agentform plan --target <name> --out <file>`." });
  }
  const config = await loadConfig({ cwd: process.cwd(), configPath: flags.config });
  let exitCode: number = ExitCode.ok;
  const plans: string[] = [];
  for (const target of Object.keys(config.targets)) {
    if (flags.format !== "json") ctx.io.stdout.write(`${sectionHeading(target, flags.format)}\n\n`);
    // Warnings and errors on stderr name the target they are about.
    ctx.io.stderr.write(`target ${inertText(target)}:\n`);
    try {
      const { plan, exitCode: code } = await planTarget({ ...flags, target }, ctx);
      if (flags.format === "json") plans.push(renderJson(plan).trimEnd());
      else ctx.io.stdout.write(`${render(plan, flags, ctx)}\n`);
      exitCode = mostSevere(exitCode, code);
    } catch (err) {
      const code = reportError(err, ctx.io);
      exitCode = mostSevere(exitCode, code);
      const failure = failureOf(err, code);
      if (flags.format === "json") plans.push(JSON.stringify({ target, error: failure }, null, 2));
      else ctx.io.stdout.write(`Not planned: ${inertText(failure.message)} [${inertText(failure.code)}] (exit ${code})\n\n`);
    }
  }
  if (flags.format === "json") ctx.io.stdout.write(`[\n${plans.join(",\n")}\n]\n`);
  return exitCode;
}

/** What a target's section says when it could not be planned (the full error is on stderr). */
function failureOf(err: unknown, exitCode: number): { code: string; message: string; exitCode: number } {
  if (err instanceof AgentformError) return { code: err.code, message: err.message.split("\n")[0] ?? "", exitCode };
  return { code: "internal", message: "internal error (see stderr)", exitCode };
}

/** Exit codes from least to most severe: an error in one target outranks changes in another. */
const SEVERITY: readonly number[] = [ExitCode.ok, ExitCode.changes, ExitCode.error, ExitCode.refused, ExitCode.invalid];

function mostSevere(a: number, b: number): number {
  return SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a;
}

function sectionHeading(target: string, format: PlanFlags["format"]): string {
  return format === "markdown" ? `# Target ${escapeMarkdown(target)}` : `=== target ${inertText(target)} ===`;
}

/** Plan one target: the plan as shown (saved with --out), and the exit code it calls for. */
async function planTarget(flags: PlanFlags, ctx: CommandContext): Promise<{ plan: Plan; exitCode: number }> {
  // The lists start as soon as the target is open, while the manifests load.
  const ws = await openWorkspace(
    { cwd: process.cwd(), configPath: flags.config, target: flags.target, backend: flags.backend, readLive: {} },
    { env: ctx.io.env, antPath: flags.antPath },
  );
  reportWarnings(ws, ctx.io);
  try {
    const only = onlyAddresses(flags.only, ws.load, flags.prune ?? false);
    const options = { adopt: flags.adopt ?? false, prune: flags.prune ?? false, allowEmpty: flags.allowEmpty ?? false, rotate: flags.rotate ?? false, ...(only ? { only } : {}) };
    const { plan: basePlan, live } = await computePlan(ws, options);
    let plan = flags.explain ? await withDriftExplained(ws, basePlan, live) : basePlan;
    if (flags.out) {
      plan = { ...plan, inputsDigest: planInputsDigest(ws, flags), options };
      await writeFileAtomic(path.resolve(flags.out), renderJson(plan));
    }
    const missing = secretsMissing(plan, ws.secrets.source);
    if (missing.length > 0) ctx.io.stderr.write(`warning: apply must send secrets from ${missing.join(", ")}, not set here; it will refuse (secret-missing) unless they are set where it runs\n`);
    if (flags.out) ctx.io.stderr.write(`Saved the plan to ${flags.out}; apply it with \`agentform apply ${flags.out}\`.\n`);
    return { plan, exitCode: planExitCode(plan, flags) };
  } finally {
    await ws.close();
  }
}

/** The digest a saved plan carries; apply recomputes it and refuses when anything moved. */
export function planInputsDigest(ws: Workspace, flags: Pick<PlanFlags, "adopt" | "prune" | "allowEmpty">): string {
  return inputsDigest({
    sources: ws.load.sources,
    lockSha256: ws.lockSha256,
    agentformVersion: AGENTFORM_VERSION,
    target: ws.target.name,
    options: {
      adopt: flags.adopt ?? false,
      prune: flags.prune ?? false,
      allowEmpty: flags.allowEmpty ?? false,
      agentformVersion: AGENTFORM_VERSION,
    },
  });
}

function render(plan: Plan, flags: PlanFlags, ctx: CommandContext): string {
  switch (flags.format) {
    case "json":
      return renderJson(plan);
    case "markdown":
      return renderMarkdown(plan);
    default:
      return renderText(plan, { color: useColor(ctx.io.stdout, ctx.io.env), explain: flags.explain ?? false });
  }
}

export function planExitCode(plan: Plan, flags: Pick<PlanFlags, "failOnDrift" | "detailedExitcode">): number {
  if (plan.refusals.length > 0) return ExitCode.refused;
  if (flags.failOnDrift && plan.driftDetected) return ExitCode.refused;
  if (flags.detailedExitcode && hasChanges(plan)) return ExitCode.changes;
  return ExitCode.ok;
}

/** Extra GETs only for drifted resources of versioned kinds: the locked version, to diff against live. */
async function withDriftExplained(ws: Workspace, plan: Plan, live: LiveState): Promise<Plan> {
  const locked = nullRecord<LiveResource>();
  const drifted = plan.resources.filter((r) => r.drift?.detected && r.id && r.drift.lockedVersion !== undefined);
  await Promise.all(
    drifted.map(async (r) => {
      try {
        locked[r.name] = await ws.target.backend.get(r.kind, r.id as string, { version: r.drift?.lockedVersion as number });
      } catch {
        // The locked version may be gone (another workspace, or history pruned); the plan still
        // reports the drift, just without field detail.
      }
    }),
  );
  return explainDrift(plan, locked, allLive(live));
}

async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, text, "utf8");
    await rename(tmp, file);
  } catch (err) {
    // Never leave a partial file behind: the temp file goes, the target is untouched.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ConfigError("plan-out-unwritable", `Cannot write the plan to ${file}: ${(err as Error).message}`, {
      hint: "Check that the folder exists and is writable.",
    });
  }
}
