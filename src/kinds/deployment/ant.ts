/**
 * A deployment in an `ant apply` repository: its agent, environment, vaults and memory stores
 * named by path (extra keys such as `access` and `instructions` ride along), or by id. Here each
 * becomes agentform's `{ref}` form.
 */
import { extraWithoutType, listAt, mapRef, mapRefList, type AntForm, type AntTarget } from "../ant.js";
import { isObj, type Obj } from "../values.js";

const byName = (t: AntTarget): unknown => ("id" in t ? t.id : { ref: t.name });

function agentRef(t: AntTarget): Obj {
  return "id" in t ? { ...extraWithoutType(t.extra), type: "agent", id: t.id } : { ...extraWithoutType(t.extra), ref: t.name };
}

function storeEntry(t: AntTarget): Obj {
  return "id" in t ? { ...extraWithoutType(t.extra), type: "memory_store", memory_store_id: t.id } : { type: "memory_store", ...extraWithoutType(t.extra), ref: t.name };
}

export const deploymentAnt: AntForm = {
  refs(value, resolve) {
    const out: Obj = structuredClone(value);
    if (out.agent !== undefined) out.agent = mapRef(out.agent, "/agent", "agent", resolve, "id", agentRef);
    if (out.environment_id !== undefined) out.environment_id = mapRef(out.environment_id, "/environment_id", "environment", resolve, undefined, byName);
    const vaults = listAt(out, ["vault_ids"]);
    if (vaults) out.vault_ids = mapRefList(vaults.list, vaults.pointer, "vault", resolve, undefined, byName);
    const resources = listAt(out, ["resources"]);
    if (resources) {
      // Only memory stores are references here; other resources (files, repositories) stay as written.
      out.resources = resources.list.flatMap((r, i) => {
        if (isObj(r) && r.type !== undefined && r.type !== "memory_store") return [r];
        const targets = resolve(r, "memory_store", `${resources.pointer}/${i}`, "memory_store_id");
        return targets === undefined ? [r] : targets.map(storeEntry);
      });
    }
    return out;
  },
};
