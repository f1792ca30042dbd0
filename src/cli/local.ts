/**
 * `agentform local serve`: run the local control plane in the foreground until SIGINT/SIGTERM.
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.js";
import { parseFaults, startLocalControlPlane, type FaultConfig } from "../local/index.js";
import type { CommandContext } from "./main.js";

interface ServeFlags {
  port?: string;
  state?: string;
  latency?: string;
  jitter?: string;
  writesPerMinute?: string;
  readsPerMinute?: string;
  environmentConcurrency?: string;
  errorRate?: string;
  errorStatus?: string;
  seed?: string;
}

function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n)) {
    throw new ConfigError("invalid-flag", `${flag} expects a number, got "${raw}"`, { hint: `for example ${flag} 100` });
  }
  return n;
}

/** Turn the fault flags into a checked Partial<FaultConfig>. */
function faultsFromFlags(flags: ServeFlags): Partial<FaultConfig> {
  const raw: Record<string, unknown> = {
    latencyMs: numberFlag("--latency", flags.latency),
    jitterMs: numberFlag("--jitter", flags.jitter),
    writesPerMinute: numberFlag("--writes-per-minute", flags.writesPerMinute),
    readsPerMinute: numberFlag("--reads-per-minute", flags.readsPerMinute),
    environmentConcurrency: numberFlag("--environment-concurrency", flags.environmentConcurrency),
    errorRate: numberFlag("--error-rate", flags.errorRate),
    errorStatus: numberFlag("--error-status", flags.errorStatus),
    seed: numberFlag("--seed", flags.seed),
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  try {
    return parseFaults(raw);
  } catch (err) {
    throw new ConfigError("invalid-flag", `invalid fault flag: ${(err as Error).message}`, {
      hint: "see `agentform local serve --help` for the accepted values",
    });
  }
}

/** Register `agentform local serve`. */
export function registerLocal(program: Command, ctx: CommandContext): void {
  const local = program.command("local").description("The local control plane: an offline Managed Agents API for trying agentform and for tests.");
  local
    .command("serve")
    .description("serve the local control plane on 127.0.0.1 until interrupted")
    .option("--port <n>", "port to listen on (0 = any free port)", "0")
    .option("--state <file>", "persist state to this JSON file (default: in memory only)")
    .option("--latency <ms>", "fixed latency added to every API request")
    .option("--jitter <ms>", "plus a uniform random 0..ms")
    .option("--writes-per-minute <n>", "POST/DELETE limit per minute; over it → 429 with retry-after")
    .option("--reads-per-minute <n>", "GET limit per minute")
    .option("--environment-concurrency <n>", "max in-flight environment requests")
    .option("--error-rate <p>", "probability 0..1 of an injected error on an API request")
    .option("--error-status <status>", "status --error-rate injects: 500, 529 or 429")
    .option("--seed <n>", "seed for the fault PRNG")
    .action(async (flags: ServeFlags) => {
      const port = numberFlag("--port", flags.port) ?? 0;
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ConfigError("invalid-flag", `--port must be an integer between 0 and 65535, got "${flags.port}"`, { hint: "use --port 0 for any free port" });
      }
      const faults = faultsFromFlags(flags);
      const options: Parameters<typeof startLocalControlPlane>[0] = { port, faults };
      if (flags.state !== undefined) options.stateFile = flags.state;
      const cp = await startLocalControlPlane(options);
      ctx.io.stdout.write(`agentform local control plane listening on ${cp.baseUrl}\n`);
      ctx.io.stderr.write("any non-empty API key is accepted; stop with Ctrl-C\n");
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await cp.close();
      ctx.exitCode = 0;
    });
}
