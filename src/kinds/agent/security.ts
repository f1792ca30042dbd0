/**
 * Security review of an agent change (pure): tools enabled or loosened, domains and URL sources
 * widened, MCP servers and toolsets added, custom tools and skills added, execution identity and
 * multiagent rosters changed, the system prompt changed. `before` null: the agent is created, and
 * every capability it starts with is listed (broadening when unattended or opening reach).
 */
import { escapePointer } from "../../util/pointer.js";
import { Findings, obj, rank, strings } from "../findings.js";
import { isObj, type Obj } from "../values.js";
import { AGENT_TOOLS } from "./canonical.js";

/**
 * The agent toolset's tools that only read the agent's own container: enabling them (or letting
 * them run without approval) is worth a reviewer's eye, but widens nothing the agent can reach or
 * change.
 */
const READ_ONLY_TOOLS: ReadonlySet<string> = new Set(["read", "grep", "glob"]);

/** Compare one tool's effective state (enabled, policy); `readOnly` tools are notable, never broadening. */
function toolState(f: Findings, pointer: string, label: string, before: Obj | undefined, after: Obj | undefined, creating: boolean, readOnly = false): void {
  if (!after || after.enabled !== true) return;
  const policy = String(after.permission_policy);
  if (!before || before.enabled !== true) {
    if (readOnly || (creating && policy !== "always_allow")) f.add("tool-enabled", "notable", pointer, `${label} enabled (${policy})`);
    else f.add("tool-enabled", "broadening", pointer, `${label} enabled (${policy})`);
    return;
  }
  if (rank(policy) > rank(before.permission_policy)) {
    f.add("permission-loosened", readOnly ? "notable" : "broadening", `${pointer}/permission_policy`, `${label}: permission ${String(before.permission_policy)} → ${policy}`);
  }
}

function domains(f: Findings, pointer: string, label: string, before: Obj | undefined, after: Obj): void {
  if (!before || before.enabled !== true) return; // a newly enabled tool is already reported
  const ba = strings(before.allowed_domains);
  const aa = strings(after.allowed_domains);
  if (ba.length > 0 && aa.length === 0) f.add("domains-widened", "broadening", `${pointer}/allowed_domains`, `${label}: domain allow-list removed (any domain)`);
  const addedAllowed = ba.length > 0 ? aa.filter((d) => !ba.includes(d)) : [];
  if (addedAllowed.length > 0) f.add("domains-widened", "broadening", `${pointer}/allowed_domains`, `${label}: allowed domains added: ${addedAllowed.join(", ")}`);
  const bb = strings(before.blocked_domains);
  const removedBlocked = bb.filter((d) => !strings(after.blocked_domains).includes(d));
  if (removedBlocked.length > 0) f.add("domains-widened", "broadening", `${pointer}/blocked_domains`, `${label}: blocked domains removed: ${removedBlocked.join(", ")}`);
}

type SourceFilter = { type: string; names: string[] };

function sourceFilter(v: unknown): SourceFilter {
  const o = obj(v);
  const names = Array.isArray(o.tools) ? o.tools.map((t) => String(obj(t).name)) : [];
  // Absent or null means "all" (the API's default); an unknown type is treated as "all" too,
  // so a shape this version does not know is reported rather than passed over.
  const type = ["all", "none", "only", "except"].includes(String(o.type)) ? String(o.type) : "all";
  return { type, names };
}

/** True when `after` lets through some tool's results that `before` did not. */
function sourceWidened(before: SourceFilter, after: SourceFilter): boolean {
  const gained = (a: string[], b: string[]) => a.some((n) => !b.includes(n));
  switch (after.type) {
    case "none":
      return false;
    case "all":
      return before.type !== "all";
    case "only":
      if (before.type === "all") return false;
      if (before.type === "except") return after.names.some((n) => before.names.includes(n));
      return gained(after.names, before.type === "only" ? before.names : []);
    default: // except: every tool but the named ones
      if (before.type === "all") return false;
      if (before.type === "except") return gained(before.names, after.names);
      return true;
  }
}

function describeSource(f: SourceFilter): string {
  return f.names.length > 0 ? `${f.type} ${f.names.join(", ")}` : f.type;
}

