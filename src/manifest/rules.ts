/**
 * Rules beyond the JSON Schema (the API's documented limits for tools, rosters and environments): what the API would reject at
 * write time, or what agentform itself needs (unique names, resolvable references, room for the
 * ownership marker). Pure: plain manifests in, diagnostics out.
 */
import { pointerToPath } from "./format.js";
import { toPointer } from "./source.js";
import { suggestion } from "./suggest.js";
import type { Diagnostic, LoadedManifest } from "./types.js";

export const LIMITS = {
  rosterEntries: 20,
  mcpServers: 20,
  skills: 20,
  /** The SDK 1.11 allows 256; older API docs say 128. Staying under both is safe. */
  toolConfigs: 128,
  /** 16 on the API, one reserved for agentform's ownership marker. */
  metadataKeys: 15,
  metadataKeyLength: 64,
  metadataValueLength: 512,
  domains: 64,
  nameLength: 256,
  descriptionLength: 2048,
  systemLength: 100_000,
} as const;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const quote = (s: unknown) => JSON.stringify(s);

export interface RuleOptions {
  /** Names of agents whose files exist but failed earlier checks: references to them are not "unknown". */
  otherAgentNames?: readonly string[];
  /** Names live in the workspace, when the caller knows them (plan), for rename checks. */
  liveNames?: { agents: readonly string[]; environments: readonly string[] };
  /** Model ids the installed SDK knows; a near miss gets a warning with a suggestion. */
  knownModels?: readonly string[];
}

class Sink {
  readonly out: Diagnostic[] = [];
  add(m: LoadedManifest, segments: ReadonlyArray<string | number>, code: string, message: string, hint: string, severity: "error" | "warning" = "error"): void {
    const pointer = toPointer(segments);
    const pos = m.locate(pointer);
    this.out.push({ code, severity, file: m.file, line: pos.line, column: pos.column, path: pointerToPath(pointer), message, hint });
  }
}

/** Pure: the rules beyond the schema, over already-parsed (schema-valid) manifests. */
export function checkRules(agents: LoadedManifest[], environments: LoadedManifest[], options: RuleOptions = {}): Diagnostic[] {
  const sink = new Sink();
  checkNames(agents, "agent", sink);
  checkNames(environments, "environment", sink);
  checkPreviousNames(agents, "agent", options.liveNames?.agents, sink);
  checkPreviousNames(environments, "environment", options.liveNames?.environments, sink);
  checkRosters(agents, options.otherAgentNames ?? [], sink);
  for (const m of agents) {
    checkMcp(m, sink);
    checkTools(m, sink);
    checkCounts(m, sink);
    checkTextLengths(m, sink);
    checkSkillsCanRead(m, sink);
    if (options.knownModels) checkModel(m, options.knownModels, sink);
  }
  for (const m of environments) checkNetworking(m, sink);
  for (const m of [...agents, ...environments]) checkMetadata(m, sink);
  return sink.out;
}

/** The API's text limits: description ≤ 2,048 and system ≤ 100,000 characters. */
function checkTextLengths(m: LoadedManifest, sink: Sink): void {
  for (const [field, limit] of [["description", LIMITS.descriptionLength], ["system", LIMITS.systemLength]] as const) {
    const value = m.spec[field];
    if (typeof value === "string" && value.length > limit) {
      sink.add(m, [field], "AF-LIMIT-TEXT", `${field} has ${value.length} characters; at most ${limit} are allowed`, field === "system" ? "Shorten the system prompt, or move reference material into a skill or the environment." : "Shorten the description; it is a summary, not documentation.");
    }
  }
}

/**
 * C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates: in a name
 * they make two different resources print alike (or a name print as something else entirely)
 * in plans, logs and the lockfile.
 */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** The name quoted with every control character as an escape, so the message shows where they are without carrying them. */
