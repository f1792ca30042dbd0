/**
 * Entry point of the GitHub Action: action.yml runs `node dist/action/main.js` with the inputs
 * in the environment (INPUT_MODE, INPUT_TARGET, …). See docs/ci.md.
 */
import { runAction } from "./action.js";
import { processLog } from "./gha.js";

process.exitCode = await runAction(process.env, processLog);
