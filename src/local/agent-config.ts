/**
 * Agent bodies → the resolved configuration the server stores and returns (docs/local-control-plane.md,
 * "Agents"). Pure apart from roster look-ups, which go through a `RosterContext` the store
 * supplies.
 */
import { badRequest } from "./api-error.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import {
  checkKeys,
  cloneJson,
  expectArray,
  expectBoolean,
  expectObj,
  expectOneOf,
  expectString,
  isObj,
  type Obj,
} from "./util.js";

/** The versioned part of an agent: everything but id, type, version and timestamps. */
export interface AgentConfig {
  name: string;
  description: string | null;
  system: string | null;
  model: Obj;
  tools: Obj[];
  mcp_servers: Obj[];
  skills: Obj[];
  multiagent: Obj | null;
  execution_identity: Obj;
  metadata: Record<string, string>;
}

/** What roster resolution needs to know about other agents. */
export interface RosterTarget {
  latestVersion: number;
  archived: boolean;
  hasMultiagent: boolean;
}

export interface RosterContext {
  /** The agent being saved (known before resolution, even on create). */
  selfId: string;
  /** The version `{type:"self"}` resolves to: the agent's own version after this save. */
  selfVersion: number;
  lookup(id: string): RosterTarget | undefined;
}

const CREATE_KEYS = ["name", "model", "description", "system", "tools", "mcp_servers", "skills", "multiagent", "execution_identity", "metadata"];
const UPDATE_KEYS = [...CREATE_KEYS, "version"];

/** The effort levels the API accepts. */
export const EFFORT_LEVELS = ["low", "medium", "high", "xhigh", "max"] as const;
const POLICIES = ["always_allow", "always_ask", "auto"] as const;
const AGENT_TOOL_NAMES = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;
const MAX_TOOLS = 256;
const MAX_MCP_SERVERS = 20;
const MAX_SKILLS = 20;
const MAX_ROSTER = 20;

/**
 * The effort a model gets when none is sent. The real per-model table is not published; this one
 * is documented in docs/local-control-plane.md: haiku models "medium", everything else "high".
 */
export function defaultEffort(modelId: string): string {
  return /haiku/i.test(modelId) ? "medium" : "high";
}

function resolveEffort(v: unknown, where: string): Obj {
  if (typeof v === "string") return { type: expectOneOf(v, EFFORT_LEVELS, where) };
  const o = expectObj(v, where);
  checkKeys(o, ["type"], where);
  return { type: expectOneOf(o.type, EFFORT_LEVELS, `${where}.type`) };
}

/**
 * `model` is replaced whole, except that an omitted effort keeps the stored one (the API's update
 * rule; the SDK's update docs make no exception for a changed model id, so neither does this
 * server).
 */
export function resolveModel(v: unknown, previous?: Obj): Obj {
  if (v === null || v === undefined) throw badRequest("model: Field required");
  const o: Obj = typeof v === "string" ? { id: v } : expectObj(v, "model");
  checkKeys(o, ["id", "effort", "speed", "inference_geo"], "model");
  const id = expectString(o.id, "model.id", { min: 1 });
  let effort: Obj;
  if (o.effort !== undefined && o.effort !== null) effort = resolveEffort(o.effort, "model.effort");
  else if (previous && isObj(previous.effort)) effort = { ...previous.effort };
  else effort = { type: defaultEffort(id) };
  const speed = o.speed === undefined || o.speed === null ? "standard" : expectOneOf(o.speed, ["standard", "fast"] as const, "model.speed");
  const out: Obj = { id, effort, speed };
  if (o.inference_geo !== undefined && o.inference_geo !== null) out.inference_geo = expectString(o.inference_geo, "model.inference_geo", { min: 1 });
  return out;
}

function resolvePolicy(v: unknown, where: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  const o = expectObj(v, where);
  checkKeys(o, ["type"], where);
  return { type: expectOneOf(o.type, POLICIES, `${where}.type`) };
}

