/**
 * The cost model (docs/architecture.md, "Cost model"): planning reads the workspace with list calls only,
 * ⌈agents/100⌉ + ⌈environments/1000⌉ requests, not one GET per resource.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "../helpers/capture.js";

describe("plan cost", () => {
  let server: LocalControlPlane;
  let dir: string;
  const previousCwd = process.cwd();

  async function agentform(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = capture();
    const err = capture();
    process.chdir(dir);
    try {
      const code = await main(["node", "agentform", ...args], { stdout: out.stream, stderr: err.stream, env: { NO_COLOR: "1", COST_KEY: server.apiKey } });
      return { code, out: out.text(), err: err.text() };
    } finally {
      process.chdir(previousCwd);
    }
  }

  beforeAll(async () => {
    server = await startLocalControlPlane();
    dir = await mkdtemp(path.join(tmpdir(), "agentform-cost-"));
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    await writeFile(
      path.join(dir, "agentform.yaml"),
      `project: cost\ntargets:\n  default:\n    base_url: ${server.baseUrl}\n    api_key_env: COST_KEY\n    writes_per_minute: 1000000\n`,
    );
    const files: Promise<void>[] = [];
    for (let i = 0; i < 250; i++) {
      files.push(writeFile(path.join(dir, "agents", `a${i}.yaml`), `name: agent-${i}\nmodel: claude-haiku-5-5\nsystem: Agent ${i}.\n`));
    }
    for (let i = 0; i < 30; i++) {
      files.push(writeFile(path.join(dir, "environments", `e${i}.yaml`), `name: env-${i}\nconfig: { type: cloud }\n`));
    }
    await Promise.all(files);
    const applied = await agentform(["apply", "--auto-approve", "--concurrency", "8"]);
    expect(applied.err).toBe("");
    expect(applied.code).toBe(0);
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("planning 250 agents and 30 environments costs exactly 3 + 1 + 1 + 1 + 1 + 1 list requests (agents, environments, skills, vaults, memory stores, deployments; no vault, so no credentials list)", async () => {
    server.clearRequestLog();
    const plan = await agentform(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(0);
    expect(plan.out).toMatch(/No changes/);
    const log = server.requestLog();
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/agents")).toHaveLength(3);
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/environments")).toHaveLength(1);
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/skills")).toHaveLength(1);
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/vaults")).toHaveLength(1);
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/memory_stores")).toHaveLength(1);
    expect(log.filter((e) => e.method === "GET" && e.path === "/v1/deployments")).toHaveLength(1);
    expect(log).toHaveLength(8);
  });
});
