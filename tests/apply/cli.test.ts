/** `agentform apply` and `agentform lock` in-process, against a local control plane over HTTP. */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { LocalControlPlane } from "../../src/local/index.js";
import { serializeLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

describe("agentform apply / lock (CLI, in-process)", () => {
  let p: CliProject;
  let cp: LocalControlPlane;
  let dir: string;

  const run = (...args: string[]) => p.run(...args);
  const writes = () => p.writes();
  const readLockFile = async () => JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as Lockfile;
  const raw = () => createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey });

  beforeEach(async () => {
    p = await cliProject({
      "agents/triage.yaml": "name: triage\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets.\n",
      "agents/billing.yaml": "name: billing\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\n",
      "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n",
    });
    cp = p.cp;
    dir = p.dir;
  });
  afterEach(() => p.close());

  it("applies with progress lines and writes a deterministic lockfile; a second apply writes nothing", async () => {
    const first = await run("apply", "--auto-approve");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Plan: 3 to create/);
    const progress = first.stdout.split("\n").filter((l) => l.startsWith("["));
    expect(progress).toHaveLength(3);
    expect(progress.map((l) => l.slice(0, 6))).toEqual(["[1/3] ", "[2/3] ", "[3/3] "]);
    expect(progress).toContain(progress.find((l) => /^\[\d\/3\] \+ agent\.triage created \(v1\)$/.test(l)));
    expect(progress.some((l) => /^\[\d\/3\] \+ environment\.sandbox created$/.test(l))).toBe(true);
    const text = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
    const lock = JSON.parse(text) as Lockfile;
    expect(text).toBe(serializeLock(lock));
    expect(Object.keys(lock.agents).sort()).toEqual(["billing", "triage"]);
    expect(lock.origin).toEqual({ baseUrl: cp.baseUrl, workspaceId: null });

    cp.clearRequestLog();
    const second = await run("apply", "--auto-approve");
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/No changes/);
    expect(writes()).toEqual([]);
    expect(await readFile(path.join(dir, "agentform.lock.json"), "utf8")).toBe(text);
  });

  it("without a terminal it requires --auto-approve or a saved plan (exit 4, nothing sent)", async () => {
    const result = await run("apply");
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/stdin is not a terminal/);
    expect(result.stderr).toMatch(/--auto-approve/);
    expect(cp.requestLog()).toEqual([]);
  });

  it("a saved plan is applied exactly; a stale one is refused with exit 3 and zero writes", async () => {
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    await writeFile(path.join(dir, "agents", "triage.yaml"), "name: triage\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets by urgency.\n");
    const planFile = path.join(dir, "plan.json");
    const saved = await run("plan", "--out", planFile);
    expect(saved.code).toBe(0);

    // Live moves after the plan was saved.
    const lock = await readLockFile();
    await raw().update("agent", lock.agents.triage!.id, { description: "edited in the console" }, { expectedVersion: 1 });
    cp.clearRequestLog();
    const stale = await run("apply", planFile);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/The saved plan does not match the plan computed now; nothing was written:\n  - agent\.triage moved from version 1 to 2 since the plan was saved/);
    expect(writes()).toEqual([]);

    // A fresh saved plan applies, without --auto-approve.
    expect((await run("plan", "--out", planFile)).code).toBe(0);
    cp.clearRequestLog();
    const ok = await run("apply", planFile);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\[1\/1\] ~ agent\.triage updated \(v3\)/);
    expect(writes()).toHaveLength(1);
    expect((await readLockFile()).agents.triage?.version).toBe(3);
  });

  it("a saved plan is refused when a manifest changed after it was saved", async () => {
    const planFile = path.join(dir, "plan.json");
    expect((await run("plan", "--out", planFile)).code).toBe(0);
    await writeFile(path.join(dir, "agents", "billing.yaml"), "name: billing\nmodel: claude-sonnet-5-5\nsystem: Changed after review.\n");
    cp.clearRequestLog();
    const result = await run("apply", planFile);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the manifests, config, lockfile, target or agentform version changed since it was saved/);
    expect(result.stderr).toMatch(/agent\.billing differs from the plan computed now in request \(method or body\), specDigest/);
    expect(writes()).toEqual([]);
  });

  it("--require-approval broadening refuses broadening changes unless --approve", async () => {
    await writeFile(
      path.join(dir, "agents", "billing.yaml"),
      "name: billing\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\ntools:\n  - type: agent_toolset_20260401\n",
    );
    const refused = await run("apply", "--auto-approve", "--require-approval", "broadening");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/broadens .*agent\.billing/);
    expect(writes()).toEqual([]);
    const approved = await run("apply", "--auto-approve", "--require-approval", "broadening", "--approve");
    expect(approved.code).toBe(0);
    expect(writes()).toHaveLength(3);
  });

  it("--fail-on-drift refuses when live changed outside agentform", async () => {
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const lock = await readLockFile();
    await raw().update("agent", lock.agents.billing!.id, { system: "edited in the console" }, { expectedVersion: 1 });
    cp.clearRequestLog();
    const result = await run("apply", "--auto-approve", "--fail-on-drift");
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/fail-on-drift/);
    expect(writes()).toEqual([]);
  });

  it("lock get prints pins; lock verify passes, then fails once a locked agent is archived", async () => {
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const lock = await readLockFile();
    const agent = await run("lock", "get", "agent", "triage");
    expect(agent.code).toBe(0);
    expect(JSON.parse(agent.stdout)).toEqual({ type: "agent", id: lock.agents.triage!.id, version: 1 });
    const env = await run("lock", "get", "environment", "sandbox");
    expect(JSON.parse(env.stdout)).toEqual({ id: lock.environments.sandbox!.id });
    const unknown = await run("lock", "get", "agent", "nope");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no agent named "nope".*\n.*It has: billing, triage/);

    const ok = await run("lock", "verify");
    expect(ok.stdout).toMatch(/Lockfile OK: 2 agent\(s\), 1 environment\(s\) verified/);
    expect(ok.code).toBe(0);

    await raw().archive("agent", lock.agents.billing!.id);
    const bad = await run("lock", "verify");
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/error\s+agent\.billing: .*archived/);
  });

  it("--prune archives managed resources whose manifest was removed and drops them from the lockfile", async () => {
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const lock = await readLockFile();
    await rm(path.join(dir, "agents", "billing.yaml"));
    cp.clearRequestLog();
    const result = await run("apply", "--auto-approve", "--prune");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\[1\/1\] - agent\.billing archived/);
    expect(writes().map((e) => `${e.method} ${e.path}`)).toEqual([`POST /v1/agents/${lock.agents.billing!.id}/archive`]);
    const after = await readLockFile();
    expect(Object.keys(after.agents)).toEqual(["triage"]);
  });

  it("a plan saved with --prune is refused without the flag (options come from the command line), applied with it", async () => {
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    await rm(path.join(dir, "agents", "billing.yaml"));
    const planFile = path.join(dir, "prune-plan.json");
    expect((await run("plan", "--prune", "--out", planFile)).code).toBe(0);
    cp.clearRequestLog();
    const without = await run("apply", planFile);
    expect(without.code).toBe(3);
    expect(without.stderr).toMatch(/it was saved with --prune, but this apply runs without it/);
    expect(writes()).toEqual([]);
    const result = await run("apply", "--prune", planFile);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/agent\.billing archived/);
    expect(writes()).toHaveLength(1);
    expect(Object.keys((await readLockFile()).agents)).toEqual(["triage"]);
  });
});
