/**
 * Vaults through the real CLI against a local control plane: created from `vaults/*.yaml`,
 * matched by display_name, owned through their metadata marker, renamed in place, recorded in
 * the lockfile for runtimes (`vault_ids`), archived by prune. Credentials are not managed yet.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadLock } from "../../src/lock/runtime.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const VAULT = "display_name: github-tools\nmetadata:\n  team: platform\n";

async function lockOf(p: CliProject) {
  return JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { vaults: Record<string, { id: string }> };
}

describe("vaults", () => {
  it("are created, converge, are renamed in place, and read by runtimes", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const first = await p.run("apply", "--auto-approve");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const id = (await lockOf(p)).vaults["github-tools"]!.id;
    expect(id).toMatch(/^vlt_/);
    const live = await fetch(`${p.cp.baseUrl}/v1/vaults/${id}`, { headers: { "x-api-key": p.cp.apiKey, "anthropic-beta": "managed-agents-2026-04-01" } }).then((r) => r.json() as Promise<{ display_name: string; metadata: Record<string, string> }>);
    expect(live).toMatchObject({ display_name: "github-tools", metadata: { team: "platform", "agentform.project": "support-bots" } });

    p.cp.clearRequestLog();
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
    expect(p.writes()).toEqual([]);

    await p.write({ "vaults/github.yaml": "display_name: github\nmetadata:\n  team: platform\nagentform:\n  previous_names: [github-tools]\n" });
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as { resources: Array<{ address: string; action: string; id: string }> };
    expect(plan.resources).toMatchObject([{ address: "vault.github", action: "rename", id }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(Object.keys((await lockOf(p)).vaults)).toEqual(["github"]);

    expect(loadLock(path.join(p.dir, "agentform.lock.json")).vaultId("github")).toBe(id);
    expect(JSON.parse((await p.run("lock", "get", "vault", "github")).stdout)).toEqual({ id });
    expect((await p.run("lock", "verify")).code).toBe(0);
  });

  it("a vault made in the Console is refused until adopted; prune archives a vault whose manifest is gone", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const { default: Anthropic } = await import("@anthropic-ai/sdk");
    const client = new Anthropic({ baseURL: p.cp.baseUrl, apiKey: p.cp.apiKey });
    const made = await client.beta.vaults.create({ display_name: "github-tools" });
    const refused = JSON.parse((await p.run("plan", "--format", "json")).stdout) as { refusals: Array<{ code: string; ids: string[] }> };
    expect(refused.refusals).toMatchObject([{ code: "unmanaged-needs-adopt", ids: [made.id] }]);
    expect((await p.run("apply", "--adopt", "--auto-approve")).code).toBe(0);
    expect((await lockOf(p)).vaults["github-tools"]!.id).toBe(made.id);

    const { rm } = await import("node:fs/promises");
    await rm(path.join(p.dir, "vaults", "github.yaml"));
    const plan = await p.run("plan", "--prune", "--allow-empty");
    expect(plan.stdout).toContain("archiving a vault also archives every credential in it");
    const markdown = await p.run("plan", "--prune", "--allow-empty", "--format", "markdown");
    expect(markdown.stdout).toContain("archiving a vault also archives every credential in it");
    const pruned = await p.run("apply", "--prune", "--allow-empty", "--auto-approve");
    expect(pruned.code).toBe(0);
    expect((await client.beta.vaults.retrieve(made.id)).archived_at).not.toBeNull();
  });

  it("a vault file named outside vaults/ is recognised as a vault; names count characters as the API does", async () => {
    const emoji = "🔐".repeat(200);
    const p = (project = await cliProject({ "vaults/keys.yaml": `display_name: "${emoji}"\n`, "elsewhere/z.yaml": "display_name: zz\n" }));
    const outside = await p.run("validate", path.join(p.dir, "elsewhere/z.yaml"));
    expect(outside.stdout).toContain("1 vault valid");
    expect(outside.code).toBe(0);
    const applied = await p.run("apply", "--auto-approve");
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(Object.keys((await lockOf(p)).vaults)).toEqual([emoji]);
  });
});

