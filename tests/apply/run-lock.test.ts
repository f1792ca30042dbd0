import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock } from "../../src/apply/run-lock.js";
import { SafetyError } from "../../src/errors.js";

describe("apply run lock", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-runlock-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a second acquire while the first is held is refused (exit 3) and names the owner", async () => {
    const file = path.join(dir, ".agentform", "apply-default.lock");
    const release = await acquireRunLock(file);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ pid: process.pid, host: hostname() });
    const err = (await acquireRunLock(file).catch((e: unknown) => e)) as SafetyError;
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.code).toBe("apply-in-progress");
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${process.pid}`);
    await release();
    expect(existsSync(file)).toBe(false);
    const again = await acquireRunLock(file);
    await again();
  });

  it("a lock left by a process that is gone is taken over", async () => {
    const file = path.join(dir, "apply-default.lock");
    // A real process that has exited: its pid is free (or reused by something unrelated, which
    // is the accepted risk of pid files).
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid as number)));
    await writeFile(file, JSON.stringify({ pid, host: hostname() }));
    const release = await acquireRunLock(file);
    expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
    await release();
  });
});
