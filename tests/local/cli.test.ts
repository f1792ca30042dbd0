/**
 * `agentform local serve` as a real child process: prints its URL, serves, exits 0 on SIGTERM.
 */
import { execa } from "execa";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/built.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

beforeAll(async () => {
  // `npm test` builds before vitest; build here only when running this file on its own.
  await ensureBuilt();
}, 120_000);

describe("agentform local serve", () => {
  it("prints its base URL, answers /_local/health and exits 0 on SIGTERM", async () => {
    const child = execa("node", ["bin/agentform.js", "local", "serve", "--port", "0", "--latency", "1"], { cwd: root, reject: false });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /agentform local control plane listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.once("exit", () => reject(new Error(`exited before printing its URL: ${out}`)));
    });
    const health = await fetch(`${url}/_local/health`);
    expect(await health.json()).toEqual({ status: "ok", agents: 0, environments: 0 });
    const faults = (await (await fetch(`${url}/_local/faults`)).json()) as { faults: { latencyMs: number } };
    expect(faults.faults.latencyMs).toBe(1);
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toMatch(/error/i);
  });

  it("rejects a bad fault flag with exit 4", async () => {
    const result = await execa("node", ["bin/agentform.js", "local", "serve", "--error-rate", "3"], { cwd: root, reject: false });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("errorRate");
  });
});
