/** A small fleet of manifests (plain data) and helpers to plan and apply it against a local control plane. */
import { applyPlan, type ApplyEvent, type ApplyResult } from "../../src/apply/index.js";
import { withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import type { LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";

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

export interface Fleet {
  agents: LoadedManifest[];
  environments: LoadedManifest[];
}

/** 3 environments, `workers` agents and 2 coordinators whose rosters name workers by ref. */
export function fleet(workers = 16, systemSuffix = ""): Fleet {
  const environments = [0, 1, 2].map((i) => manifest("environment", `env-${i}`, { description: `environment ${i}`, config: { type: "cloud" } }));
  const agents = Array.from({ length: workers }, (_, i) =>
    manifest("agent", `worker-${i}`, { model: "claude-sonnet-5-5", system: `You are worker ${i}.${systemSuffix}` }),
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
  return { agents, environments };
}

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

export async function planNow(backend: ControlPlane, f: Fleet, lock: Lockfile | null, options: Partial<{ adopt: boolean; prune: boolean; allowEmpty: boolean }> = {}): Promise<Plan> {
  const [agent, environment, skill] = await Promise.all([backend.list("agent"), backend.list("environment"), backend.list("skill")]);
  return buildPlan({
    project: PROJECT,
    target: "default",
    origin: ORIGIN,
    manifests: { agent: f.agents, environment: f.environments, skill: [] },
    live: { agent, environment, skill },
    lock,
    options: { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.1.0", ...options },
  });
}

/**
 * Apply with an in-memory lockfile "on disk" (the last saveLock argument). `unsaved` lists
 * resources reported done before a save containing them had completed (must stay empty).
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
    saveLock: async (saved) => {
      saves++;
      onDisk = saved;
    },
    onEvent: (e) => {
      events.push(e);
      if (e.type !== "done" || e.action === "archive" || e.action === "delete") return;
      const [kind, ...rest] = e.address.split(".");
      const table: Record<string, { id: string }> | undefined = kind === "agent" ? onDisk?.agents : onDisk?.environments;
      if (table?.[rest.join(".")]?.id !== e.id) unsaved.push(e.address);
    },
  });
  return { ...result, saves, unsaved };
}

export function writesIn(cp: LocalControlPlane) {
  return cp.requestLog().filter((e) => e.write);
}
