/**
 * Entry point: commander wiring. Each command lives in its own file and registers itself;
 * commands return an exit code instead of calling process.exit, so tests can run them in-process.
 */
import type { Command } from "commander";
import { AGENTFORM_VERSION } from "../version.js";
import { ExitCode } from "../errors.js";
import { processIo, reportError, type Io } from "./output.js";

/** Shared by every command: where to print, and the exit code the command chose. */
export interface CommandContext {
  io: Io;
  /** Set by a command's action; main returns it. */
  exitCode: number;
}

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Each command's module, loaded only when that command runs: `--version` loads none, `validate`
 * neither the SDK nor the local control plane. In help order.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ["validate", async () => (await import("./validate.js")).registerValidate],
  ["plan", async () => (await import("./plan.js")).registerPlan],
  ["apply", async () => (await import("./apply.js")).registerApply],
  ["lock", async () => (await import("./lock.js")).registerLock],
  ["state", async () => (await import("./state.js")).registerState],
  ["local", async () => (await import("./local.js")).registerLocal],
  ["init", async () => (await import("./init.js")).registerInit],
  ["import", async () => (await import("./import.js")).registerImport],
];

/**
 * Commands that open a target (a subcommand after its command). They start loading the SDK
 * backend alongside their own modules: loaded when the target opens, it took 200–300 ms (longer
 * while the manifests load), and the lists could not start before it. `lock get` and the
 * commands that read only files must not pay for it.
 */
const OPENS_TARGET: ReadonlySet<string> = new Set(["plan", "apply", "import", "lock verify", "lock refresh", "state forget", "state transfer"]);

/** Start loading the SDK backend; a failure is reported where the target imports it for real. */
function warmBackend(): void {
  import("./target.js")
    .then((target) => target.backendModules())
    .catch(() => undefined);
}

/** The arguments of argv that are no option: the command, its subcommand, their arguments. */
function words(argv: readonly string[]): string[] {
  return argv.slice(2).filter((a) => !a.startsWith("-"));
}

/** Whether argv runs a command that opens a target: its first word, or its first two. */
export function opensTarget(argv: readonly string[]): boolean {
  const [first, second] = words(argv);
  return first !== undefined && (OPENS_TARGET.has(first) || OPENS_TARGET.has(`${first} ${second}`));
}

/** The command argv names (its first argument that is no option), if it is one of ours. */
function commandOf(argv: readonly string[]): string | undefined {
  const [first] = words(argv);
  return COMMANDS.some(([name]) => name === first) ? first : undefined;
}

/** The program with `only` registered, or every command (help, and anything unknown, which commander reports). */
export async function buildProgram(ctx: CommandContext, only?: string): Promise<Command> {
  const { Command } = await import("commander");
  const program = new Command();
  program
    .name("agentform")
    .description("Declarative GitOps reconciler for Claude Managed Agents: validate, plan, apply, lock.")
    .version(AGENTFORM_VERSION, "-v, --version", "print the agentform version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  const wanted = COMMANDS.filter(([name]) => only === undefined || name === only);
  for (const register of await Promise.all(wanted.map(([, load]) => load()))) register(program, ctx);
  return program;
}

/** Whether argv asks for the version and nothing else (no command module is needed). */
function versionOnly(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  return args.length > 0 && args.every((a) => a === "-v" || a === "--version");
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const ctx: CommandContext = { io, exitCode: ExitCode.ok };
  if (versionOnly(argv)) {
    io.stdout.write(`${AGENTFORM_VERSION}\n`);
    return ExitCode.ok;
  }
  if (opensTarget(argv)) warmBackend();
  const program = await buildProgram(ctx, commandOf(argv));
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    const { CommanderError } = await import("commander");
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0; usage errors are invalid input (4).
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.ok;
      return ExitCode.invalid;
    }
    return reportError(err, io);
  }
}
