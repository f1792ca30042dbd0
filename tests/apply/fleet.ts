/** A small fleet of manifests (plain data) and helpers to plan and apply it against a local control plane. */
import { byKind } from "../../src/kinds/index.js";
import type { ByKind } from "../../src/kinds/types.js";
import { createHash } from "node:crypto";
import { applyPlan, type ApplyEvent, type ApplyResult } from "../../src/apply/index.js";
import { withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane, LiveSets } from "../../src/backends/types.js";
import { completeLive, listEveryKind } from "../../src/cli/workflow.js";
import type { LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import { lockTable } from "../../src/lock/table.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { LoadedManifest, LoadResult, UploadFile } from "../../src/manifest/types.js";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import type { ResourceKind } from "../../src/kinds/types.js";

export const PROJECT = "support-bots";
export const ORIGIN = { baseUrl: "local://test", workspaceId: null };

export function manifest(kind: "agent" | "environment", name: string, spec: Record<string, unknown>): LoadedManifest {
  return {
    kind,
    name,
    file: `${kind}s/${name}.yaml`,
    spec: { name, ...spec },
    settings: { previous_names: [], adopt: false, ignore: [] },
    locate: () => ({ line: 1, column: 1 }),
  };
}

/**
 * A skill manifest as the loader makes it from `skills/<name>/`: SKILL.md (frontmatter with the
 * name and description, then `body`) plus `files`, each with its sha256 in `spec.files` and its
 * bytes in `uploads`.
 */
export function skillManifest(name: string, description: string, body: string, files: Record<string, string | Uint8Array> = {}): LoadedManifest {
  const all: Record<string, string | Uint8Array> = { "SKILL.md": `---\nname: ${name}\ndescription: ${description}\n---\n\n${body}`, ...files };
  const uploads: UploadFile[] = Object.keys(all)
    .sort()
    .map((path) => {
      const v = all[path] as string | Uint8Array;
      const bytes = typeof v === "string" ? new TextEncoder().encode(v) : v;
      return { path, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
    });
  return {
    kind: "skill",
    name,
    file: `skills/${name}/SKILL.md`,
    spec: { name, description, files: Object.fromEntries(uploads.map((f) => [f.path, f.sha256])) },
    settings: { previous_names: [], adopt: false, ignore: [] },
    locate: () => ({ line: 1, column: 1 }),
    uploads,
  };
}

export interface Fleet {
  agents: LoadedManifest[];
  environments: LoadedManifest[];
  /** Skill manifests (folder layout, with their files); none when absent. */
  skills?: LoadedManifest[];
}

/** The skill `fleet(…, {skill: true})` adds, and the workers using it (every fourth). */
export const FLEET_SKILL = "triage-notes";
export const usesSkill = (worker: number) => worker % 4 === 0;

/** The read tool, which agents need to load their skills. */
const READ_TOOL = [{ type: "agent_toolset_20260401", default_config: { enabled: false }, configs: [{ name: "read", enabled: true }] }];

/**
 * 3 environments, `workers` agents and 2 coordinators whose rosters name workers by ref. With
 * `skill`, also one skill (SKILL.md and a script; `skillEdit` changes the script) that every
 * fourth worker uses by ref, following its latest version.
 */
export function fleet(workers = 16, systemSuffix = "", options: { skill?: boolean; skillEdit?: string } = {}): Fleet {
  const environments = [0, 1, 2].map((i) => manifest("environment", `env-${i}`, { description: `environment ${i}`, config: { type: "cloud" } }));
  const withSkill = options.skill === true;
  const agents = Array.from({ length: workers }, (_, i) =>
    manifest("agent", `worker-${i}`, {
      model: "claude-sonnet-5-5",
      system: `You are worker ${i}.${systemSuffix}`,
      ...(withSkill && usesSkill(i) ? { tools: READ_TOOL, skills: [{ type: "custom", ref: FLEET_SKILL }] } : {}),
    }),
  );
  for (const lead of [0, 1].filter((l) => l * 2 + 1 < workers)) {
    agents.push(
      manifest("agent", `lead-${lead}`, {
        model: "claude-opus-5-5",
        system: `You coordinate team ${lead}.`,
        multiagent: { type: "coordinator", agents: [{ type: "agent", ref: `worker-${lead * 2}` }, { type: "agent", ref: `worker-${lead * 2 + 1}` }] },
      }),
    );
  }
  if (!withSkill) return { agents, environments };
  const script = new TextEncoder().encode(`print("triage")\n# ${options.skillEdit ?? "first"}\n`);
  const skills = [skillManifest(FLEET_SKILL, "Notes for triaging support tickets.", "Read scripts/triage.py before triaging.\n", { "scripts/triage.py": script, "assets/logo.bin": new Uint8Array([0, 255, 13, 10, 137, 80, 78, 71]) })];
  return { agents, environments, skills };
}

/** The files apply uploads, by plan address (what the CLI hands applyPlan from the loaded manifests). */
export function uploadsOf(f: Fleet): (address: string) => ReadonlyArray<UploadFile> | undefined {
  const byAddress = new Map<string, ReadonlyArray<UploadFile> | undefined>((f.skills ?? []).map((m) => [`skill.${m.name}`, m.uploads]));
  return (address) => byAddress.get(address);
}

/** The uploads of the fleet each plan was made from (planNow), so applyNow sends the same files. */
const planUploads = new WeakMap<Plan, (address: string) => ReadonlyArray<UploadFile> | undefined>();

export function sdk(cp: LocalControlPlane): ControlPlane {
  return createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }, { timeoutMs: 10_000 });
}

