/**
 * Second adversarial review of vault credentials. Each test asserts the EXPECTED (safe) behaviour:
 * a failing test is a confirmed problem.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliProject, type CliProject } from "../helpers/cli-project.js";
import { client, GITHUB_VAULT_YAML, lockOf } from "../helpers/credentials.js";

let project: CliProject | undefined;
let servers: Server[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const s of servers) await new Promise((r) => s.close(r));
  servers = [];
});

const VAULT = GITHUB_VAULT_YAML;

/** A server that lists nothing, creates vaults, and answers a credential create with a 400 whose message `echo` builds from the token sent. */
async function echoServer(echo: (secret: string, body: string) => string): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET") return void res.end(JSON.stringify({ data: [], next_page: null }));
      if (req.url === "/v1/vaults" || req.url?.startsWith("/v1/vaults?")) {
        return void res.end(JSON.stringify({ id: "vlt_echo", type: "vault", display_name: "github-tools", metadata: { "agentform.project": "support-bots" }, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", archived_at: null }));
      }
      const parsed = JSON.parse(body) as { auth?: { token?: string } };
      res.statusCode = 400;
      res.end(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: echo(parsed.auth?.token ?? "", body) } }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function applyAgainst(url: string, secret: string) {
  const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
  const { writeFile } = await import("node:fs/promises");
  await writeFile(p.config, `project: support-bots\ntargets:\n  default:\n    base_url: ${url}\n    api_key_env: AGENTFORM_TEST_KEY\n`);
  p.env.GITHUB_MCP_TOKEN = secret;
  const r = await p.run("apply", "--auto-approve");
  return r.stdout + r.stderr;
}

describe("scrubbing echoed secrets", () => {
  it("a secret holding a credential-shaped part is scrubbed whole (shape redaction must not break the match)", async () => {
    // An AWS key pair as one value: the access key id is redacted by shape first, so the whole
    // value no longer matches and the secret access key prints.
    const secret = "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYzz9Secretpart";
    const printed = await applyAgainst(await echoServer((s) => `token ${s} is not valid`), secret);
    expect(printed).toContain("is not valid");
    expect(printed).not.toContain("wJalrXUtnFEMIK7MDENGbPxRfiCYzz9Secretpart");
  });

  it("a secret with a control character is scrubbed in the spelling the terminal-safe message uses", async () => {
    const secret = "canary-ctrl-9d4e7f1b\u007fsecond-half-8a8a8a";
    const printed = await applyAgainst(await echoServer((s) => `token ${s} is not valid`), secret);
    expect(printed).toContain("is not valid");
    expect(printed).not.toContain("canary-ctrl-9d4e7f1b");
  });

  it("a secret echoed URL-encoded is scrubbed", async () => {
    const secret = "canary+url/9d4e7f1b=tail";
    const printed = await applyAgainst(await echoServer((s) => `token ${encodeURIComponent(s)} is not valid`), secret);
    expect(printed).toContain("is not valid");
    expect(printed).not.toContain(encodeURIComponent(secret));
  });

  it("a secret echoed truncated (a long prefix) is scrubbed", async () => {
    const secret = "canary-trunc-0123456789abcdef0123456789abcdef-tail";
    const printed = await applyAgainst(await echoServer((s) => `token '${s.slice(0, 40)}...' is not valid`), secret);
    expect(printed).toContain("is not valid");
    expect(printed).not.toContain(secret.slice(0, 40));
  });
});

describe("credential names across vaults", () => {
  const TEAM_GH = `display_name: team/gh
credentials:
  tok:
    auth:
      type: static_bearer
      mcp_server_url: https://mcp.example.com/gh
      token_env: GH_TOKEN
`;
  it("a Console credential in another vault never stands in for this vault's credential (vault names holding '/')", async () => {
    const p = (project = await cliProject({ "vaults/gh.yaml": TEAM_GH }));
    p.env.GH_TOKEN = "gh-token-1";
    const other = await client(p).beta.vaults.create({ display_name: "team" });
    const theirs = await client(p).beta.vaults.credentials.create(other.id, { display_name: "gh/tok", auth: { type: "static_bearer", mcp_server_url: "https://other.example.com/", token: "theirs" } });
    const plan = await p.run("plan", "--adopt", "--format", "json");
    const json = JSON.parse(plan.stdout) as { refusals: unknown[]; resources: Array<{ address: string; action: string; id: string | null }> };
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => [r.address, r.action, r.id])).toEqual([["vault.team/gh", "create", null], ["credential.team/gh/tok", "create", null]]);
    const applied = await p.run("apply", "--adopt", "--auto-approve");
    expect(applied.code).toBe(0);
    expect((await client(p).beta.vaults.credentials.retrieve(theirs.id, { vault_id: other.id })).archived_at).toBeNull();
    // Once ours exists, their credential must not make ours ambiguous.
    const again = await p.run("plan", "--detailed-exitcode");
    expect(again.stdout + again.stderr).not.toContain("duplicate-live-name");
    expect(again.code).toBe(0);
  });
});

