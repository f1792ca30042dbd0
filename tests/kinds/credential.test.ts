/**
 * The credential kind over plain data: canonical forms of the three auth types on both sides,
 * create and update bodies, what forces a replace, the security review, the vault's nesting, and
 * the planner's actions for credentials (create, noop, update, replace, rename, secret notes).
 */
import { describe, expect, it } from "vitest";
import { placeholdersIn, withSecrets } from "../../src/apply/secrets.js";
import { KINDS } from "../../src/kinds/index.js";
import { canonicalAuth, createAuth, credentialKeyOf, needsReplace, SECRET_AS_SENT, SECRET_BODY_POINTERS, SECRET_FIELDS, secretEnvNames, updateAuth } from "../../src/kinds/credential/auth.js";
import { Findings } from "../../src/kinds/findings.js";
import { credentialFindings } from "../../src/kinds/credential/security.js";
import { KNOWN_AFTER_APPLY, SECRET_STATUS_KEY, type SecretStatus } from "../../src/kinds/spec.js";
import type { LiveCredential, LiveVault } from "../../src/kinds/types.js";
import { resolveCredentialCreate } from "../../src/local/credential-config.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { buildPlan, diffCanonical, reviewSecurity } from "../../src/plan/index.js";
import type { FieldChange, PlanInput, PlannedResource } from "../../src/plan/types.js";
import { GITHUB_URL, githubAuth, npmAuth, oauthAuth, refresh, type Obj } from "../helpers/credentials.js";
import { planInput, PROJECT } from "../plan/helpers.js";

const credential = KINDS.credential;
const VAULT = "github-tools";
const VAULT_ID = "vlt_011githubtools";
const ROTATED = "(rotated: the variable changed)";
const FORCED = "(resent: --rotate)";

// What the API returns for each of the three credentials of the manifest format (githubAuth,
// oauthAuth, npmAuth; never a secret; optional fields left out when unset).
const liveGithubAuth = (over: Obj = {}): Obj => ({ type: "static_bearer", mcp_server_url: GITHUB_URL, ...over });
const liveOauthAuth = (over: Obj = {}): Obj => ({
  type: "mcp_oauth",
  mcp_server_url: "https://mcp.example.com/",
  expires_at: "2030-01-01T00:00:00Z",
  refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post" }, scope: "read" },
  ...over,
});
const liveNpmAuth = (over: Obj = {}): Obj => ({
  type: "environment_variable",
  secret_name: "NPM_TOKEN",
  networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
  injection_location: { header: true, body: false },
  ...over,
});

/** A credential manifest's spec, as the vault's `nested.of` builds it. */
function spec(local: string, auth: Obj, extra: Obj = {}): Obj {
  return { display_name: `${VAULT}/${local}`, vault_id: { ref: VAULT }, auth, ...extra };
}

/** A credential as the API lists it, with `name` as fromApi sets it. */
function liveCredential(local: string, auth: Obj, extra: Obj = {}): LiveCredential {
  return {
    id: `vcrd_011${local}`,
    type: "vault_credential",
    vault_id: VAULT_ID,
    display_name: `${VAULT}/${local}`,
    name: `${VAULT}/${local}`,
    metadata: { "agentform.project": PROJECT, "agentform.secret_digest": "scrypt1$32768$8$1$c2FsdHNhbHRzYWx0$aGFzaA" },
    auth,
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    ...extra,
  } as unknown as LiveCredential;
}

function liveVault(name = VAULT): LiveVault {
  return {
    id: VAULT_ID,
    type: "vault",
    display_name: name,
    name,
    metadata: { "agentform.project": PROJECT },
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
  } as unknown as LiveVault;
}

const resolveVault = { resolveRef: () => ({ id: VAULT_ID }) };
const withStatus = (s: Obj, status: SecretStatus): Obj => ({ ...s, [SECRET_STATUS_KEY]: status });
/** The changes a plan would show between a live credential and a desired spec. */
const changesOf = (live: LiveCredential, desired: Obj): FieldChange[] => diffCanonical(credential.canonicalLive(live), credential.canonicalDesired(desired, resolveVault));
const change = (pointer: string): FieldChange => ({ pointer, op: "replace", before: 1, after: 2 });

