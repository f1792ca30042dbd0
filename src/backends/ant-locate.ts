/**
 * Finding the `ant` binary for the ant backend: `--ant-path`, else AGENTFORM_ANT, else the first
 * `ant` on PATH. Never from agentform.yaml: a pull request could otherwise name a program of its
 * own for CI to run. For the same reason PATH entries that are not absolute (`.`, an empty entry)
 * are skipped: they would resolve inside the checked-out repository.
 *
 * Whatever is found must answer `--version` as Anthropic's CLI does (`ant version 1.20.0`), at
 * 1.20 or later: an `ant` on PATH is often Apache Ant, the Java build tool.
 */
import { access, constants, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { ConfigError } from "../errors.js";
import { inertText } from "../render/inert.js";

/** The oldest ant whose invocation contract agentform follows. */
export const MIN_ANT_VERSION = "1.20.0";

export interface LocatedAnt {
  path: string;
  version: string;
  /** Where the path came from, for messages. */
  source: "--ant-path" | "AGENTFORM_ANT" | "PATH";
}

const INSTALL_HINT =
  "Install Anthropic's CLI (`go install github.com/anthropics/anthropic-cli/cmd/ant@latest`, a release archive, or `go build -o ant ./cmd/ant` in its source), then pass --ant-path or set AGENTFORM_ANT; or use the sdk backend.";

export async function locateAnt(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<LocatedAnt> {
  const named = flag !== undefined && flag !== "" ? { path: flag, source: "--ant-path" as const } : env.AGENTFORM_ANT ? { path: env.AGENTFORM_ANT, source: "AGENTFORM_ANT" as const } : undefined;
  const candidate = named ?? (await onPath(env.PATH ?? ""));
  if (!candidate) {
    throw new ConfigError("ant-not-found", "The ant backend needs Anthropic's `ant` CLI, and none was found (no --ant-path, no AGENTFORM_ANT, no `ant` on PATH).", { hint: INSTALL_HINT });
  }
  const resolved = path.resolve(candidate.path);
  if (!(await isExecutable(resolved))) {
    throw new ConfigError("ant-not-found", `${candidate.source} names ${inertText(resolved)}, which is not an executable file.`, { hint: INSTALL_HINT });
  }
  return { path: resolved, version: await versionOf(resolved, candidate.source, env), source: candidate.source };
}

async function onPath(searchPath: string): Promise<{ path: string; source: "PATH" } | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const file = path.join(dir, "ant");
    if (await isExecutable(file)) return { path: file, source: "PATH" };
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `ant --version`, checked to be Anthropic's CLI at MIN_ANT_VERSION or later. */
async function versionOf(file: string, source: LocatedAnt["source"], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await execa(file, ["--version"], {
    env: { PATH: env.PATH ?? "", HOME: env.HOME ?? "" },
    extendEnv: false,
    inputFile: "/dev/null",
    timeout: 10_000,
    maxBuffer: 64 * 1024,
    reject: false,
    encoding: "utf8",
  });
  const said = typeof result.stdout === "string" ? result.stdout.trim() : "";
  const match = /^ant version (\d+)\.(\d+)\.(\d+)\b/.exec(said);
  if (result.exitCode !== 0 || !match) {
    throw new ConfigError("ant-not-anthropic", `${inertText(file)} (from ${source}) is not Anthropic's ant CLI: \`--version\` answered ${JSON.stringify(inertText(said.split("\n")[0]?.slice(0, 80) ?? ""))}.`, {
      hint: `An \`ant\` on PATH is often Apache Ant. ${INSTALL_HINT}`,
    });
  }
  const version = `${match[1]}.${match[2]}.${match[3]}`;
  if (compare(version, MIN_ANT_VERSION) < 0) {
    throw new ConfigError("ant-too-old", `${inertText(file)} is ant ${version}; the ant backend needs ${MIN_ANT_VERSION} or later.`, { hint: INSTALL_HINT });
  }
  return version;
}

function compare(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
