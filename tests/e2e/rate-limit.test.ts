/**
 * Sustained rate limiting end to end: the server allows 4 writes per window and answers the
 * rest with 429 + retry-after; apply must absorb every 429 (never surface one) and still make
 * each change exactly once. The window is shrunk to one second so this runs in seconds; the
 * behaviour is the same as under the API's per-minute limits.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "../helpers/capture.js";

describe("apply under a server-side write rate limit", () => {
  let server: LocalControlPlane;
  let dir: string;
  const previousCwd = process.cwd();

  beforeAll(async () => {
    server = await startLocalControlPlane({ faults: { writesPerMinute: 4, rateWindowMs: 1000 } });
    dir = await mkdtemp(path.join(tmpdir(), "agentform-ratelimit-"));
    await mkdir(path.join(dir, "agents"));
    await writeFile(
      path.join(dir, "agentform.yaml"),
      `project: paced\ntargets:\n  default:\n    base_url: ${server.baseUrl}\n    api_key_env: PACED_KEY\n    writes_per_minute: 100000\n`,
    );
    for (let i = 0; i < 12; i++) {
      await writeFile(path.join(dir, "agents", `a${i}.yaml`), `name: paced-${i}\nmodel: claude-haiku-5-5\nsystem: Agent ${i}.\n`);
    }
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("absorbs every 429 and creates each agent exactly once", async () => {
    const stdout = capture();
    const stderr = capture();
    process.chdir(dir);
    let code: number;
    try {
      code = await main(["node", "agentform", "apply", "--auto-approve", "--concurrency", "4"], { stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: "1", PACED_KEY: server.apiKey } });
    } finally {
      process.chdir(previousCwd);
    }
    const out = stdout.text();
    const err = stderr.text();
    expect(err).not.toMatch(/error|failed/i);
    expect(code).toBe(0);
    expect(out).toMatch(/Apply complete: 12 write\(s\)/);

    const writes = server.requestLog().filter((e) => e.write);
    // The limit was really hit (so the test can fail), and every rejected write was retried.
    expect(writes.filter((e) => e.status === 429).length).toBeGreaterThan(0);
    expect(err).toMatch(/retrying create agent .* \(rate limited \(HTTP 429/);
    expect(writes.filter((e) => e.status === 200)).toHaveLength(12);

    const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, { version: number }> };
    expect(Object.keys(lock.agents)).toHaveLength(12);
  });
});