describe("canonical auth, desired side", () => {
  it("static_bearer keeps the type and URL, drops the variable name, and says the secret is as last sent", () => {
    expect(canonicalAuth(githubAuth())).toEqual({ type: "static_bearer", mcp_server_url: GITHUB_URL, secret: "(as last sent)" });
    expect(SECRET_AS_SENT).toBe("(as last sent)");
  });

  it("mcp_oauth keeps expiry and refresh settings but neither secrets nor variable names", () => {
    expect(canonicalAuth(oauthAuth())).toEqual({
      type: "mcp_oauth",
      mcp_server_url: "https://mcp.example.com/",
      expires_at: "2030-01-01T00:00:00.000Z",
      refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post" }, resource: null, scope: "read" },
      secret: SECRET_AS_SENT,
    });
  });

  it("mcp_oauth: an expiry is the instant it names, however it is spelled", () => {
    const at = (expires_at: string) => canonicalAuth(oauthAuth({ expires_at })).expires_at;
    expect(at("2030-01-01T01:00:00+01:00")).toBe(at("2030-01-01T00:00:00Z"));
    expect(at("2030-01-01T00:00:00.000Z")).toBe("2030-01-01T00:00:00.000Z");
    expect(at("2030-01-01T00:00:01Z")).not.toBe(at("2030-01-01T00:00:00Z"));
    expect(at("not a time")).toBe("not a time");
  });

  it("mcp_oauth: an empty or absent scope, resource and expiry are all null; no refresh is null; no endpoint auth is none", () => {
    const bare = canonicalAuth(oauthAuth({ expires_at: undefined, refresh: refresh({ scope: "", resource: "" }) }));
    expect(bare.expires_at).toBeNull();
    expect(bare.refresh).toEqual({ client_id: "abc", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post" }, resource: null, scope: null });
    const { scope: _scope, ...noScope } = refresh();
    expect((canonicalAuth(oauthAuth({ refresh: noScope })).refresh as Obj).scope).toBeNull();
    expect((canonicalAuth(oauthAuth({ refresh: refresh({ resource: "https://mcp.example.com/" }) })).refresh as Obj).resource).toBe("https://mcp.example.com/");
    expect(canonicalAuth(oauthAuth({ refresh: undefined })).refresh).toBeNull();
    const { token_endpoint_auth: _auth, ...noEndpointAuth } = refresh();
    expect((canonicalAuth(oauthAuth({ refresh: noEndpointAuth })).refresh as Obj).token_endpoint_auth).toEqual({ type: "none" });
  });

  it("environment_variable: injection_location left out is both on; an object turns off each location it leaves out", () => {
    expect(canonicalAuth(npmAuth({ injection_location: undefined })).injection_location).toEqual({ header: true, body: true });
    expect(canonicalAuth(npmAuth()).injection_location).toEqual({ header: true, body: false });
    expect(canonicalAuth(npmAuth({ injection_location: { body: true } })).injection_location).toEqual({ header: false, body: true });
    expect(canonicalAuth(npmAuth({ injection_location: {} })).injection_location).toEqual({ header: false, body: false });
    expect(canonicalAuth(npmAuth())).toEqual({
      type: "environment_variable",
      secret_name: "NPM_TOKEN",
      networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
      injection_location: { header: true, body: false },
      secret: SECRET_AS_SENT,
    });
  });

  it("environment_variable: allowed hosts are a sorted set; networking left out is unrestricted", () => {
    const hosts = ["b.example.com", "a.example.com", "b.example.com"];
    expect(canonicalAuth(npmAuth({ networking: { type: "limited", allowed_hosts: hosts } })).networking).toEqual({ type: "limited", allowed_hosts: ["a.example.com", "b.example.com"] });
    expect(canonicalAuth(npmAuth({ networking: { type: "unrestricted" } })).networking).toEqual({ type: "unrestricted" });
    expect(canonicalAuth(npmAuth({ networking: undefined })).networking).toEqual({ type: "unrestricted" });
  });

  it("an unknown type or a missing auth keeps only the type and the secret marker", () => {
    expect(canonicalAuth({ type: "basic_auth", user: "x" })).toEqual({ type: "basic_auth", secret: SECRET_AS_SENT });
    expect(canonicalAuth(undefined)).toEqual({ type: null, secret: SECRET_AS_SENT });
  });

  it("the secret marker says when this plan sends the secret again, and only then", () => {
    expect(canonicalAuth(githubAuth(), "rotated").secret).toBe(ROTATED);
    expect(canonicalAuth(githubAuth(), "forced").secret).toBe(FORCED);
    for (const status of ["current", "missing", "unrecorded"] as const) expect(canonicalAuth(githubAuth(), status).secret).toBe(SECRET_AS_SENT);
  });

  it("renaming the variable a secret comes from changes nothing in the canonical form (the digest tells a new value)", () => {
    expect(canonicalAuth(githubAuth({ token_env: "OTHER_TOKEN" }))).toEqual(canonicalAuth(githubAuth()));
  });

  it("the whole credential: display_name, the vault by name (or its id once resolved), metadata without agentform's keys", () => {
    const s = spec("npm", npmAuth(), { metadata: { team: "web", gone: null } });
    expect(credential.canonicalDesired(s)).toEqual({ display_name: "github-tools/npm", vault_id: "ref:github-tools", metadata: { team: "web" }, auth: canonicalAuth(npmAuth()) });
    expect(credential.canonicalDesired(s, resolveVault).vault_id).toBe(VAULT_ID);
    expect(credential.canonicalDesired(spec("github", githubAuth())).metadata).toEqual({});
  });

  it("reads the planner's $secret key", () => {
    expect((credential.canonicalDesired(withStatus(spec("github", githubAuth()), "rotated")).auth as Obj).secret).toBe(ROTATED);
    expect((credential.canonicalDesired(withStatus(spec("github", githubAuth()), "forced")).auth as Obj).secret).toBe(FORCED);
  });
});

describe("canonical auth, live side", () => {
  it("equals the desired form of the manifest that made it, for all three types", () => {
    for (const [local, desired, live] of [
      ["github", githubAuth(), liveGithubAuth()],
      ["oauth", oauthAuth(), liveOauthAuth()],
      ["npm", npmAuth(), liveNpmAuth()],
    ] as const) {
      expect(credential.canonicalLive(liveCredential(local, live))).toEqual(credential.canonicalDesired(spec(local, desired), resolveVault));
    }
  });

  it("never holds a secret, even one a response carried by mistake", () => {
    const leaky = liveCredential("github", { ...liveGithubAuth(), token: "leaked-token-value" }, { secret_value: "leaked-value-2" });
    const canonical = JSON.stringify(credential.canonicalLive(leaky));
    expect(canonical).not.toContain("leaked");
    expect((credential.canonicalLive(leaky).auth as Obj).secret).toBe(SECRET_AS_SENT);
  });

  it("drops the ownership marker and the secret digest from metadata", () => {
    const live = liveCredential("npm", liveNpmAuth(), { metadata: { "agentform.project": PROJECT, "agentform.secret_digest": "scrypt1$x", team: "web" } });
    expect(credential.canonicalLive(live).metadata).toEqual({ team: "web" });
  });

  it("hosts in another order, an absent scope, and both injection locations spelled out compare equal", () => {
    const desired = spec("npm", npmAuth({ networking: { type: "limited", allowed_hosts: ["registry.npmjs.org", "npm.pkg.github.com"] }, injection_location: undefined }));
    const live = liveCredential("npm", liveNpmAuth({ networking: { type: "limited", allowed_hosts: ["npm.pkg.github.com", "registry.npmjs.org"] }, injection_location: { header: true, body: true } }));
    expect(changesOf(live, desired)).toEqual([]);
    const { scope: _s, ...liveRefresh } = (liveOauthAuth().refresh as Obj);
    expect(changesOf(liveCredential("oauth", liveOauthAuth({ refresh: liveRefresh })), spec("oauth", oauthAuth({ refresh: refresh({ scope: "" }) })))).toEqual([]);
    expect(changesOf(liveCredential("oauth", liveOauthAuth({ refresh: liveRefresh })), spec("oauth", oauthAuth({ refresh: refresh({ scope: undefined }) })))).toEqual([]);
  });

  it("an injection location the manifest leaves out of its object differs from a live one that is on", () => {
    const live = liveCredential("npm", liveNpmAuth({ injection_location: { header: true, body: true } }));
    expect(changesOf(live, spec("npm", npmAuth()))).toEqual([{ pointer: "/auth/injection_location/body", op: "replace", before: true, after: false }]);
  });

  it("a $secret status of rotated or forced changes /auth/secret and nothing else; current, missing and unrecorded change nothing", () => {
    const live = liveCredential("github", liveGithubAuth());
    expect(changesOf(live, withStatus(spec("github", githubAuth()), "rotated"))).toEqual([{ pointer: "/auth/secret", op: "replace", before: SECRET_AS_SENT, after: ROTATED }]);
    expect(changesOf(live, withStatus(spec("github", githubAuth()), "forced"))).toEqual([{ pointer: "/auth/secret", op: "replace", before: SECRET_AS_SENT, after: FORCED }]);
    for (const status of ["current", "missing", "unrecorded"] as const) expect(changesOf(live, withStatus(spec("github", githubAuth()), status))).toEqual([]);
  });
});

describe("a freshly created credential", () => {
  // The create body through apply's secret resolution and the local control plane's create (the
  // API's stand-in): what it stores is what the next plan compares with.
  const values: Record<string, string> = {
    GITHUB_MCP_TOKEN: "github-token-0001",
    OAUTH_ACCESS: "oauth-access-0001",
    OAUTH_REFRESH: "oauth-refresh-0001",
    OAUTH_CLIENT_SECRET: "oauth-client-secret-0001",
    NPM_TOKEN_VALUE: "npm-token-0001",
  };
  const created = async (local: string, auth: Obj): Promise<LiveCredential> => {
    const s = credential.resolveRefs(spec(local, auth, local === "npm" ? { metadata: { team: "web" } } : {}), () => ({ id: VAULT_ID }));
    const body = { ...credential.createFields(s), metadata: { ...(s.metadata as Obj | undefined), "agentform.project": PROJECT } };
    const { body: sent } = await withSecrets("credential", body, (name) => values[name], undefined);
    // The vault id is the request's path, not a body field (src/backends/sdk-credentials.ts).
    const { vault_id: vaultId, ...rest } = sent;
    expect(vaultId).toBe(VAULT_ID);
    const stored = resolveCredentialCreate(rest, null);
    expect(JSON.stringify(stored.auth)).not.toContain("0001");
    return liveCredential(local, stored.auth, { display_name: stored.display_name, metadata: stored.metadata });
  };

  it("compares equal to its manifest, so a second plan is a noop", async () => {
    const credentials = { github: githubAuth(), oauth: oauthAuth(), npm: npmAuth() };
    const live = await Promise.all(Object.entries(credentials).map(([local, auth]) => created(local, auth)));
    for (const l of live) {
      const local = l.name.split("/")[1] as string;
      expect(changesOf(l, spec(local, credentials[local as keyof typeof credentials], local === "npm" ? { metadata: { team: "web" } } : {}))).toEqual([]);
    }
    const plan = buildPlan(input({ credentials: { ...credentials }, metadata: { npm: { team: "web" } }, live, status: "current" }));
    expect(plan.resources.map((r) => `${r.address} ${r.action}`)).toEqual(["vault.github-tools noop", "credential.github-tools/github noop", "credential.github-tools/npm noop", "credential.github-tools/oauth noop"]);
    expect(plan.resources.every((r) => r.request === null && r.notes === undefined)).toBe(true);
  });
});

describe("create bodies", () => {
  it("static_bearer: every field as written, the secret as its placeholder", () => {
    expect(createAuth(githubAuth())).toEqual({ type: "static_bearer", mcp_server_url: GITHUB_URL, token: { $env: "GITHUB_MCP_TOKEN" } });
  });

  it("mcp_oauth: placeholders for the access token, the refresh token and the client secret, each where the API wants it", () => {
    expect(createAuth(oauthAuth())).toEqual({
      type: "mcp_oauth",
      mcp_server_url: "https://mcp.example.com/",
      access_token: { $env: "OAUTH_ACCESS" },
      expires_at: "2030-01-01T00:00:00Z",
      refresh: {
        client_id: "abc",
        token_endpoint: "https://auth.example.com/token",
        refresh_token: { $env: "OAUTH_REFRESH" },
        token_endpoint_auth: { type: "client_secret_post", client_secret: { $env: "OAUTH_CLIENT_SECRET" } },
        scope: "read",
      },
    });
  });

  it("environment_variable: networking and injection_location as written", () => {
    expect(createAuth(npmAuth())).toEqual({
      type: "environment_variable",
      secret_name: "NPM_TOKEN",
      secret_value: { $env: "NPM_TOKEN_VALUE" },
      networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
      injection_location: { header: true },
    });
  });

  it("leaves the manifest as it was", () => {
    const auth = oauthAuth();
    const before = structuredClone(auth);
    createAuth(auth);
    updateAuth({ auth, [SECRET_STATUS_KEY]: "forced" });
    expect(auth).toEqual(before);
  });

  it("the kind's create fields: display_name, the resolved vault, the auth, and metadata only when given", () => {
    const resolved = credential.resolveRefs(spec("npm", npmAuth(), { metadata: { team: "web" } }), () => ({ id: VAULT_ID }));
    expect(credential.createFields(resolved)).toEqual({ display_name: "github-tools/npm", vault_id: VAULT_ID, auth: createAuth(npmAuth()), metadata: { team: "web" } });
    expect(credential.createFields(spec("github", githubAuth()))).toEqual({ display_name: "github-tools/github", vault_id: { ref: VAULT }, auth: createAuth(githubAuth()) });
  });

  it("every placeholder of a create body stands at one of the kind's secret body pointers", () => {
    expect(SECRET_BODY_POINTERS).toEqual(["/auth/token", "/auth/access_token", "/auth/refresh/refresh_token", "/auth/refresh/token_endpoint_auth/client_secret", "/auth/secret_value"]);
    expect(credential.secrets?.bodyPointers({})).toEqual(SECRET_BODY_POINTERS);
    expect(SECRET_FIELDS.map((s) => s.field)).toEqual(["token", "access_token", "refresh_token", "client_secret", "secret_value"]);
  });
});

describe("update bodies", () => {
  it("static_bearer: only the type, plus the token placeholder when rotating or forced", () => {
    expect(updateAuth({ auth: githubAuth() })).toEqual({ type: "static_bearer" });
    expect(updateAuth({ auth: githubAuth(), [SECRET_STATUS_KEY]: "current" })).toEqual({ type: "static_bearer" });
    expect(updateAuth({ auth: githubAuth(), [SECRET_STATUS_KEY]: "rotated" })).toEqual({ type: "static_bearer", token: { $env: "GITHUB_MCP_TOKEN" } });
    expect(updateAuth({ auth: githubAuth(), [SECRET_STATUS_KEY]: "forced" })).toEqual({ type: "static_bearer", token: { $env: "GITHUB_MCP_TOKEN" } });
    for (const status of ["missing", "unrecorded"] as const) expect(updateAuth({ auth: githubAuth(), [SECRET_STATUS_KEY]: status })).toEqual({ type: "static_bearer" });
  });

  it("mcp_oauth: expiry and scope, never client_id, token_endpoint, resource or the server URL", () => {
    const auth = oauthAuth({ refresh: refresh({ resource: "https://mcp.example.com/" }) });
    // The expiry only when it changed (or with a new token): an unchanged past one would be refused.
    expect(updateAuth({ auth })).toEqual({ type: "mcp_oauth", refresh: { scope: "read" } });
    expect(updateAuth({ auth }, ["/auth/expires_at"])).toEqual({ type: "mcp_oauth", expires_at: "2030-01-01T00:00:00Z", refresh: { scope: "read" } });
    expect(updateAuth({ auth, [SECRET_STATUS_KEY]: "rotated" })).toEqual({
      type: "mcp_oauth",
      access_token: { $env: "OAUTH_ACCESS" },
      expires_at: "2030-01-01T00:00:00Z",
      refresh: { refresh_token: { $env: "OAUTH_REFRESH" }, scope: "read", token_endpoint_auth: { type: "client_secret_post", client_secret: { $env: "OAUTH_CLIENT_SECRET" } } },
    });
  });

  it("mcp_oauth: a scope left out (or empty) is sent as '' to clear it; no refresh sends none", () => {
    expect(updateAuth({ auth: oauthAuth({ refresh: refresh({ scope: undefined }) }) }).refresh).toEqual({ scope: "" });
    expect(updateAuth({ auth: oauthAuth({ refresh: refresh({ scope: "" }) }) }).refresh).toEqual({ scope: "" });
    expect(updateAuth({ auth: oauthAuth({ refresh: undefined }), [SECRET_STATUS_KEY]: "forced" })).toEqual({ type: "mcp_oauth", access_token: { $env: "OAUTH_ACCESS" }, expires_at: "2030-01-01T00:00:00Z" });
  });

  it("environment_variable: networking spelled out whole and both injection locations, the secret only when resent", () => {
    expect(updateAuth({ auth: npmAuth() })).toEqual({
      type: "environment_variable",
      networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
      injection_location: { header: true, body: false },
    });
    expect(updateAuth({ auth: npmAuth({ injection_location: undefined }), [SECRET_STATUS_KEY]: "rotated" })).toEqual({
      type: "environment_variable",
      secret_value: { $env: "NPM_TOKEN_VALUE" },
      networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
      injection_location: { header: true, body: true },
    });
    expect(updateAuth({ auth: npmAuth({ networking: undefined }) }).networking).toEqual({ type: "unrestricted" });
  });

  it("an update never names the secret_name or the variable names", () => {
    for (const status of ["current", "rotated"] as const) {
      const body = JSON.stringify(updateAuth({ auth: npmAuth(), [SECRET_STATUS_KEY]: status }));
      expect(body).not.toContain("secret_name");
      expect(body).not.toContain("_env\"");
    }
  });

  it("the kind's field bodies: auth through updateAuth, other fields as written or null", () => {
    const s = withStatus(spec("npm", npmAuth(), { metadata: { team: "web" } }), "rotated");
    expect(credential.fieldBody("auth", s)).toEqual(updateAuth(s));
    expect(credential.fieldBody("display_name", s)).toBe("github-tools/npm");
    expect(credential.fieldBody("description", s)).toBeNull();
  });
});

describe("what forces a replace", () => {
  it.each([
    "/vault_id",
    "/auth",
    "/auth/type",
    "/auth/mcp_server_url",
    "/auth/secret_name",
    "/auth/refresh",
    "/auth/refresh/client_id",
    "/auth/refresh/token_endpoint",
    "/auth/refresh/resource",
    "/auth/refresh/token_endpoint_auth",
    "/auth/refresh/token_endpoint_auth/type",
  ])("%s replaces", (pointer) => {
    expect(needsReplace(change(pointer))).toBe(true);
    expect(credential.replaces?.(change(pointer))).toBe(true);
  });

  it.each([
    "/auth/refresh/scope",
    "/auth/expires_at",
    "/auth/networking",
    "/auth/networking/type",
    "/auth/networking/allowed_hosts",
    "/auth/injection_location/header",
    "/auth/injection_location/body",
    "/auth/secret",
    "/metadata",
    "/metadata/team",
    "/display_name",
  ])("%s is an update", (pointer) => {
    expect(needsReplace(change(pointer))).toBe(false);
  });

  it("the pointers real diffs produce: a refresh added or removed, a new server URL or variable name, against scope and expiry", () => {
    const oauthLive = liveCredential("oauth", liveOauthAuth());
    const replaces = (live: LiveCredential, desired: Obj) => changesOf(live, desired).map((c) => `${c.pointer} ${needsReplace(c)}`);
    expect(replaces(oauthLive, spec("oauth", oauthAuth({ refresh: undefined })))).toEqual(["/auth/refresh true"]);
    expect(replaces(liveCredential("oauth", liveOauthAuth({ refresh: undefined })), spec("oauth", oauthAuth()))).toEqual(["/auth/refresh true"]);
    expect(replaces(oauthLive, spec("oauth", oauthAuth({ refresh: refresh({ client_id: "xyz", scope: "write" }) })))).toEqual(["/auth/refresh/client_id true", "/auth/refresh/scope false"]);
    expect(replaces(oauthLive, spec("oauth", oauthAuth({ refresh: refresh({ token_endpoint_auth: { type: "client_secret_basic", client_secret_env: "S" } }) })))).toEqual(["/auth/refresh/token_endpoint_auth/type true"]);
    expect(replaces(oauthLive, spec("oauth", oauthAuth({ expires_at: "2031-01-01T00:00:00Z" })))).toEqual(["/auth/expires_at false"]);
    expect(replaces(liveCredential("github", liveGithubAuth()), spec("github", githubAuth({ mcp_server_url: "https://api.githubcopilot.com/mcp" })))).toEqual(["/auth/mcp_server_url true"]);
    expect(replaces(liveCredential("github", liveGithubAuth()), spec("github", oauthAuth({ mcp_server_url: GITHUB_URL })))).toContain("/auth/type true");
    expect(replaces(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth({ secret_name: "NPM_AUTH" })))).toEqual(["/auth/secret_name true"]);
    expect(replaces(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth({ networking: { type: "unrestricted" }, injection_location: undefined }, ), { metadata: { team: "x" } }))).toEqual([
      "/auth/injection_location/body false",
      "/auth/networking/allowed_hosts false",
      "/auth/networking/type false",
      "/metadata/team false",
    ]);
  });
});

