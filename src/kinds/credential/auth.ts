/**
 * A credential's `auth`, in its three types (static_bearer, mcp_oauth, environment_variable):
 * the canonical form both sides are compared in, the bodies create and update send, and where
 * secrets go. A manifest never holds a secret: each secret field is written `<field>_env: NAME`,
 * the environment variable apply reads it from. Bodies carry a placeholder `{$env: NAME}` there,
 * which apply alone resolves (src/apply/secrets.ts), so no plan ever holds a secret.
 */
import { pointerSegments } from "../../util/pointer.js";
import { SECRET_STATUS_KEY, type SecretPlaceholder, type SecretStatus } from "../spec.js";
import { isObj, sortedSet, type Obj } from "../values.js";
import type { FieldChange } from "../../plan/types.js";

/** Each secret: where a manifest names its variable (path into `auth`), and the body field it fills. */
export const SECRET_FIELDS = [
  { at: ["token_env"], field: "token" },
  { at: ["access_token_env"], field: "access_token" },
  { at: ["refresh", "refresh_token_env"], field: "refresh_token" },
  { at: ["refresh", "token_endpoint_auth", "client_secret_env"], field: "client_secret" },
  { at: ["secret_value_env"], field: "secret_value" },
] as const;

/** The body pointers a placeholder may stand at (the secret fields, inside `auth`). */
export const SECRET_BODY_POINTERS: readonly string[] = SECRET_FIELDS.map((s) => `/auth/${[...s.at.slice(0, -1), s.field].join("/")}`);

/** The secret field names a manifest must not hold literally. */
export const LITERAL_SECRET_FIELDS = SECRET_FIELDS.map((s) => ({ at: [...s.at.slice(0, -1), s.field], env: s.at[s.at.length - 1] as string }));

/** What the canonical `auth.secret` says: the secret as last sent, or being sent again. */
export const SECRET_AS_SENT = "(as last sent)";
const SECRET_RESENT: Partial<Record<SecretStatus, string>> = { rotated: "(rotated: the variable changed)", forced: "(resent: --rotate)" };

function at(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const k of path) v = isObj(v) ? v[k] : undefined;
  return v;
}

/** The environment variables an auth's secrets come from, in SECRET_FIELDS order. */
export function secretEnvNames(auth: unknown): string[] {
  return SECRET_FIELDS.map((s) => at(auth, s.at)).filter((v): v is string => typeof v === "string");
}

/** The key that must be unique among a vault's active credentials: its MCP server URL or secret name. */
export function credentialKeyOf(auth: unknown): { field: "mcp_server_url" | "secret_name"; value: unknown } {
  const field = isObj(auth) && auth.type === "environment_variable" ? "secret_name" : "mcp_server_url";
  return { field, value: isObj(auth) ? auth[field] : undefined };
}

function nullable(v: unknown): unknown {
  return v === undefined || v === "" ? null : v;
}

