/**
 * Secrets in request bodies (src/apply/secrets.ts), over plain data: placeholders resolved only
 * where the kind says a secret goes, the digest recorded with them, what plan says of a secret,
 * the error for a missing variable, and errors scrubbed of what was sent. Few scrypt calls: each
 * costs tens of milliseconds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { missingError, missingSecrets, placeholdersIn, scrubbed, secretStatus, withSecrets, type SecretSource } from "../../src/apply/secrets.js";
import { ConfigError, ExitCode, OperationalError } from "../../src/errors.js";
import { KINDS } from "../../src/kinds/index.js";
import { secretDigest, secretMatches } from "../../src/kinds/credential/secret-digest.js";

type Obj = Record<string, unknown>;

const DIGEST_KEY = "agentform.secret_digest";
const MARKER = { "agentform.project": "support-bots" };

const source = (values: Record<string, string>): SecretSource => (name) => (Object.hasOwn(values, name) ? values[name] : undefined);

const staticBody = (): Obj => ({
  display_name: "github-tools/github",
  vault_id: "vlt_1",
  auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: { $env: "GITHUB_MCP_TOKEN" } },
  metadata: { ...MARKER },
});

/** A create body of an mcp_oauth credential (docs/vaults.md), as the kind builds it. */
const oauthBody = (): Obj =>
  KINDS.credential.createFields({
    display_name: "github-tools/oauth",
    vault_id: "vlt_1",
    auth: {
      type: "mcp_oauth",
      mcp_server_url: "https://mcp.example.com/",
      access_token_env: "OAUTH_ACCESS",
      expires_at: "2030-01-01T00:00:00Z",
      refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token_env: "OAUTH_REFRESH", token_endpoint_auth: { type: "client_secret_post", client_secret_env: "OAUTH_CLIENT_SECRET" }, scope: "read" },
    },
  });

const envVarBody = (): Obj => ({
  auth: { type: "environment_variable", secret_value: { $env: "NPM_TOKEN_VALUE" }, networking: { type: "unrestricted" }, injection_location: { header: true, body: true } },
});

async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("placeholdersIn", () => {
  it("finds the placeholders at the kind's secret pointers, in the kind's order", () => {
    expect(placeholdersIn("credential", staticBody())).toEqual([{ pointer: "/auth/token", env: "GITHUB_MCP_TOKEN" }]);
    expect(placeholdersIn("credential", oauthBody())).toEqual([
      { pointer: "/auth/access_token", env: "OAUTH_ACCESS" },
      { pointer: "/auth/refresh/refresh_token", env: "OAUTH_REFRESH" },
      { pointer: "/auth/refresh/token_endpoint_auth/client_secret", env: "OAUTH_CLIENT_SECRET" },
    ]);
    expect(placeholdersIn("credential", envVarBody())).toEqual([{ pointer: "/auth/secret_value", env: "NPM_TOKEN_VALUE" }]);
  });

  it("ignores a placeholder anywhere else: in metadata, in another auth field, at the top level", () => {
    const body: Obj = { ...staticBody(), metadata: { note: { $env: "HOME" } }, token: { $env: "HOME" } };
    (body.auth as Obj).mcp_server_url = { $env: "HOME" };
    expect(placeholdersIn("credential", body)).toEqual([{ pointer: "/auth/token", env: "GITHUB_MCP_TOKEN" }]);
  });

  it("takes only an exact {$env: string}: extra keys or a non-string name are inert objects", () => {
    const extra = staticBody();
    (extra.auth as Obj).token = { $env: "GITHUB_MCP_TOKEN", default: "x" };
    expect(placeholdersIn("credential", extra)).toEqual([]);
    const numeric = staticBody();
    (numeric.auth as Obj).token = { $env: 5 };
    expect(placeholdersIn("credential", numeric)).toEqual([]);
    const literal = staticBody();
    (literal.auth as Obj).token = "already-a-value";
    expect(placeholdersIn("credential", literal)).toEqual([]);
  });

  it("finds none in kinds without secrets, whatever their bodies hold", () => {
    expect(KINDS.agent.secrets).toBeUndefined();
    const agent = { name: "a", tools: [{ type: "custom", name: "t", input_schema: { type: "object", token: { $env: "HOME" } } }], auth: { token: { $env: "HOME" } } };
    expect(placeholdersIn("agent", agent)).toEqual([]);
    expect(placeholdersIn("environment", { name: "e", config: { $env: "HOME" } })).toEqual([]);
  });
});

