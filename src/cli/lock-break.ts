/**
 * `agentform lock break [--target T] [--force]`: remove a target's apply run lock
 * (`.agentform/apply-<target>.lock`) that no apply will release: its holder crashed on another
 * machine sharing this folder, or its heartbeat is fresh but you know it is dead. apply never
 * takes such a lock over by itself (see src/apply/run-lock.ts); this is the person's decision.
 * It also removes whatever else sits at that path (a symlink, a FIFO, an empty directory),
 * which apply refuses as `run-lock-invalid`.
 */
import { hostname } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { ExitCode } from "../errors.js";
import { breakRunLock, describeOwner, formatAge, runLockFile } from "../apply/run-lock.js";
import { loadConfig } from "../manifest/index.js";
import type { CommandContext } from "./main.js";
import { selectTarget } from "./target.js";

interface BreakFlags {
  target?: string;
  config?: string;
  force?: boolean;
}

export function registerLockBreak(lock: Command, ctx: CommandContext): void {
  lock
    .command("break")
    .description("Remove a target's apply run lock (.agentform/apply-<target>.lock) left by an apply that is no longer running.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .option("--force", "remove it even though its pid still runs on this machine (use only when that pid is not an agentform apply)")
    .addHelpText(
      "after",
      `
An apply that is still running and loses its lock stops before its next write (if it shares
this folder). Also removes a symlink, FIFO or empty directory found at that path. Exit codes:
0 removed (or there was none), 3 refused (its pid still runs here: pass --force if it is not an
agentform apply; or a directory with files is in the way), 4 invalid config, 1 other errors.`,
    )
    .action(async (flags: BreakFlags) => {
      ctx.exitCode = await runLockBreak(flags, ctx);
    });
}

async function runLockBreak(flags: BreakFlags, ctx: CommandContext): Promise<number> {
  const config = await loadConfig({ cwd: process.cwd(), configPath: flags.config });
  const [target] = selectTarget(config, flags.target);
  const file = runLockFile(config.root, target);
  const shown = path.relative(process.cwd(), file) || file;
  const removed = await breakRunLock(file, { force: flags.force ?? false, target });
  if (removed === null) {
    ctx.io.stdout.write(`No apply lock for target "${target}" (${shown}); nothing to remove.\n`);
    return ExitCode.ok;
  }
  if (removed.notAFile !== undefined) {
    ctx.io.stdout.write(`Removed what sat at the apply lock path of target "${target}" (${shown}): a ${removed.notAFile}, not a lock file.\n`);
    return ExitCode.ok;
  }
  const since = removed.owner?.since ? `, taken ${removed.owner.since}` : "";
  ctx.io.stdout.write(
    `Removed the apply lock of target "${target}" (${shown}): held by ${describeOwner(removed.owner)}${since}, last heartbeat ${formatAge(removed.ageMs)} ago.\n`,
  );
  if (removed.owner !== null && removed.owner.host !== hostname()) {
    ctx.io.stderr.write(
      "If that apply still runs and shares this folder, it stops before its next write; an apply in another checkout cannot be stopped from here.\n",
    );
  }
  return ExitCode.ok;
}
