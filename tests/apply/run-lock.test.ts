import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { closeSync, constants, existsSync, openSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock, breakRunLock, judgeRunLock, runLockOptionsFromEnv, STALE_ENV } from "../../src/apply/run-lock.js";
import { main } from "../../src/cli/main.js";
import { ConfigError, SafetyError } from "../../src/errors.js";
import { capture } from "../helpers/capture.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The pid of a process that has exited (so is not running on this machine). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  return new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid as number)));
}

/**
 * `p`, or a failure if it has not settled after 10 s: a guard, not a timed assertion. A
 * regression that opens the FIFO blocking would otherwise hang the suite forever; opening the
 * FIFO for writing (non-blocking: it fails harmlessly if nobody reads) releases the stuck open.
 */
async function unlessBlockedOn<T>(fifo: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const blocked = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // Nobody had it open for reading, or it is gone.
      }
      reject(new Error(`still blocked on the FIFO ${fifo} after 10 s`));
    }, 10_000);
  });
  try {
    return await Promise.race([p, blocked]);
  } finally {
    clearTimeout(timer);
  }
}

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

  /** Put a lock in place as another holder left it, its heartbeat `ageMs` old. */
  async function planted(content: string | Record<string, unknown>, ageMs: number): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
    const at = new Date(Date.now() - ageMs);
    await utimes(file, at, at);
  }
  const refusal = async (options?: Parameters<typeof acquireRunLock>[1]) => (await acquireRunLock(file, options).catch((e: unknown) => e)) as SafetyError;

  it("a second acquire while the first is held is refused (exit 3); release frees it", async () => {
    const lock = await acquireRunLock(file);
    const owner = JSON.parse(await readFile(file, "utf8")) as { pid: number; host: string; token: string };
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(owner.token).toMatch(/^[0-9a-f]{32}$/);
    const err = await refusal();
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.code).toBe("apply-in-progress");
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${process.pid}`);
    await lock.release();
    expect(existsSync(file)).toBe(false);
    await (await acquireRunLock(file)).release();
  });

  it("a lock whose process is gone is taken over once its heartbeat is stale, not before", async () => {
    const pid = await deadPid();
    await planted({ pid, host: hostname(), token: "dead" }, 0);
    // Fresh heartbeat: the same hostname may be another pid namespace (containers sharing a volume).
    const fresh = await refusal({ staleAfterMs: 60_000, target: "prod" });
    expect(fresh.code).toBe("apply-in-progress");
    expect(fresh.hint).toContain("agentform lock break --target prod");
    const past = new Date(Date.now() - 120_000);
    await utimes(file, past, past);
    const lock = await acquireRunLock(file, { staleAfterMs: 60_000 });
    expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
    await lock.release();
  });

  it("a stale lock whose pid still runs here (a paused apply) is never taken over; the hint names lock break --force", async () => {
    await planted({ pid: process.pid, host: hostname(), token: "paused-holder" }, 63_000);
    const err = await refusal({ staleAfterMs: 60_000, target: "default" });
    expect(err.code).toBe("apply-in-progress");
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/last heartbeat 63 s ago/);
    expect(err.hint).toMatch(/paused/);
    expect(err.hint).toContain("agentform lock break --target default --force");
    expect(JSON.parse(await readFile(file, "utf8")).token).toBe("paused-holder");
  });

  it("a stale lock from another host is never taken over (this machine cannot see its process)", async () => {
    await planted({ pid: 4242, host: "ci-runner-old", token: "old" }, 3_600_000);
    const err = await refusal({ staleAfterMs: 60_000 });
    expect(err.code).toBe("apply-in-progress");
    expect(err.message).toContain("pid 4242 on ci-runner-old");
    expect(err.hint).toContain("agentform lock break");
    expect(JSON.parse(await readFile(file, "utf8")).host).toBe("ci-runner-old");
  });

  it("a lock whose content cannot be read is respected however old, and a huge one is not read whole", async () => {
    await planted("", 3_600_000);
    const empty = await refusal({ staleAfterMs: 60_000 });
    expect(empty.code).toBe("apply-in-progress");
    expect(empty.message).toMatch(/not in agentform's format/);
    await planted(JSON.stringify({ pid: 1, host: "h", token: "t", pad: "x".repeat(8 << 20) }), 0);
    const huge = await refusal();
    expect(huge.message).toMatch(/not in agentform's format/);
  });

  it("what a lock file says is shown without control characters", async () => {
    await planted({ pid: 7, host: "evil\u001b[2J\u0007host", token: "t" }, 0);
    const err = await refusal();
    expect(err.message).toContain("pid 7 on evil?[2J?host");
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it("the lease rules, as data", () => {
    const here = { staleAfterMs: 1000, host: "me", alive: (pid: number) => pid === 1 };
    const owner = (pid: number, host: string) => ({ token: "t", pid, host, since: null });
    expect(judgeRunLock({ owner: null, ageMs: 10_000 }, here)).toBe("unreadable");
    expect(judgeRunLock({ owner: owner(2, "me"), ageMs: 1000 }, here)).toBe("fresh");
    expect(judgeRunLock({ owner: owner(2, "other"), ageMs: 10_000 }, here)).toBe("remote");
    expect(judgeRunLock({ owner: owner(1, "me"), ageMs: 10_000 }, here)).toBe("alive");
    expect(judgeRunLock({ owner: owner(2, "me"), ageMs: 1001 }, here)).toBe("take-over");
  });

  it("verify passes (and refreshes the heartbeat) while the lock is ours", async () => {
    const lock = await acquireRunLock(file);
    const past = new Date(Date.now() - 120_000);
    await utimes(file, past, past);
    await lock.verify();
    expect(Date.now() - (await stat(file)).mtimeMs).toBeLessThan(60_000);
    await lock.release();
  });

  it("verify fails with run-lock-lost (exit 3) once the lock was broken, and keeps failing even if the file comes back", async () => {
    const lock = await acquireRunLock(file);
    const original = await readFile(file, "utf8");
    await rm(file);
    const successor = await acquireRunLock(file);
    const err = (await lock.verify().catch((e: unknown) => e)) as SafetyError;
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.code).toBe("run-lock-lost");
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`pid ${process.pid} holds it now`);
    await successor.release();
    const gone = (await lock.verify().catch((e: unknown) => e)) as SafetyError;
    expect(gone.code).toBe("run-lock-lost");
    expect(gone.message).toMatch(/it was removed/);
    await writeFile(file, original);
    expect(((await lock.verify().catch((e: unknown) => e)) as SafetyError).code).toBe("run-lock-lost");
    // Release never removes a lock that is not (or no longer) ours.
    await rm(file);
    const third = await acquireRunLock(file);
    await lock.release();
    lock.releaseSync();
    expect(existsSync(file)).toBe(true);
    await third.release();
  });

  it("an unwritable lock folder is a clean operational error, not an internal one", async () => {
    await writeFile(path.join(dir, ".agentform"), "a file where the folder should be");
    const err = await refusal();
    expect(err.code).toBe("run-lock-unwritable");
    expect(err.exitCode).toBe(1);
    expect(err.hint).toMatch(/writable/);
  });

  it(`${STALE_ENV} sets the staleness threshold; a bad value is invalid input (exit 4)`, () => {
    expect(runLockOptionsFromEnv({})).toEqual({});
    expect(runLockOptionsFromEnv({ [STALE_ENV]: "0.5" })).toEqual({ staleAfterMs: 500 });
    expect(runLockOptionsFromEnv({ [STALE_ENV]: "120" })).toEqual({ staleAfterMs: 120_000 });
    for (const bad of ["abc", "0", "-1", "1e9", " 5"]) {
      const err = (() => {
        try {
          runLockOptionsFromEnv({ [STALE_ENV]: bad });
        } catch (e) {
          return e;
        }
        return null;
      })() as ConfigError;
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.code).toBe("invalid-env");
      expect(err.exitCode).toBe(4);
    }
  });

  describe("breakRunLock (agentform lock break)", () => {
    it("does nothing when there is no lock", async () => {
      expect(await breakRunLock(file)).toBeNull();
    });

    it("removes another host's lock, or a dead pid's fresh one, and says whose it was", async () => {
      await planted({ pid: 4242, host: "ci-runner-old", token: "old", since: "2026-01-02T03:04:05.000Z" }, 5_000);
      const removed = await breakRunLock(file);
      expect(removed?.owner).toEqual({ token: "old", pid: 4242, host: "ci-runner-old", since: "2026-01-02T03:04:05.000Z" });
      expect(existsSync(file)).toBe(false);
      await planted({ pid: await deadPid(), host: hostname(), token: "dead" }, 0);
      expect((await breakRunLock(file))?.owner?.token).toBe("dead");
      expect(existsSync(file)).toBe(false);
    });

    it("refuses a lock whose pid runs on this machine unless forced", async () => {
      const lock = await acquireRunLock(file);
      const err = (await breakRunLock(file, { target: "default" }).catch((e: unknown) => e)) as SafetyError;
      expect(err.code).toBe("run-lock-held");
      expect(err.exitCode).toBe(3);
      expect(err.hint).toContain("agentform lock break --target default --force");
      expect(existsSync(file)).toBe(true);
      expect((await breakRunLock(file, { force: true }))?.owner?.pid).toBe(process.pid);
      expect(existsSync(file)).toBe(false);
      expect(((await lock.verify().catch((e: unknown) => e)) as SafetyError).code).toBe("run-lock-lost");
    });

    it("a lock path it cannot read is a clean operational error", async () => {
      await writeFile(path.join(dir, ".agentform"), "a file where the folder should be");
      const err = (await breakRunLock(file).catch((e: unknown) => e)) as SafetyError;
      expect(err.code).toBe("run-lock-unwritable");
      expect(err.exitCode).toBe(1);
    });

    it("removes an unreadable lock", async () => {
      await planted("garbage", 0);
      expect((await breakRunLock(file))?.owner).toBeNull();
      expect(existsSync(file)).toBe(false);
    });
  });

  describe("something other than a lock file at the lock path", () => {
    beforeEach(async () => {
      await mkdir(path.dirname(file), { recursive: true });
    });
    const gone = async () => (await lstat(file).catch(() => null)) === null;

    it("a FIFO: apply refuses at once with run-lock-invalid, and lock break removes it (neither blocks)", async () => {
      await execa("mkfifo", [file]);
      const err = (await unlessBlockedOn(file, acquireRunLock(file, { target: "prod" }).catch((e: unknown) => e))) as SafetyError;
      expect(err).toBeInstanceOf(SafetyError);
      expect(err.code).toBe("run-lock-invalid");
      expect(err.exitCode).toBe(3);
      expect(err.message).toContain("is a FIFO");
      expect(err.hint).toContain("agentform lock break --target prod");
      expect((await unlessBlockedOn(file, breakRunLock(file)))?.notAFile).toBe("FIFO");
      expect(await gone()).toBe(true);
      await (await acquireRunLock(file)).release();
    });

    it("a symlink (dangling, or to a lock-shaped file): refused, and lock break removes the link, never its target", async () => {
      await symlink(path.join(dir, "nowhere"), file);
      const dangling = await refusal();
      expect(dangling.code).toBe("run-lock-invalid");
      expect(dangling.message).toContain("is a symbolic link");
      expect(dangling.hint).toContain("agentform lock break");
      expect((await breakRunLock(file))?.notAFile).toBe("symbolic link");
      expect(await gone()).toBe(true);

      // A link to a file that looks like a dead holder's stale lock: not followed, not taken over.
      const elsewhere = path.join(dir, "precious.json");
      await writeFile(elsewhere, JSON.stringify({ pid: await deadPid(), host: hostname(), token: "t" }));
      const past = new Date(Date.now() - 3_600_000);
      await utimes(elsewhere, past, past);
      await symlink(elsewhere, file);
      expect((await refusal()).code).toBe("run-lock-invalid");
      expect((await breakRunLock(file))?.notAFile).toBe("symbolic link");
      expect(await gone()).toBe(true);
      expect(JSON.parse(await readFile(elsewhere, "utf8")).token).toBe("t");
    });

    it("a directory: refused (not an EISDIR internal error); lock break removes an empty one and refuses one with files", async () => {
      await mkdir(file);
      await writeFile(path.join(file, "keep"), "someone's files");
      const err = await refusal();
      expect(err.code).toBe("run-lock-invalid");
      expect(err.message).toContain("is a directory");
      const full = (await breakRunLock(file).catch((e: unknown) => e)) as SafetyError;
      expect(full.code).toBe("run-lock-invalid");
      expect(full.exitCode).toBe(3);
      expect(full.hint).toMatch(/by hand/);
      expect(await readFile(path.join(file, "keep"), "utf8")).toBe("someone's files");
      await rm(path.join(file, "keep"));
      expect((await breakRunLock(file))?.notAFile).toBe("directory");
      expect(await gone()).toBe(true);
      await (await acquireRunLock(file)).release();
    });

    it("`agentform lock break` says what it removed", async () => {
      await writeFile(path.join(dir, "agentform.yaml"), "project: p\ntargets:\n  default:\n    local: true\n");
      await symlink(path.join(dir, "nowhere"), file);
      const stdout = capture();
      const stderr = capture();
      const previous = process.cwd();
      process.chdir(dir);
      try {
        const code = await main(["node", "agentform", "lock", "break"], { stdout: stdout.stream, stderr: stderr.stream, env: { NO_COLOR: "1" } });
        expect(code, stderr.text()).toBe(0);
      } finally {
        process.chdir(previous);
      }
      expect(stdout.text()).toMatch(/Removed what sat at the apply lock path of target "default" \(.*\): a symbolic link, not a lock file\./);
      expect(await gone()).toBe(true);
    });

    it("temp and moved-aside files a killed apply left behind do not get in the way of later runs", async () => {
      await writeFile(`${file}.0123456789abcdef0123456789abcdef.tmp`, JSON.stringify({ pid: 1, host: hostname(), token: "0123456789abcdef0123456789abcdef" }));
      await writeFile(`${file}.break-0123456789abcdef.stale`, "{}");
      const lock = await acquireRunLock(file);
      expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
      await lock.release();
      // Its own temp file is gone; the litter is left alone (it may belong to a run in progress).
      expect((await readdir(path.dirname(file))).sort()).toEqual(["apply-default.lock.0123456789abcdef0123456789abcdef.tmp", "apply-default.lock.break-0123456789abcdef.stale"]);
    });
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
          await lock.verify();
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
