/**
 * The agent kind's rules beyond the JSON Schema (the API's documented limits for rosters, tools,
 * MCP servers and text): what the API would reject at write time, or what agentform needs
 * (resolvable roster and skill references). Pure: manifests in, diagnostics to the sink.
 */
import { suggestion } from "../../manifest/suggest.js";
import type { LoadedManifest } from "../../manifest/types.js";
import { plainHost } from "../environment/rules.js";
import type { KindRules, RuleContext, RuleSink } from "../rules.js";
import { asArray, isObj, type Obj } from "../values.js";

/** The API's limits on an agent (part of LIMITS, which src/manifest/rules.ts exports). */
export const AGENT_LIMITS = {
  rosterEntries: 20,
  mcpServers: 20,
  skills: 20,
  /** The SDK 1.11 allows 256; older API docs say 128. Staying under both is safe. */
  toolConfigs: 128,
  domains: 64,
  descriptionLength: 2048,
  systemLength: 100_000,
} as const;

const quote = (s: unknown) => JSON.stringify(s);

export const agentRules: KindRules = (agents, ctx, sink) => {
  checkRosters(agents, ctx, sink);
  // Skills whose folders did not parse are known too: the parse error is the real problem.
  const skills = new Set([...ctx.manifestNames("skill"), ...ctx.unparsedNames("skill")]);
  for (const m of agents) {
    checkMcp(m, sink);
    checkTools(m, sink);
    checkCounts(m, sink);
    checkTextLengths(m, sink);
    checkSkillsCanRead(m, sink);
    checkSkillEntries(m, skills, sink);
    if (ctx.knownModels) checkModel(m, ctx.knownModels, sink);
  }
};

/** The API's text limits: description ≤ 2,048 and system ≤ 100,000 characters. */
function checkTextLengths(m: LoadedManifest, sink: RuleSink): void {
  for (const [field, limit] of [["description", AGENT_LIMITS.descriptionLength], ["system", AGENT_LIMITS.systemLength]] as const) {
    const value = m.spec[field];
    if (typeof value === "string" && value.length > limit) {
      sink.add(m, [field], "AF-LIMIT-TEXT", `${field} has ${value.length} characters; at most ${limit} are allowed`, field === "system" ? "Shorten the system prompt, or move reference material into a skill or the environment." : "Shorten the description; it is a summary, not documentation.");
    }
  }
}

interface RosterRef {
  segments: Array<string | number>;
  entry: unknown;
  ref: string;
}

function rosterLists(spec: Obj): Array<{ segments: Array<string | number>; entries: unknown[]; min: number; needsOne: boolean }> {
  const ma = spec.multiagent;
  if (!isObj(ma)) return [];
  if (ma.type === "coordinator") return [{ segments: ["multiagent", "agents"], entries: asArray(ma.agents), min: 1, needsOne: true }];
  const lists = [];
  for (const member of ["subagents", "workflows"]) {
    const m = ma[member];
    if (!isObj(m) || m.type !== "enabled") continue;
    const inlineDisabled = isObj(m.inline_agents) && m.inline_agents.type === "disabled";
    lists.push({ segments: ["multiagent", member, "predefined_agents"], entries: asArray(m.predefined_agents), min: 0, needsOne: inlineDisabled });
  }
  return lists;
}

/**
 * Checks each roster of one agent (size, `self`, repeats, unknown refs) and returns the by-name
 * references to known agents, for the depth and cycle checks that need every agent's refs.
 */
