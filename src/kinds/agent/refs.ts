/**
 * Where an agent holds references to other agents (its rosters), as one walk: by-name
 * references in a manifest, ids in a live agent, and the canonical pointers of roster versions.
 */
import type { KindRef } from "../types.js";
import { isObj, type Obj } from "../values.js";
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

/** The agents a manifest's rosters name through `{type: "agent", ref}` entries. */
export function agentReferences(spec: Obj): KindRef[] {
  const out: KindRef[] = [];
  for (const list of rosterLists(spec)) {
    for (const e of list) {
      if (!isObj(e) || typeof e.ref !== "string") continue;
      out.push(typeof e.version === "number" ? { kind: "agent", name: e.ref, version: e.version } : { kind: "agent", name: e.ref });
    }
  }
  return out;
}

/** The agent ids a live agent's rosters name (entries are ids, or `{type: "agent", id}`). */
export function agentReferenceIds(live: Obj): string[] {
  const ids = new Set<string>();
  for (const list of rosterLists(live)) {
    for (const e of list) {
      if (typeof e === "string") ids.add(e);
      else if (isObj(e) && typeof e.id === "string") ids.add(e.id);
    }
  }
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
