/**
 * bin/agentform.js runs the CLI from a bundle (dist/bundle/): what users see must not depend on
 * it, and the stack traces AGENTFORM_DEBUG asks users to report must still name the code.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, REPO_ROOT } from "../helpers/built.js";
import { tempProjects } from "../helpers/temp-project.js";

const project = tempProjects("bundle");
const bin = path.join(REPO_ROOT, "bin/agentform.js");

beforeAll(ensureBuilt, 180_000);

/** A project whose lockfile is a folder: a coded error, raised deep in the lockfile reader. */
async function unreadableLock(): Promise<string> {
  const dir = await project({ "agentform.yaml": "project: demo\ntargets:\n  default:\n    local: true\n" });
  await mkdir(path.join(dir, "agentform.lock.json"));
  return dir;
}

describe("the CLI bundle", () => {
  it("reports a coded error without a stack trace, and AGENTFORM_DEBUG's trace names the source, not a chunk", async () => {
    const dir = await unreadableLock();
    const plain = await execa("node", [bin, "plan"], { cwd: dir, reject: false, env: { NO_COLOR: "1" } });
    expect(plain.exitCode).toBe(4);
    expect(plain.stderr).toContain("[lockfile-unreadable]");
    expect(plain.stderr).not.toMatch(/\n\s+at /);

    const debug = await execa("node", [bin, "plan"], { cwd: dir, reject: false, env: { NO_COLOR: "1", AGENTFORM_DEBUG: "1" } });
    expect(debug.exitCode).toBe(4);
    expect(debug.stderr).toMatch(/at readLockFile \(.*src\/lock\/io\.ts:\d+:\d+\)/);
    expect(debug.stderr).not.toContain("dist/bundle/chunk-");
  }, 60_000);
});