function rosterRefs(m: LoadedManifest, known: ReadonlySet<string>, sink: RuleSink): RosterRef[] {
  const mine: RosterRef[] = [];
  for (const list of rosterLists(m.spec)) {
    if (list.entries.length > AGENT_LIMITS.rosterEntries || (list.needsOne && list.entries.length < 1)) {
      sink.add(
        m,
        list.segments,
        "AF-ROSTER-SIZE",
        list.entries.length > AGENT_LIMITS.rosterEntries ? `the roster has ${list.entries.length} entries; at most ${AGENT_LIMITS.rosterEntries} are allowed` : list.min === 1 ? "a coordinator roster needs at least one entry" : "with inline_agents disabled, predefined_agents must name at least one agent",
        "Keep each roster between 1 and 20 agents.",
      );
    }
    const seen = new Set<string>();
    let selfSeen = false;
    list.entries.forEach((entry, i) => {
      const segments = [...list.segments, i];
      if (isObj(entry) && entry.type === "self") {
        if (selfSeen) sink.add(m, segments, "AF-ROSTER-SELF", "the roster lists `self` more than once", "Keep a single `{type: self}` entry.");
        selfSeen = true;
        return;
      }
      const key = typeof entry === "string" ? `id:${entry}` : isObj(entry) ? (typeof entry.ref === "string" ? `ref:${entry.ref}` : entry.type === "advisor" ? "advisor" : `id:${String(entry.id)}`) : String(entry);
      if (seen.has(key)) {
        sink.add(m, segments, "AF-ROSTER-DUPLICATE", `this roster entry repeats an earlier one (${key.replace(/^\w+:/, "")})`, "Roster entries must name distinct agents; remove the repeat.");
        return;
      }
      seen.add(key);
      if (isObj(entry) && typeof entry.ref === "string") {
        if (!known.has(entry.ref)) {
          sink.add(m, [...segments, "ref"], "AF-REF-UNKNOWN", `no agent manifest is named ${quote(entry.ref)}${suggestion(entry.ref, known)}`, "A `ref` names another agent manifest's `name` in this project.");
        } else {
          mine.push({ segments, entry, ref: entry.ref });
        }
      }
    });
  }
  return mine;
}

function checkRosters(agents: readonly LoadedManifest[], ctx: RuleContext, sink: RuleSink): void {
  // A name two manifests share is already an AF-NAME-DUPLICATE; refs to it stay unresolved here
  // rather than pointing at whichever file loaded last and reporting depth or cycle errors that
  // are not really there.
  const counts = new Map<string, number>();
  for (const a of agents) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
  const byName = new Map(agents.filter((a) => counts.get(a.name) === 1).map((a) => [a.name, a]));
  // Agents whose files did not parse are known too: the parse error is the real problem.
  const known = new Set([...ctx.manifestNames("agent"), ...ctx.unparsedNames("agent")]);
  const refs = new Map<LoadedManifest, RosterRef[]>();
  for (const m of agents) refs.set(m, rosterRefs(m, known, sink));
  // Cycles: with depth 1 every cycle is also a depth violation; report the cycle, which is
  // the real mistake, and not the depth error on the same edge.
  const inCycle = cycleMembers(agents, (a) => (refs.get(a) ?? []).map((r) => byName.get(r.ref)).filter((x): x is LoadedManifest => x !== undefined));
  for (const m of agents) {
    for (const r of refs.get(m) ?? []) {
      const target = byName.get(r.ref);
      if (!target) continue;
      if (target === m) {
        sink.add(m, [...r.segments, "ref"], "AF-REF-CYCLE", `the agent refers to itself by name`, "Use `{type: self}` to let an agent invoke itself.");
      } else if (inCycle.has(m) && inCycle.get(m) === inCycle.get(target)) {
        sink.add(m, [...r.segments, "ref"], "AF-REF-CYCLE", `reference cycle: ${quote(m.name)} and ${quote(target.name)} refer to each other (directly or through others)`, "Rosters are one level deep: a coordinator lists agents that are not coordinators themselves.");
      } else if (isObj(target.spec.multiagent)) {
        sink.add(m, [...r.segments, "ref"], "AF-ROSTER-DEPTH", `${quote(target.name)} (${target.file}) has multiagent set itself; rosters are one level deep`, "Reference only agents without `multiagent`, or flatten the hierarchy into one roster.");
      }
    }
  }
}

/** Strongly connected components with more than one member (Tarjan): member → component id. */
function cycleMembers(nodes: readonly LoadedManifest[], edges: (n: LoadedManifest) => LoadedManifest[]): Map<LoadedManifest, number> {
  const index = new Map<LoadedManifest, number>();
  const low = new Map<LoadedManifest, number>();
  const stack: LoadedManifest[] = [];
  const onStack = new Set<LoadedManifest>();
  const result = new Map<LoadedManifest, number>();
  let counter = 0;
  let component = 0;
  const visit = (v: LoadedManifest): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const members: LoadedManifest[] = [];
      let w: LoadedManifest;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1) for (const member of members) result.set(member, component);
      component++;
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return result;
}

