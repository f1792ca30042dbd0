/**
 * Deployment request bodies (pure): references resolved to the API's forms (the agent as
 * `{type: agent, id, version}`), `resources` always whole (the API replaces it, so every
 * repository token is sent again, as its placeholder), and `paused`, which the backend turns into
 * a pause or unpause call.
 */
import { KNOWN_AFTER_APPLY, type BodyRefResolver, type SecretPlaceholder } from "../spec.js";
import { asArray, isObj, type Obj } from "../values.js";
import { agentRefVersion, refName } from "./refs.js";

/** The spec with every reference whose target is known resolved; the others stay `{ref}`. */
export function resolveDeploymentRefs(spec: Obj, resolve: BodyRefResolver): Obj {
  const out: Obj = { ...spec };
  const known = (r: { id: string; version?: number | string } | undefined) => r !== undefined && r.id !== KNOWN_AFTER_APPLY && r.version !== KNOWN_AFTER_APPLY;
  const agent = refName(spec.agent);
  if (agent !== undefined) {
    const explicit = agentRefVersion(spec);
    const r = resolve(explicit === undefined ? { kind: "agent", name: agent } : { kind: "agent", name: agent, version: explicit });
    if (r && known(r)) out.agent = { type: "agent", id: r.id, version: r.version };
  }
  const env = refName(spec.environment_id);
  const e = env === undefined ? undefined : resolve({ kind: "environment", name: env });
  if (e && known(e)) out.environment_id = e.id;
  if (Array.isArray(spec.vault_ids)) {
    out.vault_ids = spec.vault_ids.map((v) => {
      const name = refName(v);
      const r = name === undefined ? undefined : resolve({ kind: "vault", name });
      return r && known(r) ? r.id : v;
    });
  }
  if (Array.isArray(spec.resources)) {
    out.resources = spec.resources.map((res) => {
      const name = isObj(res) && res.type === "memory_store" ? refName(res) : undefined;
      const r = name === undefined ? undefined : resolve({ kind: "memory_store", name });
      if (!r || !known(r) || !isObj(res)) return res;
      const { ref: _ref, ...rest } = res;
      return { ...rest, memory_store_id: r.id };
    });
  }
  return out;
}

/** Resources as the API takes them: each repository token as its placeholder. */
export function resourcesBody(v: unknown): unknown[] {
  return asArray(v).map((r) => {
    if (!isObj(r) || typeof r.authorization_token_env !== "string") return r;
    const { authorization_token_env: env, ...rest } = r;
    const placeholder: SecretPlaceholder = { $env: env };
    return { ...rest, authorization_token: placeholder };
  });
}

export function deploymentCreateFields(spec: Obj): Obj {
  const body: Obj = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined || k === "agentform" || k.startsWith("$")) continue;
    body[k] = k === "resources" ? resourcesBody(v) : v;
  }
  return body;
}

/** One top-level field of an update body, as the update table wants it (null clears; resources whole). */
export function deploymentFieldBody(field: string, desired: Obj): unknown {
  const v = desired[field];
  if (field === "resources") return resourcesBody(v);
  if (field === "paused") return v === true;
  if (field === "vault_ids") return asArray(v);
  if (field === "description") return typeof v === "string" && v !== "" ? v : null;
  return v === undefined ? null : v;
}

/** Where a body holds repository tokens: each github_repository resource's authorization_token. */
export function tokenPointers(body: Obj): string[] {
  return asArray(body.resources).flatMap((r, i) => (isObj(r) && r.type === "github_repository" && r.authorization_token !== undefined ? [`/resources/${i}/authorization_token`] : []));
}

/** The variables a deployment's repository tokens come from, in resource order. */
export function tokenEnvNames(spec: Obj): string[] {
  return asArray(spec.resources).flatMap((r) => (isObj(r) && typeof r.authorization_token_env === "string" ? [r.authorization_token_env] : []));
}
