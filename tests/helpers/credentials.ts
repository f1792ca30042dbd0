/**
 * Fixtures the credential tests share: the three credentials of the manifest format (as written
 * under a vault's `credentials:`, both as plain data and as vault-file YAML), and the lock and SDK
 * client of a CLI project for the end-to-end tests.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import type { CliProject } from "./cli-project.js";

export type Obj = Record<string, unknown>;

export const GITHUB_URL = "https://api.githubcopilot.com/mcp/";

// The three credentials of the manifest format, as written under a vault's `credentials:`.
export const githubAuth = (over: Obj = {}): Obj => ({ type: "static_bearer", mcp_server_url: GITHUB_URL, token_env: "GITHUB_MCP_TOKEN", ...over });
export const refresh = (over: Obj = {}): Obj => ({
  client_id: "abc",
  token_endpoint: "https://auth.example.com/token",
  refresh_token_env: "OAUTH_REFRESH",
  token_endpoint_auth: { type: "client_secret_post", client_secret_env: "OAUTH_CLIENT_SECRET" },
  scope: "read",
  ...over,
});
export const oauthAuth = (over: Obj = {}): Obj => ({
  type: "mcp_oauth",
  mcp_server_url: "https://mcp.example.com/",
  access_token_env: "OAUTH_ACCESS",
  expires_at: "2030-01-01T00:00:00Z",
  refresh: refresh(),
  ...over,
});
export const npmAuth = (over: Obj = {}): Obj => ({
  type: "environment_variable",
  secret_name: "NPM_TOKEN",
  secret_value_env: "NPM_TOKEN_VALUE",
  networking: { type: "limited", allowed_hosts: ["registry.npmjs.org"] },
  injection_location: { header: true },
  ...over,
});

/** The `github` entry of a vault file's `credentials:` (githubAuth, as YAML). */
export const GITHUB_ENTRY_YAML = `  github:
    auth:
      type: static_bearer
      mcp_server_url: https://api.githubcopilot.com/mcp/
      token_env: GITHUB_MCP_TOKEN
`;

/** The `npm` entry of a vault file's `credentials:` (npmAuth, as YAML, with metadata). */
export const NPM_ENTRY_YAML = `  npm:
    metadata: {team: web}
    auth:
      type: environment_variable
      secret_name: NPM_TOKEN
      secret_value_env: NPM_TOKEN_VALUE
      networking: {type: limited, allowed_hosts: [registry.npmjs.org]}
      injection_location: {header: true}
`;

/** A vault file `github-tools` with the one `github` credential. */
export const GITHUB_VAULT_YAML = `display_name: github-tools
credentials:
${GITHUB_ENTRY_YAML}`;

/** The ids of vaults and credentials in a CLI project's lock file. */
export async function lockOf(p: CliProject) {
  return JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { vaults: Record<string, { id: string }>; credentials: Record<string, { id: string }> };
}

/** A real SDK client aimed at a CLI project's local control plane. */
export function client(p: CliProject): Anthropic {
  return new Anthropic({ baseURL: p.cp.baseUrl, apiKey: p.cp.apiKey, maxRetries: 0 });
}
