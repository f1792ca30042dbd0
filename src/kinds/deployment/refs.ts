/**
 * Where a deployment names other resources: its agent (`agent: {ref, version?}`), its environment
 * (`environment_id: {ref}`), its vaults (`vault_ids: [{ref}]`) and its memory stores (resources
 * `{type: memory_store, ref}`). Each also takes the API's own id form, for resources this project
 * does not manage.
 */
import type { KindRef, ResourceKind } from "../types.js";
import type { ImportNameOf } from "../spec.js";
import { asArray, isObj, type Obj } from "../values.js";

/** The name a `{ref: name}` value names, else undefined. */
export function refName(v: unknown): string | undefined {
  return isObj(v) && typeof v.ref === "string" ? v.ref : undefined;
}

/** The explicit version of the agent reference (`agent: {ref, version: 3}`), else undefined. */
export function agentRefVersion(spec: Obj): number | undefined {
  return isObj(spec.agent) && typeof spec.agent.version === "number" ? spec.agent.version : undefined;
}

/** Every by-name reference of a deployment manifest, in document order. */
export function deploymentReferences(spec: Obj): KindRef[] {
  const out: KindRef[] = [];
  const agent = refName(spec.agent);
  if (agent !== undefined) {
    const version = agentRefVersion(spec);
    out.push(version === undefined ? { kind: "agent", name: agent } : { kind: "agent", name: agent, version });
  }
  const environment = refName(spec.environment_id);
  if (environment !== undefined) out.push({ kind: "environment", name: environment });
  const push = (kind: ResourceKind, v: unknown) => {
    const name = refName(v);
    if (name !== undefined) out.push({ kind, name });
  };
  for (const v of asArray(spec.vault_ids)) push("vault", v);
  for (const r of asArray(spec.resources)) if (isObj(r) && r.type === "memory_store") push("memory_store", r);
  return out;
}

/** The ids a live deployment uses: its agent, environment, vaults and memory stores (prune waits for it to let go). */
export function deploymentReferenceIds(live: Obj): string[] {
  const ids = new Set<string>();
  if (isObj(live.agent) && typeof live.agent.id === "string") ids.add(live.agent.id);
  if (typeof live.environment_id === "string") ids.add(live.environment_id);
  for (const v of asArray(live.vault_ids)) if (typeof v === "string") ids.add(v);
  for (const r of asArray(live.resources)) if (isObj(r) && typeof r.memory_store_id === "string") ids.add(r.memory_store_id);
  return [...ids];
}

/**
 * For import: the agent, environment, vaults and memory stores a live-made manifest names by id,
 * by name where they have manifests (`{ref}`; the agent's `version` only when not its latest).
 */
export function deploymentNamedRefs(manifest: Obj, nameOf: ImportNameOf): Obj {
  const out: Obj = { ...manifest };
  const byName = (kind: ResourceKind, v: unknown): unknown => {
    const target = typeof v === "string" ? nameOf(kind, v) : undefined;
    return target ? { ref: target.name } : v;
  };
  const a = out.agent;
  const agent = isObj(a) && typeof a.id === "string" ? nameOf("agent", a.id) : undefined;
  if (isObj(a) && agent) out.agent = typeof a.version === "number" && a.version !== agent.latest ? { ref: agent.name, version: a.version } : { ref: agent.name };
  if (out.environment_id !== undefined) out.environment_id = byName("environment", out.environment_id);
  if (Array.isArray(out.vault_ids)) out.vault_ids = out.vault_ids.map((v) => byName("vault", v));
  if (Array.isArray(out.resources)) {
    out.resources = out.resources.map((r) => {
      if (!isObj(r) || r.type !== "memory_store" || typeof r.memory_store_id !== "string") return r;
      const target = nameOf("memory_store", r.memory_store_id);
      if (!target) return r;
      const { memory_store_id: _id, ...rest } = r;
      return { ...rest, ref: target.name };
    });
  }
  return out;
}
