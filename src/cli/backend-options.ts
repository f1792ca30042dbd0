/** The options every command that opens a target shares: which client to use, and where ant is. */
import { Option } from "commander";

export function backendOption(): Option {
  return new Option("--backend <backend>", "API client: sdk (the default) or ant (Anthropic's CLI, for agents and environments)").choices(["sdk", "ant"]);
}

export function antPathOption(): Option {
  return new Option("--ant-path <path>", "the ant binary for --backend ant (default: AGENTFORM_ANT, then ant on PATH)");
}
