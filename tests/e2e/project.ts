/** Shared by the property tests: a generated case written as a real project and loaded back. */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { ControlPlane, LiveSets } from "../../src/backends/types.js";
import { completeLive, listEveryKind } from "../../src/cli/workflow.js";
import type { Lockfile } from "../../src/lock/types.js";
import { loadConfig, loadProject } from "../../src/manifest/index.js";
import type { LoadResult, UploadFile } from "../../src/manifest/types.js";
import type { MaterializedSkill } from "./arbitraries.js";

type Obj = Record<string, unknown>;

export interface GeneratedManifests {
  agents: Obj[];
  environments: Obj[];
  /** Names of agents written as `.md` (frontmatter + system prompt body). */
  markdown: Set<string>;
  /** Skill folders, written as `skills/<name>/` (SKILL.md and the files beside it). */
  skills: MaterializedSkill[];
  /** Vaults (their credentials inside), memory stores and deployments, each one YAML file in its kind's folder. */
  vaults?: Obj[];
  memoryStores?: Obj[];
  deployments?: Obj[];
}

/** The folders of the file-layout kinds besides agents and environments, by GeneratedManifests key. */
const MORE_FOLDERS = [
  ["vaults", "vaults", "vault"],
  ["memoryStores", "memory_stores", "memory-store"],
  ["deployments", "deployments", "deployment"],
] as const;

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
  await rm(path.join(dir, "skills"), { recursive: true, force: true });
  for (const [, folder] of MORE_FOLDERS) await rm(path.join(dir, folder), { recursive: true, force: true });
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
  for (const [key, folder, file] of MORE_FOLDERS) {
    const list = manifests[key] ?? [];
    if (list.length === 0) continue;
    await mkdir(path.join(dir, folder), { recursive: true });
    for (const [i, m] of list.entries()) await writeFile(path.join(dir, folder, `${file}-${i}.yaml`), yaml(m));
  }
  // A skill's folder is named after it; its files are written byte for byte.
  for (const s of manifests.skills) {
    for (const f of s.files) {
      const file = path.join(dir, "skills", s.name, ...f.path.split("/"));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, f.bytes);
    }
  }
  return loadProject(await loadConfig({ cwd: dir }));
}

/**
 * Live state as the CLI's refresh reads it (src/cli/workflow.ts): one list per kind, then the
 * skills this project may compare completed with their file digests by `completeLive`, the
 * CLI's own step (lists omit the digests).
 */
export async function listLive(backend: ControlPlane, load: LoadResult, lock: Lockfile | null): Promise<LiveSets> {
  // completeLive reads only `load.manifests`, `lock` and `target.backend`.
  return completeLive({ load, lock, target: { backend } as never }, await listEveryKind(backend));
}

/** The files apply uploads, by plan address (as the CLI's apply passes them to applyPlan). */
export function uploadsOf(load: LoadResult): (address: string) => ReadonlyArray<UploadFile> | undefined {
  const byAddress = new Map<string, ReadonlyArray<UploadFile> | undefined>(load.manifests.skill.map((m) => [`skill.${m.name}`, m.uploads]));
  return (address) => byAddress.get(address);
}
