/**
 * Turns a target of agentform.yaml into a live connection: the right backend, wrapped in
 * agentform's retry and pacing policy, and the `origin` recorded in (and checked against) the
 * lockfile. A `local: true` target starts the embedded local control plane in-process, with a
 * state file under `.agentform/` so the quick start survives restarts.
 */
import path from "node:path";
import { ConfigError } from "../errors.js";
import type { ControlPlane } from "../backends/types.js";
import type { ProjectConfig, TargetConfig } from "../manifest/types.js";
import { createSdkBackend } from "../backends/sdk.js";
import { withResilience } from "../backends/resilient.js";
import { startLocalControlPlane } from "../local/index.js";

export interface OpenTarget {
  name: string;
  settings: TargetConfig;
  backend: ControlPlane;
  /** What the lockfile records; for local targets a stable `local://` URL, not the ephemeral port. */
  origin: { baseUrl: string; workspaceId: string | null };
  close(): Promise<void>;
}

export interface TargetFlags {
  backend?: "sdk" | "ant" | undefined;
  env: NodeJS.ProcessEnv;
  /** Called for each retry the resilience layer makes (progress output). */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; reason: string }) => void;
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
  const settings = config.targets[chosen];
  if (!settings) {
    throw new ConfigError("target-unknown", `Target "${chosen}" is not declared in ${config.file}.`, {
      hint: `Declared targets: ${names.join(", ") || "(none)"}.`,
    });
  }
  return [chosen, settings];
}

export async function openTarget(config: ProjectConfig, targetName: string | undefined, flags: TargetFlags): Promise<OpenTarget> {
  const [name, settings] = selectTarget(config, targetName);
  const backendKind = flags.backend ?? settings.backend ?? "sdk";
  if (backendKind === "ant") {
    throw new ConfigError("backend-unavailable", `The ant backend is not available in this build of agentform.`, {
      hint: "Use the default sdk backend (omit --backend and targets.<name>.backend).",
    });
  }
  const resilience = {
    project: config.project,
    writesPerMinute: settings.writes_per_minute,
    environmentConcurrency: settings.environment_concurrency,
    onRetry: flags.onRetry,
  };

  if (settings.local) {
    const stateFile = path.resolve(config.root, settings.state_file ?? path.join(".agentform", `local-${name}.json`));
    const server = await startLocalControlPlane({ stateFile });
    const backend = createSdkBackend({ baseUrl: server.baseUrl, apiKey: server.apiKey });
    return {
      name,
      settings,
      backend: withResilience(backend, resilience),
      origin: { baseUrl: `local://${path.relative(config.root, stateFile).split(path.sep).join("/")}`, workspaceId: null },
      close: () => server.close(),
    };
  }

  const keyEnv = settings.api_key_env ?? "ANTHROPIC_API_KEY";
  const apiKey = flags.env[keyEnv];
  if (!apiKey) {
    throw new ConfigError("api-key-missing", `Target "${name}" needs an API key in the environment variable ${keyEnv}, which is not set.`, {
      hint: `export ${keyEnv}=… (never put the key in agentform.yaml), or try the embedded control plane with a target that has \`local: true\`.`,
    });
  }
  const baseUrl = (settings.base_url ?? flags.env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com").replace(/\/+$/, "");
  const backend = createSdkBackend({ baseUrl, apiKey, workspaceId: settings.workspace_id });
  return {
    name,
    settings,
    backend: withResilience(backend, resilience),
    origin: { baseUrl, workspaceId: settings.workspace_id ?? null },
    close: async () => {},
  };
}
