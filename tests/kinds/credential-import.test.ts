/**
 * credentialImportEntry: a live credential as an entry of its vault manifest, for a server that
 * echoes secrets back (the API never shows one; a broken or hostile proxy might). The live
 * credentials are real ones, made on the local control plane with the raw SDK backend and listed
 * back, with the secrets their create sent added again as such a proxy would return them. The
 * entry must never hold a secret value, only the `*_env` variable names. And importedSecretEnv:
 * variable names stay within 128 characters and distinct for distinct long vault/local pairs.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { credentialImportEntry, importedSecretEnv } from "../../src/kinds/credential/import.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";

type Obj = Record<string, unknown>;

const SECRETS = {
  token: "tok-ECHOED-8f3a",
  access_token: "acc-ECHOED-11b2",
  refresh_token: "ref-ECHOED-77c9",
  client_secret: "cs-ECHOED-42d0",
  secret_value: "sv-ECHOED-09ee",
};
const SECRET_KEYS = new Set(Object.keys(SECRETS));

/** Every key anywhere in a value, and every string. */
function walk(value: unknown, keys: string[] = [], strings: string[] = []): { keys: string[]; strings: string[] } {
  if (typeof value === "string") strings.push(value);
  else if (Array.isArray(value)) for (const v of value) walk(v, keys, strings);
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      keys.push(k);
      walk(v, keys, strings);
    }
  }
  return { keys, strings };
}

function expectNoSecret(entry: Obj): void {
  const { keys, strings } = walk(entry);
  expect(keys.filter((k) => SECRET_KEYS.has(k))).toEqual([]);
  const text = JSON.stringify(entry);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  for (const s of strings) expect(s).not.toMatch(/ECHOED/);
}

describe("credentialImportEntry with a server that echoes secrets", () => {
  let cp: LocalControlPlane;
  let raw: ControlPlane;
  let vaultId: string;
  beforeAll(async () => {
    cp = await startLocalControlPlane({});
    raw = createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey });
    vaultId = (await raw.create("vault", { display_name: "tools" })).id;
  });
  afterAll(() => cp.close());

  /** The credential as listed by the API, with `echo` merged into its auth (what a proxy echoing the create would return). */
  async function echoed(displayName: string, auth: Obj, echo: Obj): Promise<Obj> {
    const made = await raw.create("credential", { display_name: displayName, vault_id: vaultId, auth });
    const listed = ((await raw.list("credential")) as unknown as Obj[]).find((c) => c.id === made.id);
    expect(listed, "the credential is listed").toBeDefined();
    const live = structuredClone(listed) as Obj;
    // The API shows no secret: whatever the entry holds of one came from the echo below.
    expectNoSecret(live);
    const merge = (into: Obj, from: Obj): void => {
      for (const [k, v] of Object.entries(from)) {
        if (v !== null && typeof v === "object" && !Array.isArray(v) && into[k] !== null && typeof into[k] === "object") merge(into[k] as Obj, v as Obj);
        else into[k] = v;
      }
    };
    merge(live.auth as Obj, echo);
    return live;
  }

  const entryOf = (live: Obj) => {
    const out = credentialImportEntry(live, "tools");
    if ("reason" in out) throw new Error(`not imported: ${out.reason}`);
    return out;
  };

  it("a static bearer whose token is echoed: only token_env", async () => {
    const live = await echoed("tools/github", { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: SECRETS.token }, { token: SECRETS.token });
    const out = entryOf(live);
    expect(out.local).toBe("github");
    expectNoSecret(out.entry);
    expect(out.entry).toEqual({ auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token_env: "IMPORTED_TOOLS_GITHUB_TOKEN" } });
  });

  it("an environment variable whose secret_value is echoed: only secret_value_env", async () => {
    const live = await echoed("tools/api-key", { type: "environment_variable", secret_name: "API_KEY", secret_value: SECRETS.secret_value, networking: { type: "unrestricted" } }, { secret_value: SECRETS.secret_value });
    const out = entryOf(live);
    expectNoSecret(out.entry);
    expect((out.entry.auth as Obj).secret_value_env).toMatch(/^IMPORTED_TOOLS_API_KEY_[0-9A-F]{8}_SECRET_VALUE$/);
    expect((out.entry.auth as Obj).secret_name).toBe("API_KEY");
  });

  it("OAuth with every secret echoed (access token, refresh token, client secret): only the *_env names", async () => {
    const refresh = { client_id: "agents", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post", client_secret: SECRETS.client_secret }, refresh_token: SECRETS.refresh_token, scope: "read" };
    const live = await echoed(
      "tools/linear",
      { type: "mcp_oauth", mcp_server_url: "https://mcp.linear.app/sse", access_token: SECRETS.access_token, expires_at: "2099-01-01T00:00:00Z", refresh },
      { access_token: SECRETS.access_token, refresh: { refresh_token: SECRETS.refresh_token, token_endpoint_auth: { client_secret: SECRETS.client_secret } } },
    );
    const out = entryOf(live);
    expectNoSecret(out.entry);
    expect(out.entry).toEqual({
      auth: {
        type: "mcp_oauth",
        mcp_server_url: "https://mcp.linear.app/sse",
        expires_at: "2099-01-01T00:00:00Z",
        access_token_env: "IMPORTED_TOOLS_LINEAR_ACCESS_TOKEN",
        refresh: {
          client_id: "agents",
          token_endpoint: "https://auth.example.com/token",
          scope: "read",
          refresh_token_env: "IMPORTED_TOOLS_LINEAR_REFRESH_TOKEN",
          token_endpoint_auth: { type: "client_secret_post", client_secret_env: "IMPORTED_TOOLS_LINEAR_CLIENT_SECRET" },
        },
      },
    });
  });

  it("a secret echoed where the auth takes none (a refresh token on OAuth without refresh, a token on OAuth) is dropped too", async () => {
    const live = await echoed("tools/notion", { type: "mcp_oauth", mcp_server_url: "https://mcp.notion.com/mcp", access_token: SECRETS.access_token }, { access_token: SECRETS.access_token, token: SECRETS.token, secret_value: SECRETS.secret_value });
    const out = entryOf(live);
    expectNoSecret(out.entry);
    expect(out.entry).toEqual({ auth: { type: "mcp_oauth", mcp_server_url: "https://mcp.notion.com/mcp", access_token_env: "IMPORTED_TOOLS_NOTION_ACCESS_TOKEN" } });
  });
});