describe("security review", () => {
  const review = (live: LiveCredential | null, desired: Obj) => reviewSecurity("credential", live ? credential.canonicalLive(live) : null, credential.canonicalDesired(desired, resolveVault));

  it("a new credential is broadening: every session using the vault gets it", () => {
    expect(review(null, spec("github", githubAuth()))).toEqual([
      { category: "credential-added", severity: "broadening", pointer: "/auth", message: `credential for MCP server ${GITHUB_URL} (static_bearer); every session using this vault gets it` },
    ]);
    expect(review(null, spec("npm", npmAuth()))).toEqual([
      { category: "credential-added", severity: "broadening", pointer: "/auth", message: "credential for environment variable NPM_TOKEN (environment_variable); every session using this vault gets it" },
    ]);
  });

  it("a new key or a new type counts as a new credential (and is the only finding)", () => {
    const github = liveCredential("github", liveGithubAuth());
    expect(review(github, withStatus(spec("github", githubAuth({ mcp_server_url: "https://other.example.com/mcp" })), "rotated"))).toEqual([
      { category: "credential-added", severity: "broadening", pointer: "/auth", message: "credential for MCP server https://other.example.com/mcp (static_bearer); every session using this vault gets it" },
    ]);
    expect(review(github, spec("github", oauthAuth({ mcp_server_url: GITHUB_URL }))).map((f) => `${f.category} ${f.pointer}`)).toEqual(["credential-added /auth"]);
    expect(review(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth({ secret_name: "NPM_AUTH" }))).map((f) => f.message)).toEqual([
      "credential for environment variable NPM_AUTH (environment_variable); every session using this vault gets it",
    ]);
  });

  it("a secret sent again is notable, and says why", () => {
    const github = liveCredential("github", liveGithubAuth());
    expect(review(github, withStatus(spec("github", githubAuth()), "rotated"))).toEqual([
      { category: "credential-rotated", severity: "notable", pointer: "/auth/secret", message: `secret of the credential for MCP server ${GITHUB_URL} sent again ${ROTATED}` },
    ]);
    expect(review(github, withStatus(spec("github", githubAuth()), "forced")).map((f) => f.message)).toEqual([`secret of the credential for MCP server ${GITHUB_URL} sent again ${FORCED}`]);
    expect(review(github, withStatus(spec("github", githubAuth()), "missing"))).toEqual([]);
  });

  it("networking opened from limited to unrestricted is broadening", () => {
    expect(review(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth({ networking: { type: "unrestricted" } })))).toEqual([
      { category: "credential-widened", severity: "broadening", pointer: "/auth/networking/type", message: "the secret may now be sent to any host (networking limited → unrestricted)" },
    ]);
  });

  it("hosts added are listed; hosts removed or networking narrowed are not findings", () => {
    const hosts = (...allowed_hosts: string[]) => ({ type: "limited", allowed_hosts });
    const live = liveCredential("npm", liveNpmAuth({ networking: hosts("registry.npmjs.org") }));
    expect(review(live, spec("npm", npmAuth({ networking: hosts("registry.npmjs.org", "z.example.com", "npm.pkg.github.com") })))).toEqual([
      { category: "credential-widened", severity: "broadening", pointer: "/auth/networking/allowed_hosts", message: "the secret may now be sent to npm.pkg.github.com, z.example.com" },
    ]);
    const wide = liveCredential("npm", liveNpmAuth({ networking: hosts("a.example.com", "registry.npmjs.org") }));
    expect(review(wide, spec("npm", npmAuth({ networking: hosts("registry.npmjs.org") })))).toEqual([]);
    expect(review(liveCredential("npm", liveNpmAuth({ networking: { type: "unrestricted" } })), spec("npm", npmAuth()))).toEqual([]);
  });

  it("an injection location turned on is broadening; turned off is not", () => {
    const headerOnly = liveCredential("npm", liveNpmAuth({ injection_location: { header: false, body: true } }));
    expect(review(headerOnly, spec("npm", npmAuth({ injection_location: { header: true, body: true } })))).toEqual([
      { category: "credential-widened", severity: "broadening", pointer: "/auth/injection_location/header", message: "the secret is now injected into request headers" },
    ]);
    const body = review(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth({ injection_location: undefined })));
    expect(body.map((f) => `${f.category} ${f.severity} ${f.pointer}`)).toEqual(["credential-widened broadening /auth/injection_location/body"]);
    expect(review(liveCredential("npm", liveNpmAuth({ injection_location: { header: true, body: true } })), spec("npm", npmAuth()))).toEqual([]);
  });

  it("metadata, display_name, expiry and scope changes are not findings", () => {
    expect(review(liveCredential("npm", liveNpmAuth()), spec("npm", npmAuth(), { metadata: { team: "web" } }))).toEqual([]);
    expect(review(liveCredential("oauth", liveOauthAuth()), spec("oauth", oauthAuth({ expires_at: "2031-01-01T00:00:00Z", refresh: refresh({ scope: "read write" }) }), { display_name: "other" }))).toEqual([]);
  });

  it("is the kind's review, writing into the findings it is given", () => {
    const f = new Findings();
    credentialFindings(f, null, credential.canonicalDesired(spec("oauth", oauthAuth())));
    expect(f.list.map((x) => x.message)).toEqual(["credential for MCP server https://mcp.example.com/ (mcp_oauth); every session using this vault gets it"]);
    expect(credential.reviewSecurity).toBe(credentialFindings);
  });
});

