/**
 * Vaults and vault credentials on the local control plane, through the real SDK
 * (`client.beta.vaults`, `client.beta.vaults.credentials`) over HTTP, with real state files.
 */
import Anthropic from "@anthropic-ai/sdk";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { secretMatches } from "../../src/kinds/credential/secret-digest.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { allPages, clientFor, expectStatus, failure, loose, startHarness, tick, useTempStateFile, type Harness } from "./helpers.js";

type Credential = Anthropic.Beta.Vaults.BetaManagedAgentsCredential;
type CreateParams = Anthropic.Beta.Vaults.CredentialCreateParams;
type UpdateParams = Anthropic.Beta.Vaults.CredentialUpdateParams;

const MCP_URL = "https://mcp.example.com/sse";
const TOKEN_ENDPOINT = "https://auth.example.com/oauth/token";

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

function bearer(url = MCP_URL, token = "bearer-token-1") {
  return { type: "static_bearer" as const, mcp_server_url: url, token };
}

function oauth(url = MCP_URL, extra: Record<string, unknown> = {}) {
  return { type: "mcp_oauth" as const, mcp_server_url: url, access_token: "access-token-1", ...extra };
}

function refresh(extra: Record<string, unknown> = {}) {
  return { refresh_token: "refresh-token-1", client_id: "client-1", token_endpoint: TOKEN_ENDPOINT, token_endpoint_auth: { type: "client_secret_basic" as const, client_secret: "client-secret-1" }, ...extra };
}

function envVar(name = "API_TOKEN", extra: Record<string, unknown> = {}) {
  return { type: "environment_variable" as const, secret_name: name, secret_value: "secret-value-1", networking: { type: "unrestricted" as const }, ...extra };
}


/** Credential calls bound to one client and vault. */
function credentialsOf(client: Anthropic, vaultId: string) {
  const c = client.beta.vaults.credentials;
  return {
    create: (body: Record<string, unknown>) => c.create(vaultId, loose<CreateParams>(body)),
    retrieve: (id: string) => c.retrieve(id, { vault_id: vaultId }),
    update: (id: string, body: Record<string, unknown>) => c.update(id, loose<UpdateParams>({ ...body, vault_id: vaultId })),
    list: (params: { include_archived?: boolean; limit?: number } = {}) => c.list(vaultId, params),
    archive: (id: string) => c.archive(id, { vault_id: vaultId }),
    delete: (id: string) => c.delete(id, { vault_id: vaultId }),
    validate: (id: string) => c.mcpOAuthValidate(id, { vault_id: vaultId }),
  };
}

describe("vaults", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.cp.close();
  });

  it("create returns the Vault shape; retrieve and list return the same", async () => {
    const vault = await h.client.beta.vaults.create({ display_name: "Production MCP", metadata: { team: "infra" } });
    expect(vault.id).toMatch(/^vlt_011[0-9A-Za-z]{21}$/);
    expect(vault).toEqual({ id: vault.id, type: "vault", display_name: "Production MCP", metadata: { team: "infra" }, created_at: vault.created_at, updated_at: vault.created_at, archived_at: null });
    expect(new Date(vault.created_at).toISOString()).toBe(vault.created_at);
    expect(await h.client.beta.vaults.retrieve(vault.id)).toEqual(vault);
    expect((await h.client.beta.vaults.list()).data).toEqual([vault]);
    const bare = await h.client.beta.vaults.create({ display_name: "bare" });
    expect(bare.metadata).toEqual({});
  });

  it("update: display_name replaces, metadata is a patch (string sets, null deletes, omitted kept), no-op keeps updated_at", async () => {
    const vault = await h.client.beta.vaults.create({ display_name: "v", metadata: { a: "1", b: "2" } });
    await tick();
    const updated = await h.client.beta.vaults.update(vault.id, { display_name: "renamed", metadata: { a: null, c: "3", d: "" } });
    expect(updated).toMatchObject({ display_name: "renamed", metadata: { b: "2", c: "3", d: "" }, created_at: vault.created_at });
    expect(updated.updated_at > vault.updated_at).toBe(true);
    await tick();
    // Same values again, and a null display_name (kept): nothing changes, updated_at stays.
    const same = await h.client.beta.vaults.update(vault.id, { display_name: null, metadata: { b: "2" } });
    expect(same).toEqual(updated);
    expect(await h.client.beta.vaults.retrieve(vault.id)).toEqual(updated);
  });

  it("refuses a missing or bad display_name, metadata over the limits, and unknown keys (400)", async () => {
    const v = h.client.beta.vaults;
    await expectStatus(v.create(loose({})), 400, /display_name: Field required/);
    await expectStatus(v.create({ display_name: "" }), 400, /display_name: must be 1 to 255/);
    await expectStatus(v.create({ display_name: "x".repeat(256) }), 400, /display_name/);
    expect((await v.create({ display_name: "x".repeat(255) })).display_name).toHaveLength(255);
    await expectStatus(v.create({ display_name: "m", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }), 400, /17 keys \(at most 16\)/);
    await expectStatus(v.create({ display_name: "m", metadata: { ["k".repeat(65)]: "v" } }), 400, /longer than 64/);
    await expectStatus(v.create({ display_name: "m", metadata: { k: "v".repeat(513) } }), 400, /longer than 512/);
    await expectStatus(v.create(loose({ display_name: "m", id: "vlt_mine" })), 400, /body\.id: Extra inputs/);
    const vault = await v.create({ display_name: "kept" });
    await expectStatus(v.update(vault.id, { display_name: "" }), 400, /display_name/);
    await expectStatus(v.update(vault.id, { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }), 400, /at most 16/);
    expect(await v.retrieve(vault.id)).toEqual(vault);
  });

  it("list hides archived vaults unless include_archived; pages with limit and page", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await h.client.beta.vaults.create({ display_name: `v${i}` }));
    const archived = await h.client.beta.vaults.archive((made[1] as { id: string }).id);
    const first = await h.client.beta.vaults.list({ limit: 2 });
    expect(first.data.map((v) => v.display_name)).toEqual(["v0", "v2"]);
    expect(first.next_page).toEqual(expect.any(String));
    expect((await allPages(h.client.beta.vaults.list({ limit: 2 }))).map((v) => v.display_name)).toEqual(["v0", "v2", "v3", "v4"]);
    const all = await allPages(h.client.beta.vaults.list({ include_archived: true, limit: 2 }));
    expect(all.map((v) => v.display_name)).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    expect(all[1]).toEqual(archived);
    await expectStatus(h.client.beta.vaults.list({ limit: 101 }), 400, /limit/);
    // A vault-list cursor is not a credential-list cursor.
    const cursor = first.next_page as string;
    await expectStatus(h.client.beta.vaults.credentials.list((made[0] as { id: string }).id, { page: cursor }), 400, /page/);
  });

  it("delete returns vault_deleted; the vault and its credentials are gone, archived or not", async () => {
    const vault = await h.client.beta.vaults.create({ display_name: "doomed" });
    const creds = credentialsOf(h.client, vault.id);
    const c = await creds.create({ auth: bearer() });
    expect(await h.client.beta.vaults.delete(vault.id)).toEqual({ id: vault.id, type: "vault_deleted" });
    await expectStatus(h.client.beta.vaults.retrieve(vault.id), 404, /vault .* not found/);
    await expectStatus(creds.retrieve(c.id), 404);
    await expectStatus(creds.list(), 404);
    await expectStatus(h.client.beta.vaults.delete(vault.id), 404);
    const archived = await h.client.beta.vaults.create({ display_name: "archived then deleted" });
    await h.client.beta.vaults.archive(archived.id);
    expect(await h.client.beta.vaults.delete(archived.id)).toEqual({ id: archived.id, type: "vault_deleted" });
    expect(await allPages(h.client.beta.vaults.list({ include_archived: true }))).toEqual([]);
  });

  it("archive cascades to the vault's credentials; the vault is then read-only", async () => {
    const vault = await h.client.beta.vaults.create({ display_name: "cascade" });
    const creds = credentialsOf(h.client, vault.id);
    const early = await creds.create({ auth: bearer("https://early.example.com/mcp") });
    const earlyArchived = await creds.archive(early.id);
    const b = await creds.create({ auth: bearer() });
    const o = await creds.create({ auth: oauth("https://oauth.example.com/mcp", { refresh: refresh() }) });
    const e = await creds.create({ auth: envVar() });
    expect((await creds.validate(o.id)).has_refresh_token).toBe(true);
    await tick();
    const archived = await h.client.beta.vaults.archive(vault.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    expect(archived.updated_at).toBe(vault.updated_at);
    expect(await h.client.beta.vaults.archive(vault.id)).toEqual(archived);

    expect((await creds.list()).data).toEqual([]);
    const after = (await creds.list({ include_archived: true })).data;
    expect(after.map((c) => c.id)).toEqual([early.id, b.id, o.id, e.id]);
    expect(after[0]).toEqual(earlyArchived);
    for (const c of after.slice(1)) expect(c.archived_at).toBe(archived.archived_at);
    // The cascade erased the OAuth credential's secrets: no refresh token is left.
    expect(await creds.validate(o.id)).toMatchObject({ status: "invalid", has_refresh_token: false });

    expect((await h.client.beta.vaults.list()).data).toEqual([]);
    expect((await h.client.beta.vaults.list({ include_archived: true })).data).toEqual([archived]);
    await expectStatus(h.client.beta.vaults.update(vault.id, { display_name: "x" }), 400, /archived/);
    await expectStatus(creds.create({ auth: bearer("https://new.example.com/mcp") }), 400, /vault .* is archived/);
    await expectStatus(creds.update(b.id, { display_name: "x" }), 400, /archived/);
    expect(await creds.retrieve(b.id)).toEqual(after[1]);
  });

  it("needs the managed-agents beta header; unknown sub-paths are 404", async () => {
    const res = await fetch(`${h.cp.baseUrl}/v1/vaults`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("managed-agents-2026-04-01");
    const vault = await h.client.beta.vaults.create({ display_name: "paths" });
    const headers = { "x-api-key": h.cp.apiKey, "anthropic-beta": "managed-agents-2026-04-01" };
    for (const [method, p] of [["POST", `/v1/vaults/${vault.id}/unarchive`], ["GET", `/v1/vaults/${vault.id}/archive`], ["PUT", `/v1/vaults/${vault.id}`], ["POST", `/v1/vaults/${vault.id}/credentials/vcrd_1/rotate`], ["GET", `/v1/vaults/${vault.id}/credentials/vcrd_1/archive/x`]] as const) {
      expect((await fetch(`${h.cp.baseUrl}${p}`, { method, headers })).status, `${method} ${p}`).toBe(404);
    }
  });
});

