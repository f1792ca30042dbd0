/**
 * `agentform apply [plan.json]`: load → refresh → plan (or check a saved plan) → show it →
 * confirm → execute → lockfile. Applies exactly what was shown: a saved plan is re-checked
 * against a fresh plan and refused when any input or live basis moved.
 */
import { antPathOption, backendOption } from "./backend-options.js";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, Option } from "commander";
import { AgentformError, ConfigError, ExitCode, SafetyError } from "../errors.js";
import { applyPlan, requireSecrets, type ApplyEvent, type ApplyResult } from "../apply/index.js";
import { hasWrites } from "../plan/index.js";
import { checkSavedPlan } from "../apply/saved-plan.js";
import { readSavedPlan } from "../apply/saved-plan-file.js";
import type { RunLock } from "../apply/run-lock.js";
import { runLockHolder } from "./run-lock-holder.js";
import { emptyLock, writeLock } from "../lock/io.js";
import type { Plan, PlanAction, SecurityFinding } from "../plan/types.js";
import { inertText, redactPlanValues, renderText } from "../render/index.js";
import { ACTION_MARKER } from "../render/format.js";
import type { CommandContext } from "./main.js";
import { paintFor, useColor } from "./output.js";
import { planInputsDigest } from "./plan.js";
import { computePlan, openWorkspace, reportWarnings, uploadsOf, type Workspace } from "./workflow.js";
import { collect, onlyAddresses } from "./only.js";

export interface ApplyFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  autoApprove?: boolean;
  prune?: boolean;
  adopt?: boolean;
  allowEmpty?: boolean;
  requireApproval?: "broadening";
  approve?: boolean;
  concurrency?: string;
  failOnDrift?: boolean;
  rotate?: boolean;
  only?: string[];
  /** `state transfer --from-project OLD`: take over resources marked OLD (and OLD's lockfile). */
  transferFrom?: string | undefined;
}

export function registerApply(program: Command, ctx: CommandContext): void {
  program
    .command("apply")
    .description("Apply the manifests to the live workspace (or apply a plan saved by `agentform plan --out`), then write the lockfile.")
    .argument("[plan]", "a plan saved by `agentform plan --out`; applied exactly, or refused if anything moved since")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml (default: search upwards from the current folder)")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("--auto-approve", "apply without asking (required when stdin is not a terminal, unless a saved plan is given)")
    .option("--adopt", "take over unmanaged live resources that have a manifest's name")
    .option("--prune", "archive managed resources (in the lockfile, carrying this project's marker) that have no manifest")
    .option("--allow-empty", "with --prune, allow archiving every managed resource")
    .option("--rotate", "resend every credential's secret from its variable, also where agentform cannot tell whether it changed")
    .option("--only <kind/name>", "plan only this resource and what it references (repeatable), e.g. --only agent/triage", collect)
    .addOption(new Option("--require-approval <what>", "refuse security-broadening changes unless --approve is given").choices(["broadening"]))
    .option("--approve", "approve the security-broadening changes in this plan")
    .option("--concurrency <n>", "resources written in parallel (default 4)")
    .option("--fail-on-drift", "refuse (exit 3) when live resources changed outside agentform since the lockfile")
    .addHelpText(
      "after",
      `
Exit codes: 0 applied (or nothing to do), 3 refused by a safety rule (stale saved plan, version
conflict, unapproved broadening, drift under --fail-on-drift), 4 invalid manifests or usage, 1 other errors.

Examples:
  agentform apply                                   # show the plan, ask, apply
  agentform apply --auto-approve                    # CI: apply on merge
  agentform plan --out plan.json && agentform apply plan.json
  agentform apply --prune --require-approval broadening --auto-approve`,
    )
    .action(async (planFile: string | undefined, flags: ApplyFlags) => {
      ctx.exitCode = await runApply(planFile, flags, ctx);
    });
}

