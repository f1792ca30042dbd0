/**
 * The GitHub Actions files agentform ships, linted: the workflow templates
 * (templates/workflows/*.yml), the workflows written out in docs/ci.md, and the Action's
 * metadata, action.yml at the repository root. Whatever of these exists is linted; at least one
 * file must be.
 *
 * actionlint lints workflows, not action metadata: it reads a local action's action.yml when a
 * workflow uses it (`uses: ./`) and checks its metadata and the inputs passed to it, but not the
 * steps of a composite action. So action.yml is linted through workflows generated in a
 * throwaway repository: one that uses the action (plus a probe proving actionlint read it), the
 * templates with their `uses: <owner>/agentform@<ref>` pointed at it (the inputs they pass), and
 * one whose job runs the action's steps (expressions, contexts, shell). What actionlint does not
 * check at all is checked here on action.yml's structure: a composite action whose scripts get
 * inputs through `env:`, never through `${{ }}` pasted into the script text.
 *
 * actionlint is found through AGENTFORM_ACTIONLINT, then .ci/bin/actionlint (which .ci/run
 * builds when Go is installed), then PATH; without it the linting tests skip, saying so once.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it, type TestContext } from "vitest";
import { parse, stringify } from "yaml";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ACTION = path.join(repo, "action.yml");
const TEMPLATES = path.join(repo, "templates/workflows");
const CI_DOC = path.join(repo, "docs/ci.md");
const EXE = process.platform === "win32" ? ".exe" : "";

type Step = Record<string, unknown>;
interface ActionMetadata {
  name?: unknown;
  description?: unknown;
  inputs?: Record<string, { description?: unknown; required?: unknown } | null>;
  runs?: { using?: unknown; steps?: unknown };
}

function findActionlint(): string | undefined {
  const given = process.env.AGENTFORM_ACTIONLINT;
  if (given) {
    // Asked for by name: a wrong path is an error, not a reason to skip.
    if (!existsSync(given)) throw new Error(`AGENTFORM_ACTIONLINT=${given} does not exist`);
    return given;
  }
  const built = path.join(repo, ".ci/bin", `actionlint${EXE}`);
  if (existsSync(built)) return built;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, `actionlint${EXE}`);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** templates/workflows/*.yml (and *.yaml), relative to the repository root; found at run time. */
function templateFiles(): string[] {
  if (!existsSync(TEMPLATES)) return [];
  return readdirSync(TEMPLATES)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `templates/workflows/${f}`);
}

/** The ```yaml blocks of docs/ci.md that are whole workflows (`on:` and `jobs:`), with their first line. */
function docWorkflows(): { line: number; text: string }[] {
  if (!existsSync(CI_DOC)) return [];
  const blocks: { line: number; text: string }[] = [];
  const fence = /^```ya?ml[^\n]*\n([\s\S]*?)^```/gm;
  const source = readFileSync(CI_DOC, "utf8");
  for (let m = fence.exec(source); m; m = fence.exec(source)) {
    let value: unknown;
    try {
      value = parse(m[1]!);
    } catch {
      continue; // a fragment, not a workflow
    }
    if (value && typeof value === "object" && "jobs" in value && "on" in value) blocks.push({ line: source.slice(0, m.index).split("\n").length + 1, text: m[1]! });
  }
  return blocks;
}

function lintedFiles(): string[] {
  return [...(existsSync(ACTION) ? ["action.yml"] : []), ...templateFiles(), ...(docWorkflows().length > 0 ? ["docs/ci.md"] : [])];
}

let announced = false;
/** The actionlint binary, or skip the test (printing the one line that says why, once per file). */
function actionlintOrSkip(ctx: TestContext): string {
  const bin = findActionlint();
  if (bin !== undefined) return bin;
  const reason = `actionlint: ${lintedFiles().length} files skipped, no actionlint binary; set AGENTFORM_ACTIONLINT`;
  if (!announced) console.log(reason);
  announced = true;
  return ctx.skip(reason);
}

