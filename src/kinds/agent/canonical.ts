/**
 * The canonical form of an agent (pure), desired and live: server defaults filled in, tools,
 * MCP servers, skills and rosters keyed by name or id so order never matters. Every rule is in
 * docs/normalization.md.
 */
import { sortedCopy } from "../../normalize/json.js";
import { KNOWN_AFTER_APPLY, type DesiredContext } from "../spec.js";
import type { KindRef } from "../types.js";
import { asArray, boolOr, canonicalMetadata, isObj, nullIfEmpty, policyOf, putKeyed, sortedSet, type Obj } from "../values.js";
import { skillRefOf } from "./refs.js";

/** The eight tools of `agent_toolset_20260401`, in a fixed order. */
export const AGENT_TOOLS = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;

export const AGENT_TOOLSET = "agent_toolset_20260401";

function canonicalModel(model: unknown): Obj {
  const m: Obj = typeof model === "string" ? { id: model } : isObj(model) ? model : {};
  const out: Obj = { id: m.id ?? null, speed: typeof m.speed === "string" ? m.speed : "standard" };
  if (m.effort !== undefined && m.effort !== null) out.effort = { type: policyOf(m.effort, "") };
  if (typeof m.inference_geo === "string") out.inference_geo = m.inference_geo;
  return out;
}

function canonicalUrlFilter(v: unknown): Obj {
  if (v === undefined || v === null) return { type: "all" };
  if (typeof v === "string") return { type: v };
  if (!isObj(v)) return { type: "all" };
  const out: Obj = { type: v.type };
  if (Array.isArray(v.tools)) {
    // Tool lists in only/except are sets of distinct names.
    out.tools = sortedSet(v.tools.map((t) => (isObj(t) ? t.name : t))).map((name) => ({ name, type: "tool_reference" }));
  }
  return out;
}

function canonicalUserLocation(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const out: Obj = { type: v.type ?? "approximate" };
  for (const k of ["city", "country", "region", "timezone"]) {
    if (typeof v[k] === "string") out[k] = v[k];
  }
  return out;
}

/** Effective state of one agent-toolset tool: configs entry, else default_config, else server default. */
function effectiveAgentTool(name: string, defaults: { enabled: boolean; policy: string }, entry: Obj | undefined): Obj {
  const out: Obj = {
    enabled: boolOr(entry?.enabled, defaults.enabled),
    permission_policy: policyOf(entry?.permission_policy ?? undefined, defaults.policy),
  };
  if (name === "web_fetch" || name === "web_search") {
    if (entry && Array.isArray(entry.allowed_domains) && entry.allowed_domains.length > 0) out.allowed_domains = sortedSet(entry.allowed_domains);
    if (entry && Array.isArray(entry.blocked_domains) && entry.blocked_domains.length > 0) out.blocked_domains = sortedSet(entry.blocked_domains);
  }
  if (name === "web_fetch") {
    if (typeof entry?.max_content_tokens === "number") out.max_content_tokens = entry.max_content_tokens;
    const us = isObj(entry?.url_sources) ? (entry?.url_sources as Obj) : {};
    out.url_sources = {
      client_tool_results: canonicalUrlFilter(us.client_tool_results),
      server_tool_results: canonicalUrlFilter(us.server_tool_results),
      user_input: canonicalUrlFilter(us.user_input),
    };
  }
  if (name === "web_search") {
    const loc = canonicalUserLocation(entry?.user_location);
    if (loc) out.user_location = loc;
  }
  return out;
}

function toolsetDefaults(t: Obj, serverPolicy: string): { enabled: boolean; policy: string } {
  const d = isObj(t.default_config) ? t.default_config : {};
  return { enabled: boolOr(d.enabled, true), policy: policyOf(d.permission_policy ?? undefined, serverPolicy) };
}

function canonicalAgentToolset(t: Obj): Obj {
  const defaults = toolsetDefaults(t, "always_allow");
  const byName = new Map<string, Obj>();
  for (const c of asArray(t.configs)) if (isObj(c) && typeof c.name === "string") byName.set(c.name, c);
  const out: Obj = {};
  for (const name of AGENT_TOOLS) out[name] = effectiveAgentTool(name, defaults, byName.get(name));
  return out;
}

function canonicalMcpToolset(t: Obj): Obj {
  const defaults = toolsetDefaults(t, "always_ask");
  const tools: Obj = {};
  for (const c of asArray(t.configs)) {
    if (!isObj(c) || typeof c.name !== "string") continue;
    const eff = {
      enabled: boolOr(c.enabled, defaults.enabled),
      permission_policy: policyOf(c.permission_policy ?? undefined, defaults.policy),
    };
    // A per-tool entry identical to the toolset default changes nothing, so it is not compared.
    if (eff.enabled !== defaults.enabled || eff.permission_policy !== defaults.policy) tools[c.name] = eff;
  }
  return { default_config: { enabled: defaults.enabled, permission_policy: defaults.policy }, tools };
}

