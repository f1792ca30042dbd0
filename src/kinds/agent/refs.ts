/**
 * Where an agent holds references to other resources (agents in its rosters, skills in its
 * skills list), as one walk: by-name references in a manifest, ids in a live agent, and the
 * canonical pointers of followed versions.
 */
import type { KindRef } from "../types.js";
import type { ImportNameOf } from "../spec.js";
import { asArray, isObj, type Obj } from "../values.js";
import { pointerSegments } from "../../util/pointer.js";

/** The roster lists of a spec or live agent: the coordinator's agents, then subagents' and workflows' predefined agents. */
export function rosterLists(spec: Obj): unknown[][] {
  const ma = spec.multiagent;
  if (!isObj(ma)) return [];
  if (ma.type === "coordinator") return Array.isArray(ma.agents) ? [ma.agents] : [];
  const lists: unknown[][] = [];
  for (const member of ["subagents", "workflows"]) {
    const m = ma[member];
    if (isObj(m) && Array.isArray(m.predefined_agents)) lists.push(m.predefined_agents);
  }
  return lists;
}

/**
 * The explicit version of a `{type: "custom", ref}` skill entry: skill versions are ids (strings);
 * anything else (the schema refuses it) counts as none, so the entry follows the latest.
 */
function skillRefVersion(e: Obj): string | undefined {
  return typeof e.version === "string" && e.version !== "" ? e.version : undefined;
}

/** The skill a manifest's skills-list entry names by `ref` (any entry with a string `ref` is one), as a KindRef. */
export function skillRefOf(e: unknown): KindRef | undefined {
  if (!isObj(e) || typeof e.ref !== "string") return undefined;
  const version = skillRefVersion(e);
  return version === undefined ? { kind: "skill", name: e.ref } : { kind: "skill", name: e.ref, version };
}

/**
 * The resources a manifest names by `ref`: agents in its rosters (`{type: "agent", ref}`), then
 * skills in its skills list (`{type: "custom", ref}`), each in document order.
 */
export function agentReferences(spec: Obj): KindRef[] {
  const out: KindRef[] = [];
  for (const list of rosterLists(spec)) {
    for (const e of list) {
      if (!isObj(e) || typeof e.ref !== "string") continue;
      out.push(typeof e.version === "number" ? { kind: "agent", name: e.ref, version: e.version } : { kind: "agent", name: e.ref });
    }
  }
  for (const e of asArray(spec.skills)) {
    const ref = skillRefOf(e);
    if (ref) out.push(ref);
  }
  return out;
}

/**
 * The ids a live agent references: agents its rosters name (ids, or `{type: "agent", id}`), and
 * its custom skills (a skill is deleted only once no agent uses it any more).
 */
export function agentReferenceIds(live: Obj): string[] {
  const ids = new Set<string>();
  for (const list of rosterLists(live)) {
    for (const e of list) {
      if (typeof e === "string") ids.add(e);
      else if (isObj(e) && typeof e.id === "string") ids.add(e.id);
    }
  }
  for (const s of asArray(live.skills)) if (isObj(s) && s.type === "custom" && typeof s.skill_id === "string") ids.add(s.skill_id);
  return [...ids];
}

/** The roster key of a canonical pointer to a roster entry's version (coordinator agents or predefined_agents), else null. */
export function rosterVersionKey(pointer: string): string | null {
  const s = pointerSegments(pointer);
  if (s[0] !== "multiagent" || s[s.length - 1] !== "version") return null;
  if (s.length === 4 && s[1] === "agents") return s[2] as string;
  if (s.length === 5 && s[2] === "predefined_agents") return s[3] as string;
  return null;
}

/**
 * The reference key of a canonical pointer to a skill's version: `custom:<id>` → the skill id,
 * `ref:<name>` → itself (a skill without an id yet); anthropic skills are never references.
 */
export function skillVersionKey(pointer: string): string | null {
  const s = pointerSegments(pointer);
  if (s.length !== 3 || s[0] !== "skills" || s[2] !== "version") return null;
  const key = s[1] as string;
  if (key.startsWith("custom:")) return key.slice("custom:".length);
  if (key.startsWith("ref:")) return key;
  return null;
}

/** The reference key of a changed canonical pointer that is a followed version (roster entry or skill), else null. */
export function agentFollowedRefKey(pointer: string): string | null {
  return rosterVersionKey(pointer) ?? skillVersionKey(pointer);
}

/**
 * For import: roster entries naming an agent by id (`{type: agent, id, version}` or the bare id)
 * become `{type: agent, ref}` where that agent has a manifest, with `version` only when it is not
 * the agent's latest (a reference without one follows it), and custom skills likewise. Other
 * entries are kept.
 */
export function agentNamedRefs(manifest: Obj, nameOf: ImportNameOf): Obj {
  const out = structuredClone(manifest);
  for (const list of rosterLists(out)) {
    list.forEach((e, i) => {
      const id = typeof e === "string" ? e : isObj(e) && e.type === "agent" && typeof e.id === "string" ? e.id : undefined;
      const target = id === undefined ? undefined : nameOf("agent", id);
      if (!target) return;
      const version = isObj(e) && typeof e.version === "number" ? e.version : undefined;
      list[i] = version !== undefined && version !== target.latest ? { type: "agent", ref: target.name, version } : { type: "agent", ref: target.name };
    });
  }
  if (Array.isArray(out.skills)) out.skills = out.skills.map((s) => namedSkill(s, nameOf));
  return out;
}

/**
 * A custom skill entry `{type: custom, skill_id, version}` → `{type: custom, ref}` where the skill
 * has a manifest: no version when it pins the skill's latest (the ref follows it), else the
 * version it pins (`latest` included: the API keeps that literally).
 */
function namedSkill(s: unknown, nameOf: ImportNameOf): unknown {
  if (!isObj(s) || s.type !== "custom" || typeof s.skill_id !== "string") return s;
  const target = nameOf("skill", s.skill_id);
  if (!target) return s;
  const version = typeof s.version === "string" && s.version !== "" ? s.version : undefined;
  return version === undefined || version === target.latest ? { type: "custom", ref: target.name } : { type: "custom", ref: target.name, version };
}
