/**
 * The canonical form of an environment (pure): networking and package lists as sets, config
 * spelled out with its defaults. Every rule is in docs/normalization.md.
 */
import { boolOr, canonicalMetadata, isObj, nullIfEmpty, sortedSet, type Obj } from "../values.js";

/** The package managers an environment config lists, in a fixed order. */
export const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;

function canonicalNetworking(v: unknown): Obj {
  if (!isObj(v) || v.type !== "limited") return { type: isObj(v) && typeof v.type === "string" ? v.type : "unrestricted" };
  return {
    allow_mcp_servers: boolOr(v.allow_mcp_servers, false),
    allow_package_managers: boolOr(v.allow_package_managers, false),
    allowed_hosts: sortedSet(v.allowed_hosts),
    type: "limited",
  };
}

function canonicalPackages(v: unknown): Obj {
  const src = isObj(v) ? v : {};
  const out: Obj = {};
  for (const m of PACKAGE_MANAGERS) out[m] = sortedSet(src[m]);
  return out;
}

function canonicalConfig(v: unknown): Obj {
  const c = isObj(v) ? v : { type: "cloud" };
  if (c.type === "self_hosted") return { type: "self_hosted" };
  return { networking: canonicalNetworking(c.networking), packages: canonicalPackages(c.packages), type: c.type ?? "cloud" };
}

function canonicalEnvironment(src: Obj): Obj {
  const out: Obj = {
    config: canonicalConfig(src.config),
    // "" and null differ on the server for environments, but not to anyone using one.
    description: nullIfEmpty(src.description),
    metadata: canonicalMetadata(src.metadata),
    name: src.name ?? null,
  };
  if (typeof src.scope === "string") out.scope = src.scope;
  return out;
}

export function canonicalEnvironmentDesired(spec: Obj): Obj {
  return canonicalEnvironment(spec);
}

/** The canonical live form; `scope` is compared only when the manifest sets it. */
export function canonicalEnvironmentLive(raw: Obj, desiredHint?: Obj): Obj {
  const env = canonicalEnvironment(raw);
  if (desiredHint && !("scope" in desiredHint)) delete env.scope;
  return env;
}
