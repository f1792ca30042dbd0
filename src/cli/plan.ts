import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `plan` command lands with its issue.
export function registerPlan(_program: Command, _ctx: CommandContext): void {}
