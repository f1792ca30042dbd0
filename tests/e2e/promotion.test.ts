/**
 * Promotion: this repository's example fleet goes from a `dev` to a `prod` target, each an
 * embedded local control plane of its own, with per-target values (a budget, a schedule) and a
 * deployment pin that differs per target: dev has moved on to triage version 2 while prod starts
 * fresh at version 1. Both apply, both re-plan empty, and `plan --target all` agrees.
 */
import { cp as copy, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lockfile } from "../../src/lock/types.js";
import type { Plan } from "../../src/plan/types.js";
import { runCli } from "../helpers/cli-project.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const CONFIG = (devVersion: number) => `project: support-bots
vars:
  BUDGET: "500"
targets:
  dev:
    local: true
    state_file: .agentform/dev.json
    vars:
      TRIAGE_VERSION: ${devVersion}
      CRON: "*/30 7-19 * * 1-5"
  prod:
    local: true
    state_file: .agentform/prod.json
    prune: true
    vars:
      TRIAGE_VERSION: 1
      CRON: "0 7 * * 1-5"
      BUDGET: "1500"
`;

describe("promoting the example fleet from dev to prod", () => {
  let dir: string;
  const run = (...args: string[]) => runCli(path.join(dir, "agentform.yaml"), args, { NO_COLOR: "1", GITHUB_MCP_TOKEN: "promotion-test-token" });
  const lock = async (target: string) => JSON.parse(await readFile(path.join(dir, `agentform.${target}.lock.json`), "utf8")) as Lockfile;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-promotion-"));
    for (const entry of ["agents", "environments", "skills", "vaults", "memory_stores", "deployments"]) await copy(path.join(repo, entry), path.join(dir, entry), { recursive: true });
    const deployment = await readFile(path.join(dir, "deployments", "nightly-triage.yaml"), "utf8");
    const pinned = deployment
      .replace("agent:\n  ref: triage\n", "agent:\n  ref: triage\n  version: ${vars.TRIAGE_VERSION}\n")
      .replace('expression: "0 7 * * 1-5"', 'expression: "${vars.CRON}"')
      .replace('amount: "500"', 'amount: "${vars.BUDGET}"');
    expect(pinned).not.toBe(deployment);
    await writeFile(path.join(dir, "deployments", "nightly-triage.yaml"), pinned);
    await writeFile(path.join(dir, "agentform.yaml"), CONFIG(1));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("dev moves to triage v2 and pins it; prod's first apply pins v1; both re-plan empty", async () => {
    expect((await run("apply", "--target", "dev", "--auto-approve")).code).toBe(0);
    // A change on dev: triage gets version 2, and dev's pin follows it (the pin waits for the write).
    const triage = path.join(dir, "agents", "triage.yaml");
    await writeFile(triage, (await readFile(triage, "utf8")).replace("You are the first responder", "You are the first and friendliest responder"));
    await writeFile(path.join(dir, "agentform.yaml"), CONFIG(2));
    const devApply = await run("apply", "--target", "dev", "--auto-approve");
    expect(devApply.code).toBe(0);
    const dev = await lock("dev");
    expect(dev.agents.triage?.version).toBe(2);

    // prod is fresh: with dev's pin (2) its first apply could never succeed; with its own (1) it does.
    const prodPlan = JSON.parse((await run("plan", "--target", "prod", "--format", "json")).stdout) as Plan;
    expect(prodPlan.refusals).toEqual([]);
    expect(prodPlan.summary.create).toBe(12);
    const deploymentCreate = prodPlan.resources.find((r) => r.address === "deployment.nightly-triage")!;
    expect(deploymentCreate.request?.body).toMatchObject({ agent: { ref: "triage", version: 1 }, schedule: { expression: "0 7 * * 1-5" }, budget: { max_list_cost: { amount: "1500" } } });
    expect((await run("apply", "--target", "prod", "--auto-approve")).code).toBe(0);
    const prod = await lock("prod");
    expect(prod.agents.triage?.version).toBe(1);
    expect(prod.agents.triage?.id).not.toBe(dev.agents.triage?.id);

    // Each target's deployment runs its own schedule and budget, pinned to its own triage version.
    const show = async (target: string) => JSON.parse((await run("lock", "get", "deployment", "nightly-triage", "--target", target)).stdout) as { id: string };
    expect((await show("dev")).id).toBe(dev.deployments["nightly-triage"]?.id);
    expect((await show("prod")).id).toBe(prod.deployments["nightly-triage"]?.id);
    const devDeployment = (JSON.parse((await run("plan", "--target", "dev", "--format", "json")).stdout) as Plan).resources.find((r) => r.address === "deployment.nightly-triage")!;
    expect(devDeployment.action).toBe("noop");

    const all = await run("plan", "--target", "all", "--detailed-exitcode");
    expect(all.code).toBe(0);
    expect(all.stdout).toBe("=== target dev ===\n\nNo changes. Live resources match the manifests.\n\n=== target prod ===\n\nNo changes. Live resources match the manifests.\n\n");
    expect(dev.deployments["nightly-triage"]?.specDigest).not.toBe(prod.deployments["nightly-triage"]?.specDigest);
  });
});