function resolveDefaultConfig(v: unknown, where: string, defaultPolicy: string): { enabled: boolean; permission_policy: Obj } {
  if (v === undefined || v === null) return { enabled: true, permission_policy: { type: defaultPolicy } };
  const o = expectObj(v, where);
  checkKeys(o, ["enabled", "permission_policy"], where);
  return {
    enabled: o.enabled === undefined || o.enabled === null ? true : expectBoolean(o.enabled, `${where}.enabled`),
    permission_policy: resolvePolicy(o.permission_policy, `${where}.permission_policy`) ?? { type: defaultPolicy },
  };
}

function resolveDomains(o: Obj, where: string, out: Obj, pathAllowed: boolean): void {
  for (const key of ["allowed_domains", "blocked_domains"] as const) {
    if (o[key] === undefined || o[key] === null) continue;
    const list = expectArray(o[key], `${where}.${key}`);
    if (list.length === 0) throw badRequest(`${where}.${key}: an empty list is rejected; leave the field out instead`);
    if (list.length > 64) throw badRequest(`${where}.${key}: at most 64 entries`);
    out[key] = list.map((d, i) => {
      const entry = expectString(d, `${where}.${key}[${i}]`, { min: 1 });
      // Plain hostnames: no scheme or port; web_search alone allows a path suffix (as the API
      // documents).
      const host = entry.split("/")[0] ?? "";
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /:\d+$/.test(host) || (!pathAllowed && entry.includes("/"))) {
        throw badRequest(`${where}.${key}[${i}]: "${entry}" must be a plain hostname (no scheme, port${pathAllowed ? "" : " or path"})`);
      }
      return entry;
    });
  }
  if (out.allowed_domains !== undefined && out.blocked_domains !== undefined) {
    throw badRequest(`${where}: allowed_domains and blocked_domains cannot be combined`);
  }
}

function resolveSourceFilter(v: unknown, where: string, allowLists: boolean, allowedNames: ReadonlySet<string> | null): Obj | null {
  if (v === undefined || v === null) return null;
  if (v === "all" || v === "none") return { type: v };
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, allowLists ? (["all", "none", "only", "except"] as const) : (["all", "none"] as const), `${where}.type`);
  if (type === "all" || type === "none") {
    checkKeys(o, ["type"], where);
    return { type };
  }
  checkKeys(o, ["type", "tools"], where);
  const tools = expectArray(o.tools, `${where}.tools`);
  if (tools.length < 1 || tools.length > 128) throw badRequest(`${where}.tools: between 1 and 128 entries`);
  const seen = new Set<string>();
  const refs = tools.map((t, i) => {
    const ref = expectObj(t, `${where}.tools[${i}]`);
    checkKeys(ref, ["type", "name"], `${where}.tools[${i}]`);
    expectOneOf(ref.type, ["tool_reference"] as const, `${where}.tools[${i}].type`);
    const name = expectString(ref.name, `${where}.tools[${i}].name`, { min: 1 });
    if (seen.has(name)) throw badRequest(`${where}.tools: "${name}" is listed twice`);
    seen.add(name);
    if (allowedNames && !allowedNames.has(name)) throw badRequest(`${where}.tools[${i}].name: "${name}" is not allowed here`);
    return { type: "tool_reference", name };
  });
  return { type, tools: refs };
}

function resolveUrlSources(v: unknown, where: string, customToolNames: ReadonlySet<string>): Obj | null {
  if (v === undefined || v === null) return null;
  const o = expectObj(v, where);
  checkKeys(o, ["user_input", "client_tool_results", "server_tool_results"], where);
  const out = {
    user_input: resolveSourceFilter(o.user_input, `${where}.user_input`, false, null),
    client_tool_results: resolveSourceFilter(o.client_tool_results, `${where}.client_tool_results`, true, customToolNames),
    server_tool_results: resolveSourceFilter(o.server_tool_results, `${where}.server_tool_results`, true, new Set(["web_search", "web_fetch"])),
  };
  if (out.user_input?.type === "none" && out.client_tool_results?.type === "none" && out.server_tool_results?.type === "none") {
    throw badRequest(`${where}: setting all three sources to "none" is rejected`);
  }
  return out;
}

