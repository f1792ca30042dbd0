/**
 * Per-target values through the real CLI against a local control plane: one set of manifests,
 * two targets (`dev`, `prod`) with different `vars`, each planned, applied and pinned with its
 * own values, and `validate` catching a name one target lacks.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliProject, KEY_ENV, type CliProject } from "../helpers/cli-project.js";

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** Two targets on the same local control plane; `dev` declared first, neither named "default". */
function twoTargets(p: CliProject, devVars: string, prodVars: string, shared = "  TEAM: support\n"): string {
  const target = (name: string, vars: string) => `  ${name}:\n    base_url: ${p.cp.baseUrl}\n    api_key_env: ${KEY_ENV}\n    vars:\n${vars}`;
  return `project: support-bots\nvars:\n${shared}targets:\n${target("dev", devVars)}${target("prod", prodVars)}`;
}

const TRIAGE = "---\nname: triage\nmodel: claude-sonnet-5-5\ndescription: ${vars.DESC}\nmetadata:\n  team: ${vars.TEAM}\n  tier: ${vars.TIER}\n---\nYou route tickets for the ${vars.TEAM} team. Quote shell as `echo $${HOME}`.\n";

async function pinOf(p: CliProject, target: string) {
  const got = await p.run("lock", "get", "agent", "triage", "--target", target);
  return { code: got.code, stderr: got.stderr, pin: got.code === 0 ? (JSON.parse(got.stdout) as { id: string; version: number }) : undefined };
}

describe("per-target values (vars)", () => {
  it("plans and applies each target with its own values, and lock get checks the spec resolved for that target", async () => {
    const p = (project = await cliProject({ "agents/triage.md": TRIAGE }));
    await writeFile(p.config, twoTargets(p, "      DESC: Routes dev tickets\n      TIER: \"1\"\n", "      DESC: Routes production tickets\n      TIER: \"3\"\n"));

    const dev = await p.run("plan", "--target", "dev", "--format", "json");
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain("Routes dev tickets");
    expect(dev.stdout).not.toContain("Routes production tickets");
    expect(dev.stdout).toContain("You route tickets for the support team. Quote shell as `echo ${HOME}`.");
    expect(dev.stdout).not.toContain("${vars.");
    const prod = await p.run("plan", "--target", "prod", "--format", "json");
    expect(prod.stdout).toContain("Routes production tickets");
    expect(prod.stdout).not.toContain("Routes dev tickets");

    expect(await p.run("apply", "--target", "dev", "--auto-approve")).toMatchObject({ code: 0, stderr: "" });
    const devLock = JSON.parse(await readFile(path.join(p.dir, "agentform.dev.lock.json"), "utf8")) as { target: string };
    expect(devLock.target).toBe("dev");
    const devPin = await pinOf(p, "dev");
    expect(devPin.pin).toMatchObject({ type: "agent", version: 1 });

    // Same workspace, other values: prod's apply makes a new version with prod's description.
    expect(await p.run("apply", "--target", "prod", "--auto-approve")).toMatchObject({ code: 0, stderr: "" });
    const prodPin = await pinOf(p, "prod");
    expect(prodPin.pin).toEqual({ ...devPin.pin, version: 2 });
    const live = await fetch(`${p.cp.baseUrl}/v1/agents/${devPin.pin!.id}`, { headers: { "x-api-key": p.cp.apiKey, "anthropic-beta": "managed-agents-2026-04-01" } }).then((r) => r.json() as Promise<{ description: string; metadata: Record<string, string> }>);
    expect(live).toMatchObject({ description: "Routes production tickets", metadata: { team: "support", tier: "3" } });
    // dev's lockfile still describes dev's resolved manifest, so its pin is still handed out.
    expect((await pinOf(p, "dev")).pin).toEqual(devPin.pin);

    // A changed value is a changed manifest: the pin is refused until apply records it.
    await writeFile(p.config, twoTargets(p, "      DESC: Routes dev tickets, again\n      TIER: \"1\"\n", "      DESC: Routes production tickets\n      TIER: \"3\"\n"));
    const stale = await pinOf(p, "dev");
    expect(stale.code).toBe(3);
    expect(stale.stderr).toContain("was not written for agents/triage.md as it is now");
    expect((await pinOf(p, "prod")).pin).toEqual(prodPin.pin);
    const plan = await p.run("plan", "--target", "dev", "--detailed-exitcode");
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("Routes dev tickets, again");
  });

  it("validate checks every target's names without --target (file:line:column), and one target's values with it", async () => {
    const p = (project = await cliProject({ "agents/triage.md": TRIAGE }));
    // TIER only for dev: a typo waiting for production.
    await writeFile(p.config, twoTargets(p, "      DESC: Routes dev tickets\n      TIER: \"1\"\n", "      DESC: Routes production tickets\n"));

    const all = await p.run("validate");
    expect(all.code).toBe(4);
    expect(all.stdout).toContain('agents/triage.md:7:3 metadata.tier: vars.TIER is not defined for target "prod" [AF-VAR-UNKNOWN]');
    expect(all.stdout).toContain("hint: Define TIER under `vars:` (every target) or `targets.prod.vars:` in agentform.yaml. Defined for target \"prod\": ");

    const dev = await p.run("validate", "--target", "dev");
    expect(dev).toMatchObject({ code: 0, stderr: "" });
    expect(dev.stdout).toBe('✓ 1 agent valid with target "dev"\'s vars\n');

    const prod = await p.run("validate", "-t", "prod", "--format", "json");
    expect(prod.code).toBe(4);
    expect(JSON.parse(prod.stdout)).toMatchObject({ valid: false, diagnostics: [{ code: "AF-VAR-UNKNOWN", file: "agents/triage.md", line: 7, column: 3, path: "metadata.tier", message: 'vars.TIER is not defined for target "prod"' }] });

    const unknown = await p.run("validate", "--target", "staging");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('Target "staging" is not declared in agentform.yaml');

    // Plans use the selected target only: dev plans, prod is refused (exit 4) and nothing is
    // written, not even by an apply (the lists may have started while the manifests loaded).
    expect((await p.run("plan", "--target", "dev")).code).toBe(0);
    p.cp.clearRequestLog();
    for (const command of [["plan"], ["apply", "--auto-approve"]]) {
      const refused = await p.run(...command, "--target", "prod");
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain("agents/triage.md:7:3 metadata.tier: vars.TIER is not defined for target \"prod\"");
    }
    expect(p.writes()).toEqual([]);
  });
});
