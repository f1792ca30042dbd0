/** The agent kind: versioned, owned through its metadata marker, referencing agents (rosters) and skills by name. */
import { agentAnt } from "./ant.js";
import type { KindSpec } from "../spec.js";
import { agentFindings } from "./security.js";
import { isObj, minimalManifest, type Obj } from "../values.js";
import { agentCreateFields, agentFieldBody, resolveAgentRefs } from "./body.js";
import { canonicalAgentDesired, canonicalAgentLive } from "./canonical.js";
import { agentFollowedRefKey, agentReferenceIds, agentReferences, agentNamedRefs } from "./refs.js";
import { agentRules } from "./rules.js";

const CREATE_FIELDS = ["name", "description", "model", "system", "tools", "mcp_servers", "skills", "multiagent", "execution_identity", "metadata"];

export const agentKind: KindSpec<"agent"> = {
  kind: "agent",
  schema: "agent",
  maxNameLength: 256,
  nameField: "name",
  folder: "agents",
  // Markdown: the frontmatter is the manifest, the body the system prompt (as `ant apply` has it).
  layout: "file",
  extensions: [".yaml", ".yml", ".md"],
  markdownBody: { field: "system", what: "the system prompt", fromBody: (text) => text, toBody: (value) => (typeof value === "string" ? value : undefined) },
  // Every agent has a model; environments have none.
  looksLike: (value, markdown) => markdown || "model" in value,
  ownership: "marker",
  referencedFrom: "A roster",
  concurrency: "version",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "agents",
  lockVersion: "integer",
  pinOf: (live) => live.version,
  uploads: false,
  renamable: true,
  removal: "archive",
  deletable: false,
  versionOf: (live) => live.version,
  // Sessions pin agents as {type: "agent", id, version}, never "latest".
  runtimePin: (entry) => ({ type: "agent", id: entry.id, version: entry.version }),
  updateImpact: "new-version",
  wholeFields: new Set(["tools", "mcp_servers", "skills", "model", "multiagent", "execution_identity"]),
  canonicalDesired: canonicalAgentDesired,
  canonicalLive: (live, hint) => canonicalAgentLive(live as unknown as Obj, hint),
  resolveRefs: resolveAgentRefs,
  createFields: agentCreateFields,
  reviewSecurity: agentFindings,
  fieldBody: agentFieldBody,
  references: agentReferences,
  liveReferenceIds: (live) => agentReferenceIds(live as unknown as Obj),
  followedRefKey: agentFollowedRefKey,
  rules: agentRules,
  namedRefs: (manifest, nameOf) => agentNamedRefs(manifest, nameOf),
  ant: agentAnt,
  antCommand: { resource: "beta:agents", idFlag: "--agent-id", versions: "beta:agents:versions", flagFields: ["multiagent"] },
  toManifest: (live) => {
    const raw = live as unknown as Obj;
    return minimalManifest(withSelfEntries(raw), CREATE_FIELDS, (spec) => canonicalAgentDesired(spec), canonicalAgentLive(raw));
  },
};

/** A live roster names the agent itself by its id; a manifest (which has no id yet) says `{type: self}`. */
function withSelfEntries(live: Obj): Obj {
  const self = (e: unknown): unknown => (e === live.id || (isObj(e) && e.id === live.id) ? { type: "self" } : e);
  const ma = live.multiagent;
  if (!isObj(ma)) return live;
  if (ma.type === "coordinator" && Array.isArray(ma.agents)) return { ...live, multiagent: { ...ma, agents: ma.agents.map(self) } };
  const member = (m: unknown): unknown => (isObj(m) && Array.isArray(m.predefined_agents) ? { ...m, predefined_agents: m.predefined_agents.map(self) } : m);
  return { ...live, multiagent: { ...ma, subagents: member(ma.subagents), workflows: member(ma.workflows) } };
}
