/**
 * Canonical forms of desired manifests and live resources (pure; no I/O).
 *
 * Both sides are reduced to one shape so that "equal" means "the API would store the same
 * thing": server-filled defaults are filled on the desired side, unordered collections become
 * keyed objects (so reordering is a no-op and JSON pointers name tools, servers and skills
 * instead of array positions), and fields whose default the client cannot know are left out
 * of the comparison when the manifest leaves them out. Every rule is listed in
 * docs/normalization.md.
 */
import { createHash } from "node:crypto";
import type { LiveAgent, LiveEnvironment, ResourceKind } from "../backends/types.js";
import { OWNERSHIP_KEY, type LoadedManifest } from "../manifest/types.js";

/** The eight tools of `agent_toolset_20260401`, in a fixed order. */
export const AGENT_TOOLS = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;

export const AGENT_TOOLSET = "agent_toolset_20260401";

/** A resolved roster reference: `version` may be the known-after-apply marker string. */
export interface ResolvedRef {
  /** Live id, or the known-after-apply marker when the target is created in the same plan. */
  id: string;
  version: number | string;
}

/** How canonicalDesired resolves `{type: "agent", ref}` roster entries (absent: kept by name). */
export interface DesiredContext {
  resolveRef?: (name: string, explicitVersion: number | undefined) => ResolvedRef | undefined;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  }
  const keys = Object.keys(value as Obj)
    .filter((k) => (value as Obj)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Obj)[k])}`).join(",")}}`;
}

/** `sha256:` + hex digest of canonicalJson(value). */
export function digest(value: unknown): string {
  return `sha256:${createHash("sha256").update(canonicalJson(value), "utf8").digest("hex")}`;
}

/** Deep copy with object keys sorted; the planner never diffs or mutates its inputs. */
export function sortedCopy<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

function nullIfEmpty(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function sortedSet(v: unknown): string[] {
  return [...new Set(asArray(v).filter((x): x is string => typeof x === "string"))].sort();
}

/** Policy object or string → its type string; absent → the given default. */
function policyOf(v: unknown, fallback: string): string {
  if (typeof v === "string") return v;
  if (isObj(v) && typeof v.type === "string") return v.type;
  return fallback;
}

function boolOr(v: unknown, fallback: boolean): boolean {
  return typeof v === "boolean" ? v : fallback;
}

// ---------------------------------------------------------------------------------------------
// Agents

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

/** Keyed collection helper: a repeated key gets "#2", "#3"... so nothing is silently dropped. */
function putKeyed(target: Obj, key: string, value: unknown): void {
  let k = key;
  for (let n = 2; k in target; n++) k = `${key}#${n}`;
  target[k] = value;
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

function canonicalSkills(v: unknown): Obj {
  const out: Obj = {};
  for (const s of asArray(v)) {
    if (!isObj(s)) continue;
    const entry: Obj = { skill_id: s.skill_id, type: s.type };
    if (typeof s.version === "string" && s.version !== "") entry.version = s.version;
    putKeyed(out, skillKey(s), entry);
  }
  return out;
}

function canonicalMetadata(v: unknown): Obj {
  const out: Obj = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    // The ownership marker is checked by the planner, never diffed. "" is kept: on agents it is
    // a stored value (only null deletes), so a live "" must show up as a difference.
    if (k === OWNERSHIP_KEY || val === null || val === undefined) continue;
    out[k] = val;
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
    const resolved = ctx?.resolveRef?.(e.ref, explicit);
    if (!resolved) {
      const out: Obj = { ref: e.ref, type: "agent" };
      if (explicit !== undefined) out.version = explicit;
      return [`ref:${e.ref}`, out];
    }
    if (resolved.id === KNOWN) {
      return [`ref:${e.ref}`, { id: KNOWN, type: "agent", version: resolved.version }];
    }
    return [resolved.id, { id: resolved.id, type: "agent", version: resolved.version }];
  }
  const id = String(e.id);
  if (selfId !== undefined && id === selfId) return ["self", { type: "self" }];
  const out: Obj = { id, type: "agent" };
  if (typeof e.version === "number") out.version = e.version;
  return [id, out];
}

/** The same string as plan/types KNOWN_AFTER_APPLY; duplicated to keep normalize free of plan imports. */
const KNOWN = "(known after apply)";

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
    skills: canonicalSkills(src.skills),
    system: nullIfEmpty(src.system),
    tools: canonicalTools(src.tools),
  };
}

