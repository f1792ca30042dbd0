/**
 * Throwaway project folders on disk (an agentform.yaml for project "demo" plus the given files),
 * removed after each test: the set-up the loader tests share.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";

/** A `project(files)` for one test file; its folders are removed after each test. */
export function tempProjects(prefix: string): (files: Record<string, string | Buffer>) => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async (files) => {
    const dir = await mkdtemp(path.join(tmpdir(), `agentform-${prefix}-`));
    dirs.push(dir);
    for (const [file, content] of Object.entries({ "agentform.yaml": "project: demo\n", ...files })) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    return dir;
  };
}