describe("importedSecretEnv", () => {
  const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

  it("keeps short names as IMPORTED_<VAULT>_<LOCAL>_<SUFFIX>", () => {
    expect(importedSecretEnv("tools", "github", "TOKEN")).toBe("IMPORTED_TOOLS_GITHUB_TOKEN");
    expect(importedSecretEnv("ops", "apiv2", "SECRET_VALUE")).toBe("IMPORTED_OPS_APIV2_SECRET_VALUE");
  });

  it("adds a digest of both names whenever upper-casing and _ lost something, so a-b and a.b never share a secret", () => {
    expect(importedSecretEnv("ops keys", "api.v2", "SECRET_VALUE")).toMatch(/^IMPORTED_OPS_KEYS_API_V2_[0-9A-F]{8}_SECRET_VALUE$/);
    const names = [importedSecretEnv("a-b", "github", "TOKEN"), importedSecretEnv("a.b", "github", "TOKEN"), importedSecretEnv("a", "b_github", "TOKEN"), importedSecretEnv("A", "b_github", "TOKEN"), importedSecretEnv("Tools", "github", "TOKEN"), importedSecretEnv("tools", "github", "TOKEN")];
    expect(new Set(names).size).toBe(names.length);
  });

  it("keeps long names within 128 characters, a valid variable, ending in the suffix", () => {
    for (const suffix of ["TOKEN", "ACCESS_TOKEN", "REFRESH_TOKEN", "CLIENT_SECRET", "SECRET_VALUE"]) {
      const name = importedSecretEnv("v".repeat(300), "l".repeat(64), suffix);
      expect(name.length).toBeLessThanOrEqual(128);
      expect(name).toMatch(VARIABLE);
      expect(name.startsWith("IMPORTED_V")).toBe(true);
      expect(name.endsWith(`_${suffix}`)).toBe(true);
    }
  });

  it("gives distinct long vault/local pairs distinct names, where only the cut part or the mapped characters differ", () => {
    const long = "v".repeat(150);
    const pairs: Array<[string, string]> = [
      [long, "one"],
      [long, "two"],
      [`${long}a`, "b"],
      [long, "ab"],
      [`${long}-`, "x"],
      [`${long}_`, "x"],
      [`${long}.`, "x"],
      ["tools", `${"l".repeat(60)}-a`],
      ["tools", `${"l".repeat(60)}_a`],
      ["x".repeat(100), "y".repeat(64)],
      ["x".repeat(101), "y".repeat(63)],
    ];
    const names = pairs.map(([v, l]) => importedSecretEnv(v, l, "ACCESS_TOKEN"));
    for (const n of names) expect(n.length).toBeLessThanOrEqual(128);
    // The pairs whose full name is over 128 characters must all differ.
    const long128 = pairs.filter(([v, l]) => `IMPORTED_${v}_${l}_ACCESS_TOKEN`.length > 128).map(([v, l]) => importedSecretEnv(v, l, "ACCESS_TOKEN"));
    expect(long128.length).toBeGreaterThanOrEqual(7);
    expect(new Set(long128).size).toBe(long128.length);
  });

  it("(property) any two distinct pairs whose names are shortened get distinct names of at most 128 characters", () => {
    const name = fc.string({ unit: fc.constantFrom("a", "b", "-", "_", ".", "Z", "9"), minLength: 60, maxLength: 200 });
    fc.assert(
      fc.property(name, fc.string({ unit: fc.constantFrom("a", "b", "-", "_", "."), minLength: 1, maxLength: 64 }), name, fc.string({ unit: fc.constantFrom("a", "b", "-", "_", "."), minLength: 1, maxLength: 64 }), (v1, l1, v2, l2) => {
        const a = importedSecretEnv(v1, l1, "REFRESH_TOKEN");
        const b = importedSecretEnv(v2, l2, "REFRESH_TOKEN");
        expect(a.length).toBeLessThanOrEqual(128);
        expect(b.length).toBeLessThanOrEqual(128);
        expect(a).toMatch(VARIABLE);
        const shortened = (v: string, l: string) => `IMPORTED_${v}_${l}_REFRESH_TOKEN`.length > 128;
        if (shortened(v1, l1) && shortened(v2, l2) && (v1 !== v2 || l1 !== l2)) expect(a).not.toBe(b);
      }),
      { numRuns: 2000 },
    );
  });
});
