import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `validate` command lands with its issue.
export function registerValidate(_program: Command, _ctx: CommandContext): void {}
