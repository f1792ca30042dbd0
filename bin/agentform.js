#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/bundle/ (built by `npm run build`, which `npm ci` runs via
// `prepare`; scripts/bundle-cli.mjs says why it is a bundle).
import { tuneHeapForCli } from "../dist/bundle/heap.js";

// A plan is one short batch: collect garbage sooner than V8's server-minded defaults would
// (before the CLI loads, so that its loading is collected so too).
tuneHeapForCli();

// Debug stack traces name the compiled modules rather than the bundle's chunks (source maps are
// read only for modules loaded after this, hence the import below).
if (process.env.AGENTFORM_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await import("../dist/bundle/main.js");

// `agentform plan | head` closes stdout early: stop quietly instead of crashing with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err && err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv);