function resolveAgentToolset(o: Obj, where: string, customToolNames: ReadonlySet<string>): Obj {
  checkKeys(o, ["type", "default_config", "configs"], where);
  const defaults = resolveDefaultConfig(o.default_config, `${where}.default_config`, "always_allow");
  const configs = o.configs === undefined || o.configs === null ? [] : expectArray(o.configs, `${where}.configs`);
  const seen = new Set<string>();
  const resolved = configs.map((c, i) => {
    const w = `${where}.configs[${i}]`;
    const cfg = expectObj(c, w);
    const name = expectOneOf(cfg.name, AGENT_TOOL_NAMES, `${w}.name`);
    if (seen.has(name)) throw badRequest(`${w}.name: "${name}" is configured twice`);
    seen.add(name);
    const extra = name === "web_fetch" ? ["allowed_domains", "blocked_domains", "max_content_tokens", "url_sources"] : name === "web_search" ? ["allowed_domains", "blocked_domains", "user_location"] : [];
    checkKeys(cfg, ["name", "type", "enabled", "permission_policy", ...extra], w);
    if (cfg.type !== undefined && cfg.type !== name) throw badRequest(`${w}.type: must equal the name "${name}"`);
    const out: Obj = {
      name,
      type: name,
      enabled: cfg.enabled === undefined || cfg.enabled === null ? defaults.enabled : expectBoolean(cfg.enabled, `${w}.enabled`),
      permission_policy: resolvePolicy(cfg.permission_policy, `${w}.permission_policy`) ?? { ...defaults.permission_policy },
    };
    if (name === "web_fetch" || name === "web_search") resolveDomains(cfg, w, out, name === "web_search");
    if (name === "web_fetch") {
      if (cfg.max_content_tokens !== undefined) {
        if (cfg.max_content_tokens !== null && (typeof cfg.max_content_tokens !== "number" || !Number.isInteger(cfg.max_content_tokens) || cfg.max_content_tokens < 1)) {
          throw badRequest(`${w}.max_content_tokens: Input should be a positive integer or null`);
        }
        out.max_content_tokens = cfg.max_content_tokens;
      }
      out.url_sources = resolveUrlSources(cfg.url_sources, `${w}.url_sources`, customToolNames);
    }
    if (name === "web_search" && cfg.user_location !== undefined) {
      if (cfg.user_location === null) out.user_location = null;
      else {
        const loc = expectObj(cfg.user_location, `${w}.user_location`);
        checkKeys(loc, ["type", "city", "country", "region", "timezone"], `${w}.user_location`);
        expectOneOf(loc.type, ["approximate"] as const, `${w}.user_location.type`);
        if (typeof loc.country === "string" && !/^[A-Z]{2}$/.test(loc.country)) {
          throw badRequest(`${w}.user_location.country: must be an uppercase ISO 3166-1 alpha-2 code`);
        }
        out.user_location = cloneJson(loc);
      }
    }
    return out;
  });
  return { type: "agent_toolset_20260401", default_config: defaults, configs: resolved };
}

function resolveMcpToolset(o: Obj, where: string): Obj {
  checkKeys(o, ["type", "mcp_server_name", "default_config", "configs"], where);
  const server = expectString(o.mcp_server_name, `${where}.mcp_server_name`, { min: 1, max: 255 });
  const defaults = resolveDefaultConfig(o.default_config, `${where}.default_config`, "always_ask");
  const configs = o.configs === undefined || o.configs === null ? [] : expectArray(o.configs, `${where}.configs`);
  const seen = new Set<string>();
  const resolved = configs.map((c, i) => {
    const w = `${where}.configs[${i}]`;
    const cfg = expectObj(c, w);
    checkKeys(cfg, ["name", "enabled", "permission_policy"], w);
    const name = expectString(cfg.name, `${w}.name`, { min: 1, max: 128 });
    if (seen.has(name)) throw badRequest(`${w}.name: "${name}" is configured twice`);
    seen.add(name);
    return {
      name,
      enabled: cfg.enabled === undefined || cfg.enabled === null ? defaults.enabled : expectBoolean(cfg.enabled, `${w}.enabled`),
      permission_policy: resolvePolicy(cfg.permission_policy, `${w}.permission_policy`) ?? { ...defaults.permission_policy },
    };
  });
  return { type: "mcp_toolset", mcp_server_name: server, default_config: defaults, configs: resolved };
}