function escapeControls(name: string): string {
  // JSON.stringify already escapes C0; DEL, C1 and the bidi controls it leaves as they are.
  return JSON.stringify(name).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function checkNameChars(m: LoadedManifest, segments: Array<string | number>, name: string, kind: string, sink: Sink): void {
  if (!CONTROL_CHARS.test(name)) return;
  sink.add(m, segments, "AF-NAME-CONTROL-CHAR", `the ${kind} name ${escapeControls(name)} contains control or bidirectional-override characters`, "Use printable characters only; invisible characters make different names look alike in plans and logs.");
}

function checkNames(manifests: LoadedManifest[], kind: string, sink: Sink): void {
  const byName = new Map<string, LoadedManifest[]>();
  for (const m of manifests) {
    if (m.name.trim() === "" || m.name.length > LIMITS.nameLength) {
      sink.add(m, ["name"], "AF-NAME-INVALID", `the ${kind} name must be 1 to ${LIMITS.nameLength} characters and not blank`, `Give the ${kind} a short, unique name; it is its identity in the workspace.`);
    }
    checkNameChars(m, ["name"], m.name, kind, sink);
    m.settings.previous_names.forEach((prev, i) => checkNameChars(m, ["agentform", "previous_names", i], prev, kind, sink));
    byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  }
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const m of group) {
      const others = group.filter((o) => o !== m).map((o) => o.file);
      sink.add(m, ["name"], "AF-NAME-DUPLICATE", `${kind} name ${quote(name)} is also used by ${others.join(", ")}`, `Names identify ${kind}s in the workspace; give each manifest its own name.`);
    }
  }
}

function checkPreviousNames(manifests: LoadedManifest[], kind: string, liveNames: readonly string[] | undefined, sink: Sink): void {
  const current = new Map(manifests.map((m) => [m.name, m]));
  const claimedBy = new Map<string, LoadedManifest>();
  const live = new Set(liveNames ?? []);
  for (const m of manifests) {
    const seen = new Set<string>();
    m.settings.previous_names.forEach((prev, i) => {
      const at = ["agentform", "previous_names", i];
      if (seen.has(prev) || prev === m.name) {
        sink.add(m, at, "AF-PREVIOUS-NAME-DUPLICATE", prev === m.name ? `${quote(prev)} is this ${kind}'s current name` : `${quote(prev)} is listed twice`, "List each earlier name once, and never the current name.");
        return;
      }
      seen.add(prev);
      const owner = current.get(prev);
      if (owner && owner !== m) {
        sink.add(m, at, "AF-PREVIOUS-NAME-COLLISION", `${quote(prev)} is the current name of ${owner.file}`, `A rename source cannot also be another ${kind}'s name; remove it from previous_names.`);
        return;
      }
      const other = claimedBy.get(prev);
      if (other) {
        sink.add(m, at, "AF-PREVIOUS-NAME-DUPLICATE", `${quote(prev)} is also a previous name of ${other.file}`, `Only one ${kind} can be renamed from a given name.`);
        return;
      }
      claimedBy.set(prev, m);
      if (live.has(prev) && live.has(m.name)) {
        sink.add(m, at, "AF-PREVIOUS-NAME-LIVE", `both ${quote(prev)} and ${quote(m.name)} exist in the workspace, so the rename is ambiguous`, `Archive one of them first, or remove ${quote(prev)} from previous_names.`);
      }
    });
  }
}

interface RosterEntry {
  segments: Array<string | number>;
  entry: unknown;
}

function rosterLists(spec: Obj): Array<{ segments: Array<string | number>; entries: unknown[]; min: number; needsOne: boolean }> {
  const ma = spec.multiagent;
  if (!isObject(ma)) return [];
  if (ma.type === "coordinator") return [{ segments: ["multiagent", "agents"], entries: asArray(ma.agents), min: 1, needsOne: true }];
  const lists = [];
  for (const member of ["subagents", "workflows"]) {
    const m = ma[member];
    if (!isObject(m) || m.type !== "enabled") continue;
    const inlineDisabled = isObject(m.inline_agents) && m.inline_agents.type === "disabled";
    lists.push({ segments: ["multiagent", member, "predefined_agents"], entries: asArray(m.predefined_agents), min: 0, needsOne: inlineDisabled });
  }
  return lists;
}

