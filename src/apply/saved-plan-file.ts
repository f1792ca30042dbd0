/**
 * Reading a saved plan. The file is untrusted (a pull request, a CI artifact anyone could have
 * replaced): it is size-capped, must be a regular file, and must match schemas/plan.schema.json
 * before anything looks at it. Anything else is `saved-plan-invalid` (exit 4), never a crash.
 */
import { constants, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { Ajv, type ValidateFunction } from "ajv";
import { ConfigError } from "../errors.js";
import type { Plan } from "../plan/types.js";
import { nestingExceeds } from "../util/depth.js";

/**
 * Far above any real plan (a 5,000-agent plan is a few MiB), and low enough that parsing the
 * worst file (JSON.parse of tiny nodes takes about 15 times the file's size) stays in memory.
 */
export const MAX_SAVED_PLAN_BYTES = 32 * 1024 * 1024;
/** Plans nest a manifest's values a few levels deep; validation caps those at 64. */
const MAX_NESTING = 128;
const HINT = "Pass the file written by `agentform plan --out` with this version of agentform.";

let validate: ValidateFunction | undefined;

function planValidator(): ValidateFunction {
  if (!validate) {
    const schema = JSON.parse(readFileSync(new URL("../../schemas/plan.schema.json", import.meta.url), "utf8")) as object;
    validate = new Ajv({ allErrors: false, strict: true }).compile(schema);
  }
  return validate;
}

/** Read and validate a saved plan; every failure is a coded ConfigError naming the file. */
export async function readSavedPlan(file: string): Promise<Plan> {
  const text = await readBounded(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ConfigError("saved-plan-invalid", `${file} is not valid JSON.`, { hint: HINT });
  }
  if (nestingExceeds(data, MAX_NESTING)) {
    throw new ConfigError("saved-plan-invalid", `${file} nests values more than ${MAX_NESTING} levels deep.`, { hint: HINT });
  }
  const check = planValidator();
  if (!check(data)) {
    const first = check.errors?.[0];
    const where = first ? `${first.instancePath || "/"} ${first.message ?? "is invalid"}` : "does not match the plan format";
    throw new ConfigError("saved-plan-invalid", `${file} is not an agentform plan (formatVersion 1): ${where}.`, { hint: HINT });
  }
  return data as Plan;
}

async function readBounded(file: string): Promise<string> {
  let handle;
  try {
    // Non-blocking, so a FIFO cannot hang the open; the fstat below then refuses it.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ConfigError("saved-plan-unreadable", `Cannot read the saved plan ${file}: ${(err as Error).message}`, {
      hint: "Pass the file written by `agentform plan --out`.",
    });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ConfigError("saved-plan-invalid", `${file} is not a regular file.`, { hint: HINT });
    if (info.size > MAX_SAVED_PLAN_BYTES) {
      throw new ConfigError("saved-plan-invalid", `${file} is ${info.size} bytes, more than a plan can be (${MAX_SAVED_PLAN_BYTES}).`, { hint: HINT });
    }
    return await handle.readFile({ encoding: "utf8" });
  } finally {
    await handle.close();
  }
}
