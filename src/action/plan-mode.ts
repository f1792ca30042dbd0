/**
 * Plan mode (pull_request): plan once (Markdown on stdout, the JSON plan saved with --out), post
 * or update the one sticky comment for this project and target, write the job summary.
 * Pull requests from forks have no secrets: they are validated only.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { OperationalError, redactSecrets } from "../errors.js";
import { appendSummary } from "./gha.js";
import { encodeFindings, planFindings, planFromJson } from "./findings.js";
import { failedCommentBody, forkCommentBody, planCommentBody, withoutFindingsLine, type Where } from "./body.js";
import { readEvent, pullRequestOf, type PullRequestInfo } from "./event.js";
import { tokenIdentity, upsertSticky } from "./github.js";
import { configArg } from "./inputs.js";
import { projectName } from "./project.js";
import { planFilePath, type Outcome, type Runtime } from "./runtime.js";
import { stickyMarker } from "./sticky.js";

export async function runPlanMode(rt: Runtime): Promise<Outcome> {
  const pr = pullRequestOf(await readEvent(rt.ctx.eventPath));
  const project = await projectName(rt.inputs.workingDirectory, configArg(rt.inputs.args));
  const where: Where = { project, target: rt.inputs.target, sha: pr?.headSha };
  if (pr?.fork) return forkPlan(rt, pr, where);
  const planFile = await planFilePath(rt, "plan");
  const run = await rt.agentform(["plan", "--target", rt.inputs.target, "--format", "markdown", "--detailed-exitcode", "--out", planFile, ...rt.inputs.args]);
  const marker = stickyMarker(project, rt.inputs.target);
  const planned = (run.code === 0 || run.code === 2) && run.stdout.startsWith(`${marker}\n`);
  let exitCode = run.code;
  let body: string;
  if (planned) {
    const findings = planFindings(planFromJson(await readFile(planFile, "utf8")));
    body = planCommentBody(redactSecrets(run.stdout, rt.secrets), where, encodeFindings(pr?.headSha ?? "", findings));
  } else {
    // 0 or 2 without this target's marker first: not a plan the Action can vouch for.
    if (run.code === 0 || run.code === 2) exitCode = 1;
    body = failedCommentBody(where, exitCode, run, rt.secrets);
  }
  const comment = pr ? await postComment(rt, pr, marker, body) : { note: "This run is not about a pull request, so the plan is only in this summary.", problem: undefined };
  await appendSummary(rt.ctx.summaryFile, `${withoutFindingsLine(body).trimEnd()}\n\n---\n\n${comment.note}\n`);
  return {
    exitCode,
    hasChanges: planned && run.code === 2,
    planFile: existsSync(planFile) ? planFile : null,
    ...(comment.problem ? { problem: comment.problem } : {}),
  };
}

/** A fork's pull request: `agentform validate` only, and a comment saying why, if the token may post one. */
async function forkPlan(rt: Runtime, pr: PullRequestInfo, where: Where): Promise<Outcome> {
  rt.log.out("This pull request comes from a fork: GitHub gives it no secrets, so it is validated, not planned.\n");
  const config = configArg(rt.inputs.args);
  const run = await rt.agentform(["validate", "--target", rt.inputs.target, ...(config !== undefined ? ["--config", config] : [])]);
  const body = forkCommentBody(where, run.code, `${run.stdout}${run.stderr}`, rt.secrets);
  const comment = await postComment(rt, pr, stickyMarker(where.project, where.target), body);
  await appendSummary(rt.ctx.summaryFile, `${body.trimEnd()}\n\n---\n\n${comment.note}\n`);
  return { exitCode: run.code, hasChanges: false, planFile: null, ...(comment.problem ? { problem: comment.problem } : {}) };
}

/**
 * Post or update the sticky comment. A refusal (403) is expected for forks, whose token is
 * read-only, and said in the summary; for a pull request of this repository it fails the step,
 * since apply would then find no reviewed plan.
 */
async function postComment(rt: Runtime, pr: PullRequestInfo, marker: string, body: string): Promise<{ note: string; problem: OperationalError | undefined }> {
  const gh = rt.github();
  const result = await upsertSticky(gh, pr.number, marker, await tokenIdentity(gh), body);
  if (result.action !== "refused") {
    rt.log.out(`Plan comment ${result.action} on pull request #${pr.number} (comment ${result.id}).\n`);
    return { note: `Plan comment ${result.action} on pull request #${pr.number}.`, problem: undefined };
  }
  if (pr.fork) {
    rt.log.out(`GitHub refused the comment on pull request #${pr.number} (${result.status}): a fork's token is read-only.\n`);
    return { note: `GitHub refused the comment on pull request #${pr.number} (${result.status}): runs for pull requests from forks get a read-only token. The result is only in this summary.`, problem: undefined };
  }
  const problem = new OperationalError("github-comment-refused", `GitHub refused the plan comment on pull request #${pr.number} (${result.status}).`, {
    hint: "Give the plan job `permissions: pull-requests: write`; without the comment, apply finds no reviewed plan.",
  });
  return { note: `GitHub refused the plan comment on pull request #${pr.number} (${result.status}): give the job \`permissions: pull-requests: write\`.`, problem };
}
