/**
 * Apply mode (push to the main branch): find the pull request the commit came from and the
 * findings its reviewers saw in the sticky comment, plan now (saved with --out), refuse a
 * broadening finding nobody reviewed, then apply exactly that saved plan (agentform refuses it
 * if anything moved since).
 */
import { readFile } from "node:fs/promises";
import { ConfigError, ExitCode, SafetyError } from "../errors.js";
import { hasChanges } from "../plan/index.js";
import { inertText } from "../render/index.js";
import { appendSummary } from "./gha.js";
import { exitMeaning, outputBlock, summarySection, unreviewedLines, unreviewedTable, type Where } from "./body.js";
import { compareFindings, decodeFindings, planFindings, planFromJson, type FindingKey, type ReviewedFindings } from "./findings.js";
import { listComments, mergedPullOf, pullsForCommit, tokenIdentity } from "./github.js";
import { configArg, planArgsOf } from "./inputs.js";
import { projectName } from "./project.js";
import { planFilePath, type Outcome, type Runtime } from "./runtime.js";
import { findSticky, stickyMarker } from "./sticky.js";
import type { RunResult } from "./run.js";

interface Review {
  findings: ReviewedFindings | null;
  /** Why there is no reviewed plan (when findings is null). */
  why: string;
  pull?: number;
}

export async function runApplyMode(rt: Runtime): Promise<Outcome> {
  const sha = rt.ctx.sha;
  if (sha === undefined) {
    throw new ConfigError("action-context-missing", "GITHUB_SHA is not set.", { hint: "Run apply mode in a GitHub Actions job on push." });
  }
  const project = await projectName(rt.inputs.workingDirectory, configArg(rt.inputs.args));
  const where: Where = { project, target: rt.inputs.target, sha };
  const review = await reviewedPlan(rt, sha, stickyMarker(project, rt.inputs.target));
  if (review.findings === null && rt.inputs.requireReviewedPlan) {
    return refuse(rt, where, new SafetyError("no-reviewed-plan", `No reviewed plan for commit ${sha.slice(0, 12)}: ${review.why}; nothing was applied.`, { hint: byHand(rt, true) }));
  }
  if (review.findings === null) rt.log.out(`No reviewed plan (${review.why}); require-reviewed-plan is false, so applying without the check.\n`);
  const planFile = await planFilePath(rt, "apply");
  const check = await rt.agentform(["plan", "--target", rt.inputs.target, "--format", "text", "--out", planFile, ...planArgsOf(rt.inputs.args)]);
  if (check.code !== ExitCode.ok) return failed(rt, where, "plan", check, null);
  const plan = planFromJson(await readFile(planFile, "utf8"));
  if (review.findings !== null) {
    const { unreviewed, digestOnly } = compareFindings(review.findings, planFindings(plan));
    if (unreviewed.length > 0) return refuseUnreviewed(rt, where, review, unreviewed, digestOnly);
    rt.log.out(`Every security finding of this plan was in the plan reviewed on pull request #${review.pull}.\n`);
  }
  const run = await rt.agentform(["apply", planFile, "--target", rt.inputs.target, "--auto-approve", ...rt.inputs.args]);
  if (run.code !== ExitCode.ok) return failed(rt, where, "apply", run, planFile, hasChanges(plan));
  const via = review.pull !== undefined && review.findings !== null ? `The plan's security findings were reviewed on pull request #${review.pull}.` : "No reviewed plan was checked (require-reviewed-plan: false).";
  await appendSummary(rt.ctx.summaryFile, summarySection("✅ agentform apply", where, [via], outputBlock(run.stdout, rt.secrets)));
  return { exitCode: run.code, hasChanges: hasChanges(plan), planFile };
}

/** The findings reviewed on the merged pull request's sticky comment, or why there are none. */
async function reviewedPlan(rt: Runtime, sha: string, marker: string): Promise<Review> {
  const gh = rt.github();
  const pull = mergedPullOf(await pullsForCommit(gh, sha), sha);
  if (!pull) return { findings: null, why: `no merged pull request is associated with commit ${sha.slice(0, 12)} (a direct push?)` };
  const comment = findSticky(await listComments(gh, pull.number), marker, await tokenIdentity(gh));
  const at = `pull request #${pull.number}`;
  if (!comment) return { findings: null, why: `${at} has no plan comment for this project and target`, pull: pull.number };
  const findings = decodeFindings(comment.body ?? "");
  if (!findings) return { findings: null, why: `the plan comment on ${at} holds no reviewed plan (its last plan failed or was skipped for a fork)`, pull: pull.number };
  if (findings.sha !== pull.headSha) {
    return { findings: null, why: `the plan comment on ${at} is for commit ${findings.sha.slice(0, 12)}, but it was merged at ${pull.headSha.slice(0, 12)} (its last push was not planned)`, pull: pull.number };
  }
  return { findings, why: "", pull: pull.number };
}

function byHand(rt: Runtime, noReview: boolean): string {
  const t = inertText(rt.inputs.target);
  const manual = `Review \`agentform plan --target ${t}\` from a checkout of this commit, then run \`agentform apply --target ${t}\` there with the key`;
  return noReview ? `${manual}, or re-run this workflow with require-reviewed-plan: false.` : `${manual}, or open a pull request so the change is planned and reviewed there.`;
}

async function refuseUnreviewed(rt: Runtime, where: Where, review: Review, unreviewed: FindingKey[], digestOnly: boolean): Promise<Outcome> {
  const what = digestOnly
    ? `The security findings of the plan now differ from the ${review.findings?.count ?? 0} reviewed on pull request #${review.pull} (only their digest fit in the comment)`
    : `${unreviewed.length} security finding(s) of the plan now were not in the plan reviewed on pull request #${review.pull}`;
  const error = new SafetyError("unreviewed-findings", `${what}; nothing was applied:\n${unreviewedLines(unreviewed)}`, { hint: byHand(rt, false) });
  return refuse(rt, where, error, unreviewedTable(unreviewed));
}

/**
 * Exit 3 with nothing run: the reason in the log (by main) and in the job summary. The first line
 * and the hint are the Action's own words around validated values (target and project names,
 * commit ids, numbers), so they stay Markdown; findings from the plan are escaped in the table.
 */
async function refuse(rt: Runtime, where: Where, error: SafetyError, table?: string): Promise<Outcome> {
  const [first = ""] = error.message.split("\n", 1);
  const paragraphs = [first, ...(table ? [table] : []), `How to go on: ${error.hint ?? ""}`];
  await appendSummary(rt.ctx.summaryFile, summarySection("⛔ agentform apply refused (exit 3)", where, paragraphs));
  return { exitCode: ExitCode.refused, hasChanges: false, planFile: null, problem: error };
}

async function failed(rt: Runtime, where: Where, step: "plan" | "apply", run: RunResult, planFile: string | null, changes = false): Promise<Outcome> {
  const text = `${run.stdout}${run.stderr}`;
  const paragraphs = [`agentform ${step} exited ${run.code}: ${exitMeaning(run.code)}.${step === "plan" ? " Nothing was applied." : ""}`];
  await appendSummary(rt.ctx.summaryFile, summarySection(`❌ agentform ${step} failed (exit ${run.code})`, where, paragraphs, outputBlock(text, rt.secrets)));
  return { exitCode: run.code, hasChanges: changes, planFile };
}
