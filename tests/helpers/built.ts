/**
 * dist/ as `npm run build` makes it (tsc, the compiled validators, the CLI bundle that
 * bin/agentform.js runs), for tests that run the built CLI or Action in a child process.
 * `npm test` builds first; this rebuilds only when a test file runs on its own and a source file
 * is newer than the last bundle.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** What the last step of the build writes; newer than every source file once the build is current. */
const LAST_BUILT = path.join(REPO_ROOT, "dist", "bundle", "main.js");

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

export async function ensureBuilt(): Promise<void> {
  if (existsSync(LAST_BUILT) && statSync(LAST_BUILT).mtimeMs >= newest(path.join(REPO_ROOT, "src"))) return;
  // tsc emits even when a file has type errors (the typecheck reports those); what matters is dist/.
  const build = await execa("npm", ["run", "build"], { cwd: REPO_ROOT, reject: false, timeout: 180_000 });
  if (!existsSync(LAST_BUILT)) throw new Error(`npm run build did not produce dist/bundle/:\n${build.stdout}\n${build.stderr}`);
}