function checkMcp(m: LoadedManifest, sink: RuleSink): void {
  const servers = asArray(m.spec.mcp_servers);
  const declared = new Map<string, number>();
  servers.forEach((s, i) => {
    if (!isObj(s) || typeof s.name !== "string") return;
    if (declared.has(s.name)) sink.add(m, ["mcp_servers", i, "name"], "AF-MCP-SERVER-DUPLICATE", `MCP server name ${quote(s.name)} is declared twice`, "Server names must be unique within an agent.");
    else declared.set(s.name, i);
  });
  const used = new Set<string>();
  asArray(m.spec.tools).forEach((t, i) => {
    if (!isObj(t) || t.type !== "mcp_toolset" || typeof t.mcp_server_name !== "string") return;
    const name = t.mcp_server_name;
    if (!declared.has(name)) {
      sink.add(m, ["tools", i, "mcp_server_name"], "AF-MCP-SERVER-UNKNOWN", `no entry in mcp_servers is named ${quote(name)}${suggestion(name, declared.keys())}`, "Declare the server under `mcp_servers:` ({type: url, name, url}) or fix the name.");
    } else if (used.has(name)) {
      sink.add(m, ["tools", i, "mcp_server_name"], "AF-TOOL-DUPLICATE", `a second mcp_toolset for server ${quote(name)}`, "Use one mcp_toolset per server and put per-tool settings in its `configs`.");
    }
    used.add(name);
  });
  for (const [name, i] of declared) {
    if (!used.has(name)) sink.add(m, ["mcp_servers", i], "AF-MCP-SERVER-UNUSED", `MCP server ${quote(name)} is not used by any mcp_toolset`, `The API rejects unreferenced servers: add \`{type: mcp_toolset, mcp_server_name: ${name}}\` to tools, or remove the server.`);
  }
}

const CUSTOM_TOOL_NAME = /^[A-Za-z0-9_-]{1,128}$/;

function checkTools(m: LoadedManifest, sink: RuleSink): void {
  const tools = asArray(m.spec.tools);
  const customNames = new Set<string>();
  let agentToolset = false;
  tools.forEach((t, i) => {
    if (!isObj(t)) return;
    if (t.type === "custom" && typeof t.name === "string") {
      if (!CUSTOM_TOOL_NAME.test(t.name)) {
        sink.add(m, ["tools", i, "name"], "AF-TOOL-NAME-INVALID", `custom tool name ${quote(t.name)} must be 1 to 128 letters, digits, _ or -`, `Rename it, e.g. ${quote(t.name.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 128) || "my_tool")}.`);
      } else if (customNames.has(t.name)) {
        sink.add(m, ["tools", i, "name"], "AF-TOOL-DUPLICATE", `custom tool ${quote(t.name)} is defined twice`, "Tool names must be unique within an agent.");
      }
      customNames.add(t.name);
    }
    if (t.type === "agent_toolset_20260401") {
      if (agentToolset) sink.add(m, ["tools", i], "AF-TOOL-DUPLICATE", "agent_toolset_20260401 is listed twice", "Merge both into one entry; per-tool settings go in its `configs`.");
      agentToolset = true;
    }
    if (t.type === "agent_toolset_20260401" || t.type === "mcp_toolset") {
      const names = new Set<string>();
      asArray(t.configs).forEach((c, j) => {
        if (!isObj(c) || typeof c.name !== "string") return;
        if (names.has(c.name)) sink.add(m, ["tools", i, "configs", j, "name"], "AF-TOOL-DUPLICATE", `tool ${quote(c.name)} is configured twice in this toolset`, "Keep one `configs` entry per tool.");
        names.add(c.name);
        if (c.name === "web_fetch" || c.name === "web_search") checkDomains(m, ["tools", i, "configs", j], c, sink);
      });
    }
  });
  tools.forEach((t, i) => {
    if (!isObj(t) || t.type !== "agent_toolset_20260401") return;
    asArray(t.configs).forEach((c, j) => {
      if (isObj(c) && c.name === "web_fetch" && isObj(c.url_sources)) checkUrlSources(m, ["tools", i, "configs", j, "url_sources"], c.url_sources, customNames, sink);
    });
  });
}

