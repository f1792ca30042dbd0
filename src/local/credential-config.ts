/**
 * Credential bodies → the stored credential (docs/local-control-plane.md, "Vaults and
 * credentials"). Pure. A credential is kept in two parts: `auth`, exactly what responses show,
 * and `secrets`, the write-only values (token, access_token, refresh_token, client_secret,
 * secret_value), which no view reads. No message here ever quotes a value a client sent in a
 * secret field, or a URL (one that carried a password is refused, and must not be repeated).
 */
import { badRequest } from "./api-error.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import { resolveDisplayName } from "./skill-config.js";
import { checkKeys, cloneJson, expectArray, expectBoolean, expectObj, expectOneOf, expectString, isObj, type Obj } from "./util.js";

export const CREDENTIAL_TYPES = ["static_bearer", "mcp_oauth", "environment_variable"] as const;
const TOKEN_ENDPOINT_AUTH_TYPES = ["none", "client_secret_basic", "client_secret_post"] as const;

/** Write-only values by field name: `token`, `access_token`, `refresh_token`, `client_secret`, `secret_value`. */
export type CredentialSecrets = Record<string, string>;

/** A credential's mutable part: what responses show, plus its secrets. */
export interface CredentialConfig {
  display_name: string | null;
  metadata: Record<string, string>;
  /** The auth as responses show it: never holds a secret. */
  auth: Obj;
  secrets: CredentialSecrets;
}

/** Limits the SDK documents (16 allowed hosts) and this server's own choices for the rest. */
export const CREDENTIAL_MAX_ALLOWED_HOSTS = 16;
export const CREDENTIAL_MAX_SECRET_LENGTH = 64 * 1024;
export const CREDENTIAL_MAX_TEXT_LENGTH = 2048;
export const CREDENTIAL_MAX_SECRET_NAME_LENGTH = 255;

const BODY_KEYS = ["auth", "display_name", "metadata"];
const STATIC_BEARER_KEYS = ["type", "mcp_server_url", "token"];
const MCP_OAUTH_KEYS = ["type", "mcp_server_url", "access_token", "expires_at", "refresh"];
const ENV_VAR_KEYS = ["type", "secret_name", "secret_value", "networking", "injection_location"];
/** The refresh fields of a create body; an update accepts the same keys, the immutable ones only unchanged. */
const REFRESH_KEYS = ["refresh_token", "client_id", "token_endpoint", "token_endpoint_auth", "resource", "scope"];

// A date, "T", a time with optional fraction, and "Z" or a numeric offset (RFC 3339 §5.6).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

function required(v: unknown, where: string): unknown {
  if (v === undefined || v === null) throw badRequest(`${where}: Field required`);
  return v;
}

function secret(v: unknown, where: string): string {
  return expectString(required(v, where), where, { min: 1, max: CREDENTIAL_MAX_SECRET_LENGTH });
}

/** An absolute http(s) URL, stored exactly as sent: MCP credentials match agents' `mcp_servers[].url` by exact string. */
function httpUrl(v: unknown, where: string): string {
  const s = expectString(required(v, where), where, { min: 1, max: CREDENTIAL_MAX_TEXT_LENGTH });
  let url: URL | null = null;
  try {
    url = new URL(s);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || SPACE_OR_CONTROL.test(s)) {
    throw badRequest(`${where}: must be an absolute http or https URL without spaces`);
  }
  // The URL is returned in every response, so a password in it would leak.
  if (url.username !== "" || url.password !== "") throw badRequest(`${where}: must not carry a user name or password; put secrets in the credential's secret fields`);
  return s;
}

/** Date.parse rolls 2030-02-31 over into March and takes hour 24; RFC 3339 allows neither. */
function realDateAndHour(s: string): boolean {
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && Number(s.slice(11, 13)) <= 23;
}

/** RFC 3339, stored as sent; "in the future" is checked against `now` (null: not checked, for stored state). */
function expiresAt(v: unknown, where: string, now: Date | null): string {
  const s = expectString(v, where);
  const t = Date.parse(s);
  if (!RFC3339.test(s) || Number.isNaN(t) || !realDateAndHour(s)) throw badRequest(`${where}: must be an RFC 3339 timestamp such as 2030-01-01T00:00:00Z`);
  if (now !== null && t <= now.getTime()) throw badRequest(`${where}: must be in the future`);
  return s;
}

function secretName(v: unknown, where: string): string {
  const s = expectString(required(v, where), where, { min: 1, max: CREDENTIAL_MAX_SECRET_NAME_LENGTH });
  if (!SECRET_NAME.test(s)) throw badRequest(`${where}: must be an environment variable name: a letter or _, then letters, digits and _`);
  return s;
}