describe("names, variables, references and notes", () => {
  it("lists the variables in a fixed order: token, access token, refresh token, client secret, secret value", () => {
    expect(secretEnvNames(githubAuth())).toEqual(["GITHUB_MCP_TOKEN"]);
    expect(secretEnvNames(oauthAuth())).toEqual(["OAUTH_ACCESS", "OAUTH_REFRESH", "OAUTH_CLIENT_SECRET"]);
    expect(secretEnvNames(oauthAuth({ refresh: refresh({ token_endpoint_auth: { type: "none" } }) }))).toEqual(["OAUTH_ACCESS", "OAUTH_REFRESH"]);
    expect(secretEnvNames(npmAuth())).toEqual(["NPM_TOKEN_VALUE"]);
    expect(secretEnvNames(undefined)).toEqual([]);
    // What plan digests: the variables of the create body's placeholders, in the same order.
    expect(placeholdersIn("credential", credential.createFields(spec("oauth", oauthAuth()))).map((p) => p.env)).toEqual(["OAUTH_ACCESS", "OAUTH_REFRESH", "OAUTH_CLIENT_SECRET"]);
  });

  it("a credential's key is its server URL, or its secret name for an environment variable", () => {
    expect(credentialKeyOf(githubAuth())).toEqual({ field: "mcp_server_url", value: GITHUB_URL });
    expect(credentialKeyOf(oauthAuth())).toEqual({ field: "mcp_server_url", value: "https://mcp.example.com/" });
    expect(credentialKeyOf(npmAuth())).toEqual({ field: "secret_name", value: "NPM_TOKEN" });
    expect(credentialKeyOf(null)).toEqual({ field: "mcp_server_url", value: undefined });
  });

  it("references its vault by name, resolves it to the vault's id, and keeps the name while the vault is still to be created", () => {
    const s = spec("github", githubAuth());
    expect(credential.references(s)).toEqual([{ kind: "vault", name: VAULT }]);
    expect(credential.references({ ...s, vault_id: VAULT_ID })).toEqual([]);
    expect(credential.resolveRefs(s, (t) => (t.kind === "vault" && t.name === VAULT ? { id: VAULT_ID } : undefined)).vault_id).toBe(VAULT_ID);
    expect(credential.resolveRefs(s, () => ({ id: KNOWN_AFTER_APPLY })).vault_id).toEqual({ ref: VAULT });
    expect(credential.resolveRefs(s, () => undefined).vault_id).toEqual({ ref: VAULT });
    expect(credential.liveReferenceIds(liveCredential("github", liveGithubAuth()))).toEqual([]);
  });

  it("is named by its display_name, or its id when it has none", () => {
    expect(credential.fromApi?.({ id: "vcrd_1", display_name: "github-tools/github" }).name).toBe("github-tools/github");
    expect(credential.fromApi?.({ id: "vcrd_1", display_name: null }).name).toBe("vcrd_1");
  });

  it("notes a secret it could not check, naming the variables; a new one it could not send; nothing otherwise", () => {
    expect(credential.notes?.(withStatus(spec("oauth", oauthAuth()), "missing"), "noop")).toEqual([
      "secret not checked: OAUTH_ACCESS, OAUTH_REFRESH, OAUTH_CLIENT_SECRET not set here (plans made without secrets, such as pull requests from forks, cannot compare it); apply needs it only to send it",
    ]);
    expect(credential.notes?.(withStatus(spec("github", githubAuth()), "missing"), "create")).toEqual(["GITHUB_MCP_TOKEN not set here: apply needs it to create the credential"]);
    expect(credential.notes?.(withStatus(spec("oauth", oauthAuth()), "missing"), "replace")).toEqual(["OAUTH_ACCESS, OAUTH_REFRESH, OAUTH_CLIENT_SECRET not set here: apply needs them to create the credential"]);
    expect(credential.notes?.(withStatus(spec("github", githubAuth()), "unrecorded"), "noop")).toEqual([
      "secret not checked: the live credential carries no digest agentform can check (made or last changed outside agentform); `--rotate` resends GITHUB_MCP_TOKEN",
    ]);
    for (const status of ["current", "rotated", "forced"] as const) expect(credential.notes?.(withStatus(spec("github", githubAuth()), status), "update")).toEqual([]);
    expect(credential.notes?.(spec("github", githubAuth()), "noop")).toEqual([]);
  });

  it("imports a live credential as a manifest without its vault's marker, digest or secret", () => {
    const live = liveCredential("npm", liveNpmAuth(), { metadata: { "agentform.project": PROJECT, "agentform.secret_digest": "scrypt1$x", team: "web" } });
    const m = credential.toManifest(live);
    expect(m).toEqual({ display_name: "github-tools/npm", vault_id: VAULT_ID, metadata: { team: "web" }, auth: liveNpmAuth() });
    expect(credential.canonicalDesired(m)).toEqual(credential.canonicalLive(live));
  });
});