describe("credentials", () => {
  let h: Harness;
  let vaultId: string;
  let creds: ReturnType<typeof credentialsOf>;
  beforeEach(async () => {
    h = await startHarness();
    vaultId = (await h.client.beta.vaults.create({ display_name: "credentials" })).id;
    creds = credentialsOf(h.client, vaultId);
  });
  afterEach(async () => {
    await h.cp.close();
  });

  it("static_bearer: create, get, list, update, archive, delete; the token is never returned", async () => {
    const c = await creds.create({ auth: bearer(), display_name: "GitHub MCP", metadata: { team: "a" } });
    expect(c.id).toMatch(/^vcrd_011[0-9A-Za-z]{21}$/);
    expect(c).toEqual({
      id: c.id,
      type: "vault_credential",
      vault_id: vaultId,
      display_name: "GitHub MCP",
      auth: { type: "static_bearer", mcp_server_url: MCP_URL },
      metadata: { team: "a" },
      created_at: c.created_at,
      updated_at: c.created_at,
      archived_at: null,
    });
    expect(await creds.retrieve(c.id)).toEqual(c);
    expect((await creds.list()).data).toEqual([c]);
    await tick();
    // A sent secret always counts as a change (secrets are never compared).
    const rotated = await creds.update(c.id, { auth: { type: "static_bearer", token: "bearer-token-1" } });
    expect(rotated.updated_at > c.updated_at).toBe(true);
    expect(rotated.auth).toEqual(c.auth);
    await tick();
    expect(await creds.update(c.id, { metadata: { team: "a" }, auth: { type: "static_bearer" } })).toEqual(rotated);
    const renamed = await creds.update(c.id, { display_name: null, metadata: { team: null, env: "prod" } });
    expect(renamed).toMatchObject({ display_name: null, metadata: { env: "prod" } });
    await expectStatus(creds.update(c.id, { display_name: "" }), 400, /display_name/);
    const archived = await creds.archive(c.id);
    expect(archived).toEqual({ ...renamed, archived_at: expect.any(String) });
    expect(await creds.archive(c.id)).toEqual(archived);
    expect((await creds.list()).data).toEqual([]);
    expect((await creds.list({ include_archived: true })).data).toEqual([archived]);
    await expectStatus(creds.update(c.id, { auth: { type: "static_bearer", token: "new" } }), 400, /credential .* is archived/);
    expect(await creds.delete(c.id)).toEqual({ id: c.id, type: "vault_credential_deleted" });
    await expectStatus(creds.retrieve(c.id), 404, /credential .* not found/);
    await expectStatus(creds.delete(c.id), 404);
    expect((await creds.list({ include_archived: true })).data).toEqual([]);
  });

  it("mcp_oauth: expiry, refresh settings and validation; secrets never returned", async () => {
    const expires = inDays(30);
    const c = await creds.create({ auth: oauth(MCP_URL, { expires_at: expires, refresh: refresh({ resource: "https://mcp.example.com/", scope: "read write" }) }) });
    const shown = { client_id: "client-1", token_endpoint: TOKEN_ENDPOINT, token_endpoint_auth: { type: "client_secret_basic" }, resource: "https://mcp.example.com/", scope: "read write" };
    expect(c.auth).toEqual({ type: "mcp_oauth", mcp_server_url: MCP_URL, expires_at: expires, refresh: shown });
    expect(c.display_name).toBeNull();
    expect(await creds.retrieve(c.id)).toEqual(c);
    expect((await creds.list()).data).toEqual([c]);
    await tick();
    // A new access token without expires_at keeps the stored expiry.
    const newToken = await creds.update(c.id, { auth: { type: "mcp_oauth", access_token: "access-token-2" } });
    expect(newToken.auth).toEqual(c.auth);
    expect(newToken.updated_at > c.updated_at).toBe(true);
    const later = inDays(60);
    expect((await creds.update(c.id, { auth: { type: "mcp_oauth", access_token: "access-token-3", expires_at: later } })).auth).toMatchObject({ expires_at: later });
    // scope "" clears; a client secret sent with the other method keeps the stored method.
    const refreshed = await creds.update(c.id, { auth: { type: "mcp_oauth", refresh: { refresh_token: "refresh-token-2", scope: "", token_endpoint_auth: { type: "client_secret_post", client_secret: "client-secret-2" } } } });
    expect(refreshed.auth).toEqual({ type: "mcp_oauth", mcp_server_url: MCP_URL, expires_at: later, refresh: { client_id: "client-1", token_endpoint: TOKEN_ENDPOINT, token_endpoint_auth: { type: "client_secret_basic" }, resource: "https://mcp.example.com/" } });
    await expectStatus(creds.update(c.id, { auth: { type: "mcp_oauth", refresh: { token_endpoint_auth: { type: "none" } } } }), 400, /auth method is fixed at create/);
    // expires_at: null clears it (expiry unknown).
    expect("expires_at" in (await creds.update(c.id, { auth: { type: "mcp_oauth", expires_at: null } })).auth).toBe(false);

    const validation = await creds.validate(c.id);
    expect(validation).toEqual({ type: "vault_credential_validation", status: "unknown", has_refresh_token: true, mcp_probe: null, refresh: null, validated_at: expect.any(String), credential_id: c.id, vault_id: vaultId });
    expect(new Date(validation.validated_at).toISOString()).toBe(validation.validated_at);
    const archived = await creds.archive(c.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    expect(await creds.validate(c.id)).toMatchObject({ status: "invalid", has_refresh_token: false, mcp_probe: null, refresh: null });
    expect(await creds.delete(c.id)).toEqual({ id: c.id, type: "vault_credential_deleted" });
    await expectStatus(creds.validate(c.id), 404);
  });

  it("mcp_oauth without refresh: no refresh or expiry keys, no refresh token, and refresh cannot be added later", async () => {
    const c = await creds.create({ auth: oauth() });
    expect(c.auth).toEqual({ type: "mcp_oauth", mcp_server_url: MCP_URL });
    expect((await creds.validate(c.id)).has_refresh_token).toBe(false);
    await expectStatus(creds.update(c.id, { auth: { type: "mcp_oauth", refresh: { refresh_token: "r" } } }), 400, /without a refresh configuration/);
    const none = await creds.create({ auth: oauth("https://none.example.com/mcp", { refresh: refresh({ token_endpoint_auth: { type: "none" } }) }) });
    expect((none.auth as { refresh: unknown }).refresh).toEqual({ client_id: "client-1", token_endpoint: TOKEN_ENDPOINT, token_endpoint_auth: { type: "none" } });
    await expectStatus(creds.update(none.id, { auth: { type: "mcp_oauth", refresh: { token_endpoint_auth: { type: "client_secret_basic", client_secret: "s" } } } }), 400, /fixed at create/);
    const bearerCred = await creds.create({ auth: bearer("https://bearer.example.com/mcp") });
    await expectStatus(creds.validate(bearerCred.id), 400, /only mcp_oauth credentials can be validated/);
  });

  it("mcp_oauth create rules: future RFC 3339 expiry, complete refresh settings", async () => {
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { expires_at: new Date(Date.now() - 60_000).toISOString() }) }), 400, /expires_at: must be in the future/);
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { expires_at: "next tuesday" }) }), 400, /expires_at: must be an RFC 3339 timestamp/);
    for (const bad of ["2999-01-01", "2999-02-31T00:00:00Z", "2999-01-01T24:00:00Z", "2999-01-01T00:00:00", "2999-01-01 00:00:00Z"]) {
      await expectStatus(creds.create({ auth: oauth(MCP_URL, { expires_at: bad }) }), 400, /RFC 3339/);
    }
    expect((await creds.create({ auth: oauth("https://leap.example.com/mcp", { expires_at: "2996-02-29T23:59:59Z" }) })).auth).toMatchObject({ expires_at: "2996-02-29T23:59:59Z" });
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { access_token: undefined }) }), 400, /auth\.access_token: Field required/);
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { refresh: refresh({ client_id: undefined }) }) }), 400, /refresh\.client_id: Field required/);
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { refresh: refresh({ token_endpoint_auth: { type: "client_secret_post" } }) }) }), 400, /client_secret: Field required/);
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { refresh: refresh({ token_endpoint_auth: { type: "none", client_secret: "s" } }) }) }), 400, /client_secret: Extra inputs/);
    await expectStatus(creds.create({ auth: oauth(MCP_URL, { refresh: refresh({ token_endpoint: "ftp://auth.example.com/token" }) }) }), 400, /token_endpoint: must be an absolute http or https URL/);
    const offset = "2999-01-01T12:00:00.5+02:00";
    expect((await creds.create({ auth: oauth(MCP_URL, { expires_at: offset }) })).auth).toMatchObject({ expires_at: offset });
    await expectStatus(creds.update((await creds.list()).data[0]?.id ?? "", { auth: { type: "mcp_oauth", expires_at: "2001-01-01T00:00:00Z" } }), 400, /in the future/);
  });

  it("environment_variable: create, get, list, update (secret, networking replaced whole), archive, delete", async () => {
    const limited = { type: "limited", allowed_hosts: ["api.github.com", "*.githubusercontent.com", "192.0.2.1"] };
    const c = await creds.create({ auth: envVar("GITHUB_TOKEN", { networking: limited }), display_name: "GitHub" });
    expect(c.auth).toEqual({ type: "environment_variable", secret_name: "GITHUB_TOKEN", networking: limited, injection_location: { header: true, body: true } });
    expect(await creds.retrieve(c.id)).toEqual(c);
    expect((await creds.list()).data).toEqual([c]);
    await tick();
    const rotated = await creds.update(c.id, { auth: { type: "environment_variable", secret_value: "secret-value-2" } });
    expect(rotated.auth).toEqual(c.auth);
    expect(rotated.updated_at > c.updated_at).toBe(true);
    const open = await creds.update(c.id, { auth: { type: "environment_variable", networking: { type: "unrestricted" } } });
    expect(open.auth).toEqual({ ...c.auth, networking: { type: "unrestricted" } });
    const narrowed = await creds.update(c.id, { auth: { type: "environment_variable", networking: { type: "limited", allowed_hosts: ["a.example.com"] } } });
    expect((narrowed.auth as { networking: unknown }).networking).toEqual({ type: "limited", allowed_hosts: ["a.example.com"] });
    const archived = await creds.archive(c.id);
    expect(archived).toEqual({ ...narrowed, archived_at: expect.any(String) });
    expect(await creds.delete(c.id)).toEqual({ id: c.id, type: "vault_credential_deleted" });
    await expectStatus(creds.retrieve(c.id), 404);
  });

  it("environment_variable rules: names, hosts (bare, IPv4 or *. wildcard; at most 16)", async () => {
    for (const name of ["1BAD", "has-dash", "has space", ""]) await expectStatus(creds.create({ auth: envVar(name) }), 400, /secret_name/);
    const hosts = (allowed_hosts: unknown) => creds.create({ auth: envVar("HOSTS", { networking: { type: "limited", allowed_hosts } }) });
    for (const bad of ["https://api.example.com", "api.example.com:443", "api.example.com/path", "::1", "[::1]", "999.1.1.1", "*", "a..b", "-a.example.com"]) {
      await expectStatus(hosts([bad]), 400, /allowed_hosts\[0\]: must be a bare hostname/);
    }
    await expectStatus(hosts([]), 400, /1 to 16 hosts/);
    await expectStatus(hosts(Array.from({ length: 17 }, (_, i) => `h${i}.example.com`)), 400, /1 to 16 hosts/);
    const sixteen = Array.from({ length: 16 }, (_, i) => `h${i}.example.com`);
    expect((await hosts(sixteen)).auth).toMatchObject({ networking: { type: "limited", allowed_hosts: sixteen } });
    await expectStatus(creds.create({ auth: envVar("X", { networking: { type: "unrestricted", allowed_hosts: ["a.example"] } }) }), 400, /allowed_hosts: Extra inputs/);
    await expectStatus(creds.create({ auth: envVar("X", { networking: undefined }) }), 400, /networking: Field required/);
  });

  it("injection_location: left out → both on; an object turns off what it leaves out; updates merge per field; null and none-enabled refused", async () => {
    const loc = async (id: string) => ((await creds.retrieve(id)).auth as { injection_location: unknown }).injection_location;
    const header = await creds.create({ auth: envVar("HEADER_ONLY", { injection_location: { header: true } }) });
    expect(await loc(header.id)).toEqual({ header: true, body: false });
    await expectStatus(creds.create({ auth: envVar("NONE", { injection_location: {} }) }), 400, /at least one of header and body/);
    await expectStatus(creds.create({ auth: envVar("NULL_OBJ", { injection_location: null }) }), 400, /injection_location: cannot be null/);
    await expectStatus(creds.create({ auth: envVar("NULL_FIELD", { injection_location: { header: null, body: true } }) }), 400, /injection_location\.header: cannot be null/);

    const update = (injection_location: unknown) => creds.update(header.id, { auth: { type: "environment_variable", injection_location } });
    expect((await update({ body: true })).auth).toMatchObject({ injection_location: { header: true, body: true } });
    expect((await update({ header: false })).auth).toMatchObject({ injection_location: { header: false, body: true } });
    await expectStatus(update({ body: false }), 400, /at least one of header and body must be enabled/);
    await expectStatus(update(null), 400, /injection_location: cannot be null/);
    await expectStatus(update({ header: null }), 400, /injection_location\.header: cannot be null/);
    await expectStatus(update({ header: "yes" }), 400, /injection_location\.header/);
    // Left out: kept.
    await creds.update(header.id, { auth: { type: "environment_variable", secret_value: "v2" } });
    expect(await loc(header.id)).toEqual({ header: false, body: true });
  });

  it("immutable fields are refused when changed (and accepted unchanged); nothing is applied", async () => {
    const b = await creds.create({ auth: bearer() });
    const o = await creds.create({ auth: oauth("https://oauth.example.com/mcp", { refresh: refresh({ resource: "https://r.example.com" }) }) });
    const e = await creds.create({ auth: envVar("FIXED_NAME") });
    const refused: [string, Record<string, unknown>, RegExp][] = [
      [b.id, { type: "static_bearer", mcp_server_url: "https://other.example.com/sse", token: "t" }, /auth\.mcp_server_url: cannot be changed/],
      [o.id, { type: "mcp_oauth", mcp_server_url: MCP_URL }, /auth\.mcp_server_url: cannot be changed/],
      [o.id, { type: "mcp_oauth", refresh: { client_id: "client-2" } }, /auth\.refresh\.client_id: cannot be changed/],
      [o.id, { type: "mcp_oauth", refresh: { token_endpoint: "https://auth.example.com/v2/token" } }, /auth\.refresh\.token_endpoint: cannot be changed/],
      [o.id, { type: "mcp_oauth", refresh: { resource: null } }, /auth\.refresh\.resource: cannot be changed/],
      [e.id, { type: "environment_variable", secret_name: "OTHER_NAME", secret_value: "v" }, /auth\.secret_name: cannot be changed/],
    ];
    for (const [id, auth, message] of refused) await expectStatus(creds.update(id, { auth, display_name: "must not apply" }), 400, message);
    expect((await creds.list()).data).toEqual([b, o, e]);
    // The same values are accepted (a reconciler may send its whole spec) and change nothing.
    expect(await creds.update(b.id, { auth: { type: "static_bearer", mcp_server_url: MCP_URL } })).toEqual(b);
    expect(await creds.update(o.id, { auth: { type: "mcp_oauth", mcp_server_url: "https://oauth.example.com/mcp", refresh: { client_id: "client-1", token_endpoint: TOKEN_ENDPOINT, resource: "https://r.example.com" } } })).toEqual(o);
    expect(await creds.update(e.id, { auth: { type: "environment_variable", secret_name: "FIXED_NAME" } })).toEqual(e);
  });

  it("the auth type cannot change on update (400), and nothing is applied", async () => {
    const b = await creds.create({ auth: bearer() });
    const e = await creds.create({ auth: envVar() });
    await expectStatus(creds.update(b.id, { auth: { type: "mcp_oauth", access_token: "a" }, metadata: { x: "y" } }), 400, /is static_bearer and cannot become mcp_oauth/);
    await expectStatus(creds.update(e.id, { auth: { type: "static_bearer", token: "t" } }), 400, /is environment_variable and cannot become static_bearer/);
    await expectStatus(creds.update(e.id, { auth: { type: "password" } }), 400, /auth\.type/);
    expect((await creds.list()).data).toEqual([b, e]);
  });

  it("mcp_server_url must be an absolute http(s) URL without user info; unknown auth keys are refused", async () => {
    await expectStatus(creds.create({ auth: bearer("mcp.example.com/sse") }), 400, /absolute http or https URL/);
    await expectStatus(creds.create({ auth: bearer("file:///etc/passwd") }), 400, /absolute http or https URL/);
    await expectStatus(creds.create({ auth: bearer(" https://mcp.example.com/sse") }), 400, /without spaces/);
    await expectStatus(creds.create({ auth: bearer("https://user:pw@mcp.example.com/sse") }), 400, /must not carry a user name or password/);
    await expectStatus(creds.create({ auth: { ...bearer(), headers: { x: "y" } } }), 400, /auth\.headers: Extra inputs/);
    await expectStatus(creds.create({}), 400, /auth: Field required/);
    await expectStatus(creds.create({ auth: bearer(), display_name: "d".repeat(256) }), 400, /display_name/);
    await expectStatus(creds.update("vcrd_011missing", {}), 404);
  });

  it("the key is unique among the vault's ACTIVE credentials (409); archiving frees it; other vaults and exact-string variants are separate", async () => {
    const first = await creds.create({ auth: bearer() });
    await expectStatus(creds.create({ auth: bearer(MCP_URL, "another-token") }), 409, new RegExp(`active credential for mcp_server_url "${MCP_URL}" \\(${first.id}\\)`));
    // The MCP kinds share one key: the URL.
    await expectStatus(creds.create({ auth: oauth(MCP_URL) }), 409, /mcp_server_url/);
    const env = await creds.create({ auth: envVar("SHARED_NAME") });
    await expectStatus(creds.create({ auth: envVar("SHARED_NAME") }), 409, /secret_name "SHARED_NAME"/);
    // Exact strings: a trailing slash is another server; an env name equal to nothing MCP is free.
    await creds.create({ auth: bearer(`${MCP_URL}/`) });
    await creds.create({ auth: envVar("shared_name") });
    const other = credentialsOf(h.client, (await h.client.beta.vaults.create({ display_name: "other" })).id);
    await other.create({ auth: bearer() });
    await other.create({ auth: envVar("SHARED_NAME") });
    // Archive, then the key is free again; the archived one stays listed with include_archived.
    await creds.archive(first.id);
    const second = await creds.create({ auth: oauth(MCP_URL) });
    await creds.archive(env.id);
    await creds.create({ auth: envVar("SHARED_NAME") });
    const keys = (await creds.list({ include_archived: true })).data.map((c) => [c.id === first.id || c.id === env.id ? "archived" : "active", (c.auth as { mcp_server_url?: string; secret_name?: string }).mcp_server_url ?? (c.auth as { secret_name: string }).secret_name]);
    expect(keys).toEqual([["archived", MCP_URL], ["archived", "SHARED_NAME"], ["active", `${MCP_URL}/`], ["active", "shared_name"], ["active", MCP_URL], ["active", "SHARED_NAME"]]);
    expect(second.auth).toEqual({ type: "mcp_oauth", mcp_server_url: MCP_URL });
  });

  it("at most 20 active credentials per vault; archived ones do not count", async () => {
    const made: Credential[] = [];
    for (let i = 0; i < 20; i++) made.push(await creds.create({ auth: i % 2 === 0 ? envVar(`VAR_${i}`) : bearer(`https://mcp${i}.example.com/sse`) }));
    await expectStatus(creds.create({ auth: envVar("VAR_20") }), 400, /already holds 20 active credentials/);
    await creds.archive((made[3] as Credential).id);
    await creds.create({ auth: envVar("VAR_20") });
    await expectStatus(creds.create({ auth: envVar("VAR_21") }), 400, /20 active/);
    await creds.delete((made[4] as Credential).id);
    await creds.create({ auth: envVar("VAR_21") });
    expect(await allPages(creds.list())).toHaveLength(20);
    expect(await allPages(creds.list({ include_archived: true }))).toHaveLength(21);
  });

  it("lists page in creation order; a credential is found only under its own vault", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await creds.create({ auth: envVar(`PAGED_${i}`) })).id);
    const first = await creds.list({ limit: 2 });
    expect(first.data.map((c) => c.id)).toEqual(made.slice(0, 2));
    expect((await allPages(creds.list({ limit: 2 }))).map((c) => c.id)).toEqual(made);
    const other = credentialsOf(h.client, (await h.client.beta.vaults.create({ display_name: "other" })).id);
    await expectStatus(other.retrieve(made[0] as string), 404, /not found in vault/);
    await expectStatus(other.update(made[0] as string, { display_name: "x" }), 404);
    await expectStatus(other.archive(made[0] as string), 404);
    await expectStatus(other.delete(made[0] as string), 404);
    await expectStatus(credentialsOf(h.client, "vlt_011missing").create({ auth: bearer() }), 404, /vault vlt_011missing not found/);
    expect((await creds.retrieve(made[0] as string)).archived_at).toBeNull();
  });

  it("faults and the request log apply to vault routes as to any other", async () => {
    h.cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 503 } }, { on: "write", nth: 2, fault: { dropAfterCommit: true } }] });
    h.cp.clearRequestLog();
    await expectStatus(creds.create({ auth: bearer() }), 503);
    expect((await creds.list()).data).toEqual([]);
    await expect(creds.create({ auth: bearer() })).rejects.toThrow(Anthropic.APIConnectionError);
    // Committed before the connection was dropped.
    expect((await creds.list()).data).toHaveLength(1);
    const log = h.cp.requestLog().map(({ method, path: p, status, write, fault }) => ({ method, path: p, status, write, fault }));
    expect(log).toEqual([
      { method: "POST", path: `/v1/vaults/${vaultId}/credentials`, status: 503, write: true, fault: "script:write#1:503" },
      { method: "GET", path: `/v1/vaults/${vaultId}/credentials`, status: 200, write: false, fault: undefined },
      { method: "POST", path: `/v1/vaults/${vaultId}/credentials`, status: null, write: true, fault: "script:write#2:dropAfterCommit" },
      { method: "GET", path: `/v1/vaults/${vaultId}/credentials`, status: 200, write: false, fault: undefined },
    ]);
  });
});