/**
 * web_fetch `url_sources`: which sources (user messages, custom tools' results, web_search and
 * web_fetch results) may contribute URLs to fetch. Letting more of them through widens what a
 * prompt injection in those results can make the agent fetch.
 */
function urlSources(f: Findings, pointer: string, before: Obj | undefined, after: Obj): void {
  if (!before || before.enabled !== true) return; // a newly enabled tool is already reported
  const bu = obj(before.url_sources);
  const au = obj(after.url_sources);
  for (const source of ["user_input", "client_tool_results", "server_tool_results"]) {
    const b = sourceFilter(bu[source]);
    const a = sourceFilter(au[source]);
    if (!sourceWidened(b, a)) continue;
    f.add("domains-widened", "broadening", `${pointer}/url_sources/${source}`, `web_fetch: URLs from ${source} widened: ${describeSource(b)} → ${describeSource(a)}`);
  }
}

export function agentFindings(f: Findings, before: Obj | null, after: Obj): void {
  const creating = before === null;
  const bt = obj(before?.tools);
  const at = obj(after.tools);
  // Agent toolset(s).
  for (const [key, ats] of Object.entries(at)) {
    if (key === "custom" || key === "mcp_toolset" || !isObj(ats)) continue;
    const bts = isObj(bt[key]) ? bt[key] : undefined;
    if (creating) {
      const allow = AGENT_TOOLS.filter((t) => obj(ats[t]).enabled === true && obj(ats[t]).permission_policy === "always_allow" && !READ_ONLY_TOOLS.has(t));
      const other = AGENT_TOOLS.filter((t) => obj(ats[t]).enabled === true && (obj(ats[t]).permission_policy !== "always_allow" || READ_ONLY_TOOLS.has(t)));
      if (allow.length > 0) f.add("tool-enabled", "broadening", `/tools/${key}`, `tools enabled without approval (always_allow): ${allow.join(", ")}`);
      if (other.length > 0) f.add("tool-enabled", "notable", `/tools/${key}`, `tools enabled with approval or auto, or only reading the container: ${other.join(", ")}`);
      continue;
    }
    for (const t of AGENT_TOOLS) {
      const p = `/tools/${escapePointer(key)}/${t}`;
      const a = obj(ats[t]);
      const b = bts ? obj(bts[t]) : undefined;
      toolState(f, p, t, b, a, false, READ_ONLY_TOOLS.has(t));
      if (a.enabled === true && (t === "web_fetch" || t === "web_search")) domains(f, p, t, b, a);
      if (a.enabled === true && t === "web_fetch") urlSources(f, p, b, a);
    }
  }
  // MCP toolsets.
  const bm = obj(bt.mcp_toolset);
  for (const [server, ts] of Object.entries(obj(at.mcp_toolset))) {
    const p = `/tools/mcp_toolset/${escapePointer(server)}`;
    const a = obj(ts);
    const b = isObj(bm[server]) ? bm[server] : undefined;
    if (!b) {
      const d = obj(a.default_config);
      f.add("mcp-toolset-added", creating && d.permission_policy !== "always_allow" ? "notable" : "broadening", p,
        `MCP toolset ${server} (${d.enabled === true ? `enabled, ${String(d.permission_policy)}` : "disabled by default"})`);
      continue;
    }
    toolState(f, `${p}/default_config`, `${server} default`, obj(b.default_config), obj(a.default_config), false);
    const bTools = obj(b.tools);
    for (const [tool, st] of Object.entries(obj(a.tools))) {
      const before = isObj(bTools[tool]) ? bTools[tool] : obj(b.default_config);
      toolState(f, `${p}/tools/${escapePointer(tool)}`, `${server}.${tool}`, before, obj(st), false);
    }
    // A per-tool override dropped falls back to the (possibly looser) default.
    for (const [tool, st] of Object.entries(bTools)) {
      if (tool in obj(a.tools)) continue;
      toolState(f, `${p}/tools/${escapePointer(tool)}`, `${server}.${tool}`, obj(st), obj(a.default_config), false);
    }
  }
  // MCP servers.
  const bs = obj(before?.mcp_servers);
  for (const [name, s] of Object.entries(obj(after.mcp_servers))) {
    const p = `/mcp_servers/${escapePointer(name)}`;
    const url = String(obj(s).url);
    if (!(name in bs)) f.add("mcp-server-added", "broadening", p, `MCP server ${name} added (${url})`);
    else if (obj(bs[name]).url !== obj(s).url) f.add("mcp-server-added", "broadening", `${p}/url`, `MCP server ${name} now points at ${url}`);
  }
  // Custom tools.
  const bc = obj(bt.custom);
  for (const name of Object.keys(obj(at.custom))) {
    if (!(name in bc)) f.add("custom-tool-added", creating ? "notable" : "broadening", `/tools/custom/${escapePointer(name)}`, `custom tool ${name} added`);
  }
  skillFindings(f, before, after, creating);
  // Execution identity.
  const bei = obj(before?.execution_identity);
  const aei = obj(after.execution_identity);
  if (creating ? aei.type !== "service_account" : JSON.stringify(bei) !== JSON.stringify(aei)) {
    const desc = aei.type === "aws_role" ? `aws_role ${String(aei.role_arn)}` : String(aei.type);
    f.add("execution-identity-changed", "broadening", "/execution_identity", `execution identity ${creating ? "is" : "changed to"} ${desc}`);
  }
  multiagentFindings(f, before ? before.multiagent : null, after.multiagent);
  // System prompt.
  if (!creating && before.system !== after.system) f.add("system-prompt-changed", "notable", "/system", "system prompt changed");
}

