/**
 * The README quick start, exactly as a newcomer runs it: the built CLI as a child process, in a
 * copy of this repository's example project, against the embedded local control plane.
 */
import { cp as copy, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cli = path.join(repo, "bin", "agentform.js");

async function copyExample(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-quickstart-"));
  for (const entry of ["agentform.yaml", "agents", "environments", "skills", "vaults", "memory_stores", "deployments", "schemas"]) {
    await copy(path.join(repo, entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

function agentform(cwd: string, args: string[], env: Record<string, string> = {}) {
  return execa("node", [cli, ...args], { cwd, reject: false, env: { NO_COLOR: "1", ...env }, extendEnv: true });
}

interface LockShape {
  agents: Record<string, { id: string; version: number }>;
  environments: Record<string, { id: string }>;
  vaults: Record<string, { id: string }>;
  credentials: Record<string, { id: string }>;
  memory_stores: Record<string, { id: string }>;
  deployments: Record<string, { id: string }>;
}

beforeAll(async () => {
  if (!existsSync(path.join(repo, "dist", "cli", "main.js"))) {
    await execa("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: repo });
  }
});

describe("quick start on the embedded local control plane", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await copyExample();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the example fleet, prints the plan and writes agentform.lock.json", async () => {
    const first = await agentform(dir, ["apply", "--auto-approve"]);
    expect(first.stderr).not.toMatch(/error/i);
    // No secrets on a fresh machine: the local target gets a placeholder, and says so.
    expect(first.stderr).toContain("warning: GITHUB_MCP_TOKEN is not set: the local target gets a placeholder secret");
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/Plan: 12 to create/);
    const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as LockShape;
    expect(Object.keys(lock.vaults)).toEqual(["github-tools"]);
    expect(Object.keys(lock.credentials)).toEqual(["github-tools/github"]);
    expect(Object.keys(lock.memory_stores)).toEqual(["support-notes"]);
    expect(Object.keys(lock.deployments)).toEqual(["nightly-triage"]);
    expect(Object.keys(lock.agents).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(lock.environments).length).toBeGreaterThanOrEqual(2);
    for (const entry of Object.values(lock.agents)) {
      expect(entry.id).toMatch(/^agent_/);
      expect(entry.version).toBeGreaterThanOrEqual(1);
    }
  });

  it("running it again reports no changes and leaves every version and the lockfile as they were", async () => {
    const lockBefore = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
    const stateBefore = await readFile(path.join(dir, ".agentform", "local-default.json"), "utf8");
    const again = await agentform(dir, ["apply", "--auto-approve"]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/No changes/);
    expect(await readFile(path.join(dir, "agentform.lock.json"), "utf8")).toBe(lockBefore);
    // The state file is rewritten only on a committed write: byte-identical means no writes.
    expect(await readFile(path.join(dir, ".agentform", "local-default.json"), "utf8")).toBe(stateBefore);
    const plan = await agentform(dir, ["plan", "--detailed-exitcode"]);
    expect(plan.exitCode).toBe(0);
  });

  it("agentform lock get prints the pin a runtime uses", async () => {
    const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as LockShape;
    const [name, entry] = Object.entries(lock.agents)[0] as [string, { id: string; version: number }];
    const got = await agentform(dir, ["lock", "get", "agent", name]);
    expect(got.exitCode).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ type: "agent", id: entry.id, version: entry.version });
  });
});

describe("the same fleet through a remote target counts its requests", () => {
  let dir: string;
  let server: LocalControlPlane;
  beforeAll(async () => {
    dir = await copyExample();
    server = await startLocalControlPlane();
    await writeFile(
      path.join(dir, "agentform.yaml"),
      `project: support-bots\ntargets:\n  default:\n    base_url: ${server.baseUrl}\n    api_key_env: QUICKSTART_KEY\n`,
    );
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a second apply makes zero writes and moves no version", async () => {
    const env = { QUICKSTART_KEY: server.apiKey, GITHUB_MCP_TOKEN: "quickstart-github-token" };
    const first = await agentform(dir, ["apply", "--auto-approve"], env);
    expect(first.exitCode).toBe(0);
    const created = server.requestLog().filter((e) => e.write).length;
    expect(created).toBe(12);
    const lockBefore = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as LockShape;

    server.clearRequestLog();
    const second = await agentform(dir, ["apply", "--auto-approve"], env);
    expect(second.exitCode).toBe(0);
    const log = server.requestLog();
    expect(log.filter((e) => e.write)).toEqual([]);
    // Reads are list calls only: one per kind (credentials: one per vault), and the content of
    // the example's one skill (never taken from the lockfile).
    const shown = (p: string) => p.replace(/\/v1\/skills\/.+\/content$/, "/v1/skills/…/content").replace(/\/v1\/vaults\/[^/]+\/credentials$/, "/v1/vaults/…/credentials");
    expect(log.map((e) => `${e.method} ${shown(e.path)}`).sort()).toEqual(["GET /v1/agents", "GET /v1/deployments", "GET /v1/environments", "GET /v1/memory_stores", "GET /v1/skills", "GET /v1/skills/…/content", "GET /v1/vaults", "GET /v1/vaults/…/credentials"]);
    const lockAfter = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as LockShape;
    expect(lockAfter).toEqual(lockBefore);
  });

  it("never prints the API key", async () => {
    const out = await agentform(dir, ["plan"], { QUICKSTART_KEY: server.apiKey });
    expect(out.stdout + out.stderr).not.toContain(server.apiKey);
  });
});
