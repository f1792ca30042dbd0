/**
 * Credential rules (src/kinds/credential/rules.ts): checkRules over plain manifests, then vault
 * files loaded through loadProject, whose credentials are named `<vault>/<local>` and whose
 * diagnostics point into the vault file.
 */
import { describe, expect, it } from "vitest";
import { KINDS } from "../../src/kinds/index.js";
import { MAX_CREDENTIALS_PER_VAULT } from "../../src/kinds/credential/rules.js";
import { checkRules, loadConfig, loadProject } from "../../src/manifest/index.js";
import type { Diagnostic, LoadedManifest } from "../../src/manifest/types.js";
import { GITHUB_ENTRY_YAML, GITHUB_URL, githubAuth, NPM_ENTRY_YAML, npmAuth, oauthAuth, type Obj } from "../helpers/credentials.js";
import { tempProjects } from "../helpers/temp-project.js";
import { emptyByKind } from "../plan/helpers.js";

const settings = { previous_names: [], adopt: false, ignore: [] };
const locate = () => ({ line: 1, column: 1 });

/** A vault manifest and its credential manifests, as the loader derives them (plain data). */
function vault(name: string, credentials: Record<string, Obj>): { vault: LoadedManifest; credentials: LoadedManifest[] } {
  const spec = { display_name: name, credentials: Object.fromEntries(Object.entries(credentials).map(([local, auth]) => [local, { auth }])) };
  const file = `vaults/${name}.yaml`;
  return {
    vault: { kind: "vault", name, file, spec, settings, locate },
    credentials: (KINDS.vault.nested?.of(spec, name) ?? []).map((c) => ({ kind: "credential", name: c.name, file, spec: c.spec, settings, locate })),
  };
}

function agent(name: string, urls: string[]): LoadedManifest {
  const spec = {
    name,
    model: "claude-sonnet-5-5",
    tools: urls.map((_, i) => ({ type: "mcp_toolset", mcp_server_name: `s${i}` })),
    mcp_servers: urls.map((url, i) => ({ type: "url", name: `s${i}`, url })),
  };
  return { kind: "agent", name, file: `agents/${name}.yaml`, spec, settings, locate };
}

function rules(vaults: Array<ReturnType<typeof vault>>, agents: LoadedManifest[] = []): Diagnostic[] {
  return checkRules({ ...emptyByKind(), agent: agents, vault: vaults.map((v) => v.vault), credential: vaults.flatMap((v) => v.credentials) });
}
const only = (diags: Diagnostic[], code: string) => diags.filter((d) => d.code === code);
const summary = (diags: Diagnostic[]) => diags.map((d) => `${d.file} ${d.path} ${d.code}`);

