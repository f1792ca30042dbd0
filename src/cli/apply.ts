import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `apply` command lands with its issue.
export function registerApply(_program: Command, _ctx: CommandContext): void {}