/** A bare hostname, an IPv4 address or a `*.` wildcard (the SDK's rule); all-numeric names must be IPv4. */
function allowedHost(v: unknown, where: string): string {
  const h = expectString(v, where, { min: 1, max: 255 });
  const ok = /^[\d.]+$/.test(h) ? IPV4.test(h) : h.length <= 253 && HOSTNAME.test(h);
  if (!ok) throw badRequest(`${where}: must be a bare hostname (api.example.com), an IPv4 address or a *. wildcard (*.example.com); URLs, ports, paths and IPv6 addresses are not accepted`);
  return h;
}

function resolveNetworking(v: unknown, where: string): Obj {
  const o = expectObj(required(v, where), where);
  const type = expectOneOf(o.type, ["unrestricted", "limited"] as const, `${where}.type`);
  if (type === "unrestricted") {
    checkKeys(o, ["type"], where);
    return { type };
  }
  checkKeys(o, ["type", "allowed_hosts"], where);
  const hosts = expectArray(required(o.allowed_hosts, `${where}.allowed_hosts`), `${where}.allowed_hosts`);
  if (hosts.length === 0 || hosts.length > CREDENTIAL_MAX_ALLOWED_HOSTS) {
    throw badRequest(`${where}.allowed_hosts: must hold 1 to ${CREDENTIAL_MAX_ALLOWED_HOSTS} hosts`);
  }
  return { type, allowed_hosts: hosts.map((h, i) => allowedHost(h, `${where}.allowed_hosts[${i}]`)) };
}

function injectionField(v: unknown, where: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === null) throw badRequest(`${where}: cannot be null; send true or false, or leave it out`);
  return expectBoolean(v, where);
}

/**
 * Create (`stored` undefined): no object turns both locations on, and an object turns off each
 * field it leaves out. Update: each field left out keeps its stored value. Either way null is
 * refused and at least one location must end up enabled.
 */
function resolveInjection(v: unknown, where: string, stored: Obj | undefined): Obj {
  if (v === undefined) return stored ? cloneJson(stored) : { header: true, body: true };
  if (v === null) throw badRequest(`${where}: cannot be null; leave it out ${stored ? "to keep the stored locations" : "to enable both locations"}`);
  const o = expectObj(v, where);
  checkKeys(o, ["header", "body"], where);
  const out = {
    header: injectionField(o.header, `${where}.header`, stored ? stored.header === true : false),
    body: injectionField(o.body, `${where}.body`, stored ? stored.body === true : false),
  };
  if (!out.header && !out.body) throw badRequest(`${where}: at least one of header and body must be enabled`);
  return out;
}

function resolveEndpointAuthCreate(v: unknown, secrets: CredentialSecrets): Obj {
  const where = "auth.refresh.token_endpoint_auth";
  const o = expectObj(required(v, where), where);
  const type = expectOneOf(o.type, TOKEN_ENDPOINT_AUTH_TYPES, `${where}.type`);
  if (type === "none") {
    checkKeys(o, ["type"], where);
    return { type };
  }
  checkKeys(o, ["type", "client_secret"], where);
  secrets.client_secret = secret(o.client_secret, `${where}.client_secret`);
  return { type };
}

/** `scope` and `resource` are left out when unset; `""` as a scope means unset (it clears on update). */
function resolveRefreshCreate(v: unknown, secrets: CredentialSecrets): Obj | undefined {
  const where = "auth.refresh";
  if (v === undefined || v === null) return undefined;
  const o = expectObj(v, where);
  checkKeys(o, REFRESH_KEYS, where);
  secrets.refresh_token = secret(o.refresh_token, `${where}.refresh_token`);
  const out: Obj = {
    client_id: expectString(required(o.client_id, `${where}.client_id`), `${where}.client_id`, { min: 1, max: CREDENTIAL_MAX_TEXT_LENGTH }),
    token_endpoint: httpUrl(o.token_endpoint, `${where}.token_endpoint`),
    token_endpoint_auth: resolveEndpointAuthCreate(o.token_endpoint_auth, secrets),
  };
  if (o.resource !== undefined && o.resource !== null) out.resource = expectString(o.resource, `${where}.resource`, { min: 1, max: CREDENTIAL_MAX_TEXT_LENGTH });
  const scope = o.scope === undefined || o.scope === null ? "" : expectString(o.scope, `${where}.scope`, { max: CREDENTIAL_MAX_TEXT_LENGTH });
  if (scope !== "") out.scope = scope;
  return out;
}

