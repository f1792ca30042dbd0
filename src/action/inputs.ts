/**
 * The GitHub Action's inputs and the Actions environment (pure). action.yml passes every input
 * as an environment variable (`INPUT_MODE`, …), never as shell text, and this module checks them
 * before anything runs: a bad input is a ConfigError (exit 4) with a hint, not a half-done run.
 */
import path from "node:path";
import { ConfigError } from "../errors.js";

export type Mode = "plan" | "apply";

export interface ActionInputs {
  mode: Mode;
  target: string;
  /** Absolute: the folder agentform runs in (it finds agentform.yaml from there). */
  workingDirectory: string;
  githubToken: string;
  /** "" when not given: agentform then reads the key from the job's own environment. */
  apiKey: string;
  apiKeyEnv: string;
  /** Extra arguments for `agentform plan` (plan mode) or `agentform apply` (apply mode). */
  args: string[];
  requireReviewedPlan: boolean;
}

/** What GitHub Actions sets for every step (GITHUB_API_URL, GITHUB_REPOSITORY, …). */
export interface ActionContext {
  apiUrl: string;
  owner: string;
  repo: string;
  eventPath: string | undefined;
  sha: string | undefined;
  summaryFile: string | undefined;
  outputFile: string | undefined;
  /** Where the plan files go (RUNNER_TEMP): outside the checkout, so nothing is left in it. */
  tempDir: string;
}

/** The same pattern agentform.yaml's schema gives target names; `all` is `plan --target all`. */
const TARGET = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function invalid(input: string, message: string, hint: string): ConfigError {
  return new ConfigError("action-input-invalid", `Input ${input}: ${message}`, { hint });
}

export function readInputs(env: NodeJS.ProcessEnv, cwd: string): ActionInputs {
  const mode = (env.INPUT_MODE ?? "").trim();
  if (mode !== "plan" && mode !== "apply") {
    throw invalid("mode", `must be "plan" or "apply", not ${JSON.stringify(mode)}.`, "Use `mode: plan` on pull_request and `mode: apply` on push to the main branch.");
  }
  const target = (env.INPUT_TARGET ?? "").trim() || "default";
  if (!TARGET.test(target) || target === "all") {
    throw invalid("target", `${JSON.stringify(target)} is not one target name.`, "Name one target of agentform.yaml; use one step (or a matrix job) per target.");
  }
  const apiKeyEnv = (env.INPUT_API_KEY_ENV ?? "").trim() || "ANTHROPIC_API_KEY";
  if (!ENV_NAME.test(apiKeyEnv)) {
    throw invalid("api-key-env", `${JSON.stringify(apiKeyEnv)} is not an environment variable name.`, "Give the variable the target's api_key_env names, e.g. ANTHROPIC_API_KEY.");
  }
  const args = splitArgs(env.INPUT_ARGS ?? "");
  checkArgs(mode, args);
  return {
    mode,
    target,
    workingDirectory: path.resolve(cwd, (env.INPUT_WORKING_DIRECTORY ?? "").trim() || "."),
    githubToken: (env.INPUT_GITHUB_TOKEN ?? "").trim(),
    apiKey: (env.INPUT_API_KEY ?? "").trim(),
    apiKeyEnv,
    args,
    requireReviewedPlan: parseBoolean(env.INPUT_REQUIRE_REVIEWED_PLAN),
  };
}

function parseBoolean(value: string | undefined): boolean {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "true") return true;
  if (v === "false") return false;
  throw invalid("require-reviewed-plan", `must be "true" or "false", not ${JSON.stringify(value)}.`, "Leave it at true unless applies without a reviewed plan are acceptable.");
}

/**
 * Split `args` the way a shell splits words, without a shell: whitespace separates, single and
 * double quotes group, nothing is expanded or executed.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (/\s/.test(c)) {
      if (word !== null) out.push(word);
      word = null;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw invalid("args", `has an unterminated ${quote} quote.`, "Close the quote; arguments are split like shell words, but nothing is expanded.");
  if (word !== null) out.push(word);
  return out;
}

/** Options the Action sets itself: given again in `args` they would change what it reads. */
const OWNED: Record<Mode, readonly string[]> = {
  plan: ["--target", "-t", "--format", "-f", "--out", "-o", "--detailed-exitcode"],
  apply: ["--target", "-t"],
};

/** apply's options that take a value: the word after one is that value, not a plan file. */
const APPLY_VALUED = ["--only", "--backend", "--config", "-c", "--require-approval", "--concurrency"];

function checkArgs(mode: Mode, args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = arg.startsWith("--") ? (arg.split("=", 1)[0] ?? arg) : arg.slice(0, 2);
    if (OWNED[mode].includes(flag)) {
      throw invalid("args", `${JSON.stringify(arg)} is set by the Action itself in ${mode} mode.`, "Use the Action's `target` input; the Action chooses the plan's format and file.");
    }
    if (mode === "apply" && APPLY_VALUED.includes(arg)) i++;
    else if (mode === "apply" && !arg.startsWith("-")) {
      throw invalid("args", `${JSON.stringify(arg)} is not an option; apply mode applies the plan it has just checked.`, "Pass only options (such as --prune or --concurrency 2) in args.");
    }
  }
}

/** Options `agentform plan` shares with `agentform apply` (a check plan must be made with the same ones). */
const SHARED_FLAGS = ["--adopt", "--prune", "--allow-empty", "--rotate", "--fail-on-drift"];
const SHARED_VALUED = ["--only", "--backend", "--config", "-c"];

/** The part of apply mode's `args` that `agentform plan` understands, in order. */
export function planArgsOf(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = arg.split("=", 1)[0] ?? arg;
    if (SHARED_FLAGS.includes(flag)) out.push(arg);
    else if (SHARED_VALUED.includes(flag)) {
      out.push(arg);
      if (!arg.includes("=") && i + 1 < args.length) out.push(args[++i] as string);
    }
  }
  return out;
}

/** `--config FILE` (or `-c FILE`, `--config=FILE`) from args, to find the project's name. */
export function configArg(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("--config=")) return arg.slice("--config=".length);
    if (arg === "--config" || arg === "-c") return args[i + 1];
  }
  return undefined;
}

export function readContext(env: NodeJS.ProcessEnv, tmp: string): ActionContext {
  const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? "").split("/");
  if (!owner || !repo || rest.length > 0) {
    throw new ConfigError("action-context-missing", `GITHUB_REPOSITORY is ${JSON.stringify(env.GITHUB_REPOSITORY ?? "")}, not owner/name.`, {
      hint: "Run the Action in a GitHub Actions job, which sets GITHUB_REPOSITORY.",
    });
  }
  const blank = (v: string | undefined) => (v && v.trim() !== "" ? v : undefined);
  return {
    apiUrl: blank(env.GITHUB_API_URL) ?? "https://api.github.com",
    owner,
    repo,
    eventPath: blank(env.GITHUB_EVENT_PATH),
    sha: blank(env.GITHUB_SHA),
    summaryFile: blank(env.GITHUB_STEP_SUMMARY),
    outputFile: blank(env.GITHUB_OUTPUT),
    tempDir: blank(env.RUNNER_TEMP) ?? tmp,
  };
}