describe("credential rules over plain manifests", () => {
  it("accept the three credential types of the manifest format", () => {
    expect(rules([vault("github-tools", { github: githubAuth(), oauth: oauthAuth(), npm: npmAuth() })])).toEqual([]);
  });

  it.each([
    ["token", "github", githubAuth({ token: "plain-literal-0001" }), "auth.token", "token_env"],
    ["access_token", "oauth", oauthAuth({ access_token: "plain-literal-0001" }), "auth.access_token", "access_token_env"],
    ["refresh_token", "oauth", oauthAuth({ refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token: "plain-literal-0001", token_endpoint_auth: { type: "none" } } }), "auth.refresh.refresh_token", "refresh_token_env"],
    ["client_secret", "oauth", oauthAuth({ refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token_env: "R", token_endpoint_auth: { type: "client_secret_basic", client_secret: "plain-literal-0001" } } }), "auth.refresh.token_endpoint_auth.client_secret", "client_secret_env"],
    ["secret_value", "npm", npmAuth({ secret_value: "plain-literal-0001" }), "auth.secret_value", "secret_value_env"],
  ])("refuse a literal %s, pointing at it without quoting it", (field, local, auth, path, env) => {
    const diags = rules([vault("v", { [local]: auth })]);
    expect(summary(diags)).toEqual([`vaults/v.yaml ${path} AF-CREDENTIAL-LITERAL-SECRET`]);
    const [d] = diags;
    expect(d?.severity).toBe("error");
    expect(d?.message).toBe(`${field} would put a secret in the repository`);
    expect(d?.hint).toContain(`\`${env}: NAME\``);
    expect(`${d?.message} ${d?.hint}`).not.toContain("plain-literal-0001");
  });

  it("refuse every literal secret of one credential, each at its own path", () => {
    const auth = oauthAuth({ access_token: "x1", refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token: "x2", token_endpoint_auth: { type: "client_secret_post", client_secret: "x3" } } });
    expect(only(rules([vault("v", { oauth: auth })]), "AF-CREDENTIAL-LITERAL-SECRET").map((d) => d.path).sort()).toEqual(["auth.access_token", "auth.refresh.refresh_token", "auth.refresh.token_endpoint_auth.client_secret"]);
  });

  it("refuse variables agentform or the API key uses (ANTHROPIC_*, AGENTFORM_*), once per variable", () => {
    const diags = rules([vault("v", { github: githubAuth({ token_env: "ANTHROPIC_API_KEY" }), oauth: oauthAuth({ access_token_env: "AGENTFORM_TOKEN", refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token_env: "ANTHROPIC_REFRESH", token_endpoint_auth: { type: "none" } } }) })]);
    const reserved = only(diags, "AF-CREDENTIAL-ENV-RESERVED");
    expect(reserved.map((d) => `${d.path} ${d.message}`).sort()).toEqual([
      "auth.access_token_env the secret is read from AGENTFORM_TOKEN, a variable agentform or the API key uses",
      "auth.refresh.refresh_token_env the secret is read from ANTHROPIC_REFRESH, a variable agentform or the API key uses",
      "auth.token_env the secret is read from ANTHROPIC_API_KEY, a variable agentform or the API key uses",
    ]);
    expect(reserved.every((d) => d.severity === "error")).toBe(true);
    expect(diags).toHaveLength(3);
  });

  it("accept variables that merely contain those words", () => {
    expect(rules([vault("v", { github: githubAuth({ token_env: "MY_ANTHROPIC_TOKEN" }), npm: npmAuth({ secret_value_env: "NOT_AGENTFORM_VALUE", secret_name: "ANTHROPIC_API_KEY" }) })])).toEqual([]);
  });

  it(`allow ${MAX_CREDENTIALS_PER_VAULT} credentials in a vault and refuse the 21st, once, on the 21st`, () => {
    expect(MAX_CREDENTIALS_PER_VAULT).toBe(20);
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${String(i + 1).padStart(2, "0")}`, githubAuth({ mcp_server_url: `https://mcp${i + 1}.example.com/` })]));
    expect(rules([vault("big", many(20))])).toEqual([]);
    const diags = rules([vault("big", many(21))]);
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ code: "AF-CREDENTIAL-LIMIT", severity: "error", file: "vaults/big.yaml", path: "", message: 'vault "big" has 21 credentials; a vault holds at most 20' });
    // Twenty in each of two vaults is fine: the limit is per vault.
    expect(rules([vault("one", many(20)), vault("two", many(20))])).toEqual([]);
  });

  it("refuse two credentials with one server URL in a vault, static and OAuth alike, on the second", () => {
    const diags = rules([vault("v", { first: githubAuth(), second: githubAuth({ token_env: "OTHER" }), third: oauthAuth({ mcp_server_url: GITHUB_URL }) })]);
    expect(diags.map((d) => `${d.path} ${d.code} ${d.message}`)).toEqual([
      `auth.mcp_server_url AF-CREDENTIAL-KEY-DUPLICATE mcp_server_url "${GITHUB_URL}" is also credential "v/first"'s; a vault's credentials need different keys`,
      `auth.mcp_server_url AF-CREDENTIAL-KEY-DUPLICATE mcp_server_url "${GITHUB_URL}" is also credential "v/first"'s; a vault's credentials need different keys`,
    ]);
  });

  it("refuse two environment variables with one secret name in a vault", () => {
    const diags = rules([vault("v", { a: npmAuth(), b: npmAuth({ secret_value_env: "OTHER" }) })]);
    expect(summary(diags)).toEqual(["vaults/v.yaml auth.secret_name AF-CREDENTIAL-KEY-DUPLICATE"]);
    expect(diags[0]?.message).toBe(`secret_name "NPM_TOKEN" is also credential "v/a"'s; a vault's credentials need different keys`);
  });

  it("accept one key in two vaults, and URLs that differ by a trailing slash", () => {
    expect(rules([vault("one", { github: githubAuth() }), vault("two", { github: githubAuth() })])).toEqual([]);
    expect(rules([vault("v", { slash: githubAuth(), bare: githubAuth({ mcp_server_url: "https://api.githubcopilot.com/mcp" }) })])).toEqual([]);
  });

  it("warn on an agent's MCP server no managed vault has a credential for, by exact URL", () => {
    const diags = rules([vault("v", { github: githubAuth() })], [agent("bot", [GITHUB_URL, "https://api.githubcopilot.com/mcp", "http://api.githubcopilot.com/mcp/"])]);
    const warnings = only(diags, "AF-MCP-NO-CREDENTIAL");
    expect(warnings.map((d) => `${d.file} ${d.path} ${d.severity} ${d.message}`).sort()).toEqual([
      "agents/bot.yaml mcp_servers[1].url warning no managed vault has a credential for https://api.githubcopilot.com/mcp",
      "agents/bot.yaml mcp_servers[2].url warning no managed vault has a credential for http://api.githubcopilot.com/mcp/",
    ]);
    expect(diags).toEqual(warnings);
  });

  it("count credentials of any managed vault, but not environment-variable ones", () => {
    const both = rules([vault("a", { github: githubAuth() }), vault("b", { oauth: oauthAuth() })], [agent("bot", [GITHUB_URL, "https://mcp.example.com/"])]);
    expect(both).toEqual([]);
    const envOnly = rules([vault("a", { npm: npmAuth({ secret_name: "X" }) })], [agent("bot", ["https://mcp.example.com/"])]);
    expect(summary(envOnly)).toEqual(["agents/bot.yaml mcp_servers[0].url AF-MCP-NO-CREDENTIAL"]);
  });

  it("do not warn before the project manages any vault (credentials then live in the Console)", () => {
    expect(rules([], [agent("bot", [GITHUB_URL, "https://elsewhere.example.com/"])])).toEqual([]);
    // A managed vault, even an empty one, turns the check on.
    expect(summary(rules([vault("empty", {})], [agent("bot", [GITHUB_URL])]))).toEqual(["agents/bot.yaml mcp_servers[0].url AF-MCP-NO-CREDENTIAL"]);
  });
});

