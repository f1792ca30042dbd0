/**
 * Bundles the CLI (dist/cli/main.js and the heap settings bin/agentform.js applies first) into
 * dist/bundle/, with its dependencies, for start-up time: Node loads the tsc output and the SDK
 * as some 800 separate modules, which took longer than most plans spend on the network (a plan of
 * 100 agents: 0.7 s, most of it loading). One chunk per command module, as the CLI imports them
 * lazily, so `--version` and `validate` still load only what they use.
 *
 * The bundle sits two levels below the package root, like dist/cli/, so the paths the code
 * builds from import.meta.url (schemas/, templates/) resolve the same; the validators compiled at
 * build time are found beside the code that loads them, so they are copied in.
 */
import { copyFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const out = new URL("../dist/bundle/", import.meta.url);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: ["dist/cli/main.js", "dist/cli/heap.js"].map((f) => new URL(`../${f}`, import.meta.url).pathname),
  outdir: out.pathname,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "warning",
  // For AGENTFORM_DEBUG's stack traces (bin/agentform.js turns source maps on then): they name
  // the compiled module and line, not a chunk's. Mappings only, which keeps the maps small.
  sourcemap: "linked",
  sourcesContent: false,
  // Bundled CommonJS packages (commander, secretlint's) call require() for Node's own modules,
  // which an ES module has no binding for.
  banner: { js: 'import { createRequire as __agentformCreateRequire } from "node:module";\nconst require = __agentformCreateRequire(import.meta.url);' },
});
copyFileSync(new URL("../dist/manifest/validators.js", import.meta.url), new URL("validators.js", out));
