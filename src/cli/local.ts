import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `local` command lands with its issue.
export function registerLocal(_program: Command, _ctx: CommandContext): void {}
