/** Tiny builders for planner inputs: manifests, API-shaped live resources, lockfiles. */
import type { LiveAgent, LiveEnvironment } from "../../src/backends/types.js";
import { byKind, KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import type { ByKind, LiveSkill } from "../../src/kinds/types.js";
import type { Lockfile, LockTables } from "../../src/lock/types.js";
import type { LoadedManifest, ManifestSettings } from "../../src/manifest/types.js";
import type { PlanInput, PlanOptions } from "../../src/plan/types.js";

export const PROJECT = "support-bots";
export const MARKER = { "agentform.project": PROJECT };

/**
 * An empty list for every registered kind. Spread it and set the kinds a test uses
 * (`{ ...emptyByKind(), agent: [...] }`), so a kind added to the registry needs no fixture change.
 * `never[]` fits both manifests by kind and live sets.
 */
export function emptyByKind(): ByKind<never[]> {
  return byKind((): never[] => []);
}

/** An empty map for every registered kind's lockfile key (`agents`, `environments`, …); spread it, then override. */
export function emptyLockTables(): LockTables {
  return Object.fromEntries(KIND_ORDER.map((kind) => [KINDS[kind].lockKey, {}])) as LockTables;
}

export function manifest(kind: "agent" | "environment", spec: Record<string, unknown>, settings: Partial<ManifestSettings> = {}): LoadedManifest {
  const name = String(spec.name);
  return {
    kind,
    name,
    file: `${kind === "agent" ? "agents" : "environments"}/${name}.yaml`,
    spec,
    settings: { previous_names: [], adopt: false, ignore: [], ...settings },
    locate: () => ({ line: 1, column: 1 }),
  };
}

/** The eight agent-toolset tools as the server returns them when only a default was given. */
export function expandedToolset(policy = "always_allow", overrides: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const names = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"];
  return {
    type: "agent_toolset_20260401",
    default_config: { enabled: true, permission_policy: { type: policy } },
    configs: names.map((n) => ({
      name: n,
      type: n,
      enabled: true,
      permission_policy: { type: policy },
      ...(n === "web_fetch" ? { url_sources: null } : {}),
      ...(overrides[n] ?? {}),
    })),
  };
}

let seq = 0;
/** A live agent shaped like an API response: server-filled fields present. */
export function liveAgent(fields: Record<string, unknown>): LiveAgent {
  seq += 1;
  return {
    id: `agent_011${String(fields.name).replace(/[^a-z0-9]/gi, "").slice(0, 12)}${seq}`,
    type: "agent",
    description: null,
    system: null,
    model: { id: "claude-sonnet-5-5", effort: { type: "high" }, speed: "standard" },
    tools: [],
    mcp_servers: [],
    skills: [],
    multiagent: null,
    execution_identity: { type: "service_account" },
    metadata: { ...MARKER },
    version: 1,
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    ...fields,
  } as unknown as LiveAgent;
}

/** A live environment shaped like an API response: server-filled fields present. */
export function liveEnvironment(fields: Record<string, unknown>): LiveEnvironment {
  seq += 1;
  return {
    id: `env_011${String(fields.name).replace(/[^a-z0-9]/gi, "").slice(0, 12)}${seq}`,
    type: "environment",
    description: null,
    config: {
      type: "cloud",
      networking: { type: "unrestricted" },
      packages: { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] },
    },
    metadata: { ...MARKER },
    scope: "organization",
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    ...fields,
  } as unknown as LiveEnvironment;
}

/** A lockfile with an empty map for every kind, except the maps given in `parts`. */
export function lockfile(parts: Partial<LockTables>): Lockfile {
  const given = Object.fromEntries(Object.entries(parts).filter(([, table]) => table !== undefined)) as Partial<LockTables>;
  return {
    lockfileVersion: 1.1,
    project: PROJECT,
    target: "default",
    origin: { baseUrl: "https://api.anthropic.com", workspaceId: null },
    ...emptyLockTables(),
    ...given,
  };
}

export function planInput(parts: {
  agents?: LoadedManifest[];
  environments?: LoadedManifest[];
  liveAgents?: LiveAgent[];
  liveEnvironments?: LiveEnvironment[];
  skills?: LoadedManifest[];
  liveSkills?: LiveSkill[];
  lock?: Lockfile | null;
  options?: Partial<PlanOptions>;
}): PlanInput {
  return {
    project: PROJECT,
    target: "default",
    origin: { baseUrl: "https://api.anthropic.com", workspaceId: null },
    manifests: { ...emptyByKind(), agent: parts.agents ?? [], environment: parts.environments ?? [], skill: parts.skills ?? [] },
    live: { ...emptyByKind(), agent: parts.liveAgents ?? [], environment: parts.liveEnvironments ?? [], skill: parts.liveSkills ?? [] },
    lock: parts.lock ?? null,
    options: { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.1.0", ...parts.options },
  };
}

/**
 * A skill manifest as the loader builds it from `skills/<name>/` (src/manifest/folder.ts): spec
 * `{name, description, files: {"<path>": "<sha256>"}}`. No `uploads`: the planner never reads bytes.
 */
export function skillManifest(name: string, files: Record<string, string>, description = `The ${name} skill.`): LoadedManifest {
  return {
    kind: "skill",
    name,
    file: `skills/${name}/SKILL.md`,
    spec: { name, description, files: { ...files } },
    settings: { previous_names: [], adopt: false, ignore: [] },
    locate: () => ({ line: 1, column: 1 }),
  };
}

/**
 * A live skill shaped like an API response plus what `fromApi` and refresh add (`name`,
 * `archived_at: null`, `files`). Ids derive from the name (no shared counter), so adding skill
 * scenarios never shifts the ids of other live resources.
 */
export function liveSkill(fields: Record<string, unknown> & { name: string }): LiveSkill {
  const slug = fields.name.replace(/[^a-z0-9]/gi, "").slice(0, 12);
  return {
    id: `skill_011${slug}`,
    type: "skill",
    display_name: fields.name,
    latest_version_id: `skver_011${slug}1`,
    source: { type: "custom" },
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
    files: {},
    ...fields,
  } as unknown as LiveSkill;
}
