import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CLI_HEAP_FLAGS, cliHeapFlags } from "../../src/cli/heap.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = path.join(repo, "bin/agentform.js");

describe("cliHeapFlags", () => {
  it("sizes the heap on a checked V8 when the user did not", () => {
    expect(cliHeapFlags([], undefined, "11.3.244.8-node.38")).toEqual(CLI_HEAP_FLAGS);
    expect(cliHeapFlags(["--enable-source-maps"], "--trace-warnings", "13.6.233.10")).toEqual(CLI_HEAP_FLAGS);
  });

  it("leaves the heap alone when the user sized it, on the command line or in NODE_OPTIONS", () => {
    expect(cliHeapFlags(["--max-semi-space-size=16"], undefined, "11.3.244.8")).toEqual([]);
    expect(cliHeapFlags(["--heap-growing-percent=0"], undefined, "11.3.244.8")).toEqual([]);
    expect(cliHeapFlags([], "--max-old-space-size=4096 --max-semi-space-size=8", "12.4.254.21")).toEqual([]);
    expect(cliHeapFlags([], "--optimize-for-size", "12.4.254.21")).toEqual([]);
  });

  it("knows a flag spelt with underscores, as V8 does", () => {
    expect(cliHeapFlags(["--max_semi_space_size=64"], undefined, "11.3.244.8")).toEqual([]);
    expect(cliHeapFlags(["--semi_space_growth_factor=4"], undefined, "11.3.244.8")).toEqual([]);
    expect(cliHeapFlags([], "--heap_growing-percent=20", "11.3.244.8")).toEqual([]);
  });

  it("keeps its settings under a cap on the old generation, which sizes neither", () => {
    expect(cliHeapFlags(["--max-old-space-size=4096"], "--max_old_space_size=100", "11.3.244.8")).toEqual(CLI_HEAP_FLAGS);
  });

  it("sets nothing on a V8 it was not checked against (an unknown flag would print an error)", () => {
    expect(cliHeapFlags([], undefined, "10.2.154.26")).toEqual([]);
    expect(cliHeapFlags([], undefined, "14.0.1")).toEqual([]);
    expect(cliHeapFlags([], undefined, "")).toEqual([]);
  });
});

describe("bin/agentform.js heap settings", () => {
  // The young generation's size as the process exits: V8 grows it from 2 MiB as start-up
  // allocates, unless agentform's settings keep it there.
  const probe = `data:text/javascript,${encodeURIComponent(
    'import v8 from "node:v8"; process.on("exit", () => process.stderr.write("\\nnew-space " + v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size + "\\n"));',
  )}`;
  const newSpace = async (nodeFlags: string[]) => {
    const r = await execa("node", [...nodeFlags, "--import", probe, bin, "validate"], { cwd: repo, reject: false, env: { NO_COLOR: "1" } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/unrecognized flag|Error/);
    return Number(/new-space (\d+)/.exec(r.stderr)?.[1]);
  };

  it("keeps the young generation small, and V8's default when the user sets a heap flag", async () => {
    const MiB = 1024 * 1024;
    expect(await newSpace([])).toBeLessThanOrEqual(2 * MiB);
    // The same run with the user's own (default-valued) heap flag: V8 grows it as usual.
    expect(await newSpace(["--heap-growing-percent=0"])).toBeGreaterThan(2 * MiB);
    expect(await newSpace(["--semi_space_growth_factor=2"])).toBeGreaterThan(2 * MiB);
  }, 60_000);
});