// ------------------------------------------------------------------------------------------------
// Vault files through the loader

const project = tempProjects("credentials");

const VAULT_FILE = `display_name: github-tools
agentform:
  previous_names: [old-tools]
credentials:
${GITHUB_ENTRY_YAML}  oauth:
    auth:
      type: mcp_oauth
      mcp_server_url: https://mcp.example.com/
      access_token_env: OAUTH_ACCESS
      expires_at: "2030-01-01T00:00:00Z"
      refresh: {client_id: abc, token_endpoint: https://auth.example.com/token, refresh_token_env: OAUTH_REFRESH, token_endpoint_auth: {type: client_secret_post, client_secret_env: OAUTH_CLIENT_SECRET}, scope: "read"}
${NPM_ENTRY_YAML}`;

/** 1-based line of the first line of `text` containing `needle` after line `after`. */
function lineOf(text: string, needle: string, after = 0): number {
  const i = text.split("\n").findIndex((l, n) => n >= after && l.includes(needle));
  expect(i).toBeGreaterThanOrEqual(0);
  return i + 1;
}

async function load(files: Record<string, string>) {
  const dir = await project(files);
  return loadProject(await loadConfig({ cwd: dir }));
}

describe("vault files through loadProject", () => {
  it("yield the vault and one credential manifest per entry, named <vault>/<local>, in the vault's file", async () => {
    const result = await load({ "vaults/github.yaml": VAULT_FILE });
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.vault.map((m) => m.name)).toEqual(["github-tools"]);
    const creds = result.manifests.credential;
    expect(creds.map((m) => m.name).sort()).toEqual(["github-tools/github", "github-tools/npm", "github-tools/oauth"]);
    expect(creds.every((m) => m.kind === "credential" && m.file === "vaults/github.yaml")).toBe(true);
    const npm = creds.find((m) => m.name === "github-tools/npm");
    expect(npm?.spec).toEqual({
      display_name: "github-tools/npm",
      vault_id: { ref: "github-tools" },
      auth: { type: "environment_variable", secret_name: "NPM_TOKEN", secret_value_env: "NPM_TOKEN_VALUE", networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] }, injection_location: { header: true } },
      metadata: { team: "web" },
    });
    const oauth = creds.find((m) => m.name === "github-tools/oauth");
    expect(oauth?.spec.auth).toMatchObject({ type: "mcp_oauth", expires_at: "2030-01-01T00:00:00Z", refresh: { client_id: "abc", scope: "read" } });
  });

  it("carry the vault's previous names over as <old>/<local>", async () => {
    const result = await load({ "vaults/github.yaml": VAULT_FILE });
    const byName = new Map(result.manifests.credential.map((m) => [m.name, m.settings.previous_names]));
    expect(byName.get("github-tools/github")).toEqual(["old-tools/github"]);
    expect(byName.get("github-tools/npm")).toEqual(["old-tools/npm"]);
    expect(result.manifests.vault[0]?.settings.previous_names).toEqual(["old-tools"]);
  });

  it("locate a credential's fields in the vault file, and its name and vault at its entry", async () => {
    const result = await load({ "vaults/github.yaml": VAULT_FILE });
    const oauth = result.manifests.credential.find((m) => m.name === "github-tools/oauth") as LoadedManifest;
    const entry = lineOf(VAULT_FILE, "  oauth:");
    expect(oauth.locate("/auth/mcp_server_url")).toEqual({ line: lineOf(VAULT_FILE, "mcp_server_url", entry), column: 7 });
    expect(oauth.locate("/auth/expires_at").line).toBe(lineOf(VAULT_FILE, "expires_at"));
    expect(oauth.locate("/display_name")).toEqual({ line: entry, column: 3 });
    expect(oauth.locate("/vault_id")).toEqual({ line: entry, column: 3 });
    const npm = result.manifests.credential.find((m) => m.name === "github-tools/npm") as LoadedManifest;
    expect(npm.locate("/metadata/team").line).toBe(lineOf(VAULT_FILE, "metadata: {team: web}"));
  });

  it("report a reserved variable and a duplicate key at the right lines of the vault file, and load nothing from it", async () => {
    const text = `display_name: github-tools
credentials:
  github:
    auth:
      type: static_bearer
      mcp_server_url: https://api.githubcopilot.com/mcp/
      token_env: ANTHROPIC_API_KEY
  copy:
    auth:
      type: mcp_oauth
      mcp_server_url: https://api.githubcopilot.com/mcp/
      access_token_env: OAUTH_ACCESS
`;
    const result = await load({ "vaults/github.yaml": text });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.severity}`)).toEqual([
      `vaults/github.yaml:${lineOf(text, "token_env")}:7 AF-CREDENTIAL-ENV-RESERVED error`,
      `vaults/github.yaml:${lineOf(text, "mcp_server_url", lineOf(text, "  copy:"))}:7 AF-CREDENTIAL-KEY-DUPLICATE error`,
    ]);
    expect(result.diagnostics[1]?.message).toContain('credential "github-tools/github"');
    // Paths name where in the vault file each credential's field sits.
    expect(result.diagnostics.map((d) => d.path)).toEqual(["credentials.github.auth.token_env", "credentials.copy.auth.mcp_server_url"]);
    expect(result.manifests.vault).toEqual([]);
    expect(result.manifests.credential).toEqual([]);
  });

  it("report a literal secret at its own line, beside the schema's refusal", async () => {
    const text = `display_name: lit
credentials:
  github:
    auth:
      type: static_bearer
      mcp_server_url: https://api.githubcopilot.com/mcp/
      token: plain-literal-0001
`;
    const result = await load({ "vaults/lit.yaml": text });
    const literal = only(result.diagnostics, "AF-CREDENTIAL-LITERAL-SECRET");
    expect(literal.map((d) => `${d.file}:${d.line}:${d.column} ${d.path}`)).toEqual([`vaults/lit.yaml:${lineOf(text, "token:")}:7 credentials.github.auth.token`]);
    expect(result.diagnostics.some((d) => d.code.startsWith("AF-SCHEMA"))).toBe(true);
    for (const d of result.diagnostics) expect(`${d.message} ${d.hint ?? ""}`).not.toContain("plain-literal-0001");
  });

  it("report the 21st credential of a vault at its entry", async () => {
    const entries = Array.from({ length: 21 }, (_, i) => {
      const n = String(i + 1).padStart(2, "0");
      return `  c${n}:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://mcp${n}.example.com/\n      token_env: T${n}\n`;
    });
    const text = `display_name: big\ncredentials:\n${entries.join("")}`;
    const result = await load({ "vaults/big.yaml": text });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.path}`)).toEqual([`vaults/big.yaml:${lineOf(text, "  c21:")}:3 AF-CREDENTIAL-LIMIT credentials.c21`]);
  });

  it("warn (without failing the agent) on an MCP server URL no vault covers, at the URL's line in the agent's file", async () => {
    const agentFile = `name: bot
model: claude-sonnet-5-5
tools:
  - type: mcp_toolset
    mcp_server_name: github
mcp_servers:
  - type: url
    name: github
    url: https://api.githubcopilot.com/mcp
`;
    const result = await load({ "vaults/github.yaml": VAULT_FILE, "agents/bot.yaml": agentFile });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.severity}`)).toEqual([`agents/bot.yaml:${lineOf(agentFile, "url: https")}:5 AF-MCP-NO-CREDENTIAL warning`]);
    expect(result.manifests.agent.map((m) => m.name)).toEqual(["bot"]);

    const covered = await load({ "vaults/github.yaml": VAULT_FILE, "agents/bot.yaml": agentFile.replace("/mcp\n", "/mcp/\n") });
    expect(covered.diagnostics).toEqual([]);
    const noVault = await load({ "agents/bot.yaml": agentFile });
    expect(noVault.diagnostics).toEqual([]);
  });
});