function resolveCustomTool(o: Obj, where: string): Obj {
  checkKeys(o, ["type", "name", "description", "input_schema"], where);
  const name = expectString(o.name, `${where}.name`, { min: 1, max: 128 });
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw badRequest(`${where}.name: only letters, digits, "_" and "-" are allowed`);
  const description = expectString(o.description, `${where}.description`, { min: 1 });
  const schema = expectObj(o.input_schema, `${where}.input_schema`);
  if (schema.type !== "object") throw badRequest(`${where}.input_schema.type: must be "object"`);
  return { type: "custom", name, description, input_schema: cloneJson(schema) };
}

function resolveTools(v: unknown): Obj[] {
  if (v === undefined || v === null) return [];
  const list = expectArray(v, "tools");
  const objs = list.map((t, i) => expectObj(t, `tools[${i}]`));
  // The limit counts tool configurations across toolsets (each configs[] entry; a toolset with
  // none counts once) plus custom tools, not entries of this array (the SDK's limit of 256).
  const configurations = objs.reduce((n, t) => n + (t.type === "custom" ? 1 : Math.max(1, Array.isArray(t.configs) ? t.configs.length : 0)), 0);
  if (configurations > MAX_TOOLS) throw badRequest(`tools: at most ${MAX_TOOLS} tool configurations across all toolsets (got ${configurations})`);
  // web_fetch url_sources may name custom tools from the same array, so collect them first.
  const customNames = new Set<string>();
  for (const t of objs) if (t.type === "custom" && typeof t.name === "string") customNames.add(t.name);
  let toolsetCount = 0;
  const out = objs.map((t, i) => {
    const where = `tools[${i}]`;
    switch (t.type) {
      case "agent_toolset_20260401":
        toolsetCount++;
        if (toolsetCount > 1) throw badRequest(`${where}: agent_toolset_20260401 may appear at most once`);
        return resolveAgentToolset(t, where, customNames);
      case "mcp_toolset":
        return resolveMcpToolset(t, where);
      case "custom":
        return resolveCustomTool(t, where);
      default:
        throw badRequest(`${where}.type: Input should be 'agent_toolset_20260401', 'mcp_toolset' or 'custom'`);
    }
  });
  const customSeen = new Set<string>();
  for (const t of out) {
    if (t.type !== "custom") continue;
    if (customSeen.has(t.name as string)) throw badRequest(`tools: custom tool "${String(t.name)}" is defined twice`);
    customSeen.add(t.name as string);
  }
  return out;
}

function resolveMcpServers(v: unknown): Obj[] {
  if (v === undefined || v === null) return [];
  const list = expectArray(v, "mcp_servers");
  if (list.length > MAX_MCP_SERVERS) throw badRequest(`mcp_servers: at most ${MAX_MCP_SERVERS} servers`);
  const names = new Set<string>();
  return list.map((s, i) => {
    const where = `mcp_servers[${i}]`;
    const o = expectObj(s, where);
    checkKeys(o, ["type", "name", "url"], where);
    expectOneOf(o.type, ["url"] as const, `${where}.type`);
    const name = expectString(o.name, `${where}.name`, { min: 1, max: 255 });
    if (names.has(name)) throw badRequest(`mcp_servers: the name "${name}" is used twice`);
    names.add(name);
    return { type: "url", name, url: expectString(o.url, `${where}.url`, { min: 1 }) };
  });
}

/** Every MCP server must be used by exactly one mcp_toolset, and every mcp_toolset must name a server. */
function checkMcpReferences(tools: Obj[], servers: Obj[]): void {
  const declared = new Set(servers.map((s) => s.name as string));
  const used = new Set<string>();
  for (const t of tools) {
    if (t.type !== "mcp_toolset") continue;
    const name = t.mcp_server_name as string;
    if (!declared.has(name)) throw badRequest(`tools: mcp_toolset names MCP server "${name}", which is not in mcp_servers`);
    if (used.has(name)) throw badRequest(`tools: MCP server "${name}" has more than one mcp_toolset`);
    used.add(name);
  }
  for (const name of declared) {
    if (!used.has(name)) throw badRequest(`mcp_servers: server "${name}" is not referenced by any mcp_toolset in tools`);
  }
}

