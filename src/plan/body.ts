/**
 * Request bodies for create and update (pure), following the API's update semantics
 * (API-SEMANTICS §2.4, §2.9, §3.3): only changed top-level fields, whole arrays for replaced
 * lists, metadata as a patch, `multiagent` and environment `config` spelled out completely.
 */
import type { RequestBody, ResourceKind } from "../backends/types.js";
import { OWNERSHIP_KEY } from "../manifest/types.js";
import { pointerSegments } from "./diff.js";
import { KNOWN_AFTER_APPLY, type FieldChange } from "./types.js";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** How a by-name reference resolves for the request body; undefined keeps `{type, ref}`. */
export type BodyRefResolver = (name: string, explicitVersion: number | undefined) => { id: string; version: number | string } | undefined;

function resolveEntry(e: unknown, resolve: BodyRefResolver): unknown {
  if (!isObj(e) || typeof e.ref !== "string") return e;
  const explicit = typeof e.version === "number" ? e.version : undefined;
  const r = resolve(e.ref, explicit);
  if (!r || r.id === KNOWN_AFTER_APPLY || r.version === KNOWN_AFTER_APPLY) {
    // Apply resolves it from the results of earlier steps.
    return explicit === undefined ? { type: "agent", ref: e.ref } : { type: "agent", ref: e.ref, version: explicit };
  }
  return { type: "agent", id: r.id, version: r.version };
}

function resolveMember(m: unknown, resolve: BodyRefResolver): unknown {
  if (!isObj(m) || !Array.isArray(m.predefined_agents)) return m;
  return { ...m, predefined_agents: m.predefined_agents.map((e) => resolveEntry(e, resolve)) };
}

/** The spec with `{type: "agent", ref}` roster entries resolved where the target is known. */
export function resolveSpecRefs(spec: Obj, resolve: BodyRefResolver): Obj {
  const ma = spec.multiagent;
  if (!isObj(ma)) return spec;
  if (ma.type === "coordinator" && Array.isArray(ma.agents)) {
    return { ...spec, multiagent: { ...ma, agents: ma.agents.map((e) => resolveEntry(e, resolve)) } };
  }
  if (ma.type === "multiagent_20261001") {
    const next: Obj = { ...ma };
    if ("subagents" in ma) next.subagents = resolveMember(ma.subagents, resolve);
    if ("workflows" in ma) next.workflows = resolveMember(ma.workflows, resolve);
    return { ...spec, multiagent: next };
  }
  return spec;
}

/** `model` as a whole object; effort only when the manifest sets it (omitting it keeps the stored one). */
export function modelBody(model: unknown): Obj {
  const m: Obj = typeof model === "string" ? { id: model } : isObj(model) ? model : {};
  const out: Obj = { id: m.id };
  if (m.effort !== undefined && m.effort !== null) out.effort = typeof m.effort === "string" ? { type: m.effort } : m.effort;
  if (m.speed !== undefined && m.speed !== null) out.speed = m.speed;
  if (typeof m.inference_geo === "string") out.inference_geo = m.inference_geo;
  return out;
}

function memberBody(v: unknown): Obj {
  const m = isObj(v) ? v : { type: "enabled" };
  if (m.type !== "enabled") return { type: m.type };
  return {
    type: "enabled",
    inline_agents: isObj(m.inline_agents) ? { type: m.inline_agents.type ?? "enabled" } : { type: "enabled" },
    predefined_agents: Array.isArray(m.predefined_agents) ? m.predefined_agents : [],
  };
}

/** The complete multiagent object, so the server's level-by-level merge equals replacement. */
export function multiagentBody(v: unknown): Obj | null {
  if (!isObj(v)) return null;
  if (v.type !== "multiagent_20261001") return v;
  const adv = isObj(v.advisor) ? v.advisor : { type: "disabled" };
  return {
    type: "multiagent_20261001",
    advisor: adv.type === "enabled" ? { type: "enabled", model: adv.model } : { type: adv.type },
    subagents: memberBody(v.subagents),
    workflows: memberBody(v.workflows),
  };
}