function resolveAuthCreate(v: unknown, now: Date | null): { auth: Obj; secrets: CredentialSecrets } {
  const o = expectObj(required(v, "auth"), "auth");
  const type = expectOneOf(o.type, CREDENTIAL_TYPES, "auth.type");
  const secrets: CredentialSecrets = {};
  if (type === "static_bearer") {
    checkKeys(o, STATIC_BEARER_KEYS, "auth");
    const auth = { type, mcp_server_url: httpUrl(o.mcp_server_url, "auth.mcp_server_url") };
    secrets.token = secret(o.token, "auth.token");
    return { auth, secrets };
  }
  if (type === "mcp_oauth") {
    checkKeys(o, MCP_OAUTH_KEYS, "auth");
    const auth: Obj = { type, mcp_server_url: httpUrl(o.mcp_server_url, "auth.mcp_server_url") };
    secrets.access_token = secret(o.access_token, "auth.access_token");
    if (o.expires_at !== undefined && o.expires_at !== null) auth.expires_at = expiresAt(o.expires_at, "auth.expires_at", now);
    const refresh = resolveRefreshCreate(o.refresh, secrets);
    if (refresh) auth.refresh = refresh;
    return { auth, secrets };
  }
  checkKeys(o, ENV_VAR_KEYS, "auth");
  const auth = {
    type,
    secret_name: secretName(o.secret_name, "auth.secret_name"),
    networking: resolveNetworking(o.networking, "auth.networking"),
    injection_location: resolveInjection(o.injection_location, "auth.injection_location", undefined),
  };
  secrets.secret_value = secret(o.secret_value, "auth.secret_value");
  return { auth, secrets };
}

/** Resolve a create body; `now` checks `expires_at` is in the future (null skips that, for stored state). */
export function resolveCredentialCreate(body: unknown, now: Date | null): CredentialConfig {
  const b = expectObj(body, "body");
  checkKeys(b, BODY_KEYS, "body");
  const { auth, secrets } = resolveAuthCreate(b.auth, now);
  return {
    display_name: b.display_name === undefined || b.display_name === null ? null : resolveDisplayName(expectString(b.display_name, "display_name")),
    metadata: createMetadata(b.metadata, undefined),
    auth,
    secrets,
  };
}

// -- update ----------------------------------------------------------------------------------

/** The secrets an update builds, and whether its body carried any (a sent secret always counts as a change). */
interface SecretUpdate {
  values: CredentialSecrets;
  sent: boolean;
}

/** Left out or null: the stored secret stays (a credential without its secret would be useless). */
function replaceSecret(s: SecretUpdate, key: string, v: unknown, where: string): void {
  if (v === undefined || v === null) return;
  s.values[key] = secret(v, where);
  s.sent = true;
}

/** An immutable field may be sent only with its stored value (a reconciler may send its whole spec). */
function unchanged(v: unknown, stored: unknown, where: string): void {
  if (v === undefined || (v === null && stored === undefined) || v === stored) return;
  throw badRequest(`${where}: cannot be changed after the credential is created; archive the credential and create a new one`);
}

/** The method is fixed at create; between the two secret methods, the secret is replaced and the stored method kept (as the SDK documents). */
function updateEndpointAuth(stored: Obj, v: unknown, s: SecretUpdate): void {
  const where = "auth.refresh.token_endpoint_auth";
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, TOKEN_ENDPOINT_AUTH_TYPES, `${where}.type`);
  if (type === "none" || stored.type === "none") {
    if (type !== stored.type) throw badRequest(`${where}.type: the token endpoint's auth method is fixed at create (this credential uses ${String(stored.type)})`);
    checkKeys(o, ["type"], where);
    return;
  }
  checkKeys(o, ["type", "client_secret"], where);
  replaceSecret(s, "client_secret", o.client_secret, `${where}.client_secret`);
}

function updateRefresh(refresh: Obj, v: unknown, s: SecretUpdate): void {
  const where = "auth.refresh";
  const o = expectObj(v, where);
  checkKeys(o, REFRESH_KEYS, where);
  for (const key of ["client_id", "token_endpoint", "resource"]) unchanged(o[key], refresh[key], `${where}.${key}`);
  replaceSecret(s, "refresh_token", o.refresh_token, `${where}.refresh_token`);
  if (o.scope !== undefined && o.scope !== null) {
    const scope = expectString(o.scope, `${where}.scope`, { max: CREDENTIAL_MAX_TEXT_LENGTH });
    if (scope === "") delete refresh.scope;
    else refresh.scope = scope;
  }
  if (o.token_endpoint_auth !== undefined) updateEndpointAuth(refresh.token_endpoint_auth as Obj, o.token_endpoint_auth, s);
}