describe("secrets", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-local-vault-secrets-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("never appear in a response body, an error message, the request log or the state file (which keeps digests)", async () => {
    const CANARY = "CANARY7f3a9c";
    const secret = (name: string) => `${CANARY}-${name}`;
    const stateFile = path.join(dir, "state.json");
    const cp = await startLocalControlPlane({ stateFile });
    const closed = { done: false };
    onTestFinished(async () => {
      if (!closed.done) await cp.close();
    });
    const bodies: string[] = [];
    const recording = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const res = await fetch(input, init);
      bodies.push(await res.clone().text());
      return res;
    };
    const client = new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries: 0, fetch: recording });
    const vault = await client.beta.vaults.create({ display_name: "secrets" });
    const creds = credentialsOf(client, vault.id);
    const b = await creds.create({ auth: bearer(MCP_URL, secret("bearer-1")) });
    const o = await creds.create({ auth: oauth("https://oauth.example.com/mcp", { access_token: secret("access-1"), refresh: refresh({ refresh_token: secret("refresh-1"), token_endpoint_auth: { type: "client_secret_post", client_secret: secret("client-1") } }) }) });
    const e = await creds.create({ auth: envVar("API_TOKEN", { secret_value: secret("env-1") }) });
    const gone = await creds.create({ auth: envVar("GONE", { secret_value: secret("deleted") }) });
    const erased = await creds.create({ auth: bearer("https://erased.example.com/mcp", secret("archived")) });
    await creds.update(b.id, { auth: { type: "static_bearer", token: secret("bearer-2") } });
    await creds.update(o.id, { auth: { type: "mcp_oauth", access_token: secret("access-2"), refresh: { refresh_token: secret("refresh-2"), token_endpoint_auth: { type: "client_secret_basic", client_secret: secret("client-2") } } } });
    await creds.update(e.id, { auth: { type: "environment_variable", secret_value: secret("env-2") } });
    await creds.retrieve(b.id);
    await creds.list({ include_archived: true });
    await creds.validate(o.id);
    await creds.archive(erased.id);
    await creds.delete(gone.id);
    // Refused requests that carry secrets: duplicate key, bad field, immutable field, type change,
    // a password in a URL, an oversized secret, a secret of the wrong type, a body that is not JSON.
    const refusals = [
      creds.create({ auth: bearer(MCP_URL, secret("dup")) }),
      creds.create({ auth: oauth("https://x.example.com/mcp", { access_token: secret("bad"), expires_at: "soon" }) }),
      creds.update(b.id, { auth: { type: "static_bearer", token: secret("imm"), mcp_server_url: "https://moved.example.com" } }),
      creds.update(e.id, { auth: { type: "static_bearer", token: secret("type") } }),
      creds.create({ auth: bearer(`https://user:${secret("url")}@pw.example.com/mcp`) }),
      creds.create({ auth: bearer("https://big.example.com/mcp", `${secret("big")}${"x".repeat(70_000)}`) }),
      creds.create({ auth: envVar("OBJ", { secret_value: { nested: secret("obj") } }) }),
      creds.update(erased.id, { auth: { type: "static_bearer", token: secret("late") } }),
    ];
    for (const p of refusals) expect((await failure(p)).status).toBeGreaterThanOrEqual(400);
    await recording(`${cp.baseUrl}/v1/vaults/${vault.id}/credentials`, { method: "POST", headers: { "x-api-key": cp.apiKey, "anthropic-beta": "managed-agents-2026-04-01", "content-type": "application/json" }, body: `{"auth": {"token": "${secret("json")}"` });
    await client.beta.vaults.retrieve(vault.id);
    await client.beta.vaults.list({ include_archived: true });
    bodies.push(await (await fetch(`${cp.baseUrl}/_local/log`)).text());
    const log = JSON.stringify(cp.requestLog());
    await cp.close();
    closed.done = true;

    expect(bodies.length).toBeGreaterThan(25);
    const leaks = bodies.filter((text) => text.includes(CANARY));
    expect(leaks).toEqual([]);
    expect(log).toContain(`/v1/vaults/${vault.id}/credentials`);
    expect(log).not.toContain(CANARY);
    // Not even the state file keeps a secret: a digest of each current one of an active
    // credential only (not replaced, archived, deleted or refused ones).
    const state = await readFile(stateFile, "utf8");
    expect(state).not.toContain(CANARY);
    const digests = [...state.matchAll(/"(scrypt1\$[^"]+)"/g)].map((m) => m[1] as string);
    expect(digests).toHaveLength(5);
    for (const s of ["access-2", "bearer-2", "client-2", "env-2", "refresh-2"].map(secret)) expect(digests.filter((d) => secretMatches(s, d))).toHaveLength(1);
  });
});