/** The complete environment config: type, networking and all six package arrays. */
export function configBody(v: unknown): Obj {
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
  for (const m of ["apt", "cargo", "gem", "go", "npm", "pip"]) packages[m] = Array.isArray(p[m]) ? p[m] : [];
  return { type: c.type ?? "cloud", networking, packages };
}

function fieldBody(kind: ResourceKind, field: string, desired: Obj): unknown {
  const v = desired[field];
  switch (field) {
    case "model":
      return modelBody(v);
    case "tools":
    case "mcp_servers":
    case "skills":
      return Array.isArray(v) ? v : [];
    case "multiagent":
      return multiagentBody(v);
    case "execution_identity":
      return isObj(v) ? v : { type: "service_account" };
    case "config":
      return configBody(v);
    case "description":
    case "system":
      return typeof v === "string" && v !== "" ? v : kind === "environment" && v === "" ? "" : null;
    default:
      return v === undefined ? null : v;
  }
}

/**
 * The metadata patch: changed or added user keys set, removed user keys null, the ownership
 * marker set whenever live lacks it (adoption) and never removed. `ignoredKeys` are not sent.
 */
export function metadataPatch(desired: unknown, live: unknown, project: string, ignoredKeys: ReadonlySet<string> = new Set()): Obj {
  const d = isObj(desired) ? desired : {};
  const l = isObj(live) ? live : {};
  const patch: Obj = {};
  for (const [k, v] of Object.entries(d)) {
    if (k === OWNERSHIP_KEY || ignoredKeys.has(k)) continue;
    if (l[k] !== v) patch[k] = v;
  }
  for (const k of Object.keys(l)) {
    if (k === OWNERSHIP_KEY || ignoredKeys.has(k)) continue;
    if (!(k in d)) patch[k] = null;
  }
  if (l[OWNERSHIP_KEY] !== project) patch[OWNERSHIP_KEY] = project;
  return patch;
}

/**
 * The update body for a resource: only the top-level fields touched by `changes` (plus the
 * ownership marker when live lacks it). `desiredResolved` is the manifest spec with roster
 * references resolved (see resolveSpecRefs); `liveRaw` the live resource as listed.
 */
export function buildUpdateBody(
  kind: ResourceKind,
  desiredResolved: Record<string, unknown>,
  liveRaw: unknown,
  changes: FieldChange[],
  project: string,
  ignore: readonly string[] = [],
): RequestBody {
  const live = isObj(liveRaw) ? liveRaw : {};
  const fields = new Set(changes.map((c) => pointerSegments(c.pointer)[0]).filter((f): f is string => f !== undefined));
  const body: Obj = {};
  for (const field of [...fields].sort()) {
    if (field === "metadata") continue;
    body[field] = fieldBody(kind, field, desiredResolved);
  }
  const ignoredKeys = new Set(
    ignore.filter((p) => p.startsWith("/metadata/")).map((p) => pointerSegments(p)[1] as string),
  );
  const patch = metadataPatch(desiredResolved.metadata, live.metadata, project, ignoredKeys);
  if (Object.keys(patch).length > 0) body.metadata = patch;
  return body;
}

/** The create body: the manifest as the API expects it, with the ownership marker. */
export function buildCreateBody(kind: ResourceKind, desiredResolved: Record<string, unknown>, project: string): RequestBody {
  const body: Obj = {};
  for (const [k, v] of Object.entries(desiredResolved)) {
    if (v === undefined) continue;
    if (k === "multiagent") body[k] = multiagentBody(v);
    else if (k === "config") body[k] = configBody(v);
    else body[k] = v;
  }
  const md = isObj(desiredResolved.metadata) ? desiredResolved.metadata : {};
  body.metadata = { ...md, [OWNERSHIP_KEY]: project };
  if (kind === "agent" && body.multiagent === null) delete body.multiagent;
  return body;
}