const DONE_VERB: Record<PlanAction, string> = {
  create: "created",
  update: "updated",
  repin: "re-pinned",
  adopt: "adopted",
  rename: "renamed",
  replace: "replaced",
  noop: "unchanged",
  archive: "archived",
  delete: "deleted",
  orphan: "left alone",
};

export async function runApply(planFile: string | undefined, flags: ApplyFlags, ctx: CommandContext): Promise<number> {
  const concurrency = parseConcurrency(flags.concurrency);
  const interactive = process.stdin.isTTY === true;
  if (!planFile && !flags.autoApprove && !interactive) {
    throw new ConfigError("approval-required", "apply needs confirmation, but stdin is not a terminal.", {
      hint: "Pass --auto-approve, or save a reviewed plan with `agentform plan --out plan.json` and run `agentform apply plan.json`.",
    });
  }
  const saved = planFile ? await readSavedPlan(path.resolve(planFile)) : null;
  const paint = paintFor(ctx.io.stderr, ctx.io.env);

  // The run lock is taken before the first request (the lists start while the manifests load)
  // and held until the lockfile is written, so two applies of one target never interleave.
  const holder = runLockHolder(ctx.io.env);
  let closeWorkspace = async (): Promise<void> => {};
  try {
    const ws = await openWorkspace(
      { cwd: process.cwd(), configPath: flags.config, target: flags.target, backend: flags.backend, transferFrom: flags.transferFrom, readLive: {}, beforeRequests: holder.take },
      {
        env: ctx.io.env,
        antPath: flags.antPath,
        onRetry: (info) =>
        ctx.io.stderr.write(paint.dim(`  retrying ${info.operation} in ${(info.delayMs / 1000).toFixed(1)}s (${info.reason})\n`)),
        // The fence again right before each attempt: pacing and back-off waits happen after the
        // executor's own check, and a process paused during one must not write once it lost the lock.
        beforeWrite: async () => {
          await holder.lock?.verify();
        },
      },
    );
    closeWorkspace = ws.close;
    reportWarnings(ws, ctx.io);
    const runLock = holder.lock as RunLock;
    const plan = saved ? await checkedSavedPlan(ws, saved, flags) : (await computePlan(ws, planOptions(flags, ws))).plan;
    ctx.io.stdout.write(renderText(plan, { color: useColor(ctx.io.stdout, ctx.io.env) }));

    enforceSafetyRules(plan, flags);
    // A secret apply would have to send and cannot: say so now, not after the question.
    requireSecrets(plan, ws.secrets.source);
    if (hasWrites(plan) && !saved && !flags.autoApprove) {
      const answer = await confirm(ctx);
      if (answer !== "yes") {
        ctx.io.stderr.write("Apply cancelled; nothing was written.\n");
        // Like `terraform apply`: a declined apply is not a success, so `apply && deploy` stops.
        // Ctrl+C gets the shell's conventional 130.
        return answer === "interrupted" ? 130 : ExitCode.error;
      }
    }

    let lockSaves = 0;
    const result = await applyPlan(plan, ws.target.backend, {
      project: ws.config.project,
      concurrency,
      lock: ws.lock ?? emptyLock(ws.config.project, ws.target.name, ws.target.origin),
      saveLock: async (lock) => {
        await writeLock(ws.lockPath, lock);
        lockSaves++;
      },
      // Fencing: a holder paused long enough to lose the lock stops before its next write. The
      // backend checks it before every write attempt (beforeWrite above); here, before saves.
      fence: runLock.verify,
      fenceWrites: false,
      uploads: uploadsOf(ws),
      secrets: ws.secrets.source,
      onEvent: (event) => progress(event, ctx),
    });
    return report(result, lockSaves > 0, plan.summary.orphan, ws, ctx);
  } finally {
    await holder.release();
    await closeWorkspace();
  }
}