/** actionlint's findings, one per line ("" when clean); throws when actionlint itself fails. */
async function actionlint(bin: string, cwd: string, files: string[]): Promise<string> {
  const r = await execa(bin, ["-oneline", "-no-color", ...files], { cwd, reject: false });
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`actionlint exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

/** A throwaway git repository holding a copy of action.yml at its root and `workflows` in .github/workflows. */
async function repoWithAction(workflows: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-actionlint-"));
  scratch.push(dir);
  await mkdir(path.join(dir, ".git"));
  await mkdir(path.join(dir, ".github/workflows"), { recursive: true });
  await writeFile(path.join(dir, "action.yml"), readFileSync(ACTION));
  for (const [name, text] of Object.entries(workflows)) await writeFile(path.join(dir, ".github/workflows", name), text);
  return dir;
}

function readAction(): ActionMetadata {
  return parse(readFileSync(ACTION, "utf8")) as ActionMetadata;
}

/** A workflow whose one job checks out the repository and runs the action with `with`. */
function usesAction(withInputs: Record<string, string>): string {
  const step = Object.keys(withInputs).length === 0 ? { uses: "./" } : { uses: "./", with: withInputs };
  return stringify({ name: "uses the action", on: "push", jobs: { use: { "runs-on": "ubuntu-latest", steps: [{ uses: "actions/checkout@v4" }, step] } } });
}

/** A reusable workflow with the action's inputs whose job runs the action's steps, so actionlint checks them. */
function actionSteps(action: ActionMetadata): string {
  const inputs = Object.fromEntries(Object.keys(action.inputs ?? {}).map((name) => [name, { type: "string", required: false }]));
  return stringify({ name: "the action's steps", on: { workflow_call: { inputs } }, jobs: { steps: { "runs-on": "ubuntu-latest", steps: action.runs?.steps } } });
}

/** `uses: <owner>/agentform@<ref>` (what a template fills in for the published Action) → `uses: ./`. */
function pointedAtLocalAction(workflow: string): string {
  return workflow.replace(/^(\s*-?\s*uses:\s*)[A-Za-z0-9_.-]+\/agentform@\S+/gm, "$1./");
}

describe("actionlint", () => {
  it("has files to lint: action.yml, templates/workflows/*.yml or workflows in docs/ci.md", () => {
    expect(lintedFiles().length).toBeGreaterThan(0);
  });

  it("passes on every workflow template as written", async (ctx) => {
    const bin = actionlintOrSkip(ctx);
    const files = templateFiles();
    if (files.length === 0) return ctx.skip("no templates/workflows/*.yml");
    expect(await actionlint(bin, repo, files)).toBe("");
  });

  it("passes on the workflows written out in docs/ci.md", async (ctx) => {
    const bin = actionlintOrSkip(ctx);
    const blocks = docWorkflows();
    if (blocks.length === 0) return ctx.skip("no workflow in docs/ci.md");
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-actionlint-doc-"));
    scratch.push(dir);
    // Named after the line the block starts on in docs/ci.md, so a finding says where to look.
    for (const b of blocks) await writeFile(path.join(dir, `ci.md-line-${b.line}.yml`), b.text);
    expect(await actionlint(bin, dir, blocks.map((b) => `ci.md-line-${b.line}.yml`))).toBe("");
  });

  it("passes on action.yml used from a workflow with every input, and on its steps run as a job", async (ctx) => {
    const bin = actionlintOrSkip(ctx);
    if (!existsSync(ACTION)) return ctx.skip("no action.yml");
    const action = readAction();
    const withAll = Object.fromEntries(Object.keys(action.inputs ?? {}).map((name) => [name, "x"]));
    const dir = await repoWithAction({ "uses-action.yml": usesAction(withAll), "action-steps.yml": actionSteps(action) });
    expect(await actionlint(bin, dir, [".github/workflows/uses-action.yml", ".github/workflows/action-steps.yml"])).toBe("");
  });

  it("reads action.yml through `uses: ./` (a probe input it does not define is reported)", async (ctx) => {
    const bin = actionlintOrSkip(ctx);
    if (!existsSync(ACTION)) return ctx.skip("no action.yml");
    // actionlint stays silent when it finds no metadata at `uses: ./`; this proves it found it.
    const dir = await repoWithAction({ "probe.yml": usesAction({ agentform_probe_input: "x" }) });
    expect(await actionlint(bin, dir, [".github/workflows/probe.yml"])).toMatch(/input "agentform_probe_input" is not defined in action/);
  });

  it("passes on every workflow template using the action in this repository (the inputs it passes)", async (ctx) => {
    const bin = actionlintOrSkip(ctx);
    if (!existsSync(ACTION)) return ctx.skip("no action.yml");
    const files = templateFiles();
    if (files.length === 0) return ctx.skip("no templates/workflows/*.yml");
    const dir = await repoWithAction(Object.fromEntries(files.map((f) => [path.basename(f), pointedAtLocalAction(readFileSync(path.join(repo, f), "utf8"))])));
    expect(await actionlint(bin, dir, files.map((f) => `.github/workflows/${path.basename(f)}`))).toBe("");
  });
});

/** `${{ … }}` expressions in `text` that read something an attacker or a caller controls. */
function untrustedExpressions(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
    if (/\binputs\s*[.[]|\bgithub\s*\.\s*(event|head_ref)\b/.test(m[1]!)) found.push(m[0]);
  }
  return found;
}

/** What actionlint does not check in a composite action's metadata: problems as "where: what". */
function actionProblems(action: ActionMetadata): string[] {
  const problems: string[] = [];
  for (const key of ["name", "description"] as const) {
    if (typeof action[key] !== "string" || action[key] === "") problems.push(`${key}: missing`);
  }
  if (action.runs?.using !== "composite") problems.push(`runs.using: ${JSON.stringify(action.runs?.using)}, expected "composite"`);
  const steps = Array.isArray(action.runs?.steps) ? (action.runs.steps as Step[]) : [];
  if (steps.length === 0) problems.push("runs.steps: none");
  const declared = new Set(Object.keys(action.inputs ?? {}));
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    if (typeof spec?.description !== "string" || spec.description === "") problems.push(`inputs.${name}: no description`);
  }
  steps.forEach((step, i) => {
    const where = `runs.steps[${i}]${typeof step.name === "string" ? ` (${step.name})` : ""}`;
    if (typeof step.run === "string") {
      if (typeof step.shell !== "string") problems.push(`${where}: run without shell`);
      for (const e of untrustedExpressions(step.run)) problems.push(`${where}: ${e} in run: pass it through env: and use the variable`);
    }
    // actions/github-script's `script` is code just as `run` is.
    const script = (step.with as Record<string, unknown> | undefined)?.script;
    if (typeof step.uses === "string" && /^actions\/github-script@/.test(step.uses) && typeof script === "string") {
      for (const e of untrustedExpressions(script)) problems.push(`${where}: ${e} in with.script: pass it through env: and read process.env`);
    }
  });
  for (const m of JSON.stringify(action.runs ?? {}).matchAll(/\binputs\s*\.\s*([A-Za-z0-9_-]+)/g)) {
    if (!declared.has(m[1]!)) problems.push(`runs: inputs.${m[1]} is not declared under inputs`);
  }
  return problems;
}

describe("action.yml structure (what actionlint does not check)", () => {
  it("is a composite action with a name and description, described inputs, shells, and no inputs pasted into scripts", (ctx) => {
    if (!existsSync(ACTION)) return ctx.skip("no action.yml");
    expect(actionProblems(readAction())).toEqual([]);
  });

  it("the check itself finds script injection, a missing shell, an undeclared input and a non-composite action", () => {
    const bad: ActionMetadata = {
      name: "x",
      description: "",
      inputs: { target: { description: "which target" } },
      runs: {
        using: "node20",
        steps: [
          { name: "plan", run: 'agentform plan --target "${{ inputs.target }}"' },
          { run: "echo ${{ github.event.pull_request.title }}", shell: "bash" },
          { uses: "actions/github-script@v7", with: { script: "core.info(`${{ inputs['target'] }}`)" } },
          { run: 'echo "$T"', shell: "bash", env: { T: "${{ inputs.targte }}" } },
        ],
      },
    };
    expect(actionProblems(bad)).toEqual([
      "description: missing",
      'runs.using: "node20", expected "composite"',
      "runs.steps[0] (plan): run without shell",
      "runs.steps[0] (plan): ${{ inputs.target }} in run: pass it through env: and use the variable",
      "runs.steps[1]: ${{ github.event.pull_request.title }} in run: pass it through env: and use the variable",
      "runs.steps[2]: ${{ inputs['target'] }} in with.script: pass it through env: and read process.env",
      "runs: inputs.targte is not declared under inputs",
    ]);
    const good: ActionMetadata = {
      name: "x",
      description: "y",
      inputs: { target: { description: "which target" } },
      runs: { using: "composite", steps: [{ run: 'agentform plan --target "$TARGET"', shell: "bash", env: { TARGET: "${{ inputs.target }}" } }] },
    };
    expect(actionProblems(good)).toEqual([]);
  });
});