/**
 * The sdk backend with agentform's policy on a fake clock that moves only when the policy
 * sleeps (pacing and backoff cost no real time). `retryDelays` collects each retry's delay.
 */
export function resilient(cp: LocalControlPlane, retryDelays: number[] = []): ControlPlane {
  let now = 0;
  return withResilience(sdk(cp), {
    project: PROJECT,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    random: () => 0.5,
    onRetry: (info) => retryDelays.push(info.delayMs),
  });
}

/**
 * Live state as the CLI's refresh reads it: the lists, with skills completed (their file digests,
 * which lists omit) by the CLI's own step, src/cli/workflow.ts `completeLive`.
 */
export async function liveNow(backend: ControlPlane, f: Fleet, lock: Lockfile | null): Promise<LiveSets> {
  return completeLive({ load: { manifests: fleetManifests(f) } as LoadResult, lock, target: { backend } as never }, await listEveryKind(backend));
}

/** The fleet's manifests by kind (none for the kinds it does not use). */
function fleetManifests(f: Fleet): ByKind<LoadedManifest[]> {
  return { ...byKind((): LoadedManifest[] => []), agent: f.agents, environment: f.environments, skill: f.skills ?? [] };
}

export async function planNow(backend: ControlPlane, f: Fleet, lock: Lockfile | null, options: Partial<{ adopt: boolean; prune: boolean; allowEmpty: boolean }> = {}): Promise<Plan> {
  const plan = buildPlan({
    project: PROJECT,
    target: "default",
    origin: ORIGIN,
    manifests: fleetManifests(f),
    live: await liveNow(backend, f, lock),
    lock,
    options: { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.1.0", ...options },
  });
  planUploads.set(plan, uploadsOf(f));
  return plan;
}

/**
 * Apply with an in-memory lockfile "on disk" (the last saveLock argument). `unsaved` lists
 * resources reported done before a save containing them had completed (must stay empty). Skill
 * files are uploaded from the fleet the plan was made from (planNow).
 */
export async function applyNow(
  plan: Plan,
  backend: ControlPlane,
  lock: Lockfile | null,
  events: ApplyEvent[] = [],
  concurrency = 4,
): Promise<ApplyResult & { saves: number; unsaved: string[] }> {
  let saves = 0;
  let onDisk: Lockfile | null = lock;
  const unsaved: string[] = [];
  const result = await applyPlan(plan, backend, {
    project: PROJECT,
    concurrency,
    lock: lock ?? emptyLock(PROJECT, "default", ORIGIN),
    uploads: planUploads.get(plan) ?? (() => undefined),
    saveLock: async (saved) => {
      saves++;
      onDisk = saved;
    },
    onEvent: (e) => {
      events.push(e);
      if (e.type !== "done" || e.action === "archive" || e.action === "delete") return;
      const [kind, ...rest] = e.address.split(".");
      const table = onDisk ? lockTable(onDisk, kind as ResourceKind) : undefined;
      if (table?.[rest.join(".")]?.id !== e.id) unsaved.push(e.address);
    },
  });
  return { ...result, saves, unsaved };
}

export function writesIn(cp: LocalControlPlane) {
  return cp.requestLog().filter((e) => e.write);
}