describe("credential names across vaults (apply)", () => {
  it("apply --adopt never archives a credential of another vault", async () => {
    const p = (project = await cliProject({ "vaults/gh.yaml": `display_name: team/gh\ncredentials:\n  tok:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://mcp.example.com/gh\n      token_env: GH_TOKEN\n` }));
    p.env.GH_TOKEN = "gh-token-1";
    const other = await client(p).beta.vaults.create({ display_name: "team" });
    const theirs = await client(p).beta.vaults.credentials.create(other.id, { display_name: "gh/tok", auth: { type: "static_bearer", mcp_server_url: "https://other.example.com/", token: "theirs" } });
    const applied = await p.run("apply", "--adopt", "--auto-approve");
    expect(applied.code).toBe(0);
    expect((await client(p).beta.vaults.credentials.retrieve(theirs.id, { vault_id: other.id })).archived_at).toBeNull();
  });
});



describe("a vault's previous_names and another live vault of that name", () => {
  it("a credential of another live vault is never claimed through the vault's previous_names", async () => {
    const p = (project = await cliProject({ "vaults/a.yaml": "display_name: a\n" }));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const b = await client(p).beta.vaults.create({ display_name: "b" });
    const theirs = await client(p).beta.vaults.credentials.create(b.id, { display_name: "x", auth: { type: "static_bearer", mcp_server_url: "https://their.example.com/", token: "theirs" } });
    // Vault a was called b long ago; a new vault b belongs to someone else now.
    await p.write({ "vaults/a.yaml": "display_name: a\nagentform:\n  previous_names: [b]\ncredentials:\n  x:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://mine.example.com/\n      token_env: X_TOKEN\n" });
    p.env.X_TOKEN = "x-token-1";
    const plan = JSON.parse((await p.run("plan", "--adopt", "--format", "json")).stdout) as { refusals: unknown[]; resources: Array<{ address: string; action: string; id: string | null }> };
    expect(plan.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action, r.id])).toEqual([["credential.a/x", "create", null]]);
    await p.run("apply", "--adopt", "--auto-approve");
    expect((await client(p).beta.vaults.credentials.retrieve(theirs.id, { vault_id: b.id })).archived_at).toBeNull();
  });
});

describe("a vault renamed in the Console", () => {
  it("plans the vault's rename back and nothing for its unchanged credential", async () => {
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    p.env.GITHUB_MCP_TOKEN = "first-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const lock = await lockOf(p);
    await client(p).beta.vaults.update(lock.vaults["github-tools"]!.id, { display_name: "renamed-in-console" });
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as { refusals: unknown[]; resources: Array<{ address: string; action: string; request: unknown }> };
    const applied = await p.run("apply", "--auto-approve");
    expect(applied.stdout + applied.stderr).not.toContain("invalid-plan-entry");
    expect(applied.code).toBe(0);
    expect(plan.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action])).toEqual([["vault.github-tools", "rename"]]);
  });
});

describe("local stand-ins", () => {
  it("--rotate with the variable unset does not send the placeholder over a real secret", async () => {
    const { secretMatches } = await import("../../src/kinds/credential/secret-digest.js");
    const p = (project = await cliProject({ "vaults/github.yaml": VAULT }));
    await p.write({ "agentform.yaml": "project: support-bots\ntargets:\n  default:\n    local: true\n    state_file: .agentform/state.json\n" });
    p.env.GITHUB_MCP_TOKEN = "real-token-value-0001";
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    delete p.env.GITHUB_MCP_TOKEN;
    const applied = await p.run("apply", "--rotate", "--auto-approve");
    const state = JSON.parse(await readFile(path.join(p.dir, ".agentform", "state.json"), "utf8")) as unknown;
    const digests = JSON.stringify(state).match(/"agentform\.secret_digest":"([^"]+)"/g)!.map((m) => m.split('":"')[1]!.slice(0, -1));
    expect(applied.stdout + applied.stderr).toContain("placeholder");
    expect(digests.some((d) => secretMatches(JSON.stringify(["agentform-local-placeholder-GITHUB_MCP_TOKEN"]), d))).toBe(false);
  });
});
