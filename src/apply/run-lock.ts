/**
 * One apply per target and project folder at a time (`ant apply` must never run twice at once;
 * agentform refuses instead). A lock file created with O_EXCL holds the owner's pid; a lock
 * whose owner is no longer running is taken over, so a crashed apply never blocks the next.
 * This guards one machine; across machines the per-create name check in the executor and the
 * agents' version lock do the work.
 */
import { mkdir, open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { OperationalError, SafetyError } from "../errors.js";
import { processAlive } from "../util/pid.js";

interface Owner {
  pid: number;
  host: string;
}

export async function acquireRunLock(file: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }) + "\n");
      await handle.close();
      return async () => {
        await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OperationalError("run-lock-unwritable", `Cannot create the apply lock ${file}: ${(err as Error).message}`, {
          hint: "Check that the project folder is writable.",
        });
      }
      const owner = await readOwner(file);
      if (owner && owner.host === hostname() && processAlive(owner.pid)) {
        throw new SafetyError("apply-in-progress", `Another agentform apply (pid ${owner.pid}) is running for this target.`, {
          hint: `Wait for it to finish. If no apply is running, delete ${file}.`,
        });
      }
      if (owner && owner.host !== hostname()) {
        throw new SafetyError("apply-in-progress", `An agentform apply on host ${owner.host} (pid ${owner.pid}) holds ${file}.`, {
          hint: `Wait for it to finish. If no apply is running there, delete ${file}.`,
        });
      }
      // The owner is gone (crashed or killed): take the lock over.
      await unlink(file).catch(() => undefined);
    }
  }
  throw new SafetyError("apply-in-progress", `Another agentform apply keeps taking ${file}.`, { hint: "Wait for it to finish and run again." });
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as Partial<Owner>;
    return typeof value.pid === "number" && typeof value.host === "string" ? { pid: value.pid, host: value.host } : null;
  } catch {
    return null;
  }
}
