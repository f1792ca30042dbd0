/**
 * Turns a target of agentform.yaml into a live connection: the right backend, wrapped in
 * agentform's retry and pacing policy, and the `origin` recorded in (and checked against) the
 * lockfile. A `local: true` target starts the embedded local control plane in-process, with a
 * state file under `.agentform/` so the quick start survives restarts.
 *
 * What the repository must not decide is read from the environment instead: which hosts may
 * receive the API key (key-destination.ts) and the bounds on what a server may send back.
 */
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ConnectionSettings, ControlPlane } from "../backends/types.js";
import type { ProjectConfig, TargetConfig } from "../manifest/types.js";
import type { ResponseLimits } from "../backends/http.js";
import type { PacingStats } from "../backends/pacing.js";
import { checkKeyDestination } from "./key-destination.js";
// The SDK, the retry policy and the local control plane are loaded when a target is opened, not
// with the module: validate and --version never open one and should not pay for them.

export interface OpenTarget {
  name: string;
  settings: TargetConfig;
  backend: ControlPlane;
  /** What the lockfile records; for local targets a stable `local://` URL, not the ephemeral port. */
  origin: { baseUrl: string; workspaceId: string | null };
  /** What write pacing did so far: 429s answered to writes, the lowest rate reached. */
  pacing?: () => PacingStats;
  /** What the user should know about how this target is reached (printed once, to stderr). */
  notes: string[];
  close(): Promise<void>;
}

export interface TargetFlags {
  backend?: "sdk" | "ant" | undefined;
  /** `--ant-path`: the ant binary, before AGENTFORM_ANT and PATH. */
  antPath?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Called for each retry the resilience layer makes (progress output). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; reason: string }) => void;
  /** Called right before every write attempt (apply's run-lock fence). */
  beforeWrite?: () => Promise<void>;
}

/** Picks the target: the named one, else "default", else the only one. */
export function selectTarget(config: ProjectConfig, name: string | undefined): [string, TargetConfig] {
  const names = Object.keys(config.targets);
  const chosen = name ?? (names.includes("default") ? "default" : names.length === 1 ? names[0] : undefined);
  if (chosen === undefined) {
    throw new ConfigError("target-required", `${config.file} declares several targets and none is named "default".`, {
      hint: `Pass --target with one of: ${names.join(", ")}.`,
    });
  }
  // Own keys only: "constructor" or "__proto__" is no target.
  const settings = Object.hasOwn(config.targets, chosen) ? config.targets[chosen] : undefined;
  if (!settings) {
    throw new ConfigError("target-unknown", `Target "${chosen}" is not declared in ${config.file}.`, {
      hint: `Declared targets: ${names.join(", ") || "(none)"}.`,
    });
  }
  return [chosen, settings];
}

/**
 * What every opened target loads: the SDK backend and the resilience layer around it. Loaded
 * lazily (most of the start-up of a command that opens a target); main.ts starts it early.
 */
export function backendModules() {
  return Promise.all([import("../backends/sdk.js"), import("../backends/resilient.js")]);
}

