/**
 * A folder as data, for "nothing changed" assertions: every entry below `dir` (a name in `skip`
 * left out) as a file's sha256, "dir", or "link -> target" (links are never followed).
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";

export async function tree(dir: string, skip: readonly string[] = [], rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (skip.includes(child)) continue;
    const abs = path.join(dir, child);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) out[child] = `link -> ${await readlink(abs)}`;
    else if (st.isDirectory()) {
      out[child] = "dir";
      Object.assign(out, await tree(dir, skip, child));
    } else out[child] = `file ${createHash("sha256").update(await readFile(abs)).digest("hex")}`;
  }
  return out;
}