function canonicalInputSchema(s: unknown): Obj {
  const src = isObj(s) ? s : {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === "properties") {
      if (isObj(v) && Object.keys(v).length > 0) out.properties = v;
    } else if (k === "required") {
      const req = sortedSet(v);
      if (req.length > 0) out.required = req;
    } else if (v !== undefined) {
      out[k] = v;
    }
  }
  out.type = "object";
  return sortedCopy(out);
}

function canonicalTools(tools: unknown): Obj {
  const agentToolsets: Obj = {};
  const mcp: Obj = {};
  const custom: Obj = {};
  for (const t of asArray(tools)) {
    if (!isObj(t)) continue;
    if (t.type === AGENT_TOOLSET) putKeyed(agentToolsets, AGENT_TOOLSET, canonicalAgentToolset(t));
    else if (t.type === "mcp_toolset") putKeyed(mcp, String(t.mcp_server_name), canonicalMcpToolset(t));
    else if (t.type === "custom")
      putKeyed(custom, String(t.name), { description: t.description ?? null, input_schema: canonicalInputSchema(t.input_schema) });
  }
  return { ...agentToolsets, custom, mcp_toolset: mcp };
}

function canonicalMcpServers(v: unknown): Obj {
  const out: Obj = {};
  for (const s of asArray(v)) if (isObj(s)) putKeyed(out, String(s.name), { type: s.type ?? "url", url: s.url ?? null });
  return out;
}

function skillKey(s: Obj): string {
  return `${String(s.type)}:${String(s.skill_id)}`;
}

/**
 * A `{type: "custom", ref}` entry → [key, canonical value]. Resolved, it is keyed and shaped
 * like the live entry (`custom:<id>`), and carries the version it pins: the explicit one, else
 * the skill's latest version id, so a new skill version is a visible change (a re-pin). Keyed
 * `ref:<name>` while the skill has no id yet (created in this plan) or is unknown.
 */
function skillRefEntry(e: Obj, ctx: DesiredContext | undefined): [string, Obj] {
  const target = skillRefOf(e) as KindRef;
  const resolved = ctx?.resolveRef?.(target);
  if (!resolved) {
    const out: Obj = { ref: target.name, type: "custom" };
    if (target.version !== undefined) out.version = target.version;
    return [`ref:${target.name}`, out];
  }
  const version = target.version ?? resolved.version;
  if (resolved.id === KNOWN_AFTER_APPLY) {
    return [`ref:${target.name}`, { skill_id: KNOWN_AFTER_APPLY, type: "custom", version: version ?? KNOWN_AFTER_APPLY }];
  }
  const out: Obj = { skill_id: resolved.id, type: "custom" };
  if (version !== undefined) out.version = version;
  return [`custom:${resolved.id}`, out];
}

function canonicalSkills(v: unknown, ctx: DesiredContext | undefined): Obj {
  const out: Obj = {};
  for (const s of asArray(v)) {
    if (!isObj(s)) continue;
    if (typeof s.ref === "string") {
      const [key, entry] = skillRefEntry(s, ctx);
      putKeyed(out, key, entry);
      continue;
    }
    const entry: Obj = { skill_id: s.skill_id, type: s.type };
    if (typeof s.version === "string" && s.version !== "") entry.version = s.version;
    putKeyed(out, skillKey(s), entry);
  }
  return out;
}

/**
 * One roster / predefined_agents entry → [key, canonical value]. Keys: the agent id, "self",
 * "advisor:<model>", or "ref:<name>" while a referenced agent has no id yet.
 */
function rosterEntry(e: unknown, ctx: DesiredContext | undefined, selfId: string | undefined): [string, Obj] {
  if (typeof e === "string") {
    if (selfId !== undefined && e === selfId) return ["self", { type: "self" }];
    return [e, { id: e, type: "agent" }];
  }
  if (!isObj(e)) return [String(e), { type: "unknown" }];
  if (e.type === "self") return ["self", { type: "self" }];
  if (e.type === "advisor") return [`advisor:${String(e.model)}`, { model: e.model, type: "advisor" }];
  if (typeof e.ref === "string") {
    const explicit = typeof e.version === "number" ? e.version : undefined;
    const resolved = ctx?.resolveRef?.(explicit === undefined ? { kind: "agent", name: e.ref } : { kind: "agent", name: e.ref, version: explicit });
    if (!resolved) {
      const out: Obj = { ref: e.ref, type: "agent" };
      if (explicit !== undefined) out.version = explicit;
      return [`ref:${e.ref}`, out];
    }
    if (resolved.id === KNOWN_AFTER_APPLY) {
      return [`ref:${e.ref}`, { id: KNOWN_AFTER_APPLY, type: "agent", version: resolved.version }];
    }
    return [resolved.id, { id: resolved.id, type: "agent", version: resolved.version }];
  }
  const id = String(e.id);
  if (selfId !== undefined && id === selfId) return ["self", { type: "self" }];
  const out: Obj = { id, type: "agent" };
  if (typeof e.version === "number") out.version = e.version;
  return [id, out];
}