export async function openTarget(config: ProjectConfig, targetName: string | undefined, flags: TargetFlags): Promise<OpenTarget> {
  const [name, settings] = selectTarget(config, targetName);
  const backendKind = flags.backend ?? settings.backend ?? "sdk";
  // Found before anything starts or is read: a missing binary is a set-up error, not an API one.
  const ant = backendKind === "ant" ? await (await import("../backends/ant-locate.js")).locateAnt(flags.antPath, flags.env) : undefined;
  const { limits, maxAttempts } = settingsFromEnv(flags.env);
  const resilience = {
    project: config.project,
    writesPerMinute: settings.writes_per_minute,
    environmentConcurrency: settings.environment_concurrency,
    maxAttempts,
    onRetry: flags.onRetry,
    beforeWrite: flags.beforeWrite,
  };
  const open = async (connection: ConnectionSettings, close: () => Promise<void>, origin: OpenTarget["origin"]): Promise<OpenTarget> => {
    const [{ createSdkBackend }, { withResilience }] = await backendModules();
    const sdk = createSdkBackend(connection, { limits });
    const antBackend = ant ? (await import("../backends/ant.js")).createAntBackend(connection, { antPath: ant.path, fallback: sdk, limits, env: flags.env }) : undefined;
    const backend = withResilience(antBackend ?? sdk, resilience);
    const closeAll = async () => {
      await antBackend?.close();
      await close();
    };
    return { name, settings, backend, pacing: () => backend.pacing(), origin, notes: ant ? [await antNote(name, ant)] : [], close: closeAll };
  };

  if (settings.local) {
    const { startLocalControlPlane } = await import("../local/index.js");
    const stateFile = path.resolve(config.root, settings.state_file ?? path.join(".agentform", `local-${name}.json`));
    const server = await startLocalControlPlane({ stateFile });
    const origin = { baseUrl: `local://${path.relative(config.root, stateFile).split(path.sep).join("/")}`, workspaceId: null };
    return open({ baseUrl: server.baseUrl, apiKey: server.apiKey }, () => server.close(), origin);
  }

  // Checked before the key is even read: a pull request may have changed base_url.
  const baseUrl = (settings.base_url ?? flags.env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com").replace(/\/+$/, "");
  const source = settings.base_url !== undefined ? `targets.${name}.base_url in ${path.basename(config.file)}` : "ANTHROPIC_BASE_URL";
  checkKeyDestination(baseUrl, source, flags.env);
  const keyEnv = settings.api_key_env ?? "ANTHROPIC_API_KEY";
  const apiKey = flags.env[keyEnv];
  if (!apiKey) {
    throw new ConfigError("api-key-missing", `Target "${name}" needs an API key in the environment variable ${keyEnv}, which is not set.`, {
      hint: `export ${keyEnv}=… (never put the key in agentform.yaml), or try the embedded control plane with a target that has \`local: true\`.`,
    });
  }
  return open({ baseUrl, apiKey, workspaceId: settings.workspace_id }, async () => {}, { baseUrl, workspaceId: settings.workspace_id ?? null });
}

/** Which kinds go through ant and which through the SDK, said once per run. */
async function antNote(target: string, ant: { path: string; version: string }): Promise<string> {
  const [{ KIND_ORDER, kindSpec }, { joinAnd, kindNoun }] = await Promise.all([import("../kinds/index.js"), import("./kind-counts.js")]);
  // In the order summaries use: the kinds users write most first.
  const kinds = (viaAnt: boolean) => joinAnd([...KIND_ORDER].reverse().filter((k) => (kindSpec(k).antCommand !== undefined) === viaAnt).map((k) => `${kindNoun(k)}s`));
  return `target "${target}" uses ant ${ant.version} (${ant.path}) for ${kinds(true)}; ${kinds(false)} go through the SDK`;
}

/**
 * Response bounds and retry attempts from the environment (docs/security.md). Every variable is
 * optional; a value that is not a whole number in range is refused rather than ignored.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): { limits: Partial<ResponseLimits>; maxAttempts: number | undefined } {
  return {
    limits: {
      maxResponseBytes: intFromEnv(env, "AGENTFORM_MAX_RESPONSE_BYTES", 1024, Number.MAX_SAFE_INTEGER),
      // setTimeout cannot wait longer than 2^31 - 1 ms; a larger value would fire at once.
      bodyTimeoutMs: intFromEnv(env, "AGENTFORM_BODY_TIMEOUT_MS", 1, 2 ** 31 - 1),
      maxPages: intFromEnv(env, "AGENTFORM_MAX_PAGES", 1, Number.MAX_SAFE_INTEGER),
      maxListBytes: intFromEnv(env, "AGENTFORM_MAX_LIST_BYTES", 1024, Number.MAX_SAFE_INTEGER),
    },
    maxAttempts: intFromEnv(env, "AGENTFORM_MAX_ATTEMPTS", 1, 20),
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError("env-setting-invalid", `${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw.slice(0, 40))}.`, {
      hint: `Fix or unset ${name} in the environment.`,
    });
  }
  return value;
}
