/**
 * Several files written or removed as one change: checked first (every folder on the way a real
 * folder inside the project, never a symbolic link; a file to create absent; a file to replace or
 * remove a regular file), then done with an undo log, so a failure halfway (a full disk, a folder
 * where a file should go) puts back everything already done. The importers write through this:
 * a half-imported project is worse than none.
 */
import { lstat, mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { OperationalError, SafetyError } from "../errors.js";
import { inertText } from "../render/inert.js";

export type FileOp =
  | { rel: string; mode: "create" | "replace"; data: string | Uint8Array }
  | { rel: string; mode: "remove" };

/** Do every operation, or none (the project as it was, and an error naming what failed). */
export async function applyFileBatch(root: string, ops: readonly FileOp[]): Promise<void> {
  for (const op of ops) await preflight(root, op);
  const undo: Array<() => Promise<unknown>> = [];
  try {
    for (const op of ops) await perform(root, op, undo);
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    const why = err instanceof Error ? err.message : String(err);
    throw new OperationalError("file-batch-failed", `writing the files failed (${inertText(why)}); everything written so far was undone`, { hint: "Fix the cause (disk space, permissions, a folder where a file goes) and run the command again." });
  }
}

async function kindOf(abs: string): Promise<"file" | "dir" | "link" | "other" | "none"> {
  const s = await lstat(abs).catch(() => undefined);
  if (!s) return "none";
  return s.isSymbolicLink() ? "link" : s.isFile() ? "file" : s.isDirectory() ? "dir" : "other";
}

async function preflight(root: string, op: FileOp): Promise<void> {
  const refuse = (what: string) => new SafetyError("file-batch-refused", `${inertText(op.rel)}: ${what}; nothing was written`, { hint: "Move it out of the way (or replace the link by a real folder) and run the command again." });
  const segments = op.rel.split("/");
  if (op.rel.startsWith("/") || segments.some((s) => s === "" || s === "." || s === "..")) throw refuse("not a path inside the project");
  for (let i = 1; i < segments.length; i++) {
    const kind = await kindOf(path.join(root, ...segments.slice(0, i)));
    if (kind === "none") break;
    if (kind !== "dir") throw refuse(`${segments.slice(0, i).join("/")} is ${kind === "link" ? "a symbolic link" : "not a folder"}`);
  }
  const target = await kindOf(path.join(root, ...segments));
  if (op.mode === "create" && target !== "none") throw refuse("already exists");
  if (op.mode !== "create" && target !== "file" && !(op.mode === "replace" && target === "none")) throw refuse(target === "link" ? "is a symbolic link" : "is not a regular file");
}

async function perform(root: string, op: FileOp, undo: Array<() => Promise<unknown>>): Promise<void> {
  const abs = path.join(root, ...op.rel.split("/"));
  await makeParents(root, op.rel, undo);
  const before = op.mode === "create" ? undefined : await readFile(abs).catch(() => undefined);
  if (op.mode === "remove") {
    await rm(abs);
    undo.push(() => writeFile(abs, before as Buffer));
    return;
  }
  const temp = `${abs}.agentform-${process.pid}.tmp`;
  undo.push(() => rm(temp, { force: true }));
  await writeFile(temp, op.data, { flag: "wx" });
  await rename(temp, abs);
  undo.push(() => (before === undefined ? rm(abs, { force: true }) : writeFile(abs, before)));
}

/** The folders a file needs, each created one by one so each can be removed again. */
async function makeParents(root: string, rel: string, undo: Array<() => Promise<unknown>>): Promise<void> {
  const segments = rel.split("/").slice(0, -1);
  for (let i = 1; i <= segments.length; i++) {
    const dir = path.join(root, ...segments.slice(0, i));
    if ((await kindOf(dir)) === "dir") continue;
    await mkdir(dir);
    undo.push(() => rmdir(dir));
  }
}