function checkDomains(m: LoadedManifest, at: Array<string | number>, config: Obj, sink: RuleSink): void {
  const tool = String(config.name);
  const hasAllowed = config.allowed_domains !== undefined && config.allowed_domains !== null;
  const hasBlocked = config.blocked_domains !== undefined && config.blocked_domains !== null;
  if (hasAllowed && hasBlocked) {
    sink.add(m, [...at, "blocked_domains"], "AF-DOMAIN-CONFLICT", `${tool} cannot have both allowed_domains and blocked_domains`, "Use an allow-list or a block-list, not both.");
  }
  for (const key of ["allowed_domains", "blocked_domains"]) {
    const list = config[key];
    if (!Array.isArray(list)) continue;
    if (list.length === 0) {
      sink.add(m, [...at, key], "AF-DOMAIN-EMPTY", `${key} is an empty list, which the API rejects`, `Leave ${key} out to apply no ${key === "allowed_domains" ? "allow-list" : "block-list"}.`);
      continue;
    }
    if (list.length > AGENT_LIMITS.domains) sink.add(m, [...at, key], "AF-DOMAIN-TOO-MANY", `${key} has ${list.length} entries; at most ${AGENT_LIMITS.domains} are allowed`, "A domain also covers its subdomains; list parent domains instead.");
    list.forEach((d, k) => {
      if (typeof d !== "string") return;
      const problem = domainProblem(d, tool === "web_search");
      if (problem) sink.add(m, [...at, key, k], "AF-DOMAIN-INVALID", `${quote(d)} ${problem}`, `Write a plain host name such as ${quote(plainHost(d))}; it also covers subdomains.`);
    });
  }
}

