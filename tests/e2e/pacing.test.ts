/**
 * Adaptive pacing end to end: the target's pace is set well above what the server allows, the
 * server answers the excess with 429 + retry-after, and apply must slow down to what it really
 * allows: every 429 absorbed (none surfaced), every agent made exactly once, and the summary
 * saying how many 429s there were and how far the pace came down. The server's rate window is
 * shrunk to half a second so this runs in seconds; no assertion looks at the clock.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "../helpers/capture.js";

const AGENTS = 30;

describe("apply finds the server's real write limit", () => {
  let server: LocalControlPlane;
  let dir: string;
  const previousCwd = process.cwd();

  beforeAll(async () => {
    // 20 writes per half second (2,400 a minute) against a configured pace of 12,000 a minute.
    server = await startLocalControlPlane({ faults: { writesPerMinute: 20, rateWindowMs: 500 } });
    dir = await mkdtemp(path.join(tmpdir(), "agentform-pacing-"));
    await mkdir(path.join(dir, "agents"));
    await writeFile(
      path.join(dir, "agentform.yaml"),
      `project: aimd\ntargets:\n  default:\n    base_url: ${server.baseUrl}\n    api_key_env: AIMD_KEY\n    writes_per_minute: 12000\n`,
    );
    for (let i = 0; i < AGENTS; i++) {
      await writeFile(path.join(dir, "agents", `a${i}.yaml`), `name: aimd-${i}\nmodel: claude-haiku-5-5\nsystem: Agent ${i}.\n`);
    }
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("absorbs every 429, creates each agent exactly once, and reports the 429s and the lowered pace", async () => {
    const stdout = capture();
    const stderr = capture();
    process.chdir(dir);
    let code: number;
    try {
      code = await main(["node", "agentform", "apply", "--auto-approve", "--concurrency", "8"], { stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: "1", AIMD_KEY: server.apiKey } });
    } finally {
      process.chdir(previousCwd);
    }
    const out = stdout.text();
    const err = stderr.text();
    expect(err).not.toMatch(/error|failed|✗/i);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`Apply complete: ${AGENTS} write\\(s\\)`));

    // The limit was really met, and the summary counts exactly the 429s the server gave writes.
    const writes = server.requestLog().filter((e) => e.write);
    const limited = writes.filter((e) => e.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((e) => e.fault === "writesPerMinute")).toBe(true);
    const paced = /^paced: (\d+) rate-limit answers? absorbed \(rate lowered to (\d+)\/min\)$/m.exec(out);
    expect(paced, out).not.toBeNull();
    expect(Number(paced![1])).toBe(limited.length);
    // Cut (by a quarter) at least once from 12,000; never below the floor.
    expect(Number(paced![2])).toBeLessThanOrEqual(9000);
    expect(Number(paced![2])).toBeGreaterThanOrEqual(3);

    // Exactly one successful create per agent, and the workspace holds each name once.
    expect(writes.filter((e) => e.status === 200)).toHaveLength(AGENTS);
    const client = new Anthropic({ apiKey: server.apiKey, baseURL: server.baseUrl, maxRetries: 0 });
    const names: string[] = [];
    for await (const agent of client.beta.agents.list({ limit: 100 })) names.push(agent.name);
    expect(names.sort()).toEqual(Array.from({ length: AGENTS }, (_, i) => `aimd-${i}`).sort());
    const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, unknown> };
    expect(Object.keys(lock.agents)).toHaveLength(AGENTS);
  });

  it("says nothing about pacing when no write was rate limited", async () => {
    const stdout = capture();
    process.chdir(dir);
    let code: number;
    try {
      code = await main(["node", "agentform", "apply", "--auto-approve"], { stdout: stdout.stream, stderr: capture().stream, env: { NO_COLOR: "1", AIMD_KEY: server.apiKey } });
    } finally {
      process.chdir(previousCwd);
    }
    expect(code).toBe(0);
    expect(stdout.text()).not.toMatch(/paced:/);
  });
});