describe("vaults in the state file", () => {
  let stateFile: string;
  useTempStateFile("agentform-local-vault-state-", (file) => (stateFile = file));

  it("a secret an older state file holds in plain text is kept as its digest from the next save on", async () => {
    const first = await startLocalControlPlane({ stateFile });
    const vault = await clientFor(first).beta.vaults.create({ display_name: "old" });
    await credentialsOf(clientFor(first), vault.id).create({ auth: bearer(MCP_URL, "will-be-plain") });
    await first.close();
    // As an older agentform wrote it: the secret itself in the file.
    const text = await readFile(stateFile, "utf8");
    await writeFile(stateFile, text.replace(/"scrypt1\$[^"]+"/, '"plain-old-secret-1"'));
    const second = await startLocalControlPlane({ stateFile });
    await clientFor(second).beta.vaults.create({ display_name: "another write" });
    await second.close();
    const after = await readFile(stateFile, "utf8");
    expect(after).not.toContain("plain-old-secret-1");
    const digest = /"token": "(scrypt1\$[^"]+)"/.exec(after)?.[1];
    expect(secretMatches("plain-old-secret-1", digest)).toBe(true);
  });

  it("vaults and credentials survive a restart with their secrets, archives and key rules; the file is owner-only", async () => {
    const first = await startLocalControlPlane({ stateFile });
    const c1 = clientFor(first);
    const vault = await c1.beta.vaults.create({ display_name: "kept", metadata: { k: "v" } });
    const creds = credentialsOf(c1, vault.id);
    await creds.create({ auth: bearer(), display_name: "b" });
    const o = await creds.create({ auth: oauth("https://oauth.example.com/mcp", { expires_at: inDays(1), refresh: refresh({ scope: "s" }) }) });
    await creds.create({ auth: envVar("KEPT", { networking: { type: "limited", allowed_hosts: ["a.example.com"] }, injection_location: { body: true } }) });
    await creds.archive((await creds.create({ auth: envVar("OLD") })).id);
    const shut = await c1.beta.vaults.create({ display_name: "shut" });
    await credentialsOf(c1, shut.id).create({ auth: bearer() });
    await c1.beta.vaults.archive(shut.id);
    const deleted = await c1.beta.vaults.create({ display_name: "deleted" });
    await credentialsOf(c1, deleted.id).create({ auth: bearer(MCP_URL, "deleted-vault-token") });
    await c1.beta.vaults.delete(deleted.id);
    const vaultsBefore = await allPages(c1.beta.vaults.list({ include_archived: true }));
    const credsBefore = await allPages(creds.list({ include_archived: true }));
    const shutBefore = await allPages(credentialsOf(c1, shut.id).list({ include_archived: true }));
    await first.close();

    if (process.platform !== "win32") expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const text = await readFile(stateFile, "utf8");
    expect(text).not.toContain("deleted-vault-token");
    const file = JSON.parse(text) as { vaults: { id: string; credentials: { secrets: unknown }[] }[] };
    expect(file.vaults.map((v) => v.id)).toEqual([vault.id, shut.id]);
    // Never the secrets themselves: a digest of each, which matches the value sent.
    expect(text).not.toMatch(/bearer-token-1|access-token-1|refresh-token-1|client-secret-1|secret-value-1/);
    const kept = file.vaults[0]?.credentials.map((c) => c.secrets) as Array<Record<string, string> | null>;
    const sent = [{ token: "bearer-token-1" }, { access_token: "access-token-1", refresh_token: "refresh-token-1", client_secret: "client-secret-1" }, { secret_value: "secret-value-1" }];
    expect(kept.map((k) => (k === null ? null : Object.keys(k).sort()))).toEqual([...sent.map((x) => Object.keys(x).sort()), null]);
    sent.forEach((values, i) => {
      for (const [field, value] of Object.entries(values)) expect(secretMatches(value, kept[i]![field])).toBe(true);
    });
    expect(file.vaults[1]?.credentials.map((c) => c.secrets)).toEqual([null]);

    const second = await startLocalControlPlane({ stateFile });
    try {
      const c2 = clientFor(second);
      const creds2 = credentialsOf(c2, vault.id);
      expect(await allPages(c2.beta.vaults.list({ include_archived: true }))).toEqual(vaultsBefore);
      expect(await allPages(creds2.list({ include_archived: true }))).toEqual(credsBefore);
      expect(await allPages(credentialsOf(c2, shut.id).list({ include_archived: true }))).toEqual(shutBefore);
      await expectStatus(c2.beta.vaults.retrieve(deleted.id), 404);
      await expectStatus(creds2.create({ auth: bearer() }), 409);
      await creds2.create({ auth: envVar("OLD") });
      expect((await creds2.validate(o.id)).has_refresh_token).toBe(true);
      await expectStatus(credentialsOf(c2, shut.id).create({ auth: envVar("X") }), 400, /archived/);
    } finally {
      await second.close();
    }
  });

  it("a state file from before vaults existed loads, and gains `vaults` only once there are some", async () => {
    await writeFile(stateFile, JSON.stringify({ format: "agentform-local-state", formatVersion: 1, agents: [], environments: [] }));
    const first = await startLocalControlPlane({ stateFile });
    expect((await clientFor(first).beta.vaults.list()).data).toEqual([]);
    await clientFor(first).beta.environments.create({ name: "e" });
    await first.close();
    expect("vaults" in JSON.parse(await readFile(stateFile, "utf8"))).toBe(false);
    const second = await startLocalControlPlane({ stateFile });
    const vault = await clientFor(second).beta.vaults.create({ display_name: "v" });
    await second.close();
    expect((JSON.parse(await readFile(stateFile, "utf8")) as { vaults: { id: string }[] }).vaults.map((v) => v.id)).toEqual([vault.id]);
  });
});