function domainProblem(d: string, pathAllowed: boolean): string | undefined {
  if (d.trim() === "" || /\s/.test(d)) return "is not a host name";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(d)) return "has a scheme; domains are plain host names";
  const host = d.split("/")[0]!;
  if (/:\d*$/.test(host)) return "has a port; domains are plain host names";
  if (!pathAllowed && d.includes("/")) return "has a path; web_fetch domains are plain host names";
  if (/[?#]/.test(d)) return "has a query or fragment";
  return undefined;
}

function checkUrlSources(m: LoadedManifest, at: Array<string | number>, sources: Obj, customNames: Set<string>, sink: RuleSink): void {
  const kind = (v: unknown) => (typeof v === "string" ? v : isObj(v) ? v.type : undefined);
  if (["user_input", "client_tool_results", "server_tool_results"].every((k) => kind(sources[k]) === "none")) {
    sink.add(m, at, "AF-URL-SOURCES", "all three url_sources are none, so web_fetch could never fetch anything", "Disable the web_fetch tool instead (`enabled: false`).");
  }
  const lists: Array<[string, (name: string) => boolean, string]> = [
    ["client_tool_results", (n) => customNames.has(n), "a custom tool of this agent"],
    ["server_tool_results", (n) => n === "web_search" || n === "web_fetch", "web_search or web_fetch"],
  ];
  for (const [key, valid, what] of lists) {
    const v = sources[key];
    if (!isObj(v)) continue;
    const seen = new Set<string>();
    asArray(v.tools).forEach((ref, i) => {
      if (!isObj(ref) || typeof ref.name !== "string") return;
      if (!valid(ref.name)) sink.add(m, [...at, key, "tools", i, "name"], "AF-URL-SOURCES", `${quote(ref.name)} must name ${what}`, "Tool names are compared exactly, including case.");
      else if (seen.has(ref.name)) sink.add(m, [...at, key, "tools", i, "name"], "AF-URL-SOURCES", `${quote(ref.name)} is listed twice`, "Each tool may appear once.");
      seen.add(ref.name);
    });
  }
}

/**
 * Tool configurations as the API counts them: our reading is one per
 * custom tool and one per `configs` entry of a toolset (a toolset without configs counts once).
 */
export function countToolConfigs(tools: unknown[]): number {
  let n = 0;
  for (const t of tools) n += isObj(t) && Array.isArray(t.configs) && t.configs.length > 0 ? t.configs.length : 1;
  return n;
}

function checkCounts(m: LoadedManifest, sink: RuleSink): void {
  const servers = asArray(m.spec.mcp_servers);
  if (servers.length > AGENT_LIMITS.mcpServers) sink.add(m, ["mcp_servers"], "AF-LIMIT-MCP-SERVERS", `${servers.length} MCP servers; at most ${AGENT_LIMITS.mcpServers} are allowed`, "Split the work across agents in a multiagent roster.");
  const skills = asArray(m.spec.skills);
  if (skills.length > AGENT_LIMITS.skills) sink.add(m, ["skills"], "AF-LIMIT-SKILLS", `${skills.length} skills; at most ${AGENT_LIMITS.skills} are allowed`, "Split the skills across agents; note the limit also counts across a whole multiagent session.");
  const tools = countToolConfigs(asArray(m.spec.tools));
  if (tools > AGENT_LIMITS.toolConfigs) sink.add(m, ["tools"], "AF-LIMIT-TOOLS", `${tools} tool configurations; at most ${AGENT_LIMITS.toolConfigs} are allowed`, "Drop per-tool configs that repeat the toolset's default_config, or split the agent.");
}

function checkModel(m: LoadedManifest, known: readonly string[], sink: RuleSink): void {
  const model = m.spec.model;
  const id = typeof model === "string" ? model : isObj(model) ? model.id : undefined;
  if (typeof id !== "string" || known.includes(id)) return;
  // Model ids are an open set (new models ship before the SDK knows them), so only a near miss
  // of a known id is worth a word, and only as a warning.
  const near = suggestion(id, known);
  if (near === "") return;
  sink.add(m, typeof model === "string" ? ["model"] : ["model", "id"], "AF-MODEL-UNKNOWN", `${quote(id)} is not a model id the installed SDK knows${near}`, "Check the spelling; ids the SDK does not know are still sent as written.", "warning");
}

/** The agent toolset's effective `enabled` for one tool: its config entry, else default_config, else on. */
function toolEnabled(tools: unknown[], name: string): boolean {
  const toolset = tools.find((t) => isObj(t) && t.type === "agent_toolset_20260401");
  if (!isObj(toolset)) return false;
  const config = asArray(toolset.configs).find((c) => isObj(c) && c.name === name);
  if (isObj(config) && typeof config.enabled === "boolean") return config.enabled;
  const defaults = toolset.default_config;
  return isObj(defaults) && typeof defaults.enabled === "boolean" ? defaults.enabled : true;
}

function checkSkillsCanRead(m: LoadedManifest, sink: RuleSink): void {
  if (asArray(m.spec.skills).length === 0 || toolEnabled(asArray(m.spec.tools), "read")) return;
  sink.add(m, ["skills"], "AF-SKILLS-READ", "skills are attached but the read tool is not enabled, so the agent cannot load them", "Add agent_toolset_20260401 with the read tool enabled (the API may reject skills without it).", "warning");
}

/**
 * The skills list: a `ref` names a skill manifest of this project and pins, if at all, a
 * non-empty version id; no skill appears twice (the API refuses the same skill twice, and two
 * refs to one skill would resolve to one id).
 */
function checkSkillEntries(m: LoadedManifest, known: ReadonlySet<string>, sink: RuleSink): void {
  const seen = new Set<string>();
  asArray(m.spec.skills).forEach((e, i) => {
    if (!isObj(e)) return;
    const byRef = typeof e.ref === "string";
    if (byRef && !known.has(e.ref as string)) {
      sink.add(m, ["skills", i, "ref"], "AF-REF-UNKNOWN", `no skill manifest is named ${quote(e.ref)}${suggestion(e.ref as string, known)}`, "A skill `ref` names a skill folder (its SKILL.md `name`) in this project.");
    }
    if (byRef && "version" in e && (typeof e.version !== "string" || e.version === "")) {
      sink.add(m, ["skills", i, "version"], "AF-SKILLS-VERSION", `a skill version must be a version id (a non-empty string), not ${quote(e.version)}`, "Leave `version` out to follow the skill's latest version, or quote the version id to pin it.");
    }
    const key = byRef ? `ref:${String(e.ref)}` : typeof e.skill_id === "string" ? `${String(e.type)}:${e.skill_id}` : undefined;
    if (key === undefined) return;
    if (seen.has(key)) {
      sink.add(m, ["skills", i], "AF-SKILLS-DUPLICATE", `skill ${quote(key.replace(/^\w+:/, ""))} is listed twice`, "The API refuses the same skill twice in one agent; remove the repeat.");
    }
    seen.add(key);
  });
}