describe("a vault's credentials: map", () => {
  const nested = KINDS.vault.nested;

  it("turns each entry into a credential manifest named <vault>/<local>, at its own pointer", () => {
    expect(nested?.kind).toBe("credential");
    const out = nested?.of({ display_name: VAULT, credentials: { github: { auth: githubAuth() }, npm: { metadata: { team: "web" }, auth: npmAuth() } } }, VAULT);
    expect(out).toEqual([
      { name: "github-tools/github", pointer: "/credentials/github", spec: { display_name: "github-tools/github", vault_id: { ref: VAULT }, auth: githubAuth() }, previousNames: [] },
      { name: "github-tools/npm", pointer: "/credentials/npm", spec: { display_name: "github-tools/npm", vault_id: { ref: VAULT }, auth: npmAuth(), metadata: { team: "web" } }, previousNames: [] },
    ]);
  });

  it("escapes local names in pointers, skips entries that are not maps, and has nothing without credentials", () => {
    const out = nested?.of({ credentials: { "a/b~c": { auth: githubAuth() }, broken: "text", empty: null } }, "v");
    expect(out?.map((c) => `${c.name} ${c.pointer}`)).toEqual(["v/a/b~c /credentials/a~1b~0c"]);
    expect(nested?.of({ display_name: "v" }, "v")).toEqual([]);
  });

  it("the vault's create body leaves its credentials out (they are created on their own)", () => {
    expect(KINDS.vault.createFields({ display_name: VAULT, metadata: { team: "web" }, credentials: { github: { auth: githubAuth() } } })).toEqual({ display_name: VAULT, metadata: { team: "web" } });
  });
});

