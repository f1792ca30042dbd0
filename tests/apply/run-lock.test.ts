import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock } from "../../src/apply/run-lock.js";
import { SafetyError } from "../../src/errors.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("apply run lock", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-runlock-"));
    file = path.join(dir, ".agentform", "apply-default.lock");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a second acquire while the first is held is refused (exit 3); release frees it", async () => {
    const lock = await acquireRunLock(file);
    const owner = JSON.parse(await readFile(file, "utf8")) as { pid: number; host: string; nonce: string };
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    const err = (await acquireRunLock(file).catch((e: unknown) => e)) as SafetyError;
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.code).toBe("apply-in-progress");
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${process.pid}`);
    await lock.release();
    expect(existsSync(file)).toBe(false);
    await (await acquireRunLock(file)).release();
  });

  it("a lock left by a process that is gone is taken over", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid as number)));
    await acquireRunLock(file).then((l) => l.releaseSync());
    await writeFile(file, JSON.stringify({ pid, host: hostname(), nonce: "dead" }));
    const lock = await acquireRunLock(file);
    expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("a lock nobody has touched for longer than staleAfterMs is taken over even if its pid runs (reused pids in containers)", async () => {
    await acquireRunLock(file).then((l) => l.releaseSync());
    await writeFile(file, JSON.stringify({ pid: process.pid, host: "ci-runner-old", nonce: "old" }));
    const past = new Date(Date.now() - 120_000);
    await utimes(file, past, past);
    const lock = await acquireRunLock(file, { staleAfterMs: 60_000 });
    expect(JSON.parse(await readFile(file, "utf8")).host).toBe(hostname());
    await lock.release();
  });

  it("a fresh lock from another host, or one whose content cannot be read, is respected", async () => {
    await acquireRunLock(file).then((l) => l.releaseSync());
    await writeFile(file, JSON.stringify({ pid: 1, host: "other-host", nonce: "x" }));
    const other = (await acquireRunLock(file).catch((e: unknown) => e)) as SafetyError;
    expect(other.code).toBe("apply-in-progress");
    expect(other.message).toContain("on other-host");
    await writeFile(file, "");
    const empty = (await acquireRunLock(file).catch((e: unknown) => e)) as SafetyError;
    expect(empty.code).toBe("apply-in-progress");
  });

  it("release never removes a lock that is no longer ours", async () => {
    const lock = await acquireRunLock(file);
    await writeFile(file, JSON.stringify({ pid: 1, host: "other-host", nonce: "someone-else" }));
    await lock.release();
    expect(existsSync(file)).toBe(true);
  });

  it("an unwritable lock folder is a clean operational error, not an internal one", async () => {
    await writeFile(path.join(dir, ".agentform"), "a file where the folder should be");
    const err = (await acquireRunLock(file).catch((e: unknown) => e)) as SafetyError;
    expect(err.code).toBe("run-lock-unwritable");
    expect(err.exitCode).toBe(1);
    expect(err.hint).toMatch(/writable/);
  });

  describe("between processes", () => {
    beforeAll(async () => {
      if (!existsSync(path.join(repo, "dist", "apply", "run-lock.js"))) await execa("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: repo });
    });

    it("of six processes racing for one lock, holders never overlap", async () => {
      const script = `
        import { acquireRunLock } from ${JSON.stringify(path.join(repo, "dist", "apply", "run-lock.js"))};
        try {
          const lock = await acquireRunLock(${JSON.stringify(file)});
          const start = Date.now();
          await new Promise((r) => setTimeout(r, 300));
          const end = Date.now();
          await lock.release();
          console.log(JSON.stringify({ got: true, start, end }));
        } catch (err) {
          console.log(JSON.stringify({ got: false, code: err.code }));
        }`;
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => execa(process.execPath, ["--input-type=module", "-e", script], { reject: false })),
      );
      const results = runs.map((r) => JSON.parse(r.stdout.trim()) as { got: boolean; start?: number; end?: number; code?: string });
      const holders = results.filter((r) => r.got).sort((a, b) => (a.start as number) - (b.start as number));
      expect(holders.length).toBeGreaterThanOrEqual(1);
      for (let i = 1; i < holders.length; i++) expect(holders[i]!.start as number).toBeGreaterThanOrEqual(holders[i - 1]!.end as number);
      for (const r of results.filter((x) => !x.got)) expect(r.code).toBe("apply-in-progress");
      expect(existsSync(file)).toBe(false);
    });
  });
});