// ---------------------------------------------------------------------------------------------
// Environments

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;

function canonicalNetworking(v: unknown): Obj {
  if (!isObj(v) || v.type !== "limited") return { type: isObj(v) && typeof v.type === "string" ? v.type : "unrestricted" };
  return {
    allow_mcp_servers: boolOr(v.allow_mcp_servers, false),
    allow_package_managers: boolOr(v.allow_package_managers, false),
    allowed_hosts: sortedSet(v.allowed_hosts),
    type: "limited",
  };
}

function canonicalPackages(v: unknown): Obj {
  const src = isObj(v) ? v : {};
  const out: Obj = {};
  for (const m of PACKAGE_MANAGERS) out[m] = sortedSet(src[m]);
  return out;
}

function canonicalConfig(v: unknown): Obj {
  const c = isObj(v) ? v : { type: "cloud" };
  if (c.type === "self_hosted") return { type: "self_hosted" };
  return { networking: canonicalNetworking(c.networking), packages: canonicalPackages(c.packages), type: c.type ?? "cloud" };
}

function canonicalEnvironment(src: Obj): Obj {
  const out: Obj = {
    config: canonicalConfig(src.config),
    // "" and null differ on the server for environments, but not to anyone using one.
    description: nullIfEmpty(src.description),
    metadata: canonicalMetadata(src.metadata),
    name: src.name ?? null,
  };
  if (typeof src.scope === "string") out.scope = src.scope;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Canonical form of a manifest's spec (the API create body plus name references). With a
 * context, `{type: "agent", ref}` roster entries are resolved to ids and versions; without
 * one they stay as references by name.
 */
export function canonicalDesired(kind: ResourceKind, spec: Record<string, unknown>, context?: DesiredContext): Record<string, unknown> {
  return kind === "agent" ? canonicalAgent(spec, context, undefined) : canonicalEnvironment(spec);
}

/**
 * Canonical form of a live resource. `desiredHint` is the canonical desired form it will be
 * compared with: fields the manifest leaves to the server (model effort, skill versions,
 * roster versions of unversioned id entries, environment scope) are dropped from the live
 * side so they are not diffed. Without a hint everything the server stored is kept.
 */
export function canonicalLive(kind: ResourceKind, live: LiveAgent | LiveEnvironment, desiredHint?: Record<string, unknown>): Record<string, unknown> {
  const raw = live as unknown as Obj;
  if (kind === "environment") {
    const env = canonicalEnvironment(raw);
    if (desiredHint && !("scope" in desiredHint)) delete env.scope;
    return env;
  }
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

/** Digest of the canonical desired spec as written (references by name): recorded in the lockfile. */
export function specDigest(manifest: LoadedManifest): string {
  return digest(canonicalDesired(manifest.kind, manifest.spec));
}

/** Digest of the canonical live resource (no ids, timestamps or version): drift and staleness. */
export function liveDigest(kind: ResourceKind, live: LiveAgent | LiveEnvironment): string {
  return digest(canonicalLive(kind, live));
}

/** The ownership marker value carried by a live resource, or null. */
export function ownerOf(live: LiveAgent | LiveEnvironment): string | null {
  const m = (live as unknown as Obj).metadata;
  const v = isObj(m) ? m[OWNERSHIP_KEY] : undefined;
  return typeof v === "string" && v !== "" ? v : null;
}
