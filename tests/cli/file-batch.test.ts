/**
 * applyFileBatch: the importers' writes as one change, in real temporary folders. Every test
 * compares the whole folder (files with their bytes, folders, links and where they point) before
 * and after: a refused batch writes nothing at all, and a batch failing halfway puts back
 * everything it did, temporary files included.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "../helpers/rejection.js";
import { applyFileBatch, type FileOp } from "../../src/cli/file-batch.js";
import { tree } from "../helpers/tree.js";
import { createHash } from "node:crypto";

const digest = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
import { AgentformError, ExitCode } from "../../src/errors.js";

const failure = (promise: Promise<unknown>) => rejectionOf(promise, AgentformError);

describe("applyFileBatch", () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "agentform-batch-"));
    outside = await mkdtemp(path.join(tmpdir(), "agentform-batch-outside-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("does every operation when nothing is in the way: creates (with their folders), replaces and removes", async () => {
    await mkdir(path.join(root, "agents"));
    await writeFile(path.join(root, "agents", "old.json"), "{}");
    await writeFile(path.join(root, "agentform.yaml"), "project: x\n");
    await applyFileBatch(root, [
      { rel: "agents/old.yaml", mode: "create", data: "name: old\n" },
      { rel: "skills/s/scripts/run.py", mode: "create", data: new Uint8Array([1, 2, 3]) },
      { rel: "agentform.yaml", mode: "replace", data: "project: y\n" },
      { rel: "agents/old.json", mode: "remove" },
    ]);
    expect(await tree(root)).toEqual({
      agents: "dir",
      "agents/old.yaml": `file ${digest("name: old\n")}`,
      "agentform.yaml": `file ${digest("project: y\n")}`,
      skills: "dir",
      "skills/s": "dir",
      "skills/s/scripts": "dir",
      "skills/s/scripts/run.py": `file ${digest(new Uint8Array([1, 2, 3]))}`,
    });
  });

  it("undoes everything when a later operation fails while performing: a/b.txt, then a file a (a folder by then)", async () => {
    await writeFile(path.join(root, "keep.txt"), "kept\n");
    const before = await tree(root);
    // Both pass the checks (neither exists yet); the second fails once the first made `a` a folder.
    const err = await failure(
      applyFileBatch(root, [
        { rel: "a/b.txt", mode: "create", data: "first\n" },
        { rel: "a", mode: "create", data: "second\n" },
      ]),
    );
    expect(err.code).toBe("file-batch-failed");
    expect(err.message).toContain("undone");
    // No file, no folder, no temporary file left.
    expect(await tree(root)).toEqual(before);
  });

  it("undoes replaces and removes done before the failure, restoring their bytes", async () => {
    await mkdir(path.join(root, "agents"));
    await writeFile(path.join(root, "agents", "lead.yaml"), "name: lead\n# original\n");
    await writeFile(path.join(root, "agents", "gone.json"), '{"name": "gone"}');
    await writeFile(path.join(root, "agentform.yaml"), "project: x\n# comment\n");
    const before = await tree(root);
    const err = await failure(
      applyFileBatch(root, [
        { rel: "agents/lead.yaml", mode: "replace", data: "name: lead\n" },
        { rel: "agents/gone.yaml", mode: "create", data: "name: gone\n" },
        { rel: "agents/gone.json", mode: "remove" },
        { rel: "agentform.yaml", mode: "replace", data: "project: y\n" },
        { rel: "deep/er/x.txt", mode: "create", data: "x" },
        { rel: "deep/er", mode: "create", data: "a file where a folder now is" },
      ]),
    );
    expect(err.code).toBe("file-batch-failed");
    expect(await tree(root)).toEqual(before);
  });

  it("refuses, writing nothing, a path through a symbolic link (even to a folder inside the project)", async () => {
    await mkdir(path.join(root, "real"));
    await symlink(outside, path.join(root, "agents"));
    await symlink(path.join(root, "real"), path.join(root, "inside-link"));
    const before = await tree(root);
    for (const rel of ["agents/x.yaml", "inside-link/x.yaml", "agents/deep/x.yaml"]) {
      const err = await failure(
        applyFileBatch(root, [
          // A harmless operation first: it must not be done either.
          { rel: "first.yaml", mode: "create", data: "name: first\n" },
          { rel, mode: "create", data: "name: x\n" },
        ]),
      );
      expect(err.code, rel).toBe("file-batch-refused");
      expect(err.exitCode, rel).toBe(ExitCode.refused);
      expect(err.message, rel).toContain("symbolic link");
      expect(await tree(root), rel).toEqual(before);
      expect(await readdir(outside), rel).toEqual([]);
    }
  });

  it("refuses, writing nothing, a replace or remove of a symbolic link itself", async () => {
    await writeFile(path.join(outside, "target.yaml"), "outside\n");
    await symlink(path.join(outside, "target.yaml"), path.join(root, "agentform.yaml"));
    const before = await tree(root);
    for (const op of [
      { rel: "agentform.yaml", mode: "replace", data: "project: y\n" },
      { rel: "agentform.yaml", mode: "remove" },
      { rel: "agentform.yaml", mode: "create", data: "project: y\n" },
    ] as FileOp[]) {
      const err = await failure(applyFileBatch(root, [{ rel: "first.yaml", mode: "create", data: "x" }, op]));
      expect(err.code, op.mode).toBe("file-batch-refused");
      expect(await tree(root), op.mode).toEqual(before);
      expect(await readFile(path.join(outside, "target.yaml"), "utf8"), op.mode).toBe("outside\n");
    }
  });

  it("refuses, writing nothing, a create over an existing file or folder", async () => {
    await mkdir(path.join(root, "agents", "folder"), { recursive: true });
    await writeFile(path.join(root, "agents", "lead.yaml"), "name: lead\n");
    const before = await tree(root);
    for (const rel of ["agents/lead.yaml", "agents/folder", "agents"]) {
      const err = await failure(applyFileBatch(root, [{ rel: "agents/new.yaml", mode: "create", data: "name: new\n" }, { rel, mode: "create", data: "name: lead\n" }]));
      expect(err.code, rel).toBe("file-batch-refused");
      expect(err.message, rel).toContain("already exists");
      expect(await tree(root), rel).toEqual(before);
    }
  });

  it("refuses, writing nothing, a replace or remove of a folder, and a remove of nothing", async () => {
    await mkdir(path.join(root, "vaults", "v.yaml"), { recursive: true });
    const before = await tree(root);
    for (const op of [
      { rel: "vaults/v.yaml", mode: "replace", data: "display_name: v\n" },
      { rel: "vaults/v.yaml", mode: "remove" },
      { rel: "vaults/missing.json", mode: "remove" },
    ] as FileOp[]) {
      const err = await failure(applyFileBatch(root, [{ rel: "vaults/w.yaml", mode: "create", data: "display_name: w\n" }, op]));
      expect(err.code, `${op.mode} ${op.rel}`).toBe("file-batch-refused");
      expect(await tree(root), `${op.mode} ${op.rel}`).toEqual(before);
    }
  });

  it("refuses, writing nothing, a file under a path that is a file, and paths that are not inside the project", async () => {
    await writeFile(path.join(root, "agents"), "a file, not a folder\n");
    const before = await tree(root);
    for (const rel of ["agents/x.yaml", "../escape.yaml", "/abs.yaml", "a//b.yaml", "./x.yaml", "a/../b.yaml", ""]) {
      const err = await failure(applyFileBatch(root, [{ rel: "first.yaml", mode: "create", data: "x" }, { rel, mode: "create", data: "x" }]));
      expect(err.code, rel).toBe("file-batch-refused");
      expect(await tree(root), rel).toEqual(before);
    }
    expect(await readdir(path.dirname(root))).not.toContain("escape.yaml");
  });
});
