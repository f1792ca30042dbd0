/** Shared by the property tests: a generated case written as a real project and loaded back. */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { ControlPlane } from "../../src/backends/types.js";
import { loadConfig, loadProject } from "../../src/manifest/index.js";
import type { LoadResult } from "../../src/manifest/types.js";

type Obj = Record<string, unknown>;

export interface GeneratedManifests {
  agents: Obj[];
  environments: Obj[];
  /** Names of agents written as `.md` (frontmatter + system prompt body). */
  markdown: Set<string>;
}

/**
 * (Re)write a project's manifests under `root/project`, replacing any earlier version's files
 * (an agent that moved from `.md` to `.yaml` must not linger), and load it with the real loader.
 */
export async function writeGeneratedProject(
  root: string,
  project: string,
  target: { baseUrl: string; keyEnv: string },
  manifests: GeneratedManifests,
): Promise<LoadResult> {
  const dir = path.join(root, project);
  await rm(path.join(dir, "agents"), { recursive: true, force: true });
  await rm(path.join(dir, "environments"), { recursive: true, force: true });
  await mkdir(path.join(dir, "agents"), { recursive: true });
  await mkdir(path.join(dir, "environments"), { recursive: true });
  await writeFile(path.join(dir, "agentform.yaml"), stringify({ project, targets: { default: { base_url: target.baseUrl, api_key_env: target.keyEnv } } }));
  // Generated values share objects; write each as plain YAML rather than anchors and aliases.
  const yaml = (v: unknown) => stringify(v, { aliasDuplicateObjects: false });
  // File names are not resource names (names are free text), so number the files.
  for (const [i, a] of manifests.agents.entries()) {
    const { system, ...frontmatter } = a;
    if (manifests.markdown.has(String(a.name)) && typeof system === "string" && system.trim() !== "") {
      await writeFile(path.join(dir, "agents", `agent-${i}.md`), `---\n${yaml(frontmatter)}---\n${system}\n`);
    } else {
      await writeFile(path.join(dir, "agents", `agent-${i}.yaml`), yaml(a));
    }
  }
  for (const [i, e] of manifests.environments.entries()) await writeFile(path.join(dir, "environments", `environment-${i}.yaml`), yaml(e));
  return loadProject(await loadConfig({ cwd: dir }));
}

export async function listLive(backend: ControlPlane) {
  const [agent, environment, skill] = await Promise.all([backend.list("agent"), backend.list("environment"), backend.list("skill")]);
  return { agent, environment, skill };
}