describe("withSecrets", async () => {
  let stored: string;
  beforeAll(() => {
    stored = secretDigest(JSON.stringify(["token-value-0001"]));
  });

  it("puts each variable's value at its placeholder and the digest of what was sent in metadata, beside what was there", async () => {
    const body = staticBody();
    const { body: out, sent } = await withSecrets("credential", body, source({ GITHUB_MCP_TOKEN: "token-value-0001" }), undefined);
    expect(sent).toEqual(["token-value-0001"]);
    expect(out.auth).toEqual({ type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "token-value-0001" });
    const metadata = out.metadata as Record<string, string>;
    expect(Object.keys(metadata).sort()).toEqual(["agentform.project", DIGEST_KEY]);
    expect(metadata["agentform.project"]).toBe("support-bots");
    expect(metadata[DIGEST_KEY]).not.toContain("token-value-0001");
    expect(metadata[DIGEST_KEY]).not.toBe(stored);
    expect(secretMatches(JSON.stringify(["token-value-0001"]), metadata[DIGEST_KEY])).toBe(true);
    expect(out.display_name).toBe("github-tools/github");
    // The body handed in still holds its placeholder (plans are never mutated).
    expect(body).toEqual(staticBody());
  });

  it("keeps the stored digest (and its salt) when the same secret is sent again", async () => {
    const { body: out } = await withSecrets("credential", staticBody(), source({ GITHUB_MCP_TOKEN: "token-value-0001" }), stored);
    expect((out.metadata as Obj)[DIGEST_KEY]).toBe(stored);
  });

  it("records a new digest when another secret is sent", async () => {
    const { body: out } = await withSecrets("credential", staticBody(), source({ GITHUB_MCP_TOKEN: "token-value-0002" }), stored);
    const digest = (out.metadata as Obj)[DIGEST_KEY] as string;
    expect(digest).not.toBe(stored);
    expect(secretMatches(JSON.stringify(["token-value-0002"]), digest)).toBe(true);
  });

  it("resolves every secret of an OAuth credential, and digests them together in the kind's order", async () => {
    const values = { OAUTH_ACCESS: "access-0001", OAUTH_REFRESH: "refresh-0001", OAUTH_CLIENT_SECRET: "client-0001" };
    const { body: out, sent } = await withSecrets("credential", oauthBody(), source(values), undefined);
    expect(sent).toEqual(["access-0001", "refresh-0001", "client-0001"]);
    expect(out.auth).toEqual({
      type: "mcp_oauth",
      mcp_server_url: "https://mcp.example.com/",
      access_token: "access-0001",
      expires_at: "2030-01-01T00:00:00Z",
      refresh: { client_id: "abc", token_endpoint: "https://auth.example.com/token", refresh_token: "refresh-0001", token_endpoint_auth: { type: "client_secret_post", client_secret: "client-0001" }, scope: "read" },
    });
    // An update body without metadata gets metadata holding the digest alone (a patch keeps the rest).
    expect(Object.keys(out.metadata as Obj)).toEqual([DIGEST_KEY]);
    expect(secretMatches(JSON.stringify(["access-0001", "refresh-0001", "client-0001"]), (out.metadata as Obj)[DIGEST_KEY] as string)).toBe(true);
  });

  it("leaves a placeholder outside the kind's pointers untouched, and a body with no real placeholder as it is", async () => {
    const smuggled = { ...envVarBody(), metadata: { note: { $env: "NPM_TOKEN_VALUE" } } };
    const { body: out, sent } = await withSecrets("credential", smuggled, source({ NPM_TOKEN_VALUE: "npm-0001" }), stored);
    expect(sent).toEqual(["npm-0001"]);
    expect((out.auth as Obj).secret_value).toBe("npm-0001");
    expect((out.metadata as Obj).note).toEqual({ $env: "NPM_TOKEN_VALUE" });
    expect(JSON.stringify(out.metadata)).not.toContain("npm-0001");

    const inert = { metadata: { note: { $env: "NPM_TOKEN_VALUE" } }, auth: { type: "static_bearer" } };
    const none = await withSecrets("credential", inert, source({ NPM_TOKEN_VALUE: "npm-0001" }), stored);
    expect(none.body).toBe(inert);
    expect(none.sent).toEqual([]);
  });

  it("leaves an agent's body as it is, placeholders included", async () => {
    const agent = { name: "a", system: { $env: "HOME" }, metadata: { note: { $env: "HOME" } }, auth: { token: { $env: "HOME" } } };
    const out = await withSecrets("agent", agent, () => "should-not-appear", undefined);
    expect(out.body).toBe(agent);
    expect(out.sent).toEqual([]);
    expect(JSON.stringify(out.body)).not.toContain("should-not-appear");
  });

  it("throws secret-missing (exit 4) naming the variable, before anything is sent", async () => {
    const err = await rejected(withSecrets("credential", oauthBody(), source({ OAUTH_ACCESS: "access-0001", OAUTH_CLIENT_SECRET: "client-0001" }), undefined));
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe("secret-missing");
    expect(e.exitCode).toBe(4);
    expect(e.exitCode).toBe(ExitCode.invalid);
    expect(e.message).toBe("apply must send secrets from OAUTH_REFRESH, which is not set; nothing was sent");
    expect(e.message + (e.hint ?? "")).not.toContain("access-0001");
    expect(e.details).toEqual({ variables: ["OAUTH_REFRESH"] });
  });
});

