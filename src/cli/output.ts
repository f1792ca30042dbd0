/**
 * The only place output decisions are made: colour (TTY and NO_COLOR), and how an error is
 * shown (message, hint, code; never a stack trace unless AGENTFORM_DEBUG is set).
 */
import { AgentformError, ExitCode, redactSecrets } from "../errors.js";
import { inertLines, inertText } from "../render/inert.js";
import { colors, noColors, type Paint } from "../util/paint.js";

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** Colour only on a TTY, never with NO_COLOR (any value) or FORCE_COLOR=0. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR === "0") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "") return true;
  return stream.isTTY === true;
}

export type { Paint } from "../util/paint.js";

export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Paint {
  return useColor(stream, env) ? colors : noColors;
}

/**
 * Print an error the way users should see it and return the exit code to use. Messages and
 * hints name files and resources, which may hold control characters: they are printed inert
 * (their own line breaks kept: some messages list reasons one per line).
 */
export function reportError(err: unknown, io: Io): number {
  const paint = paintFor(io.stderr, io.env);
  if (err instanceof AgentformError) {
    io.stderr.write(`${paint.red("error")} ${inertLines(err.message)} ${paint.dim(`[${inertText(err.code)}]`)}\n`);
    if (err.hint) io.stderr.write(`  ${paint.bold("hint:")} ${inertLines(err.hint)}\n`);
    if (io.env.AGENTFORM_DEBUG && err.stack) io.stderr.write(redactSecrets(err.stack) + "\n");
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`${paint.red("error")} internal error: ${inertLines(redactSecrets(message))} ${paint.dim("[internal]")}\n`);
  io.stderr.write(`  ${paint.bold("hint:")} this is a bug in agentform; rerun with AGENTFORM_DEBUG=1 and report it.\n`);
  if (io.env.AGENTFORM_DEBUG && err instanceof Error && err.stack) io.stderr.write(redactSecrets(err.stack) + "\n");
  return ExitCode.error;
}