function resolveSkills(v: unknown): Obj[] {
  if (v === undefined || v === null) return [];
  const list = expectArray(v, "skills");
  if (list.length > MAX_SKILLS) throw badRequest(`skills: at most ${MAX_SKILLS} skills`);
  const seen = new Set<string>();
  return list.map((s, i) => {
    const where = `skills[${i}]`;
    const o = expectObj(s, where);
    checkKeys(o, ["type", "skill_id", "version"], where);
    const type = expectOneOf(o.type, ["anthropic", "custom"] as const, `${where}.type`);
    const skillId = expectString(o.skill_id, `${where}.skill_id`, { min: 1 });
    const key = `${type}:${skillId}`;
    if (seen.has(key)) throw badRequest(`skills: ${type} skill "${skillId}" is listed twice`);
    seen.add(key);
    // A version left out reads back as the literal "latest" here (what the real API returns is
    // undocumented).
    const version = o.version === undefined || o.version === null ? "latest" : expectString(o.version, `${where}.version`, { min: 1 });
    return { type, skill_id: skillId, version };
  });
}

function resolveExecutionIdentity(v: unknown): Obj {
  if (v === undefined || v === null) return { type: "service_account" };
  const o = expectObj(v, "execution_identity");
  const type = expectOneOf(o.type, ["service_account", "aws_role"] as const, "execution_identity.type");
  if (type === "service_account") {
    checkKeys(o, ["type"], "execution_identity");
    return { type };
  }
  checkKeys(o, ["type", "role_arn"], "execution_identity");
  return { type, role_arn: expectString(o.role_arn, "execution_identity.role_arn", { min: 1, max: 2048 }) };
}

const TEXT_LIMITS: Record<string, number> = { description: 2048, system: 100_000 };

function optionalText(v: unknown, where: string): string | null {
  if (v === undefined || v === null) return null;
  const s = expectString(v, where, { max: TEXT_LIMITS[where] });
  // "" clears (the API's update rule) and reads back as null, as an unset field does.
  return s === "" ? null : s;
}

// ---------------------------------------------------------------------------------------------
// Multiagent (docs/local-control-plane.md, "Rosters")

/** Resolve one roster entry that names an agent (string, `{type:"agent"}` or `{type:"self"}`). */
function resolveAgentEntry(v: unknown, where: string, ctx: RosterContext): Obj {
  let id: string;
  let version: number | undefined;
  if (typeof v === "string") {
    id = expectString(v, where, { min: 1 });
  } else {
    const o = expectObj(v, where);
    if (o.type === "self") {
      checkKeys(o, ["type"], where);
      return { type: "agent", id: ctx.selfId, version: ctx.selfVersion };
    }
    checkKeys(o, ["type", "id", "version"], where);
    expectOneOf(o.type, ["agent", "self"] as const, `${where}.type`);
    id = expectString(o.id, `${where}.id`, { min: 1 });
    if (o.version !== undefined && o.version !== null) {
      if (typeof o.version !== "number" || !Number.isInteger(o.version) || o.version < 1) throw badRequest(`${where}.version: must be an integer ≥ 1`);
      version = o.version;
    }
  }
  if (id === ctx.selfId) {
    if (version !== undefined && version > ctx.selfVersion) throw badRequest(`${where}: agent ${id} has no version ${version}`);
    return { type: "agent", id, version: version ?? ctx.selfVersion };
  }
  const target = ctx.lookup(id);
  if (!target) throw badRequest(`${where}: agent ${id} does not exist`);
  if (target.archived) throw badRequest(`${where}: agent ${id} is archived and cannot be referenced`);
  if (target.hasMultiagent) throw badRequest(`${where}: agent ${id} has multiagent set itself; rosters are limited to depth 1`);
  if (version !== undefined && version > target.latestVersion) throw badRequest(`${where}: agent ${id} has no version ${version}`);
  return { type: "agent", id, version: version ?? target.latestVersion };
}

function checkDistinct(entries: Obj[], where: string, rawSelfCount: number): void {
  if (rawSelfCount > 1) throw badRequest(`${where}: at most one {"type":"self"} entry`);
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.type !== "agent") continue;
    const id = e.id as string;
    if (seen.has(id)) throw badRequest(`${where}: agent ${id} is listed more than once`);
    seen.add(id);
  }
}

function countSelf(list: unknown[]): number {
  return list.filter((e) => isObj(e) && e.type === "self").length;
}

