/**
 * Vault credentials through the real CLI against a local control plane: written in the vault's
 * manifest with their secrets named by environment variable, created with the vault, converged
 * (zero writes), rotated when the variable changes (exactly one update), replaced when a key no
 * update can change moves, and reported "not checked" when the variable is missing.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { secretMatches } from "../../src/kinds/credential/secret-digest.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const VAULT = `display_name: github-tools
credentials:
  github:
    auth:
      type: static_bearer
      mcp_server_url: https://api.githubcopilot.com/mcp/
      token_env: GITHUB_MCP_TOKEN
`;

interface PlanJson {
  summary: Record<string, number>;
  resources: Array<{ address: string; action: string; id: string | null; notes?: string[]; changes: Array<{ pointer: string }>; security: Array<{ category: string }>; request: { method: string; body: Record<string, unknown> } | null }>;
}

async function lockOf(p: CliProject) {
  return JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { vaults: Record<string, { id: string }>; credentials: Record<string, { id: string }> };
}

function client(p: CliProject): Anthropic {
  return new Anthropic({ baseURL: p.cp.baseUrl, apiKey: p.cp.apiKey, maxRetries: 0 });
}

describe("vault credentials", () => {
  it("are created with their vault, converge, and a changed variable plans exactly one update", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    const first = await p.run("apply", "--auto-approve");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const lock = await lockOf(p);
    const vaultId = lock.vaults["github-tools"]!.id;
    const credId = lock.credentials["github-tools/github"]!.id;
    expect(credId).toMatch(/^vcrd_/);
    const live = await client(p).beta.vaults.credentials.retrieve(credId, { vault_id: vaultId });
    expect(live).toMatchObject({ display_name: "github-tools/github", auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/" } });
    expect(secretMatches(JSON.stringify(["first-token-value-0001"]), live.metadata["agentform.secret_digest"])).toBe(true);

    p.cp.clearRequestLog();
    const again = await p.run("apply", "--auto-approve");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes");
    expect(p.writes()).toEqual([]);

    p.env.GITHUB_MCP_TOKEN = "second-token-value-0002";
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    const changed = plan.resources.filter((r) => r.action !== "noop");
    expect(changed).toMatchObject([{ address: "credential.github-tools/github", action: "update", changes: [{ pointer: "/auth/secret" }], security: [{ category: "credential-rotated" }] }]);
    expect(changed[0]!.request!.body).toEqual({ auth: { type: "static_bearer", token: { $env: "GITHUB_MCP_TOKEN" } } });
    p.cp.clearRequestLog();
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(p.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`POST /v1/vaults/${vaultId}/credentials/${credId}`]);
    const rotated = await client(p).beta.vaults.credentials.retrieve(credId, { vault_id: vaultId });
    expect(secretMatches(JSON.stringify(["second-token-value-0002"]), rotated.metadata["agentform.secret_digest"])).toBe(true);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("a missing variable is 'not checked' in plan; apply fails before any write only when it must send the secret", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const refused = await p.run("apply", "--auto-approve");
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("GITHUB_MCP_TOKEN");
    expect(refused.stderr).toContain("[secret-missing]");
    expect(p.writes()).toEqual([]);

    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    delete p.env.GITHUB_MCP_TOKEN;
    p.cp.clearRequestLog();
    const plan = await p.run("plan");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("credential.github-tools/github: secret not checked: GITHUB_MCP_TOKEN not set here");
    const applied = await p.run("apply", "--auto-approve");
    expect(applied.code).toBe(0);
    expect(p.writes()).toEqual([]);
  });

  it("a changed server URL replaces the credential (archive, then create), shown as such", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const oldId = (await lockOf(p)).credentials["github-tools/github"]!.id;
    await p.write({ "vaults/github.yaml": VAULT.replace("https://api.githubcopilot.com/mcp/", "https://api.githubcopilot.com/mcp") });
    const text = await p.run("plan");
    expect(text.stdout).toContain("-/+ credential.github-tools/github: replace");
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(plan.summary.replace).toBe(1);
    expect(plan.resources.find((r) => r.action === "replace")).toMatchObject({ id: oldId, request: { method: "replace" }, security: [{ category: "credential-added" }] });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const newId = (await lockOf(p)).credentials["github-tools/github"]!.id;
    expect(newId).not.toBe(oldId);
    const vaultId = (await lockOf(p)).vaults["github-tools"]!.id;
    const all = await client(p).beta.vaults.credentials.list(vaultId, { include_archived: true });
    const states = Object.fromEntries(all.data.map((c) => [c.id, c.archived_at === null ? "active" : "archived"]));
    expect(states).toEqual({ [oldId]: "archived", [newId]: "active" });
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });
});