function checkRosters(agents: LoadedManifest[], otherAgentNames: readonly string[], sink: Sink): void {
  // A name two manifests share is already an AF-NAME-DUPLICATE; refs to it stay unresolved here
  // rather than pointing at whichever file loaded last and reporting depth or cycle errors that
  // are not really there.
  const counts = new Map<string, number>();
  for (const a of agents) counts.set(a.name, (counts.get(a.name) ?? 0) + 1);
  const byName = new Map(agents.filter((a) => counts.get(a.name) === 1).map((a) => [a.name, a]));
  const known = new Set([...agents.map((a) => a.name), ...otherAgentNames]);
  const refs = new Map<LoadedManifest, Array<RosterEntry & { ref: string }>>();
  for (const m of agents) {
    const mine: Array<RosterEntry & { ref: string }> = [];
    for (const list of rosterLists(m.spec)) {
      if (list.entries.length > LIMITS.rosterEntries || (list.needsOne && list.entries.length < 1)) {
        sink.add(
          m,
          list.segments,
          "AF-ROSTER-SIZE",
          list.entries.length > LIMITS.rosterEntries ? `the roster has ${list.entries.length} entries; at most ${LIMITS.rosterEntries} are allowed` : list.min === 1 ? "a coordinator roster needs at least one entry" : "with inline_agents disabled, predefined_agents must name at least one agent",
          "Keep each roster between 1 and 20 agents.",
        );
      }
      const seen = new Set<string>();
      let selfSeen = false;
      list.entries.forEach((entry, i) => {
        const segments = [...list.segments, i];
        if (isObject(entry) && entry.type === "self") {
          if (selfSeen) sink.add(m, segments, "AF-ROSTER-SELF", "the roster lists `self` more than once", "Keep a single `{type: self}` entry.");
          selfSeen = true;
          return;
        }
        const key = typeof entry === "string" ? `id:${entry}` : isObject(entry) ? (typeof entry.ref === "string" ? `ref:${entry.ref}` : entry.type === "advisor" ? "advisor" : `id:${String(entry.id)}`) : String(entry);
        if (seen.has(key)) {
          sink.add(m, segments, "AF-ROSTER-DUPLICATE", `this roster entry repeats an earlier one (${key.replace(/^\w+:/, "")})`, "Roster entries must name distinct agents; remove the repeat.");
          return;
        }
        seen.add(key);
        if (isObject(entry) && typeof entry.ref === "string") {
          if (!known.has(entry.ref)) {
            sink.add(m, [...segments, "ref"], "AF-REF-UNKNOWN", `no agent manifest is named ${quote(entry.ref)}${suggestion(entry.ref, known)}`, "A `ref` names another agent manifest's `name` in this project.");
          } else {
            mine.push({ segments, entry, ref: entry.ref });
          }
        }
      });
    }
    refs.set(m, mine);
  }
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
      } else if (isObject(target.spec.multiagent)) {
        sink.add(m, [...r.segments, "ref"], "AF-ROSTER-DEPTH", `${quote(target.name)} (${target.file}) has multiagent set itself; rosters are one level deep`, "Reference only agents without `multiagent`, or flatten the hierarchy into one roster.");
      }
    }
  }
}

/** Strongly connected components with more than one member (Tarjan): member → component id. */
function cycleMembers(nodes: LoadedManifest[], edges: (n: LoadedManifest) => LoadedManifest[]): Map<LoadedManifest, number> {
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

function checkMcp(m: LoadedManifest, sink: Sink): void {
  const servers = asArray(m.spec.mcp_servers);
  const declared = new Map<string, number>();
  servers.forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== "string") return;
    if (declared.has(s.name)) sink.add(m, ["mcp_servers", i, "name"], "AF-MCP-SERVER-DUPLICATE", `MCP server name ${quote(s.name)} is declared twice`, "Server names must be unique within an agent.");
    else declared.set(s.name, i);
  });
  const used = new Set<string>();
  asArray(m.spec.tools).forEach((t, i) => {
    if (!isObject(t) || t.type !== "mcp_toolset" || typeof t.mcp_server_name !== "string") return;
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

function checkTools(m: LoadedManifest, sink: Sink): void {
  const tools = asArray(m.spec.tools);
  const customNames = new Set<string>();
  let agentToolset = false;
  tools.forEach((t, i) => {
    if (!isObject(t)) return;
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
        if (!isObject(c) || typeof c.name !== "string") return;
        if (names.has(c.name)) sink.add(m, ["tools", i, "configs", j, "name"], "AF-TOOL-DUPLICATE", `tool ${quote(c.name)} is configured twice in this toolset`, "Keep one `configs` entry per tool.");
        names.add(c.name);
        if (c.name === "web_fetch" || c.name === "web_search") checkDomains(m, ["tools", i, "configs", j], c, sink);
      });
    }
  });
  tools.forEach((t, i) => {
    if (!isObject(t) || t.type !== "agent_toolset_20260401") return;
    asArray(t.configs).forEach((c, j) => {
      if (isObject(c) && c.name === "web_fetch" && isObject(c.url_sources)) checkUrlSources(m, ["tools", i, "configs", j, "url_sources"], c.url_sources, customNames, sink);
    });
  });
}

