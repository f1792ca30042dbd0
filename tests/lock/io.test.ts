import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, SafetyError } from "../../src/errors.js";
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import { checkLockOrigin, emptyLock, readLock, serializeLock, writeLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { emptyLockTables } from "../plan/helpers.js";

function sampleLock(): Lockfile {
  return {
    lockfileVersion: 1.2,
    project: "support-bots",
    target: "default",
    origin: { baseUrl: "https://api.anthropic.com", workspaceId: null },
    ...emptyLockTables(),
    agents: {
      triage: { id: "agent_2", version: 7, specDigest: "sha256:s2", liveDigest: "sha256:l2" },
      billing: { id: "agent_1", version: 1, specDigest: "sha256:s1", liveDigest: "sha256:l1" },
    },
    environments: { sandbox: { id: "env_1", specDigest: "sha256:se", liveDigest: "sha256:le" } },
  };
}

describe("serializeLock", () => {
  it("sorts keys at every level, indents by two spaces and ends with a newline", () => {
    const text = serializeLock(sampleLock());
    expect(text.endsWith("}\n")).toBe(true);
    const topKeys = [...text.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
    expect(topKeys).toEqual(["agents", "environments", "lockfileVersion", "origin", "project", "target"]);
    expect(text.indexOf('"billing"')).toBeLessThan(text.indexOf('"triage"'));
    expect(text).toContain('\n    "billing": {\n      "id": "agent_1",\n      "liveDigest": "sha256:l1",\n      "specDigest": "sha256:s1",\n      "version": 1\n    },');
  });

  it("is independent of insertion order and round-trips", () => {
    const a = sampleLock();
    const b: Lockfile = { ...a, agents: { billing: a.agents.billing!, triage: a.agents.triage! } };
    expect(serializeLock(a)).toBe(serializeLock(b));
    // An empty map of a kind added after 1.0 (every kind but agents and environments) is not
    // written: a fleet without skills keeps its lockfile as it was.
    const laterMaps = new Set(KIND_ORDER.map((kind) => KINDS[kind].lockKey as string).filter((key) => key !== "agents" && key !== "environments"));
    const written = Object.fromEntries(Object.entries(a).filter(([key]) => !laterMaps.has(key)));
    expect(JSON.parse(serializeLock(a))).toEqual(written);
  });

  it("emptyLock has no resources and the given origin", () => {
    expect(emptyLock("p", "t", { baseUrl: "u", workspaceId: "w" })).toEqual({
      lockfileVersion: 1.2, project: "p", target: "t", origin: { baseUrl: "u", workspaceId: "w" }, ...emptyLockTables(),
    });
  });
});

describe("readLock / writeLock", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-lock-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("returns null when the lockfile is absent", async () => {
    expect(await readLock(path.join(dir, "agentform.lock.json"))).toBeNull();
  });

  it("writes deterministic text atomically and reads it back", async () => {
    const file = path.join(dir, "agentform.lock.json");
    await writeLock(file, sampleLock());
    expect(await readFile(file, "utf8")).toBe(serializeLock(sampleLock()));
    expect(await readLock(file)).toEqual(sampleLock());
    // No temp files are left behind.
    expect(await readdir(dir)).toEqual(["agentform.lock.json"]);
  });

  it("rejects invalid JSON with a ConfigError naming the file", async () => {
    const file = path.join(dir, "agentform.lock.json");
    await writeFile(file, "{ <<<<<<< HEAD");
    const err = await readLock(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("lockfile-invalid-json");
    expect((err as ConfigError).message).toContain(file);
    expect((err as ConfigError).exitCode).toBe(4);
    expect((err as ConfigError).hint).toMatch(/git/);
  });

  it("rejects an unknown lockfileVersion with an upgrade hint", async () => {
    const file = path.join(dir, "agentform.lock.json");
    await writeFile(file, JSON.stringify({ ...sampleLock(), lockfileVersion: 2 }));
    const err = (await readLock(file).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe("lockfile-version-unsupported");
    expect(err.hint).toMatch(/Upgrade agentform/);
  });

  it("rejects a wrong shape", async () => {
    const file = path.join(dir, "agentform.lock.json");
    const bad = sampleLock() as unknown as { agents: Record<string, unknown> };
    bad.agents.triage = { id: "agent_2", version: "7", specDigest: "s", liveDigest: "l" };
    await writeFile(file, JSON.stringify(bad));
    const err = (await readLock(file).catch((e: unknown) => e)) as ConfigError;
    expect(err.code).toBe("lockfile-invalid");
    expect(err.message).toContain("agents.triage");
  });
});

describe("checkLockOrigin", () => {
  const lock = sampleLock();
  it("accepts the same project, target and origin", () => {
    expect(() => checkLockOrigin(lock, { baseUrl: "https://api.anthropic.com", workspaceId: null }, "support-bots", "default")).not.toThrow();
  });
  it.each([
    [{ baseUrl: "https://other.example", workspaceId: null }, "support-bots", "default", /other\.example/],
    [{ baseUrl: "https://api.anthropic.com", workspaceId: "wrkspc_1" }, "support-bots", "default", /wrkspc_1/],
    [{ baseUrl: "https://api.anthropic.com", workspaceId: null }, "other", "default", /project/],
    [{ baseUrl: "https://api.anthropic.com", workspaceId: null }, "support-bots", "prod", /target/],
  ])("refuses a mismatch (%#) with exit 3 and a hint", (origin, project, target, pattern) => {
    const err = (() => {
      try {
        checkLockOrigin(lock, origin, project, target);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as SafetyError;
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe("lock-origin-mismatch");
    expect(err.message).toMatch(pattern);
    expect(err.hint).toBeTruthy();
  });
});
