/**
 * An agent in an `ant apply` repository: roster entries and skills name other resources by
 * path, glob, id or `{path, version: latest}`; tools and MCP servers may be spliced from data
 * files. Here each reference becomes agentform's by-name entry.
 */
import { extraWithoutType, listAt, mapRefList, type AntForm, type AntTarget } from "../ant.js";
import type { Obj } from "../values.js";

/** The roster lists an agent may have (coordinator, subagents, workflows). */
const ROSTERS = [["multiagent", "agents"], ["multiagent", "subagents", "predefined_agents"], ["multiagent", "workflows", "predefined_agents"]] as const;

/** A skill id written inline (`skill_011…`, with an optional lowercase label between prefix and suffix). */
const SKILL_ID = /^skill_(?:[a-z]+_)?[A-Za-z0-9]+$/;

function rosterEntry(t: AntTarget): Obj {
  return "id" in t ? { ...extraWithoutType(t.extra), type: "agent", id: t.id } : { ...extraWithoutType(t.extra), type: "agent", ref: t.name };
}

function skillEntry(t: AntTarget): Obj {
  if ("id" in t) return { ...extraWithoutType(t.extra), type: "custom", skill_id: t.id };
  return { ...extraWithoutType(t.extra), type: "custom", ref: t.name, ...(t.latest ? { version: "latest" } : {}) };
}

export const agentAnt: AntForm = {
  refs(value, resolve) {
    const out = structuredClone(value);
    for (const segments of ROSTERS) {
      const at = listAt(out, segments);
      if (at) at.list.splice(0, at.list.length, ...mapRefList(at.list, at.pointer, "agent", resolve, "id", rosterEntry));
    }
    const skills = listAt(out, ["skills"]);
    if (skills) {
      const entries = mapRefList(skills.list, skills.pointer, "skill", resolve, "skill_id", skillEntry);
      // An inline id is a skill outside the repository, sent as the API's entry (unpinned).
      skills.list.splice(0, skills.list.length, ...entries.map((e) => (typeof e === "string" && SKILL_ID.test(e) ? { type: "custom", skill_id: e } : e)));
    }
    return out;
  },
  splices: ["tools", "mcp_servers"],
};
