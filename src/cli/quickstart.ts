import type { Command } from "commander";
import type { CommandContext } from "./main.js";

// Placeholder: the `quickstart` command lands with its issue.
export function registerQuickstart(_program: Command, _ctx: CommandContext): void {}