describe("hostile state files", () => {
  const CANARY = "CANARY5e1d";
  let dir: string;
  let stateFile: string;
  let template: string;
  let answered: { vaults: unknown[]; credentials: unknown[] };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-local-vault-hostile-"));
    stateFile = path.join(dir, "state.json");
    const cp = await startLocalControlPlane({ stateFile });
    const client = clientFor(cp);
    const vault = await client.beta.vaults.create({ display_name: "a", metadata: { k: "v" } });
    const creds = credentialsOf(client, vault.id);
    await creds.create({ auth: bearer(MCP_URL, `${CANARY}-bearer`) });
    await creds.create({ auth: bearer("https://two.example.com/mcp", `${CANARY}-two`) });
    await creds.create({ auth: oauth("https://oauth.example.com/mcp", { access_token: `${CANARY}-access`, expires_at: inDays(1), refresh: refresh({ refresh_token: `${CANARY}-refresh` }) }) });
    await creds.create({ auth: envVar("LIMITED", { secret_value: `${CANARY}-env`, networking: { type: "limited", allowed_hosts: ["a.example.com"] } }) });
    await creds.archive((await creds.create({ auth: envVar("ARCHIVED") })).id);
    const shut = await client.beta.vaults.create({ display_name: "b" });
    await credentialsOf(client, shut.id).create({ auth: bearer() });
    await client.beta.vaults.archive(shut.id);
    answered = { vaults: await allPages(client.beta.vaults.list({ include_archived: true })), credentials: await allPages(creds.list({ include_archived: true })) };
    await cp.close();
    template = await readFile(stateFile, "utf8");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `any` on purpose: the tests reach deep into the parsed file to break one field. */
  type Json = Record<string, any>;

  async function start(edit: (s: Json) => void): Promise<{ text: string; result: LocalControlPlane | unknown }> {
    const state = JSON.parse(template) as Json;
    edit(state);
    const text = JSON.stringify(state);
    await writeFile(stateFile, text);
    return { text, result: await startLocalControlPlane({ stateFile }).catch((e: unknown) => e) };
  }

  async function expectRefused(edit: (s: Json) => void, entry: string, detail: RegExp): Promise<void> {
    const { text, result } = await start(edit);
    if (!(result instanceof AgentformError)) {
      if (result && typeof (result as LocalControlPlane).close === "function") await (result as LocalControlPlane).close();
      throw new Error(`expected local-state-corrupt at ${entry}, got ${String(result)}`);
    }
    expect(result.code).toBe("local-state-corrupt");
    expect(result.details).toEqual({ file: stateFile, entry });
    expect(result.message).toContain(`${entry}:`);
    expect(result.message).toMatch(detail);
    expect(result.message).not.toContain(CANARY);
    expect(await readFile(stateFile, "utf8")).toBe(text);
  }

  async function expectLoads(edit: (s: Json) => void): Promise<Anthropic> {
    const { result } = await start(edit);
    if (result instanceof Error) throw result;
    const cp = result as LocalControlPlane;
    closeAfter.push(cp);
    return clientFor(cp);
  }
  const closeAfter: LocalControlPlane[] = [];
  afterEach(async () => {
    for (const cp of closeAfter.splice(0)) await cp.close();
  });

  const clone = (c: Json, i: number): Json => ({ ...JSON.parse(JSON.stringify(c)), id: `vcrd_011clone${i}`, auth: { ...c.auth, secret_name: `CLONE_${i}` } });

  it("a file the server wrote loads back exactly, and so does one whose expiry has since passed", async () => {
    const client = await expectLoads(() => {});
    expect(await allPages(client.beta.vaults.list({ include_archived: true }))).toEqual(answered.vaults);
    const vaultId = (answered.vaults[0] as { id: string }).id;
    expect(await allPages(credentialsOf(client, vaultId).list({ include_archived: true }))).toEqual(answered.credentials);
    await closeAfter.splice(0)[0]?.close();
    const expired = await expectLoads((s) => (s.vaults[0].credentials[2].auth.expires_at = "2020-01-01T00:00:00Z"));
    expect((await credentialsOf(expired, vaultId).list()).data[2]?.auth).toMatchObject({ expires_at: "2020-01-01T00:00:00Z" });
  });

  it("refuses secrets where they do not belong, and missing ones", async () => {
    await expectRefused((s) => (s.vaults[0].credentials[0].auth.token = `${CANARY}-leak`), "vaults[0].credentials[0].auth.token", /form this server stores/);
    await expectRefused((s) => (s.vaults[0].credentials[0].secrets = null), "vaults[0].credentials[0].secrets", /not an object/);
    await expectRefused((s) => (s.vaults[0].credentials[4].secrets = { secret_value: "x" }), "vaults[0].credentials[4].secrets", /must be null/);
    await expectRefused((s) => (s.vaults[1].credentials[0].secrets = { token: "x" }), "vaults[1].credentials[0].secrets", /must be null/);
    await expectRefused((s) => delete s.vaults[0].credentials[2].secrets.refresh_token, "vaults[0].credentials[2]", /refresh_token: Field required/);
    await expectRefused((s) => (s.vaults[0].credentials[2].secrets.client_secret = 7), "vaults[0].credentials[2]", /client_secret: Input should be a string/);
    await expectRefused((s) => (s.vaults[0].credentials[0].secrets.extra = `${CANARY}-x`), "vaults[0].credentials[0]", /auth\.extra: Extra inputs/);
    await expectRefused((s) => (s.vaults[0].credentials[3].secrets.secret_value = ""), "vaults[0].credentials[3]", /secret_value: must be at least 1 character/);
  });

  it("refuses broken records: keys, ids, timestamps, auth rules, the cascade", async () => {
    await expectRefused((s) => (s.vaults = {}), "vaults", /not a list/);
    await expectRefused((s) => (s.vaults[0] = "vault"), "vaults[0]", /not an object/);
    await expectRefused((s) => delete s.vaults[0].credentials, "vaults[0]", /missing key "credentials"/);
    await expectRefused((s) => Object.defineProperty(s.vaults[0].credentials[1], "__proto__", { value: { polluted: true }, enumerable: true }), "vaults[0].credentials[1]", /unexpected key "__proto__"/);
    await expectRefused((s) => (s.vaults[0].id = "vlt_../../x"), "vaults[0].id", /not a vlt id/);
    await expectRefused((s) => (s.vaults[0].credentials[1].id = s.vaults[0].credentials[0].id), "vaults[0].credentials[1].id", /more than once/);
    await expectRefused((s) => (s.vaults[1].credentials[0].id = s.vaults[0].credentials[0].id), "vaults[1].credentials[0].id", /more than once/);
    await expectRefused((s) => (s.vaults[0].credentials[0].updated_at = "yesterday"), "vaults[0].credentials[0].updated_at", /timestamp/);
    await expectRefused((s) => (s.vaults[0].display_name = ""), "vaults[0]", /display_name/);
    await expectRefused((s) => (s.vaults[0].metadata = { k: 1 }), "vaults[0]", /metadata\.k/);
    await expectRefused((s) => (s.vaults[0].credentials[0].auth = "bearer"), "vaults[0].credentials[0].auth", /not an object/);
    await expectRefused((s) => (s.vaults[0].credentials[0].auth.type = "password"), "vaults[0].credentials[0]", /auth\.type/);
    await expectRefused((s) => (s.vaults[0].credentials[2].auth.refresh.token_endpoint_auth.type = "none"), "vaults[0].credentials[2]", /client_secret: Extra inputs/);
    await expectRefused((s) => (s.vaults[0].credentials[3].auth.networking.allowed_hosts = Array.from({ length: 17 }, (_, i) => `h${i}.example.com`)), "vaults[0].credentials[3]", /1 to 16 hosts/);
    await expectRefused((s) => (s.vaults[0].credentials[3].auth.injection_location = { header: false, body: false }), "vaults[0].credentials[3]", /at least one/);
    await expectRefused((s) => (s.vaults[0].credentials[4].auth.mcp_server_url = MCP_URL), "vaults[0].credentials[4]", /mcp_server_url: Extra inputs/);
    await expectRefused((s) => (s.vaults[1].credentials[0].archived_at = null), "vaults[1].credentials[0].archived_at", /the vault is archived/);
  });

  it("refuses a duplicate active key and more than 20 active credentials in a vault (archived ones do not count)", async () => {
    await expectRefused((s) => (s.vaults[0].credentials[1].auth.mcp_server_url = MCP_URL), "vaults[0].credentials[1].auth", /mcp_server_url "https:\/\/mcp\.example\.com\/sse" is also the key of vcrd_/);
    // The archived credential may share a key with an active one.
    await (await expectLoads((s) => (s.vaults[0].credentials[4].auth.secret_name = "LIMITED"))).beta.vaults.list();
    await closeAfter.splice(0)[0]?.close();
    // Four active already: sixteen more make twenty (loads), seventeen more make one too many.
    await expectLoads((s) => s.vaults[0].credentials.push(...Array.from({ length: 16 }, (_, i) => clone(s.vaults[0].credentials[3], i))));
    await closeAfter.splice(0)[0]?.close();
    await expectRefused((s) => s.vaults[0].credentials.push(...Array.from({ length: 17 }, (_, i) => clone(s.vaults[0].credentials[3], i))), "vaults[0].credentials[21]", /at most 20/);
  });
});
