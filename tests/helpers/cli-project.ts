/**
 * A throwaway project folder whose default target is a fresh local control plane, and a `run`
 * that drives the real CLI in-process against it: the set-up most CLI tests share.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "./capture.js";

export const KEY_ENV = "AGENTFORM_TEST_KEY";

export interface CliProject {
  cp: LocalControlPlane;
  dir: string;
  config: string;
  /** Run `agentform <args> --config <config>`; never throws for a failing command. */
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Write requests the local control plane received (since its log was last cleared). */
  writes(): ReturnType<LocalControlPlane["requestLog"]>;
  /** Write files relative to the project folder, creating folders as needed. */
  write(files: Record<string, string>): Promise<void>;
  /** Extra environment variables every later `run` sees (credential secrets). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Run `agentform <args> --config <config>` in-process with exactly `env`; never throws for a failing command. */
export async function runCli(config: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await main(["node", "agentform", ...args, "--config", config], { stdout: out.stream, stderr: err.stream, env });
  return { code, stdout: out.text(), stderr: err.text() };
}

export async function cliProject(files: Record<string, string>, project = "support-bots", options: Parameters<typeof startLocalControlPlane>[0] = {}): Promise<CliProject> {
  const cp = await startLocalControlPlane(options);
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-cli-"));
  const config = path.join(dir, "agentform.yaml");
  const write = async (more: Record<string, string>) => {
    for (const [file, text] of Object.entries(more)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
  };
  await writeFile(config, `project: ${project}\ntargets:\n  default:\n    base_url: ${cp.baseUrl}\n    api_key_env: ${KEY_ENV}\n`);
  await write(files);
  const env: Record<string, string> = {};
  return {
    cp,
    env,
    dir,
    config,
    run: (...args) => runCli(config, args, { ...env, [KEY_ENV]: cp.apiKey, NO_COLOR: "1" }),
    writes: () => cp.requestLog().filter((e) => e.write),
    write,
    async close() {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
