/**
 * Vault credentials through the real CLI against a local control plane: written in the vault's
 * manifest with their secrets named by environment variable, created with the vault, converged
 * (zero writes), rotated when the variable changes (exactly one update), replaced when a key no
 * update can change moves, and reported "not checked" when the variable is missing.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { secretMatches } from "../../src/kinds/credential/secret-digest.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";
import { client, GITHUB_VAULT_YAML, lockOf, NPM_ENTRY_YAML } from "../helpers/credentials.js";

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const VAULT = GITHUB_VAULT_YAML;

interface PlanJson {
  summary: Record<string, number>;
  resources: Array<{ address: string; action: string; id: string | null; dependsOn: string[]; notes?: string[]; changes: Array<{ pointer: string }>; security: Array<{ category: string }>; request: { method: string; body: Record<string, unknown> } | null }>;
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

const ALL_TYPES = `display_name: tools
credentials:
  oauth:
    auth:
      type: mcp_oauth
      mcp_server_url: https://mcp.example.com/sse
      access_token_env: OAUTH_ACCESS
      expires_at: "2099-01-01T00:00:00Z"
      refresh:
        client_id: client-1
        token_endpoint: https://auth.example.com/token
        refresh_token_env: OAUTH_REFRESH
        scope: read
        token_endpoint_auth: {type: client_secret_post, client_secret_env: OAUTH_CLIENT_SECRET}
${NPM_ENTRY_YAML}`;

describe("vault credentials of every auth type", () => {
  it("converge, change in place where the API allows, and rotate when one of several secrets changes", async () => {
    const p = (project = await cliProject({ "vaults/tools.yaml": ALL_TYPES }));
    Object.assign(p.env, { OAUTH_ACCESS: "access-1", OAUTH_REFRESH: "refresh-1", OAUTH_CLIENT_SECRET: "client-1", NPM_TOKEN_VALUE: "npm-1" });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    p.cp.clearRequestLog();
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);

    // Scope and networking change in place; the secrets are not sent for that.
    await p.write({ "vaults/tools.yaml": ALL_TYPES.replace("scope: read", "scope: read write").replace("[registry.npmjs.org]", "[registry.npmjs.org, npm.pkg.github.com]") });
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    const byAddress = Object.fromEntries(plan.resources.map((r) => [r.address, r]));
    // The unchanged expiry is not sent (an unchanged one that has passed would be refused).
    expect(byAddress["credential.tools/oauth"]).toMatchObject({ action: "update", request: { body: { auth: { type: "mcp_oauth", refresh: { scope: "read write" } } } } });
    expect(byAddress["credential.tools/oauth"]!.request!.body.auth).not.toHaveProperty("expires_at");
    expect(JSON.stringify(byAddress["credential.tools/oauth"]!.request)).not.toContain("$env");
    expect(byAddress["credential.tools/npm"]).toMatchObject({ action: "update", security: [{ category: "credential-widened" }] });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);

    // One of the three OAuth secrets changes: all of them are sent again, with one new digest.
    p.env.OAUTH_REFRESH = "refresh-2";
    const rotated = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    const changed = rotated.resources.filter((r) => r.action !== "noop");
    expect(changed.map((r) => r.address)).toEqual(["credential.tools/oauth"]);
    expect(changed[0]!.request!.body).toMatchObject({ auth: { access_token: { $env: "OAUTH_ACCESS" }, refresh: { refresh_token: { $env: "OAUTH_REFRESH" }, token_endpoint_auth: { type: "client_secret_post", client_secret: { $env: "OAUTH_CLIENT_SECRET" } } } } });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("are renamed with their vault, archived by prune when their entry goes, and archived with their vault", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const credId = (await lockOf(p)).credentials["github-tools/github"]!.id;

    await p.write({ "vaults/github.yaml": VAULT.replace("display_name: github-tools", "display_name: gh\nagentform:\n  previous_names: [github-tools]") });
    const renamed = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(renamed.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action, r.id])).toEqual([
      ["vault.gh", "rename", (await lockOf(p)).vaults["github-tools"]!.id],
      ["credential.gh/github", "rename", credId],
    ]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(Object.keys((await lockOf(p)).credentials)).toEqual(["gh/github"]);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);

    await p.write({ "vaults/github.yaml": "display_name: gh\ncredentials: {}\n" });
    const pruned = JSON.parse((await p.run("plan", "--prune", "--format", "json")).stdout) as PlanJson;
    expect(pruned.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action])).toEqual([["credential.gh/github", "archive"]]);
    expect((await p.run("apply", "--prune", "--auto-approve")).code).toBe(0);
    expect((await lockOf(p)).credentials ?? {}).toEqual({});

    // The vault goes, with a credential still in it: both are archived, the credential first.
    await p.write({ "vaults/github.yaml": VAULT.replace("display_name: github-tools", "display_name: gh") });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const vaultId = (await lockOf(p)).vaults.gh!.id;
    const lastId = (await lockOf(p)).credentials["gh/github"]!.id;
    await p.write({ "vaults/github.yaml": "display_name: other\n" });
    const gone = JSON.parse((await p.run("plan", "--prune", "--format", "json")).stdout) as PlanJson;
    const removals = gone.resources.filter((r) => r.action === "archive");
    expect(removals.map((r) => r.address)).toEqual(["credential.gh/github", "vault.gh"]);
    expect(removals[1]!.dependsOn).toEqual(["credential.gh/github"]);
    expect((await p.run("apply", "--prune", "--auto-approve")).code).toBe(0);
    const archived = await client(p).beta.vaults.credentials.retrieve(lastId, { vault_id: vaultId });
    expect(archived.archived_at).not.toBeNull();
    expect(Object.keys((await lockOf(p)).vaults)).toEqual(["other"]);
  });

  it("made in the Console: adopted with the vault, 'not checked' until --rotate records a digest", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const vault = await client(p).beta.vaults.create({ display_name: "github-tools" });
    const made = await client(p).beta.vaults.credentials.create(vault.id, { display_name: "github-tools/github", auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "console-token" } });
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--adopt", "--auto-approve")).code).toBe(0);
    expect((await lockOf(p)).credentials["github-tools/github"]!.id).toBe(made.id);
    const plan = await p.run("plan", "--detailed-exitcode");
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("secret not checked: the live credential carries no digest");
    const rotate = JSON.parse((await p.run("plan", "--rotate", "--format", "json")).stdout) as PlanJson;
    expect(rotate.resources.filter((r) => r.action !== "noop")).toMatchObject([{ address: "credential.github-tools/github", action: "update" }]);
    expect((await p.run("apply", "--rotate", "--auto-approve")).code).toBe(0);
    const after = await p.run("plan", "--detailed-exitcode");
    expect(after.code).toBe(0);
    expect(after.stdout).not.toContain("not checked");
  });
});

describe("vault credentials: what plan refuses or settles before apply", () => {
  it("a live credential of another name holding the same server URL is refused at plan time, and previous_names renames one in place", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const id = (await lockOf(p)).credentials["github-tools/github"]!.id;

    // The local name changes: without previous_names that is a second credential for the same URL.
    await p.write({ "vaults/github.yaml": VAULT.replace("  github:\n", "  gh:\n") });
    const refused = await p.run("plan", "--format", "json");
    expect(refused.code).toBe(3);
    const plan = JSON.parse(refused.stdout) as { refusals: Array<{ address: string; code: string; message: string; ids: string[] }> };
    expect(plan.refusals).toMatchObject([{ address: "credential.github-tools/gh", code: "unique-key-taken", ids: [id] }]);
    expect(plan.refusals[0]!.message).toContain('mcp_server_url "https://api.githubcopilot.com/mcp/"');
    p.cp.clearRequestLog();
    expect((await p.run("apply", "--auto-approve")).code).toBe(3);
    expect(p.writes()).toEqual([]);

    await p.write({ "vaults/github.yaml": VAULT.replace("  github:\n", "  gh:\n    agentform:\n      previous_names: [github]\n") });
    const renamed = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(renamed.resources.filter((r) => r.action !== "noop")).toMatchObject([{ address: "credential.github-tools/gh", action: "rename", id, request: { body: { display_name: "github-tools/gh" } } }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await lockOf(p)).credentials).toEqual({ "github-tools/gh": expect.objectContaining({ id }) });
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("an OAuth expiry the manifest stops naming is left to the server instead of planned forever", async () => {
    const p = (project = await cliProject({ "vaults/tools.yaml": ALL_TYPES }));
    Object.assign(p.env, { OAUTH_ACCESS: "access-1", OAUTH_REFRESH: "refresh-1", OAUTH_CLIENT_SECRET: "client-1", NPM_TOKEN_VALUE: "npm-1" });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    await p.write({ "vaults/tools.yaml": ALL_TYPES.replace('      expires_at: "2099-01-01T00:00:00Z"\n', "") });
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("a manifest reading its secret from a target's API key variable is refused before anything is written", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT.replace("GITHUB_MCP_TOKEN", "AGENTFORM_TEST_KEY") }));
    const validate = await p.run("validate");
    expect(validate.code).toBe(4);
    expect(validate.stdout + validate.stderr).toContain("AF-CREDENTIAL-ENV-RESERVED");
    // Any variable a target reads its API key from is refused too, with the file and line.
    await p.write({ "vaults/github.yaml": VAULT.replace("GITHUB_MCP_TOKEN", "MY_KEY") });
    await p.write({ "agentform.yaml": `project: support-bots\ntargets:\n  default:\n    base_url: ${p.cp.baseUrl}\n    api_key_env: AGENTFORM_TEST_KEY\n  other:\n    api_key_env: MY_KEY\n` });
    p.env.MY_KEY = "the-other-targets-api-key";
    expect((await p.run("validate")).stdout).toMatch(/vaults\/github\.yaml:7:\d+.*AF-CREDENTIAL-ENV-RESERVED|AF-CREDENTIAL-ENV-RESERVED[\s\S]*vaults\/github\.yaml:7/);
    for (const command of [["plan"], ["apply", "--auto-approve"]]) {
      const result = await p.run(...command);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain("AF-CREDENTIAL-ENV-RESERVED");
      expect(result.stdout + result.stderr).not.toContain("the-other-targets-api-key");
    }
    // The lists may have started while the manifests loaded: reads of this target's own
    // workspace, with its own key (answered 200). Nothing was written, so no key went anywhere.
    expect(p.writes()).toEqual([]);
    expect(p.cp.requestLog().every((e) => e.method === "GET" && e.status === 200)).toBe(true);
  });

  it("a plan saved with --rotate is applied only with --rotate", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const saved = path.join(p.dir, "rotate.json");
    expect((await p.run("plan", "--rotate", "--out", saved)).code).toBe(0);
    const without = await p.run("apply", saved);
    expect(without.code).toBe(3);
    expect(without.stderr).toContain("it was saved with --rotate, but this apply runs without it");
    expect((await p.run("apply", "--rotate", saved)).code).toBe(0);
  });

  it("under --prune, a credential's archive goes before a create needing its key or its place: a swap in a full vault is one apply", async () => {
    const entry = (n: number) => `  c${n}:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://mcp-${n}.example.com/\n      token_env: TOKEN_${n}\n`;
    const vault = (ns: number[]) => `display_name: big\ncredentials:\n${ns.map(entry).join("")}`;
    const p = (project = await cliProject({ "vaults/big.yaml": vault(Array.from({ length: 20 }, (_, i) => i + 1)) }));
    for (let n = 1; n <= 21; n++) p.env[`TOKEN_${n}`] = `token-${n}`;
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    await p.write({ "vaults/big.yaml": vault(Array.from({ length: 20 }, (_, i) => i + 2)) });
    const plan = JSON.parse((await p.run("plan", "--prune", "--format", "json")).stdout) as PlanJson;
    const changed = plan.resources.filter((r) => r.action !== "noop");
    expect(changed.map((r) => [r.address, r.action, r.dependsOn])).toEqual([
      ["credential.big/c1", "archive", []],
      ["credential.big/c21", "create", ["credential.big/c1"]],
    ]);
    expect((await p.run("apply", "--prune", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--prune", "--detailed-exitcode")).code).toBe(0);

    // A key moving to a new local name under --prune: the old entry is archived first, then created anew.
    await p.write({ "vaults/big.yaml": vault(Array.from({ length: 20 }, (_, i) => i + 2)).replace("  c21:\n", "  c-new:\n") });
    expect((await p.run("apply", "--prune", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--prune", "--detailed-exitcode")).code).toBe(0);
  });

  it("a credential of the same name in a vault this project does not manage is another credential", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const other = await client(p).beta.vaults.create({ display_name: "another-teams-vault" });
    const theirs = await client(p).beta.vaults.credentials.create(other.id, { display_name: "github-tools/github", auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "theirs" } });
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    const plan = JSON.parse((await p.run("plan", "--adopt", "--format", "json")).stdout) as PlanJson & { refusals: unknown[] };
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.map((r) => [r.address, r.action])).toEqual([["vault.github-tools", "create"], ["credential.github-tools/github", "create"]]);
    expect((await p.run("apply", "--adopt", "--auto-approve")).code).toBe(0);
    expect((await client(p).beta.vaults.credentials.retrieve(theirs.id, { vault_id: other.id })).archived_at).toBeNull();
    expect((await lockOf(p)).credentials["github-tools/github"]!.id).not.toBe(theirs.id);
  });

  it("a credential made in the Console under any name is claimed through previous_names", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const vault = await client(p).beta.vaults.create({ display_name: "github-tools" });
    const made = await client(p).beta.vaults.credentials.create(vault.id, { display_name: "GitHub (console)", auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "console-token" } });
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    const refused = JSON.parse((await p.run("plan", "--adopt", "--format", "json")).stdout) as { refusals: Array<{ code: string; message: string }> };
    expect(refused.refusals).toMatchObject([{ code: "unique-key-taken" }]);
    expect(refused.refusals[0]!.message).toContain('"github-tools/GitHub (console)"');
    expect((refused.refusals[0] as unknown as { hint: string }).hint).toContain('list "GitHub (console)" in `agentform.previous_names`');
    await p.write({ "vaults/github.yaml": VAULT.replace("  github:\n", "  github:\n    agentform:\n      previous_names: [GitHub (console)]\n") });
    const plan = JSON.parse((await p.run("plan", "--adopt", "--format", "json")).stdout) as PlanJson;
    expect(plan.resources.filter((r) => r.address.startsWith("credential.")).map((r) => [r.action, r.id])).toEqual([["rename", made.id]]);
    expect((await p.run("apply", "--adopt", "--auto-approve")).code).toBe(0);
    expect((await client(p).beta.vaults.credentials.retrieve(made.id, { vault_id: vault.id })).display_name).toBe("github-tools/github");
  });

  it("a replace whose create fails leaves no lockfile entry behind to read as drift", async () => {
    const p = (project = await cliProject({ "vaults/tools.yaml": ALL_TYPES }));
    Object.assign(p.env, { OAUTH_ACCESS: "access-1", OAUTH_REFRESH: "refresh-1", OAUTH_CLIENT_SECRET: "client-1", NPM_TOKEN_VALUE: "npm-1" });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    // A new server URL (a replace) with an expiry in the past: the archive lands, the create is refused.
    const moved = ALL_TYPES.replace("https://mcp.example.com/sse", "https://mcp.example.com/v2");
    await p.write({ "vaults/tools.yaml": moved.replace("2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z") });
    const failed = await p.run("apply", "--auto-approve");
    expect(failed.code).toBe(1);
    expect(failed.stdout + failed.stderr).toContain("must be in the future");
    expect((await lockOf(p)).credentials["tools/oauth"]).toBeUndefined();
    await p.write({ "vaults/tools.yaml": moved });
    const plan = await p.run("plan", "--fail-on-drift", "--format", "json");
    expect(plan.code).toBe(0);
    expect((JSON.parse(plan.stdout) as PlanJson).resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action])).toEqual([["credential.tools/oauth", "create"]]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("a rotation is seen on a credential renamed outside agentform (matched through the lockfile)", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const lock = await lockOf(p);
    const [vaultId, id] = [lock.vaults["github-tools"]!.id, lock.credentials["github-tools/github"]!.id];
    await client(p).beta.vaults.credentials.update(id, { vault_id: vaultId, display_name: "renamed in the console" });
    p.env.GITHUB_MCP_TOKEN = "second-token-value-0002";
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(plan.resources.filter((r) => r.action !== "noop")).toMatchObject([{ address: "credential.github-tools/github", action: "rename", request: { body: { auth: { token: { $env: "GITHUB_MCP_TOKEN" } } } } }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("plan warns when apply will need a secret that is not set (a create, or --rotate)", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    const create = await p.run("plan");
    expect(create.stdout).toContain("GITHUB_MCP_TOKEN not set here: apply needs it to create the credential");
    expect(create.stderr).toContain("warning: apply must send secrets from GITHUB_MCP_TOKEN, not set here");
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    delete p.env.GITHUB_MCP_TOKEN;
    expect((await p.run("plan")).stderr).not.toContain("apply must send");
    expect((await p.run("plan", "--rotate")).stderr).toContain("warning: apply must send secrets from GITHUB_MCP_TOKEN, not set here");
  });

  it("on a local target, a variable unset after a real value was sent is not checked, never 'rotated' back to the placeholder", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    await p.write({ "agentform.yaml": "project: support-bots\ntargets:\n  default:\n    local: true\n    state_file: .agentform/state.json\n" });
    const first = await p.run("apply", "--auto-approve");
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("GITHUB_MCP_TOKEN is not set: the local target gets a placeholder secret");
    // The placeholder is what was sent: nothing to do, nothing unchecked.
    const again = await p.run("plan", "--detailed-exitcode");
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("not checked");
    // A real value replaces it (a rotation), and unsetting it again does not undo that.
    p.env.GITHUB_MCP_TOKEN = "real-token-value-0001";
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(2);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    delete p.env.GITHUB_MCP_TOKEN;
    const unset = await p.run("plan", "--detailed-exitcode");
    expect(unset.code).toBe(0);
    expect(unset.stdout).toContain("secret not checked: GITHUB_MCP_TOKEN not set here");
  });

  it("a credential create whose answer is lost is found again inside its own vault, never in another one holding the same name", async () => {
    // Writes: the decoy vault (1), its credential (2), this project's vault (3), its credential (4, answer lost).
    // Vault "team/gh" with credential "tok", and another vault "team" whose credential "gh/tok"
    // (this project's marker on it) comes out under the same name, "team/gh/tok".
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT.replace("display_name: github-tools", "display_name: team/gh").replace("  github:\n", "  tok:\n") }, "support-bots", { faults: { script: [{ on: "write", nth: 4, fault: { dropAfterCommit: true } }] } }));
    const decoyVault = await client(p).beta.vaults.create({ display_name: "team" });
    const decoy = await client(p).beta.vaults.credentials.create(decoyVault.id, { display_name: "gh/tok", metadata: { "agentform.project": "support-bots" }, auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "decoy" } });
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    const applied = await p.run("apply", "--auto-approve");
    expect(applied.code).toBe(0);
    const lock = await lockOf(p);
    const ours = (await client(p).beta.vaults.credentials.list(lock.vaults["team/gh"]!.id)).data;
    expect(ours).toHaveLength(1);
    expect(lock.credentials["team/gh/tok"]!.id).toBe(ours[0]!.id);
    expect(lock.credentials["team/gh/tok"]!.id).not.toBe(decoy.id);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });
});