describe("missingSecrets and missingError", () => {
  it("lists every variable a body needs that the source lacks, in the kind's order", () => {
    expect(missingSecrets("credential", oauthBody(), source({ OAUTH_REFRESH: "r" }))).toEqual(["OAUTH_ACCESS", "OAUTH_CLIENT_SECRET"]);
    expect(missingSecrets("credential", oauthBody(), source({ OAUTH_ACCESS: "a", OAUTH_REFRESH: "r", OAUTH_CLIENT_SECRET: "c" }))).toEqual([]);
    expect(missingSecrets("credential", { metadata: { x: { $env: "UNSET" } } }, source({}))).toEqual([]);
  });

  it("names the variables once each, sorted, and says how to fix it", () => {
    const e = missingError(["ZED", "ALPHA", "ZED"]);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe("secret-missing");
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe("apply must send secrets from ALPHA, ZED, which are not set; nothing was sent");
    expect(e.details).toEqual({ variables: ["ALPHA", "ZED"] });
    expect(e.hint).toContain("agentform plan");
    expect(missingError(["ONE"]).message).toBe("apply must send secrets from ONE, which is not set; nothing was sent");
  });
});

describe("secretStatus", async () => {
  let stored: string;
  beforeAll(() => {
    stored = secretDigest(JSON.stringify(["first-0001", "second-0001"]));
  });

  it("current when the variables hold what was last sent", async () => {
    expect(await secretStatus(["A", "B"], source({ A: "first-0001", B: "second-0001" }), stored, false)).toBe("current");
  });

  it("rotated when they hold something else, including the same values in another order", async () => {
    expect(await secretStatus(["A", "B"], source({ A: "first-0001", B: "second-0002" }), stored, false)).toBe("rotated");
    expect(await secretStatus(["B", "A"], source({ A: "first-0001", B: "second-0001" }), stored, false)).toBe("rotated");
  });

  it("missing when any variable is not set, whatever the digest", async () => {
    expect(await secretStatus(["A", "B"], source({ A: "first-0001" }), stored, false)).toBe("missing");
    expect(await secretStatus(["A"], source({}), undefined, false)).toBe("missing");
  });

  it("unrecorded when the live resource has no digest agentform can check", async () => {
    expect(await secretStatus(["A", "B"], source({ A: "first-0001", B: "second-0001" }), undefined, false)).toBe("unrecorded");
    expect(await secretStatus(["A", "B"], source({ A: "first-0001", B: "second-0001" }), "sha256:abcdef", false)).toBe("unrecorded");
  });

  it("forced under --rotate, set or not", async () => {
    expect(await secretStatus(["A", "B"], source({ A: "first-0001", B: "second-0001" }), stored, true)).toBe("forced");
    expect(await secretStatus(["A", "B"], source({}), stored, true)).toBe("forced");
    expect(await secretStatus(["A"], source({ A: "x" }), undefined, true)).toBe("forced");
  });
});

describe("scrubbed", () => {
  it("removes every value sent from an error's message and hint, in place", () => {
    const err = new OperationalError("api-error", "server said: bad token plain-secret-0001 and plain-secret-0002", { hint: "do not send plain-secret-0001 again" });
    const out = scrubbed(err, ["plain-secret-0001", "plain-secret-0002"]);
    expect(out).toBe(err);
    expect(err.message).toBe("server said: bad token [REDACTED] and [REDACTED]");
    expect(err.hint).toBe("do not send [REDACTED] again");
    expect(err.code).toBe("api-error");
  });

  it("scrubs a plain Error's message (and adds no hint)", () => {
    const err = new Error("echo: value-xyz-0003 / value-xyz-0003");
    scrubbed(err, ["value-xyz-0003"]);
    expect(err.message).toBe("echo: [REDACTED] / [REDACTED]");
    expect("hint" in err).toBe(false);
  });

  it("leaves alone what is not an Error, an error when nothing was sent, and skips empty values", () => {
    expect(scrubbed("text with value-0004", ["value-0004"])).toBe("text with value-0004");
    const err = new Error("message with value-0005");
    expect(scrubbed(err, [])).toBe(err);
    expect(err.message).toBe("message with value-0005");
    scrubbed(err, [""]);
    expect(err.message).toBe("message with value-0005");
  });
});
