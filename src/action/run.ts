/**
 * Running agentform (thin I/O): the built bin/agentform.js of this package, in the working
 * directory, as a child process with an argument list (never through a shell). Its output is
 * shown in the job log as it comes, with workflow commands off, and kept for the comment.
 */
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Log } from "./gha.js";
import { withCommandsOff } from "./gha.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** dist/action/run.js → bin/agentform.js of the same package. */
export const AGENTFORM_BIN = fileURLToPath(new URL("../../bin/agentform.js", import.meta.url));

/**
 * Variables agentform never gets: the Action's inputs (the GitHub token and the API key among
 * them) and the runner's own tokens. A manifest chooses which variables apply sends as
 * credential secrets, so a variable holding the GitHub token must not be there to name.
 */
const WITHHELD = /^(INPUT_.*|GITHUB_TOKEN|GH_TOKEN|ACTIONS_RUNTIME_TOKEN|ACTIONS_ID_TOKEN_REQUEST_TOKEN|ACTIONS_ID_TOKEN_REQUEST_URL|ACTIONS_CACHE_URL|ACTIONS_RESULTS_URL|FORCE_COLOR)$/;

/** agentform's environment: the job's, without the withheld variables, plus the API key where the target reads it. */
export function childEnv(env: NodeJS.ProcessEnv, apiKey: { name: string; value: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !WITHHELD.test(k)) out[k] = v;
  if (apiKey.value !== "") out[apiKey.name] = apiKey.value;
  out.NO_COLOR = "1";
  return out;
}

export async function runAgentform(args: readonly string[], options: { cwd: string; env: Record<string, string>; log: Log }): Promise<RunResult> {
  options.log.out(`$ agentform ${args.join(" ")}\n`);
  const result = await withCommandsOff(options.log, () =>
    execa(process.execPath, [AGENTFORM_BIN, ...args], {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      stdout: ["pipe", "inherit"],
      stderr: ["pipe", "inherit"],
      stripFinalNewline: false,
    }),
  );
  // A signal or a failure to start is exit 1 (an error), like any other agentform error.
  const code = typeof result.exitCode === "number" ? result.exitCode : 1;
  if (result.failed && result.exitCode === undefined) options.log.err(`error agentform did not run: ${(result.shortMessage ?? "").split("\n", 1)[0] ?? ""}\n`);
  return { code, stdout: String(result.stdout ?? ""), stderr: String(result.stderr ?? "") };
}