// ------------------------------------------------------------------------------------------------
// The planner, over plain data

/** A vault manifest holding `credentials`, and the credential manifests the loader derives from it. */
function manifests(credentials: Record<string, Obj>, metadata: Record<string, Obj> = {}, previousNames: string[] = []): { vault: LoadedManifest; credentials: LoadedManifest[] } {
  const entries = Object.fromEntries(Object.entries(credentials).map(([local, auth]) => [local, metadata[local] ? { metadata: metadata[local], auth } : { auth }]));
  const vaultSpec = { display_name: VAULT, credentials: entries };
  const settings = (names: string[]) => ({ previous_names: names, adopt: false, ignore: [] });
  const locate = () => ({ line: 1, column: 1 });
  const vault: LoadedManifest = { kind: "vault", name: VAULT, file: "vaults/github.yaml", spec: vaultSpec, settings: settings(previousNames), locate };
  const creds = (KINDS.vault.nested?.of(vaultSpec, VAULT) ?? []).map((c): LoadedManifest => ({
    kind: "credential",
    name: c.name,
    file: vault.file,
    spec: c.spec,
    settings: settings(previousNames.map((p) => p + c.name.slice(VAULT.length))),
    locate,
  }));
  return { vault, credentials: creds };
}

function input(parts: { credentials: Record<string, Obj>; metadata?: Record<string, Obj>; live: LiveCredential[]; liveVaults?: LiveVault[]; status?: SecretStatus; previousNames?: string[] }): PlanInput {
  const base = planInput({});
  const m = manifests(parts.credentials, parts.metadata, parts.previousNames);
  // As the CLI computes it: by address for a create, by `<address>@<id>` for each live candidate.
  const secretStatus =
    parts.status === undefined
      ? undefined
      : Object.fromEntries(m.credentials.flatMap((c) => [[`credential.${c.name}`, parts.status as SecretStatus], ...parts.live.map((l) => [`credential.${c.name}@${l.id}`, parts.status as SecretStatus])]));
  return {
    ...base,
    manifests: { ...base.manifests, vault: [m.vault], credential: m.credentials },
    live: { ...base.live, vault: parts.liveVaults ?? [liveVault()], credential: parts.live },
    ...(secretStatus ? { secretStatus } : {}),
  };
}