function multiagentFindings(f: Findings, before: unknown, after: unknown): void {
  if (!isObj(after)) return;
  if (!isObj(before) || before.type !== after.type) {
    const parts: string[] = [];
    if (after.type === "coordinator") parts.push(`${Object.keys(obj(after.agents)).length} agent(s) in the roster`);
    else {
      for (const m of ["advisor", "subagents", "workflows"]) if (obj(after[m]).type === "enabled") parts.push(m);
    }
    f.add("multiagent-enabled", "broadening", "/multiagent", `multiagent enabled (${after.type as string}${parts.length ? `: ${parts.join(", ")}` : ""})`);
    return;
  }
  if (after.type === "coordinator") {
    for (const k of Object.keys(obj(after.agents))) {
      if (!(k in obj(before.agents))) f.add("multiagent-enabled", "broadening", `/multiagent/agents/${escapePointer(k)}`, `roster entry ${k} added`);
    }
    return;
  }
  for (const m of ["advisor", "subagents", "workflows"]) {
    const a = obj(after[m]);
    const b = obj(before[m]);
    if (a.type === "enabled" && b.type !== "enabled") {
      f.add("multiagent-enabled", "broadening", `/multiagent/${m}`, `${m} enabled`);
      continue;
    }
    if (a.type !== "enabled" || m === "advisor") continue;
    if (obj(a.inline_agents).type === "enabled" && obj(b.inline_agents).type !== "enabled") {
      f.add("multiagent-enabled", "broadening", `/multiagent/${m}/inline_agents`, `${m}: inline agents enabled`);
    }
    for (const k of Object.keys(obj(a.predefined_agents))) {
      if (!(k in obj(b.predefined_agents))) {
        f.add("multiagent-enabled", "broadening", `/multiagent/${m}/predefined_agents/${escapePointer(k)}`, `${m}: predefined agent ${k} added`);
      }
    }
  }
}

/** Skills added, and skills now pinned at another version (other code in the container). */
function skillFindings(f: Findings, before: Obj | null, after: Obj, creating: boolean): void {
  const bsk = obj(before?.skills);
  for (const [key, entry] of Object.entries(obj(after.skills))) {
    if (!Object.hasOwn(bsk, key)) {
      f.add("skill-added", creating ? "notable" : "broadening", `/skills/${escapePointer(key)}`, `skill ${key} added`);
      continue;
    }
    // Another version of a skill is other code in the container. A re-pin that follows the
    // skill's latest version is dropped by the planner: the skill's own finding covers it.
    const was = obj(bsk[key]).version;
    const now = obj(entry).version;
    if (was !== undefined && now !== undefined && was !== now) {
      f.add("skill-changed", "notable", `/skills/${escapePointer(key)}/version`, `skill ${key} pinned at version ${String(now)} (was ${String(was)})`);
    }
  }
}
