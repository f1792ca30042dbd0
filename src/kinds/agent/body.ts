/**
 * Agent request bodies (pure), following the API's update semantics: `model` sent whole,
 * `multiagent` spelled out completely (the server merges it level by level, so a complete
 * object is the only way to replace it), rosters and skills with by-name references resolved.
 */
import { KNOWN_AFTER_APPLY, type BodyRefResolver } from "../spec.js";
import { createFieldsOf, isObj, type Obj } from "../values.js";
import { skillRefOf } from "./refs.js";

function resolveEntry(e: unknown, resolve: BodyRefResolver): unknown {
  if (!isObj(e) || typeof e.ref !== "string") return e;
  const explicit = typeof e.version === "number" ? e.version : undefined;
  const r = resolve(explicit === undefined ? { kind: "agent", name: e.ref } : { kind: "agent", name: e.ref, version: explicit });
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

/**
 * A `{type: "custom", ref}` skill entry as the API takes it: `{type, skill_id, version}` pinning
 * the explicit version, else the skill's latest version id (so the stored agent names a version,
 * and a new skill version is a change to send).
 */
function resolveSkill(e: unknown, resolve: BodyRefResolver): unknown {
  const target = skillRefOf(e);
  if (!target) return e;
  const r = resolve(target);
  if (!r || r.id === KNOWN_AFTER_APPLY || r.version === KNOWN_AFTER_APPLY) {
    // Apply resolves it from the results of earlier steps (the skill's create or new version).
    return target.version === undefined ? { type: "custom", ref: target.name } : { type: "custom", ref: target.name, version: target.version };
  }
  const version = target.version ?? r.version;
  return version === undefined ? { type: "custom", skill_id: r.id } : { type: "custom", skill_id: r.id, version: String(version) };
}

function resolveMultiagent(ma: unknown, resolve: BodyRefResolver): unknown {
  if (!isObj(ma)) return ma;
  if (ma.type === "coordinator" && Array.isArray(ma.agents)) return { ...ma, agents: ma.agents.map((e) => resolveEntry(e, resolve)) };
  if (ma.type === "multiagent_20261001") {
    const next: Obj = { ...ma };
    if ("subagents" in ma) next.subagents = resolveMember(ma.subagents, resolve);
    if ("workflows" in ma) next.workflows = resolveMember(ma.workflows, resolve);
    return next;
  }
  return ma;
}

/** The spec with `{type: "agent", ref}` roster entries and `{type: "custom", ref}` skills resolved where the target is known. */
export function resolveAgentRefs(spec: Obj, resolve: BodyRefResolver): Obj {
  const out: Obj = { ...spec };
  if ("multiagent" in spec) out.multiagent = resolveMultiagent(spec.multiagent, resolve);
  if (Array.isArray(spec.skills)) out.skills = spec.skills.map((e) => resolveSkill(e, resolve));
  return out;
}

/** `model` as a whole object; effort only when the manifest sets it (omitting it keeps the stored one). */
function modelBody(model: unknown): Obj {
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
function multiagentBody(v: unknown): Obj | null {
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

/** One top-level field of an update body. */
export function agentFieldBody(field: string, desired: Obj): unknown {
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
    case "description":
    case "system":
      return typeof v === "string" && v !== "" ? v : null;
    default:
      return v === undefined ? null : v;
  }
}

/** The create body's fields (the generic layer adds the ownership marker). */
export function agentCreateFields(spec: Obj): Obj {
  const body = createFieldsOf(spec, { multiagent: multiagentBody });
  if (body.multiagent === null) delete body.multiagent;
  return body;
}