function resolveCoordinator(o: Obj, ctx: RosterContext): Obj {
  checkKeys(o, ["type", "agents"], "multiagent");
  const list = expectArray(o.agents, "multiagent.agents");
  if (list.length < 1 || list.length > MAX_ROSTER) throw badRequest(`multiagent.agents: between 1 and ${MAX_ROSTER} entries`);
  const agents = list.map((e, i) => {
    const where = `multiagent.agents[${i}]`;
    if (isObj(e) && e.type === "advisor") {
      checkKeys(e, ["type", "model"], where);
      return { type: "advisor", model: expectString(e.model, `${where}.model`, { min: 1 }) };
    }
    return resolveAgentEntry(e, where, ctx);
  });
  checkDistinct(agents, "multiagent.agents", countSelf(list));
  if (agents.filter((a) => a.type === "advisor").length > 1) throw badRequest("multiagent.agents: at most one advisor entry per roster");
  return { type: "coordinator", agents };
}

function resolvePredefined(v: unknown, where: string, ctx: RosterContext): Obj[] {
  if (v === undefined || v === null) return [];
  const list = expectArray(v, where);
  if (list.length > MAX_ROSTER) throw badRequest(`${where}: at most ${MAX_ROSTER} entries`);
  const out = list.map((e, i) => resolveAgentEntry(e, `${where}[${i}]`, ctx));
  checkDistinct(out, where, countSelf(list));
  return out;
}

function resolveAdvisor(sent: unknown, stored: Obj | undefined): Obj {
  if (sent === undefined) return stored ? cloneJson(stored) : { type: "disabled" };
  if (sent === null) return { type: "disabled" };
  const o = expectObj(sent, "multiagent.advisor");
  const type = expectOneOf(o.type, ["enabled", "disabled"] as const, "multiagent.advisor.type");
  if (type === "disabled") {
    checkKeys(o, ["type"], "multiagent.advisor");
    return { type };
  }
  checkKeys(o, ["type", "model"], "multiagent.advisor");
  // "an enabled advisor needs its model" applies to what was sent, not to the merged result.
  return { type, model: expectString(o.model, "multiagent.advisor.model", { min: 1 }) };
}

const ENABLED_THREADS = (): Obj => ({ type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] });

function resolveThreads(sent: unknown, stored: Obj | undefined, key: "subagents" | "workflows", ctx: RosterContext): Obj {
  const where = `multiagent.${key}`;
  if (sent === undefined) return stored ? cloneJson(stored) : ENABLED_THREADS();
  if (sent === null) return ENABLED_THREADS();
  const o = expectObj(sent, where);
  const type = expectOneOf(o.type, ["enabled", "disabled"] as const, `${where}.type`);
  if (type === "disabled") {
    checkKeys(o, ["type"], where);
    return { type };
  }
  checkKeys(o, ["type", "inline_agents", "predefined_agents"], where);
  // Level-by-level merge: only an enabled member stored under an enabled member contributes.
  const base = stored?.type === "enabled" ? stored : undefined;
  let inline: Obj;
  if (o.inline_agents === undefined) inline = base ? cloneJson(base.inline_agents as Obj) : { type: "enabled" };
  else if (o.inline_agents === null) inline = { type: "enabled" };
  else {
    const io = expectObj(o.inline_agents, `${where}.inline_agents`);
    checkKeys(io, ["type"], `${where}.inline_agents`);
    inline = { type: expectOneOf(io.type, ["enabled", "disabled"] as const, `${where}.inline_agents.type`) };
  }
  const predefined = o.predefined_agents === undefined ? (base ? cloneJson(base.predefined_agents as Obj[]) : []) : resolvePredefined(o.predefined_agents, `${where}.predefined_agents`, ctx);
  if (inline.type === "disabled" && predefined.length === 0) {
    throw badRequest(`${where}: with inline_agents disabled, predefined_agents must name at least one agent`);
  }
  return { type, inline_agents: inline, predefined_agents: predefined };
}