const entry = (plan: ReturnType<typeof buildPlan>, address: string): PlannedResource => {
  const found = plan.resources.find((r) => r.address === address);
  expect(found).toBeDefined();
  return found as PlannedResource;
};

describe("the planner", () => {
  it("creates a new vault's credentials after it, with placeholders for their secrets and the vault by name", () => {
    const plan = buildPlan(input({ credentials: { github: githubAuth() }, live: [], liveVaults: [] }));
    expect(plan.summary).toMatchObject({ create: 2, update: 0, replace: 0 });
    const github = entry(plan, "credential.github-tools/github");
    expect(github).toMatchObject({ action: "create", impact: "create", dependsOn: ["vault.github-tools"] });
    expect(github.request).toEqual({
      method: "create",
      body: { display_name: "github-tools/github", vault_id: { ref: VAULT }, auth: { type: "static_bearer", mcp_server_url: GITHUB_URL, token: { $env: "GITHUB_MCP_TOKEN" } }, metadata: { "agentform.project": PROJECT } },
    });
    expect(github.security.map((f) => f.category)).toEqual(["credential-added"]);
    expect(plan.resources.map((r) => r.address)).toEqual(["vault.github-tools", "credential.github-tools/github"]);
  });

  it("creates a credential in an existing vault with the vault's id", () => {
    const plan = buildPlan(input({ credentials: { github: githubAuth() }, live: [] }));
    const github = entry(plan, "credential.github-tools/github");
    expect(github.action).toBe("create");
    expect(github.dependsOn).toEqual([]);
    expect(github.request?.body?.vault_id).toBe(VAULT_ID);
  });

  it("plans a replace for a changed server URL: archive, then the whole create body", () => {
    const plan = buildPlan(input({ credentials: { github: githubAuth({ mcp_server_url: "https://api.githubcopilot.com/mcp" }) }, live: [liveCredential("github", liveGithubAuth())] }));
    const github = entry(plan, "credential.github-tools/github");
    expect(github).toMatchObject({ action: "replace", impact: "archive", id: "vcrd_011github" });
    expect(github.changes).toEqual([{ pointer: "/auth/mcp_server_url", op: "replace", before: GITHUB_URL, after: "https://api.githubcopilot.com/mcp" }]);
    expect(github.request).toEqual({
      method: "replace",
      body: {
        display_name: "github-tools/github",
        vault_id: VAULT_ID,
        auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp", token: { $env: "GITHUB_MCP_TOKEN" } },
        metadata: { "agentform.project": PROJECT },
      },
    });
    expect(github.security.map((f) => `${f.category} ${f.pointer}`)).toEqual(["credential-added /auth"]);
    expect(plan.summary).toMatchObject({ replace: 1, update: 0, noop: 1 });
  });

  it("plans a replace for a changed OAuth client or a refresh removed, an update for a changed scope", () => {
    const live = [liveCredential("oauth", liveOauthAuth())];
    expect(entry(buildPlan(input({ credentials: { oauth: oauthAuth({ refresh: refresh({ client_id: "new-client" }) }) }, live })), "credential.github-tools/oauth").action).toBe("replace");
    expect(entry(buildPlan(input({ credentials: { oauth: oauthAuth({ refresh: undefined }) }, live })), "credential.github-tools/oauth").action).toBe("replace");
    const scoped = entry(buildPlan(input({ credentials: { oauth: oauthAuth({ refresh: refresh({ scope: "read write" }) }) }, live })), "credential.github-tools/oauth");
    expect(scoped.action).toBe("update");
    expect(scoped.request).toEqual({ method: "update", body: { auth: { type: "mcp_oauth", refresh: { scope: "read write" } } } });
  });

  it("an expiry changed in the manifest is an update; one left out is the server's to keep (no diff planned forever)", () => {
    const live = [liveCredential("oauth", liveOauthAuth())];
    const later = entry(buildPlan(input({ credentials: { oauth: oauthAuth({ expires_at: "2031-01-01T00:00:00Z" }) }, live })), "credential.github-tools/oauth");
    expect(later.action).toBe("update");
    expect(later.changes.map((c) => c.pointer)).toEqual(["/auth/expires_at"]);
    expect(later.request?.body).toEqual({ auth: { type: "mcp_oauth", expires_at: "2031-01-01T00:00:00Z", refresh: { scope: "read" } } });
    const dropped = entry(buildPlan(input({ credentials: { oauth: oauthAuth({ expires_at: undefined }) }, live })), "credential.github-tools/oauth");
    expect(dropped.action).toBe("noop");
    expect(dropped.request).toBeNull();
  });

  it("plans an update that resends the secret when the variable was rotated (or --rotate forces it)", () => {
    for (const status of ["rotated", "forced"] as const) {
      const plan = buildPlan(input({ credentials: { github: githubAuth() }, live: [liveCredential("github", liveGithubAuth())], status }));
      const github = entry(plan, "credential.github-tools/github");
      expect(github).toMatchObject({ action: "update", impact: "in-place" });
      expect(github.changes.map((c) => c.pointer)).toEqual(["/auth/secret"]);
      expect(github.request).toEqual({ method: "update", body: { auth: { type: "static_bearer", token: { $env: "GITHUB_MCP_TOKEN" } } } });
      expect(github.security.map((f) => `${f.category} ${f.severity}`)).toEqual(["credential-rotated notable"]);
      expect(github.notes).toBeUndefined();
    }
  });

  it("a rotated environment-variable secret is resent with its networking and both injection locations", () => {
    const plan = buildPlan(input({ credentials: { npm: npmAuth() }, metadata: { npm: { team: "web" } }, live: [liveCredential("npm", liveNpmAuth(), { metadata: { "agentform.project": PROJECT, "agentform.secret_digest": "scrypt1$x", team: "web" } })], status: "rotated" }));
    expect(entry(plan, "credential.github-tools/npm").request).toEqual({
      method: "update",
      body: {
        auth: {
          type: "environment_variable",
          secret_value: { $env: "NPM_TOKEN_VALUE" },
          networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
          injection_location: { header: true, body: false },
        },
      },
    });
  });

  it("a metadata change is an update of the metadata alone, keeping agentform's keys", () => {
    const live = liveCredential("npm", liveNpmAuth(), { metadata: { "agentform.project": PROJECT, "agentform.secret_digest": "scrypt1$x", team: "web", old: "x" } });
    const npm = entry(buildPlan(input({ credentials: { npm: npmAuth() }, metadata: { npm: { team: "platform" } }, live: [live], status: "current" })), "credential.github-tools/npm");
    expect(npm.action).toBe("update");
    expect(npm.request).toEqual({ method: "update", body: { metadata: { team: "platform", old: null } } });
    expect(npm.security).toEqual([]);
  });

  it.each(["missing", "unrecorded"] as const)("status %s is a noop with a 'secret not checked' note", (status) => {
    const plan = buildPlan(input({ credentials: { github: githubAuth() }, live: [liveCredential("github", liveGithubAuth())], status }));
    const github = entry(plan, "credential.github-tools/github");
    expect(github.action).toBe("noop");
    expect(github.request).toBeNull();
    expect(github.notes).toHaveLength(1);
    expect(github.notes?.[0]).toMatch(/^secret not checked: /);
    expect(github.notes?.[0]).toContain("GITHUB_MCP_TOKEN");
  });

  it("status current (or none) is a noop without notes", () => {
    for (const status of ["current", undefined] as const) {
      const github = entry(buildPlan(input({ credentials: { github: githubAuth() }, live: [liveCredential("github", liveGithubAuth())], ...(status ? { status } : {}) })), "credential.github-tools/github");
      expect(github.action).toBe("noop");
      expect(github.notes).toBeUndefined();
    }
  });

  it("a missing variable still lets other changes be planned, without resending the secret", () => {
    const live = liveCredential("npm", liveNpmAuth());
    const npm = entry(buildPlan(input({ credentials: { npm: npmAuth({ injection_location: { body: true } }) }, live: [live], status: "missing" })), "credential.github-tools/npm");
    expect(npm.action).toBe("update");
    expect(npm.request?.body).toEqual({ auth: { type: "environment_variable", networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] }, injection_location: { header: false, body: true } } });
    expect(npm.notes).toHaveLength(1);
    expect(npm.security.map((f) => f.pointer)).toEqual(["/auth/injection_location/body"]);
  });

  it("renames a credential along with its vault (previous_names carried over), in place", () => {
    const plan = buildPlan(input({ credentials: { github: githubAuth() }, previousNames: ["old-tools"], liveVaults: [liveVault("old-tools")], live: [liveCredential("github", liveGithubAuth(), { display_name: "old-tools/github", name: "old-tools/github" })] }));
    const github = entry(plan, "credential.github-tools/github");
    expect(github).toMatchObject({ action: "rename", renamedFrom: "old-tools/github", id: "vcrd_011github" });
    expect(github.request).toEqual({ method: "update", body: { display_name: "github-tools/github" } });
    expect(entry(plan, "vault.github-tools")).toMatchObject({ action: "rename", renamedFrom: "old-tools" });
  });
});