/** An RFC 3339 time as the instant it names: `…T01:00:00+01:00` and `…T00:00:00Z` are one expiry. */
function instant(v: unknown): unknown {
  if (typeof v !== "string") return nullable(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? nullable(v) : new Date(t).toISOString();
}

function canonicalNetworking(v: unknown): Obj {
  if (isObj(v) && v.type === "limited") return { type: "limited", allowed_hosts: sortedSet(v.allowed_hosts) };
  return { type: isObj(v) && typeof v.type === "string" ? v.type : "unrestricted" };
}

/** Left out, both locations are on; an object turns off every location it leaves out. */
function canonicalInjection(v: unknown): Obj {
  if (!isObj(v)) return { header: true, body: true };
  return { header: v.header === true, body: v.body === true };
}

function canonicalRefresh(v: unknown): Obj | null {
  if (!isObj(v)) return null;
  const endpointAuth = isObj(v.token_endpoint_auth) ? v.token_endpoint_auth.type : undefined;
  return {
    client_id: v.client_id ?? null,
    token_endpoint: v.token_endpoint ?? null,
    token_endpoint_auth: { type: typeof endpointAuth === "string" ? endpointAuth : "none" },
    resource: nullable(v.resource),
    scope: nullable(v.scope),
  };
}

/**
 * The canonical auth: what the API shows of it (never a secret), plus `secret`, which says
 * whether this plan sends the secret again. Manifests and live resources alike.
 */
export function canonicalAuth(auth: unknown, status?: SecretStatus): Obj {
  const a = isObj(auth) ? auth : {};
  const secret = (status && SECRET_RESENT[status]) ?? SECRET_AS_SENT;
  switch (a.type) {
    case "static_bearer":
      return { type: a.type, mcp_server_url: a.mcp_server_url ?? null, secret };
    case "mcp_oauth":
      return { type: a.type, mcp_server_url: a.mcp_server_url ?? null, expires_at: instant(a.expires_at), refresh: canonicalRefresh(a.refresh), secret };
    case "environment_variable":
      return { type: a.type, secret_name: a.secret_name ?? null, networking: canonicalNetworking(a.networking), injection_location: canonicalInjection(a.injection_location), secret };
    default:
      return { type: a.type ?? null, secret };
  }
}

/** Whether this plan sends the secret again (it changed, or `--rotate`). */
export function resendsSecret(spec: Obj): boolean {
  const status = spec[SECRET_STATUS_KEY];
  return status === "rotated" || status === "forced";
}

/** The auth with every `<field>_env: NAME` turned into `<field>: {$env: NAME}` (or dropped, without secrets). */
function withPlaceholders(auth: Obj, secrets: boolean): Obj {
  const out = structuredClone(auth);
  for (const s of SECRET_FIELDS) {
    const parent = at(out, s.at.slice(0, -1));
    const envKey = s.at[s.at.length - 1] as string;
    if (!isObj(parent) || typeof parent[envKey] !== "string") continue;
    const placeholder: SecretPlaceholder = { $env: parent[envKey] as string };
    delete parent[envKey];
    if (secrets) parent[s.field] = placeholder;
  }
  return out;
}

/** The auth a create sends: every field as written, each secret as its placeholder. */
export function createAuth(auth: unknown): Obj {
  return withPlaceholders(isObj(auth) ? auth : {}, true);
}

/**
 * The auth an update sends: only what the API lets an update change (the type, which must equal
 * the stored one, then expiry and scope, networking and injection locations), and the secrets
 * only when this plan resends them. Immutable fields change by replace, never here. `changed`:
 * the canonical pointers that changed under `/auth`.
 */
export function updateAuth(spec: Obj, changed: readonly string[] = []): Obj {
  const auth = isObj(spec.auth) ? spec.auth : {};
  const resend = resendsSecret(spec);
  const full = withPlaceholders(auth, resend);
  switch (auth.type) {
    case "static_bearer":
      return pick(full, ["type", "token"]);
    case "mcp_oauth": {
      // The expiry goes with a new token, or when it changed: resending an unchanged one that
      // has passed would be refused ("must be in the future").
      const expiry = resend || changed.includes("/auth/expires_at");
      const out = pick(full, expiry ? ["type", "access_token", "expires_at"] : ["type", "access_token"]);
      if (isObj(full.refresh)) {
        const refresh = pick(full.refresh, ["refresh_token"]);
        // "" clears the scope; a scope left out of the manifest is cleared too.
        refresh.scope = typeof full.refresh.scope === "string" ? full.refresh.scope : "";
        if (resend && isObj(full.refresh.token_endpoint_auth)) refresh.token_endpoint_auth = full.refresh.token_endpoint_auth;
        out.refresh = refresh;
      }
      return out;
    }
    case "environment_variable": {
      // networking is replaced whole; injection_location is merged per field, so both are spelled out.
      const out = pick(full, ["type", "secret_value"]);
      out.networking = isObj(full.networking) ? full.networking : { type: "unrestricted" };
      out.injection_location = canonicalInjection(full.injection_location);
      return out;
    }
    default:
      return full;
  }
}

function pick(src: Obj, keys: readonly string[]): Obj {
  return Object.fromEntries(keys.filter((k) => src[k] !== undefined).map((k) => [k, src[k]]));
}

/**
 * What no update can change (docs/vaults.md): the vault, the auth type, the unique key, the OAuth
 * client and token endpoint, the refresh's resource and auth method, and whether a refresh exists.
 */
export function needsReplace(change: FieldChange): boolean {
  const s = pointerSegments(change.pointer);
  if (s[0] === "vault_id") return true;
  if (s[0] !== "auth") return false;
  if (s.length === 1 || ["type", "mcp_server_url", "secret_name"].includes(s[1] as string)) return true;
  if (s[1] !== "refresh") return false;
  if (s.length === 2) return true;
  return ["client_id", "token_endpoint", "resource", "token_endpoint_auth"].includes(s[2] as string);
}
