/**
 * Environment request bodies (pure): `config` is always sent complete (type, networking and all
 * six package lists), because the server merges package lists per manager.
 */
import { createFieldsOf, isObj, type Obj } from "../values.js";
import { PACKAGE_MANAGERS } from "./canonical.js";

/** The complete environment config: type, networking and all six package arrays. */
function configBody(v: unknown): Obj {
  const c = isObj(v) ? v : { type: "cloud" };
  if (c.type === "self_hosted") return { type: "self_hosted" };
  const n = isObj(c.networking) ? c.networking : { type: "unrestricted" };
  const networking =
    n.type === "limited"
      ? {
          type: "limited",
          allowed_hosts: Array.isArray(n.allowed_hosts) ? n.allowed_hosts : [],
          allow_mcp_servers: n.allow_mcp_servers === true,
          allow_package_managers: n.allow_package_managers === true,
        }
      : { type: n.type ?? "unrestricted" };
  const p = isObj(c.packages) ? c.packages : {};
  const packages: Obj = {};
  for (const m of PACKAGE_MANAGERS) packages[m] = Array.isArray(p[m]) ? p[m] : [];
  return { type: c.type ?? "cloud", networking, packages };
}

/** One top-level field of an update body. An environment keeps "" as a description. */
export function environmentFieldBody(field: string, desired: Obj): unknown {
  const v = desired[field];
  if (field === "config") return configBody(v);
  if (field === "description") return typeof v === "string" ? v : null;
  return v === undefined ? null : v;
}

/** The create body's fields (the generic layer adds the ownership marker). */
export function environmentCreateFields(spec: Obj): Obj {
  return createFieldsOf(spec, { config: configBody });
}
