/**
 * Credential rules beyond the JSON Schema (pure): no literal secret in a manifest, secret
 * variables that are not agentform's or the API key's, at most 20 credentials per vault with
 * unique keys (what the API would refuse with a 409 at apply), and, across kinds, agents whose
 * MCP server URL no managed vault has a credential for.
 */
import type { LoadedManifest } from "../../manifest/types.js";
import type { KindRules, RuleContext, RuleSink } from "../rules.js";
import { asArray, isObj } from "../values.js";
import { credentialKeyOf, LITERAL_SECRET_FIELDS, SECRET_FIELDS } from "./auth.js";

/** Active credentials a vault may hold. */
export const MAX_CREDENTIALS_PER_VAULT = 20;

/**
 * Variables a manifest must not name: agentform's own, and those holding an API key (a pull
 * request could send the key to any MCP server): ANTHROPIC_*, and every target's api_key_env.
 */
const RESERVED_ENV = /^(ANTHROPIC_|AGENTFORM_)/;

function vaultOf(m: LoadedManifest): string {
  return isObj(m.spec.vault_id) && typeof m.spec.vault_id.ref === "string" ? m.spec.vault_id.ref : "";
}

function literalSecrets(m: LoadedManifest, sink: RuleSink): void {
  for (const { at, env } of LITERAL_SECRET_FIELDS) {
    let parent: unknown = m.spec.auth;
    for (const k of at.slice(0, -1)) parent = isObj(parent) ? parent[k] : undefined;
    const field = at[at.length - 1] as string;
    if (!isObj(parent) || parent[field] === undefined) continue;
    sink.add(m, ["auth", ...at], "AF-CREDENTIAL-LITERAL-SECRET", `${field} would put a secret in the repository`, `Write \`${env}: NAME\` instead, naming the environment variable that holds it, and rotate the secret: it is in your git history.`);
  }
}

/** Whether a secret may not be read from `name` (the one copy of that rule, for every kind with secrets). */
export function reservedSecretVariable(name: string, keyVariables: readonly string[]): boolean {
  return RESERVED_ENV.test(name) || keyVariables.includes(name);
}

/** A secret read from a reserved variable, reported at the field naming it. */
export function reportReservedVariable(m: LoadedManifest, at: ReadonlyArray<string | number>, name: string, sink: RuleSink): void {
  sink.add(m, at, "AF-CREDENTIAL-ENV-RESERVED", `the secret is read from ${name}, a variable agentform or the API key uses`, "Keep each secret in a variable of its own; a manifest that names the API key's variable would send the key to a server of its choosing.");
}

function reservedEnv(m: LoadedManifest, keyVariables: readonly string[], sink: RuleSink): void {
  for (const { at } of SECRET_FIELDS) {
    let name: unknown = m.spec.auth;
    for (const k of at) name = isObj(name) ? name[k] : undefined;
    if (typeof name === "string" && reservedSecretVariable(name, keyVariables)) reportReservedVariable(m, ["auth", ...at], name, sink);
  }
}

function perVault(manifests: readonly LoadedManifest[], sink: RuleSink): void {
  const byVault = new Map<string, LoadedManifest[]>();
  for (const m of manifests) byVault.set(vaultOf(m), [...(byVault.get(vaultOf(m)) ?? []), m]);
  for (const [vault, list] of byVault) {
    if (list.length > MAX_CREDENTIALS_PER_VAULT) {
      sink.add(list[MAX_CREDENTIALS_PER_VAULT] as LoadedManifest, [], "AF-CREDENTIAL-LIMIT", `vault "${vault}" has ${list.length} credentials; a vault holds at most ${MAX_CREDENTIALS_PER_VAULT}`, "Split the credentials across vaults (a session can use several).");
    }
    const seen = new Map<string, string>();
    for (const m of list) {
      const key = credentialKeyOf(m.spec.auth);
      if (typeof key.value !== "string") continue;
      const first = seen.get(`${key.field} ${key.value}`);
      if (first !== undefined) {
        sink.add(m, ["auth", key.field], "AF-CREDENTIAL-KEY-DUPLICATE", `${key.field} ${JSON.stringify(key.value)} is also credential "${first}"'s; a vault's credentials need different keys`, "Keep one credential per MCP server URL (or secret name) in a vault, or move one to another vault.");
      } else seen.set(`${key.field} ${key.value}`, m.name);
    }
  }
}

/**
 * Agents whose MCP servers no managed vault has a credential for (matched by exact URL, scheme
 * and trailing slash included, as the API matches). Only once the project manages vaults: before
 * that, credentials live in the Console and this cannot be checked.
 */
function uncoveredServers(credentials: readonly LoadedManifest[], ctx: RuleContext, sink: RuleSink): void {
  if (ctx.manifestsOf("vault").length === 0) return;
  const urls = new Set(credentials.map((m) => credentialKeyOf(m.spec.auth)).filter((k) => k.field === "mcp_server_url").map((k) => k.value));
  for (const agent of ctx.manifestsOf("agent")) {
    asArray(agent.spec.mcp_servers).forEach((server, i) => {
      if (!isObj(server) || typeof server.url !== "string" || urls.has(server.url)) return;
      sink.add(agent, ["mcp_servers", i, "url"], "AF-MCP-NO-CREDENTIAL", `no managed vault has a credential for ${server.url}`, "The API matches credentials by exact URL (scheme and trailing slash included): add one under a vault's `credentials:`, or check the URL against the credential's.", "warning");
    });
  }
}

/** An environment-variable credential must be injected somewhere: the API refuses one with every location off. */
function injectedNowhere(m: LoadedManifest, sink: RuleSink): void {
  const auth = isObj(m.spec.auth) ? m.spec.auth : {};
  const at = auth.injection_location;
  if (auth.type !== "environment_variable" || !isObj(at) || at.header === true || at.body === true) return;
  sink.add(m, ["auth", "injection_location"], "AF-CREDENTIAL-INJECTION", "the secret would be injected nowhere: every location it names is off, and the ones it leaves out are off too", "Set `header: true` or `body: true` (or leave injection_location out: both are on).");
}

export const credentialRules: KindRules = (manifests, ctx, sink) => {
  for (const m of manifests) {
    literalSecrets(m, sink);
    reservedEnv(m, ctx.keyVariables ?? [], sink);
    injectedNowhere(m, sink);
  }
  perVault(manifests, sink);
  uncoveredServers(manifests, ctx, sink);
};
