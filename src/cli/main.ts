/**
 * Entry point: commander wiring. Each command lives in its own file and registers itself;
 * commands return an exit code instead of calling process.exit, so tests can run them in-process.
 */
import { Command, CommanderError } from "commander";
import { AGENTFORM_VERSION } from "../version.js";
import { ExitCode } from "../errors.js";
import { processIo, reportError, type Io } from "./output.js";
import { registerValidate } from "./validate.js";
import { registerLocal } from "./local.js";
import { registerPlan } from "./plan.js";
import { registerApply } from "./apply.js";
import { registerLock } from "./lock.js";
import { registerState } from "./state.js";
import { registerInit } from "./init.js";
import { registerImport } from "./import.js";

/** Shared by every command: where to print, and the exit code the command chose. */
export interface CommandContext {
  io: Io;
  /** Set by a command's action; main returns it. */
  exitCode: number;
}

export function buildProgram(ctx: CommandContext): Command {
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
  registerValidate(program, ctx);
  registerPlan(program, ctx);
  registerApply(program, ctx);
  registerLock(program, ctx);
  registerState(program, ctx);
  registerLocal(program, ctx);
  registerInit(program, ctx);
  registerImport(program, ctx);
  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const ctx: CommandContext = { io, exitCode: ExitCode.ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0; usage errors are invalid input (4).
      if (err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.version") return ExitCode.ok;
      return ExitCode.invalid;
    }
    return reportError(err, io);
  }
}