function checkDomains(m: LoadedManifest, at: Array<string | number>, config: Obj, sink: Sink): void {
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
    if (list.length > LIMITS.domains) sink.add(m, [...at, key], "AF-DOMAIN-TOO-MANY", `${key} has ${list.length} entries; at most ${LIMITS.domains} are allowed`, "A domain also covers its subdomains; list parent domains instead.");
    list.forEach((d, k) => {
      if (typeof d !== "string") return;
      const problem = domainProblem(d, tool === "web_search");
      if (problem) sink.add(m, [...at, key, k], "AF-DOMAIN-INVALID", `${quote(d)} ${problem}`, `Write a plain host name such as ${quote(plainHost(d))}; it also covers subdomains.`);
    });
  }
}

function plainHost(d: string): string {
  return d.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/[/?#].*$/, "").replace(/:\d+$/, "") || "docs.example.com";
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

function checkUrlSources(m: LoadedManifest, at: Array<string | number>, sources: Obj, customNames: Set<string>, sink: Sink): void {
  const kind = (v: unknown) => (typeof v === "string" ? v : isObject(v) ? v.type : undefined);
  if (["user_input", "client_tool_results", "server_tool_results"].every((k) => kind(sources[k]) === "none")) {
    sink.add(m, at, "AF-URL-SOURCES", "all three url_sources are none, so web_fetch could never fetch anything", "Disable the web_fetch tool instead (`enabled: false`).");
  }
  const lists: Array<[string, (name: string) => boolean, string]> = [
    ["client_tool_results", (n) => customNames.has(n), "a custom tool of this agent"],
    ["server_tool_results", (n) => n === "web_search" || n === "web_fetch", "web_search or web_fetch"],
  ];
  for (const [key, valid, what] of lists) {
    const v = sources[key];
    if (!isObject(v)) continue;
    const seen = new Set<string>();
    asArray(v.tools).forEach((ref, i) => {
      if (!isObject(ref) || typeof ref.name !== "string") return;
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
  for (const t of tools) n += isObject(t) && Array.isArray(t.configs) && t.configs.length > 0 ? t.configs.length : 1;
  return n;
}

function checkCounts(m: LoadedManifest, sink: Sink): void {
  const servers = asArray(m.spec.mcp_servers);
  if (servers.length > LIMITS.mcpServers) sink.add(m, ["mcp_servers"], "AF-LIMIT-MCP-SERVERS", `${servers.length} MCP servers; at most ${LIMITS.mcpServers} are allowed`, "Split the work across agents in a multiagent roster.");
  const skills = asArray(m.spec.skills);
  if (skills.length > LIMITS.skills) sink.add(m, ["skills"], "AF-LIMIT-SKILLS", `${skills.length} skills; at most ${LIMITS.skills} are allowed`, "Split the skills across agents; note the limit also counts across a whole multiagent session.");
  const tools = countToolConfigs(asArray(m.spec.tools));
  if (tools > LIMITS.toolConfigs) sink.add(m, ["tools"], "AF-LIMIT-TOOLS", `${tools} tool configurations; at most ${LIMITS.toolConfigs} are allowed`, "Drop per-tool configs that repeat the toolset's default_config, or split the agent.");
}

function checkModel(m: LoadedManifest, known: readonly string[], sink: Sink): void {
  const model = m.spec.model;
  const id = typeof model === "string" ? model : isObject(model) ? model.id : undefined;
  if (typeof id !== "string" || known.includes(id)) return;
  // Model ids are an open set (new models ship before the SDK knows them), so only a near miss
  // of a known id is worth a word, and only as a warning.
  const near = suggestion(id, known);
  if (near === "") return;
  sink.add(m, typeof model === "string" ? ["model"] : ["model", "id"], "AF-MODEL-UNKNOWN", `${quote(id)} is not a model id the installed SDK knows${near}`, "Check the spelling; ids the SDK does not know are still sent as written.", "warning");
}

/** The agent toolset's effective `enabled` for one tool: its config entry, else default_config, else on. */
function toolEnabled(tools: unknown[], name: string): boolean {
  const toolset = tools.find((t) => isObject(t) && t.type === "agent_toolset_20260401");
  if (!isObject(toolset)) return false;
  const config = asArray(toolset.configs).find((c) => isObject(c) && c.name === name);
  if (isObject(config) && typeof config.enabled === "boolean") return config.enabled;
  const defaults = toolset.default_config;
  return isObject(defaults) && typeof defaults.enabled === "boolean" ? defaults.enabled : true;
}

function checkSkillsCanRead(m: LoadedManifest, sink: Sink): void {
  if (asArray(m.spec.skills).length === 0 || toolEnabled(asArray(m.spec.tools), "read")) return;
  sink.add(m, ["skills"], "AF-SKILLS-READ", "skills are attached but the read tool is not enabled, so the agent cannot load them", "Add agent_toolset_20260401 with the read tool enabled (the API may reject skills without it).", "warning");
}

function checkMetadata(m: LoadedManifest, sink: Sink): void {
  const md = m.spec.metadata;
  if (!isObject(md)) return;
  const keys = Object.keys(md);
  if (keys.length > LIMITS.metadataKeys) {
    sink.add(m, ["metadata"], "AF-METADATA-TOO-MANY", `${keys.length} metadata keys; at most ${LIMITS.metadataKeys} are allowed`, "The API allows 16 and agentform reserves one for its ownership marker (agentform.project).");
  }
  for (const key of keys) {
    const value = md[key];
    if (key.startsWith("agentform.")) {
      sink.add(m, ["metadata", key], "AF-METADATA-RESERVED", `metadata key ${quote(key)} is reserved for agentform`, "agentform sets agentform.* keys itself; rename the key.");
    } else if (key.length === 0 || key.length > LIMITS.metadataKeyLength) {
      sink.add(m, ["metadata", key], "AF-METADATA-KEY", `metadata keys must be 1 to ${LIMITS.metadataKeyLength} characters (this one has ${key.length})`, "Shorten the key.");
    }
    if (value === "") {
      sink.add(m, ["metadata", key], "AF-METADATA-EMPTY-VALUE", `metadata value for ${quote(key)} is empty`, "Environments treat \"\" as \"delete this key\" and agents store it as an empty value; remove the key or give it a value.");
    } else if (typeof value === "string" && value.length > LIMITS.metadataValueLength) {
      sink.add(m, ["metadata", key], "AF-METADATA-VALUE", `metadata value for ${quote(key)} has ${value.length} characters; at most ${LIMITS.metadataValueLength} are allowed`, "Shorten the value, or keep the data elsewhere and store a reference.");
    }
  }
}

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"];

function checkNetworking(m: LoadedManifest, sink: Sink): void {
  const config = m.spec.config;
  if (!isObject(config) || config.type !== "cloud") return;
  const net = config.networking;
  if (!isObject(net)) return;
  if (net.type === "unrestricted") {
    for (const key of Object.keys(net)) {
      if (key.startsWith("allow")) sink.add(m, ["config", "networking", key], "AF-NETWORK-FLAGS", `${quote(key)} only applies to limited networking; unrestricted networking already allows everything`, "Remove it, or switch to `type: limited` to restrict egress to an allow-list.");
    }
    return;
  }
  if (net.type !== "limited") return;
  asArray(net.allowed_hosts).forEach((h, i) => {
    if (typeof h === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(h)) {
      sink.add(m, ["config", "networking", "allowed_hosts", i], "AF-NETWORK-HOST-SCHEME", `${quote(h)} has a scheme; allowed_hosts are host names`, `Write ${quote(plainHost(h))} (a leading "*." allows subdomains).`);
    }
  });
  const packages = config.packages;
  const hasPackages = isObject(packages) && PACKAGE_MANAGERS.some((k) => asArray(packages[k]).length > 0);
  if (hasPackages && net.allow_package_managers !== true) {
    sink.add(m, ["config", "packages"], "AF-NETWORK-PACKAGES", "packages are listed but limited networking does not allow package managers", "Set `config.networking.allow_package_managers: true`, or install nothing.");
  }
}