/** The gates between showing a plan and writing it; each refusal is exit 3 with nothing written. */
function enforceSafetyRules(plan: Plan, flags: ApplyFlags): void {
  if (plan.refusals.length > 0) {
    throw new SafetyError("plan-refused", `Refused: ${plan.refusals.length} safety rule(s) stop this plan; nothing was written.`, {
      hint: plan.refusals[0]?.hint ?? "Fix the refusals listed above and run again.",
    });
  }
  if (flags.failOnDrift && plan.driftDetected) {
    throw new SafetyError("drift-detected", "Live resources changed outside agentform since the lockfile (--fail-on-drift); nothing was written.", {
      hint: "Review the drift above; bring the manifests in line (or run without --fail-on-drift to overwrite it).",
    });
  }
  // A lockfile pin finding needs no approval: apply replaces the pin with what the manifest says.
  const gated = (f: SecurityFinding) => f.severity === "broadening" && f.category !== "lockfile-pin-changed";
  const broadening = plan.resources.flatMap((r) => r.security.filter(gated).map(() => r.address));
  if (flags.requireApproval === "broadening" && broadening.length > 0 && !flags.approve) {
    const where = [...new Set(broadening)].map(inertText).join(", ");
    throw new SafetyError("approval-required-broadening", `This plan broadens what agents can do or reach (${where}); nothing was written.`, {
      hint: "Have the security changes above reviewed, then rerun with --approve.",
    });
  }
}

function planOptions(flags: Pick<ApplyFlags, "adopt" | "prune" | "allowEmpty" | "rotate" | "only" | "transferFrom">, ws: Workspace) {
  const only = onlyAddresses(flags.only, ws.load, flags.prune ?? false);
  const transfer = flags.transferFrom !== undefined ? { transferFrom: flags.transferFrom } : {};
  return { adopt: flags.adopt ?? false, prune: flags.prune ?? false, allowEmpty: flags.allowEmpty ?? false, rotate: flags.rotate ?? false, ...(only ? { only } : {}), ...transfer };
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return 4;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new ConfigError("invalid-concurrency", `--concurrency must be a whole number from 1 to 64, not "${value}".`, {
      hint: "The API allows about one create per second; more than a few in parallel only queues.",
    });
  }
  return n;
}

/**
 * Re-plan now, with this command line's options, and compare with the saved plan. What runs is
 * the plan computed now, and only when it equals the reviewed one resource by resource: the file
 * itself is never executed (anyone able to edit it could edit its request bodies).
 */
async function checkedSavedPlan(ws: Workspace, saved: Plan, flags: ApplyFlags): Promise<Plan> {
  const options = planOptions(flags, ws);
  const { plan } = await computePlan(ws, options);
  const current = { ...plan, inputsDigest: planInputsDigest(ws, options), options };
  // The saved file holds the plan as rendered, with credential-shaped values redacted.
  const refusals = checkSavedPlan(saved, redactPlanValues(current), options);
  if (refusals.length > 0) {
    // One line per reason: addresses come from the file, so a newline in one is escaped.
    const reasons = refusals.slice(0, 8).map((r) => `  - ${inertText(r.message)}`).join("\n") + (refusals.length > 8 ? `\n  - and ${refusals.length - 8} more` : "");
    throw new SafetyError("saved-plan-stale", `The saved plan does not match the plan computed now; nothing was written:\n${reasons}`, {
      hint: refusals[0]?.hint ?? "Run `agentform plan --out <file>` again and apply the new plan.",
      details: { refusals },
    });
  }
  return current;
}

export async function confirm(ctx: CommandContext, question = "Apply these changes? Only 'y' or 'yes' applies. [y/N] "): Promise<"yes" | "no" | "interrupted"> {
  const rl = createInterface({ input: process.stdin, output: ctx.io.stderr });
  let interrupted = false;
  const abort = new AbortController();
  // Ctrl+C interrupts (exit 130); Ctrl+D, the end of input, is just a "no".
  rl.on("SIGINT", () => {
    interrupted = true;
    abort.abort();
  });
  try {
    const answer = await rl.question(question, { signal: abort.signal });
    return /^y(es)?$/i.test(answer.trim()) ? "yes" : "no";
  } catch {
    ctx.io.stderr.write("\n");
    return interrupted ? "interrupted" : "no";
  } finally {
    rl.close();
  }
}