function resolveMultiagent20261001(o: Obj, stored: Obj | null, ctx: RosterContext): Obj {
  checkKeys(o, ["type", "advisor", "subagents", "workflows"], "multiagent");
  const base = stored?.type === "multiagent_20261001" ? stored : undefined;
  return {
    type: "multiagent_20261001",
    advisor: resolveAdvisor(o.advisor, base?.advisor as Obj | undefined),
    subagents: resolveThreads(o.subagents, base?.subagents as Obj | undefined, "subagents", ctx),
    workflows: resolveThreads(o.workflows, base?.workflows as Obj | undefined, "workflows", ctx),
  };
}

/**
 * `stored` is the current multiagent on update (null on create). A `multiagent_20261001` body is
 * merged into a stored `multiagent_20261001`; anything else replaces it.
 */
function resolveMultiagent(v: unknown, stored: Obj | null, ctx: RosterContext): Obj | null {
  if (v === undefined || v === null) return null;
  const o = expectObj(v, "multiagent");
  if (o.type === "coordinator") return resolveCoordinator(o, ctx);
  if (o.type === "multiagent_20261001") return resolveMultiagent20261001(o, stored, ctx);
  throw badRequest("multiagent.type: Input should be 'coordinator' or 'multiagent_20261001'");
}

// ---------------------------------------------------------------------------------------------

/** Resolve a create body into the stored configuration (server-side defaults filled in). */
export function resolveAgentCreate(body: unknown, ctx: RosterContext): AgentConfig {
  const b = expectObj(body, "body");
  checkKeys(b, CREATE_KEYS, "body");
  if (b.name === undefined) throw badRequest("name: Field required");
  if (b.model === undefined) throw badRequest("model: Field required");
  const config: AgentConfig = {
    name: expectString(b.name, "name", { min: 1, max: 256 }),
    description: optionalText(b.description, "description"),
    system: optionalText(b.system, "system"),
    model: resolveModel(b.model),
    tools: resolveTools(b.tools),
    mcp_servers: resolveMcpServers(b.mcp_servers),
    skills: resolveSkills(b.skills),
    multiagent: resolveMultiagent(b.multiagent, null, ctx),
    execution_identity: resolveExecutionIdentity(b.execution_identity),
    metadata: createMetadata(b.metadata, undefined),
  };
  checkMcpReferences(config.tools, config.mcp_servers);
  return config;
}

/** Check an update body's shape (unknown keys, `version` type) before any state is consulted. */
export function checkAgentUpdateBody(body: unknown): Obj {
  const b = expectObj(body, "body");
  checkKeys(b, UPDATE_KEYS, "body");
  if (b.version !== undefined && (typeof b.version !== "number" || !Number.isInteger(b.version) || b.version < 1)) {
    throw badRequest("version: must be an integer ≥ 1");
  }
  return b;
}

/**
 * Apply a partial update (omitted keeps; docs/local-control-plane.md, "Update") to the stored
 * configuration; returns a new object.
 */
export function resolveAgentUpdate(stored: AgentConfig, b: Obj, ctx: RosterContext): AgentConfig {
  const has = (k: string) => b[k] !== undefined;
  if (has("name") && (b.name === null || b.name === "")) throw badRequest("name: cannot be cleared");
  if (b.model === null) throw badRequest("model: cannot be cleared");
  const next: AgentConfig = {
    name: has("name") ? expectString(b.name, "name", { min: 1, max: 256 }) : stored.name,
    description: has("description") || b.description === null ? optionalText(b.description, "description") : stored.description,
    system: has("system") || b.system === null ? optionalText(b.system, "system") : stored.system,
    model: has("model") ? resolveModel(b.model, stored.model) : cloneJson(stored.model),
    tools: "tools" in b ? resolveTools(b.tools) : cloneJson(stored.tools),
    mcp_servers: "mcp_servers" in b ? resolveMcpServers(b.mcp_servers) : cloneJson(stored.mcp_servers),
    skills: "skills" in b ? resolveSkills(b.skills) : cloneJson(stored.skills),
    multiagent: "multiagent" in b ? resolveMultiagent(b.multiagent, stored.multiagent, ctx) : cloneJson(stored.multiagent),
    execution_identity: "execution_identity" in b ? resolveExecutionIdentity(b.execution_identity) : cloneJson(stored.execution_identity),
    metadata: patchMetadata(stored.metadata, b.metadata, undefined, { emptyDeletes: false }),
  };
  checkMcpReferences(next.tools, next.mcp_servers);
  return next;
}