/** `expires_at`: left out keeps, null clears (expiry unknown), a timestamp replaces. `refresh` is merged. */
function updateOAuth(auth: Obj, o: Obj, s: SecretUpdate, now: Date): void {
  checkKeys(o, MCP_OAUTH_KEYS, "auth");
  unchanged(o.mcp_server_url, auth.mcp_server_url, "auth.mcp_server_url");
  replaceSecret(s, "access_token", o.access_token, "auth.access_token");
  if (o.expires_at === null) delete auth.expires_at;
  else if (o.expires_at !== undefined) auth.expires_at = expiresAt(o.expires_at, "auth.expires_at", now);
  if (o.refresh === undefined || o.refresh === null) return;
  if (!isObj(auth.refresh)) {
    throw badRequest("auth.refresh: this credential was created without a refresh configuration, and one cannot be added later (client_id and token_endpoint are set only at create); archive it and create a new one");
  }
  updateRefresh(auth.refresh, o.refresh, s);
}

function resolveAuthUpdate(stored: Obj, v: unknown, s: SecretUpdate, now: Date): Obj {
  const o = expectObj(v, "auth");
  const type = expectOneOf(o.type, CREDENTIAL_TYPES, "auth.type");
  if (type !== stored.type) {
    throw badRequest(`auth.type: this credential is ${String(stored.type)} and cannot become ${type}; the type is fixed at create (archive the credential and create a new one)`);
  }
  const auth = cloneJson(stored);
  if (type === "static_bearer") {
    checkKeys(o, STATIC_BEARER_KEYS, "auth");
    unchanged(o.mcp_server_url, stored.mcp_server_url, "auth.mcp_server_url");
    replaceSecret(s, "token", o.token, "auth.token");
  } else if (type === "mcp_oauth") {
    updateOAuth(auth, o, s, now);
  } else {
    checkKeys(o, ENV_VAR_KEYS, "auth");
    unchanged(o.secret_name, stored.secret_name, "auth.secret_name");
    replaceSecret(s, "secret_value", o.secret_value, "auth.secret_value");
    // Replaced as a whole; null keeps the stored value, like an omitted field.
    if (o.networking !== undefined && o.networking !== null) auth.networking = resolveNetworking(o.networking, "auth.networking");
    auth.injection_location = resolveInjection(o.injection_location, "auth.injection_location", stored.injection_location as Obj);
  }
  return auth;
}

/**
 * Apply a partial update to an active credential. `secretsSent` says whether the body carried a
 * secret: secrets are never compared, so sending one always counts as a change.
 */
export function resolveCredentialUpdate(stored: CredentialConfig, body: unknown, now: Date): { config: CredentialConfig; secretsSent: boolean } {
  const b = expectObj(body, "body");
  checkKeys(b, BODY_KEYS, "body");
  const s: SecretUpdate = { values: { ...stored.secrets }, sent: false };
  const auth = b.auth === undefined || b.auth === null ? cloneJson(stored.auth) : resolveAuthUpdate(stored.auth, b.auth, s, now);
  // Optional at create, so null clears it; "" is refused (1 to 255 characters).
  const display_name = b.display_name === undefined ? stored.display_name : b.display_name === null ? null : resolveDisplayName(expectString(b.display_name, "display_name"));
  const metadata = patchMetadata(stored.metadata, b.metadata, undefined, { emptyDeletes: false });
  return { config: { display_name, metadata, auth, secrets: s.values }, secretsSent: s.sent };
}

// -- helpers for the store and the state check -----------------------------------------------

/** What must be unique among a vault's active credentials, as text for messages: `mcp_server_url "…"` or `secret_name "…"`. */
export function credentialKey(auth: Obj): string {
  const field = auth.type === "environment_variable" ? "secret_name" : "mcp_server_url";
  return `${field} ${JSON.stringify(auth[field])}`;
}

/** The auth of a create body: the stored auth with its secrets put back where a request carries them. */
export function authWithSecrets(auth: Obj, secrets: CredentialSecrets): Obj {
  const out = cloneJson(auth);
  const refresh = isObj(out.refresh) ? out.refresh : null;
  for (const [key, value] of Object.entries(secrets)) {
    if (key === "refresh_token" && refresh) refresh.refresh_token = value;
    else if (key === "client_secret" && refresh && isObj(refresh.token_endpoint_auth)) refresh.token_endpoint_auth.client_secret = value;
    else out[key] = value;
  }
  return out;
}

/** Stand-ins for the secrets an archived credential no longer holds, so its auth can be checked like any other. */
export function placeholderSecrets(auth: Obj): CredentialSecrets {
  const main = auth.type === "static_bearer" ? "token" : auth.type === "mcp_oauth" ? "access_token" : "secret_value";
  const out: CredentialSecrets = { [main]: "-" };
  if (isObj(auth.refresh)) {
    out.refresh_token = "-";
    if (isObj(auth.refresh.token_endpoint_auth) && auth.refresh.token_endpoint_auth.type !== "none") out.client_secret = "-";
  }
  return out;
}