/** Progress lines: addresses and messages carry names from manifests and the API, so inert. */
function progress(event: ApplyEvent, ctx: CommandContext): void {
  const paint = paintFor(ctx.io.stdout, ctx.io.env);
  const address = inertText(event.address);
  switch (event.type) {
    case "done": {
      const version = event.version !== undefined && event.action !== "archive" ? ` (v${event.version})` : "";
      ctx.io.stdout.write(`[${event.completed}/${event.total}] ${ACTION_MARKER[event.action]} ${address} ${DONE_VERB[event.action]}${version}\n`);
      return;
    }
    case "failed":
      ctx.io.stderr.write(`${paint.red("✗")} ${address} failed: ${inertText(event.error.message)} ${paint.dim(`[${inertText(event.error.code)}]`)}\n`);
      if (event.error.hint) ctx.io.stderr.write(`    hint: ${inertText(event.error.hint)}\n`);
      return;
    case "skipped":
      ctx.io.stderr.write(`${paint.yellow("-")} ${address} skipped: ${inertText(event.reason)}\n`);
      return;
    case "start":
      return;
  }
}

function report(result: ApplyResult, lockWritten: boolean, orphans: number, ws: Workspace, ctx: CommandContext): number {
  const lockName = path.relative(ws.config.root, ws.lockPath) || ws.lockPath;
  if (result.failed.length === 0) {
    if (result.writes > 0) ctx.io.stdout.write(`Apply complete: ${result.writes} write(s). Lockfile: ${lockName}\n`);
    else if (lockWritten) ctx.io.stdout.write(`Lockfile ${lockName} rewritten from live, with no API writes.\n`);
    if (orphans > 0) ctx.io.stdout.write(`${orphans} orphaned resource(s) left alone: their manifests are gone, and pruning is off for them.\n`);
    ctx.io.stdout.write(pacedMessage(ws));
    return ExitCode.ok;
  }
  ctx.io.stdout.write(pacedMessage(ws));
  ctx.io.stderr.write(incompleteMessage(result, lockName));
  // Refusals (a basis that moved) are exit 3 only when nothing else went wrong.
  const all3 = result.failed.every(({ error }) => error instanceof AgentformError && error.exitCode === ExitCode.refused);
  return all3 ? ExitCode.refused : ExitCode.error;
}

/** One line when the API answered writes with 429s (each retried after a cut in pace); else nothing. */
function pacedMessage(ws: Workspace): string {
  const stats = ws.target.pacing?.();
  if (!stats || stats.rateLimited === 0) return "";
  const lowered = stats.lowestPerMinute < stats.configuredPerMinute ? ` (rate lowered to ${formatRate(stats.lowestPerMinute)}/min)` : "";
  return `paced: ${stats.rateLimited} rate-limit answer${stats.rateLimited === 1 ? "" : "s"} absorbed${lowered}\n`;
}

function formatRate(perMinute: number): string {
  return perMinute >= 10 ? String(Math.round(perMinute)) : String(Math.round(perMinute * 10) / 10);
}

function incompleteMessage(result: ApplyResult, lockName: string): string {
  const counts = `${result.failed.length} failed, ${result.skipped.length} skipped`;
  const has = (code: string) => result.failed.some(({ error }) => error.code === code);
  if (has("run-lock-lost")) {
    return `Apply stopped: this apply lost its run lock after ${result.writes} write(s); ${lockName} was left to the apply that holds the lock now. The next plan finds any unrecorded write by name and ownership marker.\n`;
  }
  if (has("lockfile-unwritable")) {
    return `Apply incomplete: ${result.writes} write(s) made, but ${lockName} could not be written; ${counts}. The next plan finds those resources by name and ownership marker.\n`;
  }
  return `Apply incomplete: ${result.writes} write(s) made and recorded in ${lockName}; ${counts}.\n`;
}


