/**
 * The project's name, for the sticky comment's marker. The marker must exist when agentform
 * fails, so the Action builds it itself: from agentform.yaml through agentform's own loader, or,
 * when that file is invalid (a failing plan's usual cause), from its `project:` value alone.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../errors.js";
import { loadConfig } from "../manifest/index.js";

const PROJECT = /^[a-z0-9-]{1,40}$/;
const MAX_CONFIG_BYTES = 1024 * 1024;

export async function projectName(cwd: string, configPath: string | undefined): Promise<string> {
  try {
    return (await loadConfig({ cwd, configPath })).project;
  } catch (err) {
    const fallback = await rawProject(cwd, configPath);
    if (fallback !== undefined) return fallback;
    throw new ConfigError("action-project-unknown", `Cannot tell the project's name: ${err instanceof Error ? err.message.split("\n", 1)[0] : String(err)}`, {
      hint: "The working-directory input must hold agentform.yaml (or a parent folder must), with a valid `project:` value.",
    });
  }
}

/**
 * `project:` read from the YAML alone, and only when it is a valid project name. The file comes
 * from the pull request: only a regular file of a sane size is read (a link to /dev/stdout would
 * block, a huge one exhaust memory).
 */
async function rawProject(cwd: string, configPath: string | undefined): Promise<string | undefined> {
  try {
    const file = path.resolve(cwd, configPath ?? "agentform.yaml");
    const info = await lstat(file);
    if (!info.isFile() || info.size > MAX_CONFIG_BYTES) return undefined;
    const doc = parse(await readFile(file, "utf8")) as { project?: unknown } | null;
    return typeof doc?.project === "string" && PROJECT.test(doc.project) ? doc.project : undefined;
  } catch {
    return undefined;
  }
}
