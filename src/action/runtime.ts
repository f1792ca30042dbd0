/**
 * What both modes share: the inputs, the Actions context, the log, the run's secrets, a GitHub
 * client made on first use, running agentform, and the outcome a mode reports.
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { AgentformError } from "../errors.js";
import type { Log } from "./gha.js";
import { githubClient, type Github } from "./github.js";
import type { ActionContext, ActionInputs } from "./inputs.js";
import { childEnv, runAgentform, type RunResult } from "./run.js";

export interface Runtime {
  inputs: ActionInputs;
  ctx: ActionContext;
  log: Log;
  /** The API key and the GitHub token: scrubbed from everything the Action publishes. */
  secrets: string[];
  github(): Github;
  agentform(args: readonly string[]): Promise<RunResult>;
}

export interface Outcome {
  /** agentform's exit code (the `exit-code` output). */
  exitCode: number;
  hasChanges: boolean;
  /** The saved plan, when one was written. */
  planFile: string | null;
  /** A failure after the outputs and summary were written (the step fails with its exit code). */
  problem?: AgentformError;
}

export function createRuntime(inputs: ActionInputs, ctx: ActionContext, env: NodeJS.ProcessEnv, log: Log): Runtime {
  let github: Github | undefined;
  const agentformEnv = childEnv(env, { name: inputs.apiKeyEnv, value: inputs.apiKey });
  return {
    inputs,
    ctx,
    log,
    secrets: [inputs.apiKey, inputs.githubToken].filter((s) => s !== ""),
    github: () => (github ??= githubClient(ctx.apiUrl, inputs.githubToken, { owner: ctx.owner, repo: ctx.repo })),
    agentform: (args) => runAgentform(args, { cwd: inputs.workingDirectory, env: agentformEnv, log }),
  };
}

/** A fresh path for a saved plan under RUNNER_TEMP (any file left there by an earlier step is removed). */
export async function planFilePath(rt: Runtime, kind: "plan" | "apply"): Promise<string> {
  const dir = path.join(rt.ctx.tempDir, "agentform-action");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${rt.inputs.target}.json`);
  await rm(file, { force: true });
  return file;
}
