import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `lock` command lands with its issue.
export function registerLock(_program: Command, _ctx: CommandContext): void {}
