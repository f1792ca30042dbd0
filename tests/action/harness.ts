/**
 * Runs the built Action (dist/action/main.js) as GitHub's runner would: a child process whose
 * environment holds the inputs (INPUT_*) and the Actions variables (GITHUB_API_URL pointing at
 * the GitHub stand-in, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, …), with agentform
 * planning and applying against a cliProject's local control plane.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { KEY_ENV, type CliProject } from "../helpers/cli-project.js";
import type { GithubStandin, StandinUser } from "../helpers/github-standin.js";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const MAIN = path.join(root, "dist/action/main.js");

export const OWNER = "acme";
export const REPO = "support";
/** GITHUB_TOKEN-shaped (an installation token: it cannot read /user), and distinctive in any output. */
export const TOKEN = `ghs_${"standinTOKEN7f3a9c".padEnd(36, "q")}`;
export const ACTIONS_BOT: StandinUser = { login: "github-actions[bot]", type: "Bot" };

/** `npm test` builds first; build here only when this folder runs on its own. */
export { ensureBuilt } from "../helpers/built.js";

export function sha(seed: string): string {
  return seed.padEnd(40, "0").replace(/[^0-9a-f]/g, "a").slice(0, 40);
}

export function prEvent(number: number, headSha: string, headRepo = `${OWNER}/${REPO}`): object {
  return {
    action: "synchronize",
    number,
    pull_request: { number, head: { sha: headSha, ref: "feature", repo: { full_name: headRepo } }, base: { sha: sha("base"), ref: "main", repo: { full_name: `${OWNER}/${REPO}` } } },
  };
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The text of the file the plan-file output names (read before the run's RUNNER_TEMP goes). */
  planFileText: string | null;
}

export interface RunOptions {
  project: CliProject;
  standin: GithubStandin;
  mode: "plan" | "apply";
  event?: object;
  sha?: string;
  target?: string;
  args?: string;
  requireReviewedPlan?: string;
  /** Give agentform the API key through the api-key input (false: as a fork's run, no secrets). */
  apiKey?: boolean;
  token?: string;
}

/** Parse $GITHUB_OUTPUT's `name<<DELIMITER … DELIMITER` entries. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(\S+)$/.exec(lines[i] as string);
    if (!m) continue;
    const value: string[] = [];
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i] as string);
    out[m[1] as string] = value.join("\n");
  }
  return out;
}

export async function runAction(o: RunOptions): Promise<ActionRun> {
  const tmp = await mkdtemp(path.join(tmpdir(), "agentform-action-run-"));
  try {
    const files = { event: path.join(tmp, "event.json"), output: path.join(tmp, "output"), summary: path.join(tmp, "summary.md") };
    await writeFile(files.event, JSON.stringify(o.event ?? { ref: "refs/heads/main" }));
    await writeFile(files.output, "");
    await writeFile(files.summary, "");
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? tmp,
      INPUT_MODE: o.mode,
      INPUT_TARGET: o.target ?? "default",
      // Relative, as in a workflow: resolved against the step's folder (the parent here).
      INPUT_WORKING_DIRECTORY: path.basename(o.project.dir),
      INPUT_GITHUB_TOKEN: o.token ?? TOKEN,
      INPUT_API_KEY: o.apiKey === false ? "" : o.project.cp.apiKey,
      INPUT_API_KEY_ENV: KEY_ENV,
      INPUT_ARGS: o.args ?? "",
      INPUT_REQUIRE_REVIEWED_PLAN: o.requireReviewedPlan ?? "true",
      GITHUB_API_URL: o.standin.url,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_SHA: o.sha ?? sha("c0ffee"),
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      RUNNER_TEMP: tmp,
      GITHUB_ACTIONS: "true",
      ...o.project.env,
    };
    const result = await execa(process.execPath, [MAIN], { cwd: path.dirname(o.project.dir), env, extendEnv: false, reject: false });
    const outputs = parseOutputs(await readFile(files.output, "utf8"));
    const planFile = outputs["plan-file"];
    return {
      code: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      outputs,
      summary: await readFile(files.summary, "utf8"),
      planFileText: planFile && existsSync(planFile) ? await readFile(planFile, "utf8") : null,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Everything a run published, minus the `::add-mask::` lines (which register the secrets with the runner). */
export function published(run: ActionRun): string {
  const log = `${run.stdout}\n${run.stderr}`
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::"))
    .join("\n");
  return `${log}\n${run.summary}\n${JSON.stringify(run.outputs)}`;
}
