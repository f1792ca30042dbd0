/**
 * Environment bodies → the stored configuration (docs/local-control-plane.md). Pure.
 */
import { badRequest } from "./api-error.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import { checkKeys, cloneJson, expectArray, expectBoolean, expectObj, expectOneOf, expectString, type Obj } from "./util.js";

/** The mutable part of an environment. `scope` is absent unless set. */
export interface EnvironmentConfig {
  name: string;
  description: string | null;
  config: Obj;
  metadata: Record<string, string>;
  scope?: "organization" | "account";
}

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;
const CREATE_KEYS = ["name", "description", "config", "metadata", "scope"];

function resolvePackages(v: unknown, stored: Obj | undefined): Obj {
  const out: Obj = { type: "packages" };
  const o = v === undefined || v === null ? {} : expectObj(v, "config.packages");
  checkKeys(o, ["type", ...PACKAGE_MANAGERS], "config.packages");
  if (o.type !== undefined) expectOneOf(o.type, ["packages"] as const, "config.packages.type");
  for (const m of PACKAGE_MANAGERS) {
    const sent = o[m];
    // Per-manager merge on update: whether the real API merges or replaces is undocumented.
    if (sent === undefined || sent === null) out[m] = stored ? cloneJson(stored[m] as string[]) : [];
    else out[m] = expectArray(sent, `config.packages.${m}`).map((p, i) => expectString(p, `config.packages.${m}[${i}]`, { min: 1 }));
  }
  return out;
}

function resolveNetworking(v: unknown, stored: Obj | undefined): Obj {
  if (v === undefined || v === null) return stored ? cloneJson(stored) : { type: "unrestricted" };
  const o = expectObj(v, "config.networking");
  const type = expectOneOf(o.type, ["unrestricted", "limited"] as const, "config.networking.type");
  if (type === "unrestricted") {
    checkKeys(o, ["type"], "config.networking");
    return { type };
  }
  checkKeys(o, ["type", "allowed_hosts", "allow_mcp_servers", "allow_package_managers"], "config.networking");
  // Inside limited networking an omitted field keeps the stored value (as the API documents);
  // switching from unrestricted starts from the create defaults.
  const base = stored?.type === "limited" ? stored : { allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false };
  return {
    type,
    allowed_hosts:
      o.allowed_hosts === undefined || o.allowed_hosts === null
        ? cloneJson(base.allowed_hosts as string[])
        : expectArray(o.allowed_hosts, "config.networking.allowed_hosts").map((h, i) => expectString(h, `config.networking.allowed_hosts[${i}]`, { min: 1 })),
    allow_mcp_servers: o.allow_mcp_servers === undefined || o.allow_mcp_servers === null ? base.allow_mcp_servers : expectBoolean(o.allow_mcp_servers, "config.networking.allow_mcp_servers"),
    allow_package_managers:
      o.allow_package_managers === undefined || o.allow_package_managers === null ? base.allow_package_managers : expectBoolean(o.allow_package_managers, "config.networking.allow_package_managers"),
  };
}

function resolveConfig(v: unknown, stored: Obj | undefined): Obj {
  if (v === undefined || v === null) {
    if (stored) return cloneJson(stored);
    v = { type: "cloud" };
  }
  const o = expectObj(v, "config");
  const type = expectOneOf(o.type, ["cloud", "self_hosted"] as const, "config.type");
  if (stored && stored.type !== type) {
    throw badRequest(`config.type: cannot change from "${String(stored.type)}" to "${type}" after creation`, "invalid_config_type_change");
  }
  if (type === "self_hosted") {
    checkKeys(o, ["type"], "config");
    return { type };
  }
  checkKeys(o, ["type", "networking", "packages"], "config");
  const networking = resolveNetworking(o.networking, stored?.networking as Obj | undefined);
  const packages = o.packages === undefined || o.packages === null ? (stored ? cloneJson(stored.packages as Obj) : resolvePackages(undefined, undefined)) : resolvePackages(o.packages, stored?.packages as Obj | undefined);
  const anyPackages = PACKAGE_MANAGERS.some((m) => (packages[m] as string[]).length > 0);
  if (networking.type === "limited" && anyPackages && networking.allow_package_managers !== true) {
    throw badRequest("config.packages: under limited networking, packages require networking.allow_package_managers: true");
  }
  return { type, networking, packages };
}

function resolveScope(v: unknown): "organization" | "account" | undefined {
  if (v === undefined || v === null) return undefined;
  const scope = expectOneOf(v, ["organization", "account"] as const, "scope");
  // The local server plays an API organization, which may only use "organization" (the API
  // refuses "account" for them).
  if (scope === "account") throw badRequest('scope: "account" is not supported for API organizations; use "organization"');
  return scope;
}

/** Resolve a create body. Name uniqueness is the store's job. */
export function resolveEnvironmentCreate(body: unknown): EnvironmentConfig {
  const b = expectObj(body, "body");
  checkKeys(b, CREATE_KEYS, "body");
  if (b.name === undefined) throw badRequest("name: Field required");
  const out: EnvironmentConfig = {
    name: expectString(b.name, "name", { min: 1, max: 256 }),
    description: b.description === undefined || b.description === null ? null : expectString(b.description, "description"),
    config: resolveConfig(b.config, undefined),
    metadata: createMetadata(b.metadata, "invalid_metadata"),
  };
  const scope = resolveScope(b.scope);
  if (scope !== undefined) out.scope = scope;
  return out;
}

/** Check an update body's shape before any state is consulted. */
export function checkEnvironmentUpdateBody(body: unknown): Obj {
  const b = expectObj(body, "body");
  checkKeys(b, CREATE_KEYS, "body");
  return b;
}

/** A partial update (omitted keeps; docs/local-control-plane.md, "Environments"); returns a new object. */
export function resolveEnvironmentUpdate(stored: EnvironmentConfig, b: Obj): EnvironmentConfig {
  if (b.name === null || b.name === "") throw badRequest("name: cannot be cleared");
  const out: EnvironmentConfig = {
    name: b.name === undefined ? stored.name : expectString(b.name, "name", { min: 1, max: 256 }),
    // Unlike agents, "" is stored as "" here (the API documents this for environments).
    description: b.description === undefined ? stored.description : b.description === null ? null : expectString(b.description, "description"),
    config: resolveConfig(b.config, stored.config),
    metadata: patchMetadata(stored.metadata, b.metadata, "invalid_metadata"),
  };
  const scope = b.scope === undefined ? stored.scope : resolveScope(b.scope);
  if (scope !== undefined) out.scope = scope;
  return out;
}
