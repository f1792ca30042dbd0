/** The agent kind: versioned, owned through its metadata marker, rosters referencing agents by name. */
import type { KindSpec } from "../spec.js";
import { agentFindings } from "./security.js";
import type { Obj } from "../values.js";
import { agentCreateFields, agentFieldBody, resolveAgentRefs } from "./body.js";
import { canonicalAgentDesired, canonicalAgentLive } from "./canonical.js";

export const agentKind: KindSpec<"agent"> = {
  kind: "agent",
  folder: "agents",
  // Markdown: the frontmatter is the manifest, the body the system prompt (as `ant apply` has it).
  extensions: [".yaml", ".yml", ".md"],
  concurrency: "version",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "agents",
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
};
