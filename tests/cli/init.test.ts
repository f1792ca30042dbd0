/**
 * `agentform init`: the real CLI in-process, scaffolding into throwaway folders; the scaffold is
 * then validated, applied to its local target and planned again with the same CLI.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { nameFromFolder } from "../../src/cli/init.js";
import { main } from "../../src/cli/main.js";
import { AGENTFORM_VERSION } from "../../src/version.js";
import { capture } from "../helpers/capture.js";
import { runCli } from "../helpers/cli-project.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENV = { NO_COLOR: "1" };

/** Every file init writes into an empty folder. */
const SCAFFOLD = [
  ".gitattributes",
  ".github/workflows/agentform-apply.yml",
  ".github/workflows/agentform-plan.yml",
  ".gitignore",
  ".vscode/settings.json",
  "agentform.yaml",
  "agents/assistant.yaml",
  "deployments/.gitkeep",
  "environments/sandbox.yaml",
  "memory_stores/.gitkeep",
  "package.json",
  "skills/.gitkeep",
  "vaults/.gitkeep",
];

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh folder `<tmp>/<name>` (not created: init creates it). */
async function folder(name = "fleet"): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), "agentform-init-"));
  dirs.push(parent);
  return path.join(parent, name);
}

async function init(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await main(["node", "agentform", "init", ...args], { stdout: out.stream, stderr: err.stream, env: ENV });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Every file under `dir` (forward slashes, sorted), with its text and modification time. */
async function tree(dir: string, rel = ""): Promise<Map<string, { text: string; mtime: number }>> {
  const out = new Map<string, { text: string; mtime: number }>();
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of await tree(dir, child)) out.set(k, v);
    else out.set(child, { text: await readFile(path.join(dir, child), "utf8"), mtime: (await stat(path.join(dir, child))).mtimeMs });
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const read = (dir: string, rel: string) => readFile(path.join(dir, rel), "utf8");

describe("agentform init", () => {
  it("scaffolds an empty folder, lists every file it wrote, and the result validates", async () => {
    const dir = await folder();
    const result = await init("--dir", dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect([...(await tree(dir)).keys()]).toEqual(SCAFFOLD);
    for (const file of SCAFFOLD) expect(result.stdout).toContain(`  ${file}: created`);
    expect(result.stdout).toContain('scaffolded project "fleet"');
    expect(result.stdout).toMatch(/Next steps:[\s\S]*npm install --save-dev github:<owner>\/agentform#v0\.1\.0[\s\S]*npx agentform apply --auto-approve[\s\S]*<owner>\/<repo>@<ref>[\s\S]*ANTHROPIC_API_KEY/);
    const validate = await runCli(path.join(dir, "agentform.yaml"), ["validate"], ENV);
    expect(validate.stdout).toContain("✓ 1 agent and 1 environment valid");
    expect(validate.code).toBe(0);
  });

  it("writes agentform.yaml with a local default target and a production placeholder, both pruning", async () => {
    const dir = await folder("support-bots");
    await init("--dir", dir);
    const text = await read(dir, "agentform.yaml");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=node_modules/agentform/schemas/project.schema.json");
    expect(text).toMatch(/# base_url: https:\/\/api\.anthropic\.com/);
    expect(text).toMatch(/# workspace_id: /);
    expect(parse(text)).toEqual({
      project: "support-bots",
      targets: { default: { local: true, prune: true }, production: { api_key_env: "ANTHROPIC_API_KEY", prune: true } },
    });
  });

  it("points every schema reference (modelines, editor settings) at a schema the installed package holds", async () => {
    const dir = await folder();
    await init("--dir", dir);
    const installed = (rel: string) => path.join(repo, "schemas", path.basename(rel));
    for (const file of ["agentform.yaml", "agents/assistant.yaml", "environments/sandbox.yaml"]) {
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/.exec((await read(dir, file)).split("\n")[0]!);
      expect(modeline, file).not.toBeNull();
      const target = path.relative(dir, path.resolve(path.dirname(path.join(dir, file)), modeline![1]!)).split(path.sep).join("/");
      expect(target).toMatch(/^node_modules\/agentform\/schemas\/[a-z_]+\.schema\.json$/);
      expect(existsSync(installed(target)), target).toBe(true);
    }
    const settings = JSON.parse(await read(dir, ".vscode/settings.json")) as { "yaml.schemas": Record<string, string[]> };
    expect(settings["yaml.schemas"]["./node_modules/agentform/schemas/agent.schema.json"]).toEqual(["agents/**/*.yaml", "agents/**/*.yml"]);
    expect(settings["yaml.schemas"]["./node_modules/agentform/schemas/project.schema.json"]).toEqual(["agentform.yaml"]);
    for (const schema of Object.keys(settings["yaml.schemas"])) expect(existsSync(installed(schema)), schema).toBe(true);
  });

  it("writes the plan and apply workflows around the Action at this version's tag", async () => {
    const dir = await folder();
    await init("--dir", dir);
    const action = `your-org/agentform@v${AGENTFORM_VERSION}`;
    for (const name of ["agentform-plan.yml", "agentform-apply.yml"]) {
      const text = await read(dir, `.github/workflows/${name}`);
      expect(text).toBe(await read(repo, `templates/workflows/${name}`));
      expect(text).toContain(`# fill in: <owner>/<repo>@<ref> of the agentform Action\n        uses: ${action}\n`);
    }
    type Step = { uses?: string; with?: Record<string, unknown>; run?: string };
    const plan = parse(await read(dir, ".github/workflows/agentform-plan.yml")) as { on: unknown; permissions: unknown; jobs: { plan: { steps: Step[] } } };
    expect(plan.on).toBe("pull_request");
    expect(plan.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(plan.jobs.plan.steps.map((s) => s.uses)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", action]);
    expect(plan.jobs.plan.steps[1]!.with).toEqual({ "node-version": 20 });
    expect(plan.jobs.plan.steps[2]!.with).toEqual({ mode: "plan", target: "production", "api-key": "${{ secrets.ANTHROPIC_API_KEY }}" });
    const apply = parse(await read(dir, ".github/workflows/agentform-apply.yml")) as { on: unknown; concurrency: unknown; permissions: unknown; jobs: { apply: { steps: Step[] } } };
    expect(apply.on).toEqual({ push: { branches: ["main"] } });
    expect(apply.concurrency).toEqual({ group: "agentform-apply-production", "cancel-in-progress": false });
    expect(apply.permissions).toEqual({ contents: "write", "pull-requests": "read" });
    expect(apply.jobs.apply.steps.map((s) => s.uses)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", action, undefined]);
    expect(apply.jobs.apply.steps[2]!.with).toEqual({ mode: "apply", target: "production", "api-key": "${{ secrets.ANTHROPIC_API_KEY }}" });
    expect(apply.jobs.apply.steps[3]!.run).toContain("git add agentform.production.lock.json");
  });

  it("refuses to overwrite without --force: exit 4, init-exists, the files listed, nothing touched", async () => {
    const dir = await folder();
    await init("--dir", dir);
    await writeFile(path.join(dir, "agents", "assistant.yaml"), "name: mine\nmodel: claude-sonnet-5-5\n");
    const before = await tree(dir);
    const again = await init("--dir", dir);
    expect(again.code).toBe(4);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("[init-exists]");
    expect(again.stderr).toContain("hint:");
    expect(again.stderr).toContain("--force");
    for (const file of ["agentform.yaml", "agents/assistant.yaml", "environments/sandbox.yaml", ".github/workflows/agentform-plan.yml", ".github/workflows/agentform-apply.yml"]) {
      expect(again.stderr).toContain(`  ${file}\n`);
    }
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect(await tree(dir)).toEqual(before);
  });

  it("refuses when only one scaffold file is in the way, naming just that one", async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "agentform.yaml"), "project: mine\n");
    const result = await init("--dir", dir);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("init would overwrite this file in");
    expect(result.stderr).toContain("Nothing was written. [init-exists]");
    expect(result.stderr).toContain("  agentform.yaml\n");
    expect([...(await tree(dir)).keys()]).toEqual(["agentform.yaml"]);
  });

  it("refuses, even with --force, where a folder stands in for a file or a file for a folder", async () => {
    const dir = await folder();
    await mkdir(path.join(dir, "agentform.yaml"), { recursive: true });
    const folderInTheWay = await init("--dir", dir, "--force");
    expect(folderInTheWay.code).toBe(4);
    expect(folderInTheWay.stderr).toContain("  agentform.yaml/\n");
    expect(folderInTheWay.stderr).toContain("[init-exists]");
    await rm(path.join(dir, "agentform.yaml"), { recursive: true });
    await writeFile(path.join(dir, ".github"), "not a folder\n");
    await writeFile(path.join(dir, "skills"), "not a folder either\n");
    const fileInTheWay = await init("--dir", dir, "--force");
    expect(fileInTheWay.code).toBe(4);
    expect(fileInTheWay.stderr).toContain("init needs folders where");
    expect(fileInTheWay.stderr).toContain("  .github\n  .github/workflows\n  skills\n");
    expect([...(await tree(dir)).keys()]).toEqual([".github", "skills"]);
  });

  it("--force overwrites the scaffold's files and leaves the rest (own manifests, appended files) as they are", async () => {
    const dir = await folder();
    await init("--dir", dir);
    await writeFile(path.join(dir, "agentform.yaml"), "project: edited\n");
    await writeFile(path.join(dir, "agents", "billing.yaml"), "name: billing\nmodel: claude-haiku-5-5\n");
    const gitignore = await read(dir, ".gitignore");
    const pkg = await read(dir, "package.json");
    const forced = await init("--dir", dir, "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("  agentform.yaml: overwritten");
    expect(forced.stdout).toContain("  .gitignore: left alone (already has agentform's lines)");
    expect(forced.stdout).toContain("  package.json: left alone (it lists agentform already)");
    expect(forced.stdout).toContain("  .vscode/settings.json: left alone (it maps the schemas already)");
    expect(await read(dir, "agentform.yaml")).toBe((await read(repo, "templates/project/agentform.yaml")).replace("__PROJECT__", "fleet"));
    expect(await read(dir, "agents/billing.yaml")).toBe("name: billing\nmodel: claude-haiku-5-5\n");
    expect(await read(dir, ".gitignore")).toBe(gitignore);
    expect(await read(dir, "package.json")).toBe(pkg);
  });

  it("appends to an existing .gitignore once, keeping its lines and never duplicating an entry", async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, ".gitignore"), "dist\n/node_modules");
    const first = await init("--dir", dir);
    expect(first.stdout).toContain("  .gitignore: appended to (.agentform/, /agentform.lock.json)");
    const text = await read(dir, ".gitignore");
    expect(text.startsWith("dist\n/node_modules\n\n")).toBe(true);
    expect(text.split("\n").filter((l) => l === ".agentform/")).toHaveLength(1);
    expect(text).not.toMatch(/^node_modules\/$/m);
    await init("--dir", dir, "--force");
    expect(await read(dir, ".gitignore")).toBe(text);
  });

  it("leaves an existing package.json alone and says how to add agentform", async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    const pkg = '{ "name": "ops", "scripts": { "test": "true" } }\n';
    await writeFile(path.join(dir, "package.json"), pkg);
    const result = await init("--dir", dir);
    expect(result.code).toBe(0);
    expect(await read(dir, "package.json")).toBe(pkg);
    expect(result.stdout).toContain(`  package.json: left alone (add agentform: npm install --save-dev github:<owner>/agentform#v${AGENTFORM_VERSION})`);
  });

  it("writes package.json with this agentform as a dev dependency when there is none", async () => {
    const dir = await folder("My Fleet");
    await init("--dir", dir);
    expect(JSON.parse(await read(dir, "package.json"))).toEqual({ name: "my-fleet", private: true, devDependencies: { agentform: `^${AGENTFORM_VERSION}` } });
  });

  it("merges yaml.schemas into valid editor settings, and leaves settings with comments alone", async () => {
    const merged = await folder("merged");
    await mkdir(path.join(merged, ".vscode"), { recursive: true });
    await writeFile(path.join(merged, ".vscode", "settings.json"), JSON.stringify({ "editor.tabSize": 2, "yaml.schemas": { "./other.json": "other/*.yaml" } }));
    expect((await init("--dir", merged)).stdout).toContain("  .vscode/settings.json: updated (yaml.schemas merged in)");
    const settings = JSON.parse(await read(merged, ".vscode/settings.json")) as Record<string, Record<string, unknown>>;
    expect(settings["editor.tabSize"]).toBe(2);
    expect(settings["yaml.schemas"]!["./other.json"]).toBe("other/*.yaml");
    expect(settings["yaml.schemas"]!["./node_modules/agentform/schemas/environment.schema.json"]).toEqual(["environments/**/*.yaml", "environments/**/*.yml"]);

    const commented = await folder("commented");
    await mkdir(path.join(commented, ".vscode"), { recursive: true });
    const jsonc = '{\n  // tabs\n  "editor.tabSize": 4,\n}\n';
    await writeFile(path.join(commented, ".vscode", "settings.json"), jsonc);
    expect((await init("--dir", commented)).stdout).toMatch(/ \.vscode\/settings\.json: left alone: not plain JSON.*add yaml\.schemas by hand/);
    expect(await read(commented, ".vscode/settings.json")).toBe(jsonc);
  });

  it("derives the project name from the folder: lower case, other characters as dashes, at most 40", async () => {
    expect(nameFromFolder("Support Bots")).toBe("support-bots");
    expect(nameFromFolder("ACME_Support__Fleet")).toBe("acme-support-fleet");
    expect(nameFromFolder("  --Fleet (v2)--  ")).toBe("fleet-v2");
    expect(nameFromFolder("Café Agents")).toBe("cafe-agents");
    expect(nameFromFolder("a".repeat(39) + " b")).toBe("a".repeat(39));
    expect(nameFromFolder("x".repeat(60))).toBe("x".repeat(40));
    expect(nameFromFolder("___")).toBeUndefined();
    const long = await folder("The Customer Support Agents Of The Acme Corporation");
    await init("--dir", long);
    expect(parse(await read(long, "agentform.yaml")).project).toBe("the-customer-support-agents-of-the-acme");
  });

  it("takes --project as given, and refuses an invalid one or a folder name with nothing usable (exit 4)", async () => {
    const named = await folder("Whatever");
    expect((await init("--dir", named, "--project", "support-bots")).code).toBe(0);
    expect(parse(await read(named, "agentform.yaml")).project).toBe("support-bots");

    const bad = await folder();
    const refused = await init("--dir", bad, "--project", "Support Bots");
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("[init-project-name]");
    expect(refused.stderr).toContain("hint: Use --project support-bots.");
    expect(existsSync(bad)).toBe(false);

    const symbols = await folder("___");
    const unusable = await init("--dir", symbols);
    expect(unusable.code).toBe(4);
    expect(unusable.stderr).toContain("[init-project-name]");
    expect(unusable.stderr).toContain("Pass --project <name>");
  });

  it("a project name YAML would read as a number or boolean stays a string (the config validates)", async () => {
    for (const name of ["12345", "1e3", "true"]) {
      const dir = await folder(name);
      expect((await init("--dir", dir)).code).toBe(0);
      expect(parse(await read(dir, "agentform.yaml")).project).toBe(name);
      expect((await runCli(path.join(dir, "agentform.yaml"), ["validate"], ENV)).code).toBe(0);
    }
  });

  it("never writes through a symbolic link: a linked folder or appended file is refused, nothing written", async () => {
    const dir = await folder();
    const outside = await folder("outside");
    await mkdir(path.join(outside, "gh"), { recursive: true });
    await mkdir(dir, { recursive: true });
    await symlink(path.join(outside, "gh"), path.join(dir, ".github"));
    await symlink(path.join(outside, "ignore"), path.join(dir, ".gitignore"));
    const refused = await init("--dir", dir, "--force");
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/init would write through these symbolic links in .*:\n {2}\.github\n {2}\.gitignore\n.*\[init-symlink\]/s);
    expect(await readdir(path.join(outside, "gh"))).toEqual([]);
    expect(existsSync(path.join(outside, "ignore"))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual([".github", ".gitignore"]);
  });

  it("refuses a --dir that is a file (exit 4)", async () => {
    const parent = path.dirname(await folder());
    await writeFile(path.join(parent, "file"), "");
    const result = await init("--dir", path.join(parent, "file"));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("[init-not-a-folder]");
  });

  it("apply --auto-approve on the scaffold's local target creates the examples, and a second plan is empty", async () => {
    const dir = await folder();
    await init("--dir", dir);
    const config = path.join(dir, "agentform.yaml");
    const apply = await runCli(config, ["apply", "--auto-approve"], ENV);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Plan: 2 to create, 0 to update/);
    const lock = JSON.parse(await read(dir, "agentform.lock.json")) as { project: string; agents: Record<string, { id: string; version: number }>; environments: Record<string, { id: string }> };
    expect(lock.project).toBe("fleet");
    expect(Object.keys(lock.agents)).toEqual(["assistant"]);
    expect(lock.agents.assistant!.version).toBe(1);
    expect(Object.keys(lock.environments)).toEqual(["sandbox"]);
    expect(existsSync(path.join(dir, ".agentform", "local-default.json"))).toBe(true);
    const plan = await runCli(config, ["plan", "--detailed-exitcode"], ENV);
    expect(plan.stdout).toContain("No changes.");
    expect(plan.code).toBe(0);
  });
});