function canonicalRoster(v: unknown, ctx: DesiredContext | undefined, selfId: string | undefined): Obj {
  const out: Obj = {};
  for (const e of asArray(v)) {
    const [k, val] = rosterEntry(e, ctx, selfId);
    putKeyed(out, k, val);
  }
  return out;
}

function canonicalMember(v: unknown, withAgents: boolean, ctx: DesiredContext | undefined, selfId: string | undefined): Obj {
  // Absent and null both take the default, which is "enabled" for subagents and workflows.
  const m = isObj(v) ? v : { type: "enabled" };
  if (m.type !== "enabled") return { type: m.type };
  const out: Obj = { type: "enabled" };
  if (withAgents) {
    out.inline_agents = { type: isObj(m.inline_agents) ? (m.inline_agents.type ?? "enabled") : "enabled" };
    out.predefined_agents = canonicalRoster(m.predefined_agents, ctx, selfId);
  }
  return out;
}

function canonicalMultiagent(v: unknown, ctx: DesiredContext | undefined, selfId: string | undefined): Obj | null {
  if (!isObj(v)) return null;
  if (v.type === "coordinator") return { agents: canonicalRoster(v.agents, ctx, selfId), type: "coordinator" };
  if (v.type === "multiagent_20261001") {
    const adv = isObj(v.advisor) ? v.advisor : { type: "disabled" };
    return {
      advisor: adv.type === "enabled" ? { model: adv.model ?? null, type: "enabled" } : { type: adv.type },
      subagents: canonicalMember(v.subagents, true, ctx, selfId),
      type: "multiagent_20261001",
      workflows: canonicalMember(v.workflows, true, ctx, selfId),
    };
  }
  return sortedCopy(v);
}

function canonicalExecutionIdentity(v: unknown): Obj {
  if (!isObj(v)) return { type: "service_account" };
  if (v.type === "aws_role") return { role_arn: v.role_arn ?? null, type: "aws_role" };
  return { type: v.type ?? "service_account" };
}

function canonicalAgent(src: Obj, ctx: DesiredContext | undefined, selfId: string | undefined): Obj {
  return {
    description: nullIfEmpty(src.description),
    execution_identity: canonicalExecutionIdentity(src.execution_identity),
    mcp_servers: canonicalMcpServers(src.mcp_servers),
    metadata: canonicalMetadata(src.metadata),
    model: canonicalModel(src.model),
    multiagent: canonicalMultiagent(src.multiagent, ctx, selfId),
    name: src.name ?? null,
    skills: canonicalSkills(src.skills, ctx),
    system: nullIfEmpty(src.system),
    tools: canonicalTools(src.tools),
  };
}

/** The canonical desired form of an agent manifest; `context` resolves roster and skill references. */
export function canonicalAgentDesired(spec: Obj, context?: DesiredContext): Obj {
  return canonicalAgent(spec, context, undefined);
}

/**
 * The canonical live form. With `desiredHint`, fields the manifest leaves to the server (model
 * effort, skill versions, roster versions of unversioned entries) are dropped, so not diffed.
 * A resolved skill `ref` has a version on the desired side (the skill's latest version id), so
 * the live version of a followed skill is kept and compared: a new skill version is a re-pin.
 */
export function canonicalAgentLive(raw: Obj, desiredHint?: Obj): Obj {
  const agent = canonicalAgent(raw, undefined, typeof raw.id === "string" ? raw.id : undefined);
  if (desiredHint) applyAgentHint(agent, desiredHint);
  return agent;
}

function applyAgentHint(live: Obj, hint: Obj): void {
  const lm = live.model as Obj;
  if (isObj(hint.model) && !("effort" in hint.model)) delete lm.effort;
  const ls = live.skills as Obj;
  const hs = isObj(hint.skills) ? hint.skills : {};
  for (const [k, v] of Object.entries(ls)) {
    const h = hs[k];
    if (isObj(v) && (!isObj(h) || !("version" in h))) delete v.version;
  }
  const lma = live.multiagent;
  const hma = hint.multiagent;
  if (isObj(lma) && isObj(hma) && lma.type === hma.type) {
    const pairs: Array<[unknown, unknown]> =
      lma.type === "coordinator"
        ? [[lma.agents, hma.agents]]
        : [
            [(lma.subagents as Obj | undefined)?.predefined_agents, (hma.subagents as Obj | undefined)?.predefined_agents],
            [(lma.workflows as Obj | undefined)?.predefined_agents, (hma.workflows as Obj | undefined)?.predefined_agents],
          ];
    for (const [l, h] of pairs) {
      if (!isObj(l)) continue;
      for (const [k, v] of Object.entries(l)) {
        const he = isObj(h) ? h[k] : undefined;
        if (isObj(v) && (!isObj(he) || !("version" in he))) delete v.version;
      }
    }
  }
}
