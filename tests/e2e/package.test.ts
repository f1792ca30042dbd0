/**
 * The package as a team installs it: `npm pack` of this repository, installed offline into an
 * empty folder, then the installed CLI (`npx agentform …`) scaffolds, validates, applies to the
 * local target and re-plans, and the runtime reader (`agentform/runtime`) reads a pin.
 *
 * Offline: `npm ci` in this repository filled the npm cache with the dependencies' tarballs, but
 * not with the registry metadata an unlocked install resolves version ranges with. So the empty
 * folder gets a lockfile naming agentform's dependencies at the versions this repository's
 * package-lock.json pins (what `npm ci` installed, hence what the cache holds); npm installs the
 * tarball from the file and everything else from the cache, and never reaches the network.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/built.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const INSTALL_TIMEOUT = 60_000;

/** The environment of every npm and agentform child: offline, no colour, none of a parent npm's settings but its cache. */
function childEnv(): Record<string, string> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !/^npm_/i.test(e[0])));
  if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;
  return { ...env, npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", NO_COLOR: "1" };
}

function run(cwd: string, command: string, args: string[], timeout = 30_000) {
  return execa(command, args, { cwd, reject: false, env: childEnv(), extendEnv: false, timeout, stdin: "ignore" });
}

interface LockEntry {
  version: string;
  name?: string;
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * A lockfile for a folder depending on the tarball only: agentform from the file, its dependencies
 * as this repository's package-lock.json pins them, each with the registry URL its tarball was
 * cached under (this repository's lockfile omits those URLs).
 */
async function consumerLock(tarball: string, registry: string): Promise<object> {
  const pkg = JSON.parse(await readFile(path.join(repo, "package.json"), "utf8")) as { version: string; license: string; dependencies: object; bin: object; engines: object };
  const lock = JSON.parse(await readFile(path.join(repo, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const spec = `file:../${tarball}`;
  const packages: Record<string, object> = {
    "": { name: "consumer", devDependencies: { agentform: spec } },
    "node_modules/agentform": { version: pkg.version, resolved: spec, dev: true, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where.startsWith("node_modules/") || entry.dev === true) continue;
    const name = entry.name ?? where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
    packages[where] = { resolved: `${registry.replace(/\/$/, "")}/${name}/-/${name.split("/").pop()}-${entry.version}.tgz`, ...entry, dev: true };
  }
  return { name: "consumer", lockfileVersion: 3, requires: true, packages };
}

describe("the packed package, installed into an empty folder", () => {
  let work: string;
  let app: string;
  let tarball: string;
  let packed: string[];

  beforeAll(async () => {
    await ensureBuilt();
    work = await mkdtemp(path.join(tmpdir(), "agentform-package-"));
    // prepare would only rebuild what ensureBuilt just checked.
    const pack = await run(repo, "npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work]);
    if (pack.exitCode !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
    const [result] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = result!.filename;
    packed = result!.files.map((f) => f.path);
    app = path.join(work, "app");
    await mkdir(app);
    const registry = (await run(app, "npm", ["config", "get", "registry"])).stdout.trim();
    await writeFile(path.join(app, "package.json"), `${JSON.stringify({ name: "consumer", private: true, devDependencies: { agentform: `file:../${tarball}` } }, null, 2)}\n`);
    await writeFile(path.join(app, "package-lock.json"), `${JSON.stringify(await consumerLock(tarball, registry), null, 2)}\n`);
    const install = await run(app, "npm", ["ci", "--offline", "--no-audit", "--no-fund"], INSTALL_TIMEOUT);
    if (install.exitCode !== 0) {
      const why = install.timedOut ? `it did not finish within ${INSTALL_TIMEOUT / 1000} s` : `exit ${install.exitCode}`;
      throw new Error(
        `installing ${tarball} offline failed (${why}). Its dependencies must be in the npm cache: run \`npm ci\` in this repository first ` +
          `(ENOTCACHED below names what is missing).\n${install.stderr.split("\n").filter((l) => !/EBADENGINE/.test(l)).slice(-15).join("\n")}`,
      );
    }
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("ships the CLI, its build, the schemas, the templates and the runtime reader, and no sources or tests", () => {
    for (const file of ["bin/agentform.js", "dist/bundle/main.js", "dist/bundle/heap.js", "dist/bundle/validators.js", "dist/cli/main.js", "dist/cli/init.js", "dist/lock/runtime.js", "dist/lock/runtime.d.ts", "schemas/agent.schema.json", "schemas/project.schema.json", "templates/project/agentform.yaml", "templates/workflows/agentform-plan.yml", "templates/workflows/agentform-apply.yml", "package.json", "README.md"]) {
      expect(packed, file).toContain(file);
    }
    expect(packed.filter((f) => /^(src|tests|bench|scripts|\.ci|node_modules)\//.test(f))).toEqual([]);
    expect(existsSync(path.join(app, "node_modules", ".bin", "agentform"))).toBe(true);
  });

  it("npx agentform init, validate, apply --auto-approve on the local target, then plan --detailed-exitcode exits 0", async () => {
    const version = await run(app, "npx", ["agentform", "--version"]);
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(path.join(repo, "package.json"), "utf8")).version);

    const init = await run(app, "npx", ["agentform", "init"]);
    expect(init.stderr).toBe("");
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain('scaffolded project "app"');
    expect(init.stdout).toContain("package.json: left alone (it lists agentform already)");
    expect(init.stdout).toMatch(/Next steps:\n {2}1\. npm install\n/);
    // The editor's schemas are where the modelines say, now that the package is installed.
    for (const file of ["agentform.yaml", "agents/assistant.yaml", "environments/sandbox.yaml"]) {
      const schema = /\$schema=(\S+)/.exec(await readFile(path.join(app, file), "utf8"))![1]!;
      expect(existsSync(path.resolve(path.dirname(path.join(app, file)), schema)), `${file}: ${schema}`).toBe(true);
    }

    const validate = await run(app, "npx", ["agentform", "validate"]);
    expect(validate.stdout).toContain("✓ 1 agent and 1 environment valid");
    expect(validate.exitCode).toBe(0);

    const apply = await run(app, "npx", ["agentform", "apply", "--auto-approve"]);
    expect(apply.stderr).toBe("");
    expect(apply.exitCode).toBe(0);
    expect(apply.stdout).toMatch(/Apply complete: 2 write\(s\)/);

    const plan = await run(app, "npx", ["agentform", "plan", "--detailed-exitcode"]);
    expect(plan.stdout).toContain("No changes.");
    expect(plan.exitCode).toBe(0);
  });

  it("agentform/runtime reads the lockfile apply wrote (loadLock)", async () => {
    const script = `import { loadLock } from "agentform/runtime";
const lock = loadLock("agentform.lock.json");
process.stdout.write(JSON.stringify({ agent: lock.agent("assistant"), environment: lock.environmentId("sandbox") }));`;
    const read = await run(app, "node", ["--input-type=module", "-e", script]);
    expect(read.stderr).toBe("");
    const lock = JSON.parse(await readFile(path.join(app, "agentform.lock.json"), "utf8")) as { agents: Record<string, { id: string; version: number }>; environments: Record<string, { id: string }> };
    expect(JSON.parse(read.stdout)).toEqual({ agent: { type: "agent", id: lock.agents.assistant!.id, version: 1 }, environment: lock.environments.sandbox!.id });
  });
});
