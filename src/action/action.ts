/**
 * The GitHub Action (action.yml runs dist/action/main.js): read the inputs, mask the secrets,
 * run plan or apply mode, write the step outputs, and turn failures into an exit code, a log
 * line with a stable code and hint, and a job summary. Nothing here prints a secret.
 */
import { tmpdir } from "node:os";
import { AgentformError, ExitCode, redactSecrets } from "../errors.js";
import { escapeMarkdown, inertText } from "../render/index.js";
import { runApplyMode } from "./apply-mode.js";
import { appendSummary, mask, setOutputs, type Log } from "./gha.js";
import { readContext, readInputs } from "./inputs.js";
import { runPlanMode } from "./plan-mode.js";
import { createRuntime, type Outcome } from "./runtime.js";

export async function runAction(env: NodeJS.ProcessEnv, log: Log, cwd = process.cwd()): Promise<number> {
  // Before anything can print: the runner hides these values in the log from here on.
  const secrets = [env.INPUT_API_KEY ?? "", env.INPUT_GITHUB_TOKEN ?? ""].map((s) => s.trim()).filter((s) => s !== "");
  for (const secret of secrets) mask(log, secret);
  const mode = env.INPUT_MODE === "apply" ? "apply" : "plan";
  try {
    const inputs = readInputs(env, cwd);
    const rt = createRuntime(inputs, readContext(env, tmpdir()), env, log);
    const outcome = inputs.mode === "plan" ? await runPlanMode(rt) : await runApplyMode(rt);
    await writeOutputs(env.GITHUB_OUTPUT, outcome);
    if (outcome.problem) return report(log, outcome.problem, secrets);
    // A plan with changes (2) is a successful plan step; every other code is agentform's own.
    return inputs.mode === "plan" && outcome.exitCode === ExitCode.changes ? ExitCode.ok : outcome.exitCode;
  } catch (err) {
    const code = report(log, err, secrets);
    await writeOutputs(env.GITHUB_OUTPUT, { exitCode: code, hasChanges: false, planFile: null }).catch(() => undefined);
    const text = redactSecrets(err instanceof Error ? err.message : String(err), secrets);
    const hint = err instanceof AgentformError && err.hint ? `\n\nHow to go on: ${escapeMarkdown(redactSecrets(err.hint, secrets))}` : "";
    const summary = `## ❌ agentform ${mode} failed (exit ${code})\n\n${text.split("\n").map(escapeMarkdown).join("  \n")}${hint}\n`;
    await appendSummary(env.GITHUB_STEP_SUMMARY || undefined, summary).catch(() => undefined);
    return code;
  }
}

async function writeOutputs(file: string | undefined, outcome: Pick<Outcome, "exitCode" | "hasChanges" | "planFile">): Promise<void> {
  await setOutputs(file || undefined, {
    "has-changes": outcome.hasChanges ? "true" : "false",
    "exit-code": String(outcome.exitCode),
    "plan-file": outcome.planFile ?? "",
  });
}

/** An error as a log line with its code and hint (inert, scrubbed); returns its exit code. */
function report(log: Log, err: unknown, secrets: readonly string[]): number {
  const clean = (s: string) => s.split("\n").map((l) => inertText(redactSecrets(l, secrets))).join("\n");
  if (err instanceof AgentformError) {
    log.err(`error ${clean(err.message)} [${clean(err.code)}]\n`);
    if (err.hint) log.err(`  hint: ${clean(err.hint)}\n`);
    return err.exitCode;
  }
  log.err(`error internal error in the agentform Action: ${clean(err instanceof Error ? err.message : String(err))} [internal]\n`);
  log.err("  hint: this is a bug in the Action; re-run the job, and report it with the log if it happens again.\n");
  return ExitCode.error;
}
