/**
 * Lockfile format compatibility across 1.x minors (docs/lockfile.md "Format versions"): the
 * current writer writes 1.2; services still on the runtime reader released in 0.1.0 keep
 * reading what it writes, including the top-level maps of kinds they do not know and entry
 * fields added since (previous_names); the current
 * reader reads any 1.x, refuses other majors and anything that is not a number, and carries a
 * newer minor's unknown maps through a rewrite (and through a real apply) unchanged.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { KIND_ORDER, KINDS } from "../../src/kinds/index.js";
import { emptyLock, parseLock, readLock, serializeLock, writeLock } from "../../src/lock/io.js";
import { loadLock as loadLockCurrent } from "../../src/lock/runtime.js";
import type { Lockfile } from "../../src/lock/types.js";
import { schemaDiagnostics } from "../../src/manifest/index.js";
import { loadLock as loadLock010, RuntimeLockError as RuntimeLockError010 } from "../fixtures/runtime-0.1.0/runtime.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const digest = (c: string) => `sha256:${createHash("sha256").update(c).digest("hex")}`;

/**
 * Maps a later minor adds for other resource kinds; no reader in this checkout understands them.
 * Their names are camelCase, which no registered kind's lockKey (`<snake_case kind>s`) can be, so
 * a kind added to the registry never turns one of them into a known map (guarded below).
 */
const unknownKinds = {
  futureWidgets: { main: { id: "wdg_01" } },
  futureStores: {},
  futureRollouts: { prod: { agents: ["triage"], note: "ünïcode, \"quotes\" and\nnewlines" } },
};
/** Every map beside agents and environments: skills (added in 1.1, unknown to 0.1.0) and the unknown ones. */
const otherKinds = {
  skills: { "pdf-tools": { id: "skill_01", version: "skver_01", specDigest: digest("s"), liveDigest: digest("t") } },
  ...unknownKinds,
};

/** What the current writer writes, with another kind's maps alongside. */
function currentLock(): Lockfile {
  const lock = emptyLock("support-bots", "default", { baseUrl: "https://api.anthropic.com", workspaceId: null });
  // previous_names (format 1.2) is an entry field the 0.1.0 reader has never heard of.
  lock.agents.triage = { id: "agent_011", version: 7, specDigest: digest("a"), liveDigest: digest("b"), previous_names: ["router"] };
  lock.environments["python-sandbox"] = { id: "env_011", specDigest: digest("c"), liveDigest: digest("d") };
  return Object.assign(lock, structuredClone(otherKinds));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "agentform-compat-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the fixture", () => {
  it("names no map a registered kind owns", () => {
    const lockKeys: string[] = KIND_ORDER.map((kind) => KINDS[kind].lockKey);
    for (const key of Object.keys(unknownKinds)) expect(lockKeys).not.toContain(key);
  });
});

describe("the runtime reader released in 0.1.0", () => {
  it("is the released file, unedited below its header", async () => {
    const text = await readFile(path.join(here, "../fixtures/runtime-0.1.0/runtime.ts"), "utf8");
    const body = text.slice(text.indexOf("/**\n * agentform/runtime"));
    // The digest of `src/lock/runtime.ts` at the 0.1.0 release commit.
    expect(digest(body)).toBe("sha256:54dd3c4f3cf569fd38baf55b3375944e712c263dcd1959f2e0380676ce0abd2f");
  });

  it("reads a 1.2 lockfile from the current writer, other kinds' maps and entries' previous_names included", async () => {
    const file = path.join(dir, "agentform.lock.json");
    await writeLock(file, currentLock());
    const text = await readFile(file, "utf8");
    expect(text).toContain('\n  "lockfileVersion": 1.2,\n');
    expect(text).toContain('\n      "previous_names": [\n        "router"\n      ],\n');
    expect(text).toContain('\n  "skills": {\n    "pdf-tools": {\n      "id": "skill_01",');

    const lock = loadLock010(file);
    expect(lock.agent("triage")).toEqual({ type: "agent", id: "agent_011", version: 7 });
    expect(lock.environmentId("python-sandbox")).toBe("env_011");
    expect(lock.project).toBe("support-bots");
    expect(() => lock.agent("pdf-tools")).toThrow(RuntimeLockError010);
    // It knows nothing of previous names: an old name is simply unknown to it, never misread.
    expect(() => lock.agent("router")).toThrow(RuntimeLockError010);
    // The current runtime reader agrees.
    expect(loadLockCurrent(file).agent("triage")).toEqual(lock.agent("triage"));
  });
});

describe("the current reader", () => {
  const v10 = (over: Record<string, unknown> = {}) => {
    const { skills: _s, futureWidgets: _v, futureStores: _m, futureRollouts: _d, ...known } = JSON.parse(serializeLock(currentLock())) as Record<string, unknown>;
    // 0.1.0 wrote no previous_names (format 1.2).
    delete (known.agents as Lockfile["agents"]).triage!.previous_names;
    return JSON.stringify({ ...known, lockfileVersion: 1, ...over }, null, 2) + "\n";
  };

  it("reads a 1.0 lockfile, as 0.1.0 wrote it, and rewrites it changing only the version", () => {
    const text = v10();
    expect(text).toContain('"lockfileVersion": 1,');
    const lock = parseLock(text, "agentform.lock.json");
    expect(lock.agents.triage?.version).toBe(7);
    expect(serializeLock(lock)).toBe(text.replace('"lockfileVersion": 1,', '"lockfileVersion": 1.2,'));
  });

  it("keeps a newer minor's unknown top-level maps byte for byte through read and write", async () => {
    const newer = serializeLock(currentLock()).replace('"lockfileVersion": 1.2,', '"lockfileVersion": 1.4,');
    const file = path.join(dir, "newer.lock.json");
    await writeFile(file, newer);
    const lock = (await readLock(file))!;
    expect(lock.lockfileVersion).toBe(1.4);
    expect((lock as unknown as Record<string, unknown>).skills).toEqual(otherKinds.skills);
    await writeLock(file, lock);
    // Only the version changes: this writer says it wrote the file, and carried the maps over.
    expect(await readFile(file, "utf8")).toBe(newer.replace('"lockfileVersion": 1.4,', '"lockfileVersion": 1.2,'));
  });

  it("keeps an unknown top-level field named like an Object.prototype member as plain data", () => {
    const text = v10({ ["__proto__"]: { polluted: true }, constructor: { x: 1 } });
    const lock = parseLock(text, "agentform.lock.json");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(serializeLock(lock))).toEqual(JSON.parse(text.replace('"lockfileVersion": 1,', '"lockfileVersion": 1.2,')));
    expect(Object.keys(JSON.parse(serializeLock(lock)) as object)).toContain("__proto__");
  });

  it.each([
    [2, /Upgrade agentform/],
    [3.5, /Upgrade agentform/],
    [0.9, /No agentform wrote this version/],
    ["1.1", /No agentform wrote this version/],
    [null, /No agentform wrote this version/],
  ])("refuses lockfileVersion %j with lockfile-version-unsupported", (version, hint) => {
    const err = (() => {
      try {
        parseLock(v10({ lockfileVersion: version }), "agentform.lock.json");
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe("lockfile-version-unsupported");
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(`has lockfileVersion ${JSON.stringify(version)}; this agentform reads lockfileVersion 1.x`);
    expect(err.hint).toMatch(hint);
  });

  it("accepts any 1.x, up to but not including 2", () => {
    for (const version of [1, 1.1, 1.25, 1.999]) {
      expect(parseLock(v10({ lockfileVersion: version }), "f").lockfileVersion).toBe(version);
    }
  });
});

describe("the lockfile JSON Schema", () => {
  const ctx = { file: "agentform.lock.json", locate: () => ({ line: 1, column: 1 }) };
  const written = () => JSON.parse(serializeLock(currentLock())) as Record<string, unknown>;

  it("accepts what the current writer writes, other kinds' maps included, and any 1.x", () => {
    expect(schemaDiagnostics("lockfile", written(), ctx)).toEqual([]);
    for (const version of [1, 1.7]) expect(schemaDiagnostics("lockfile", { ...written(), lockfileVersion: version }, ctx)).toEqual([]);
  });

  it.each([[2], [0.9], ["1.1"]])("rejects lockfileVersion %j", (version) => {
    const found = schemaDiagnostics("lockfile", { ...written(), lockfileVersion: version }, ctx);
    expect(found.map((d) => d.path)).toEqual(["lockfileVersion"]);
  });
});

describe("an apply by this agentform on a lockfile from a newer minor", () => {
  let p: CliProject;
  let lockPath: string;
  const triage = (system: string) => p.write({ "agents/triage.yaml": `name: triage\nmodel: claude-sonnet-5-5\nsystem: ${system}\n` });

  beforeEach(async () => {
    p = await cliProject({ "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n" });
    lockPath = path.join(p.dir, "agentform.lock.json");
    await triage("Sort incoming tickets.");
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
  });
  afterEach(() => p.close());

  it("reads it, updates its own entries, and writes the other kinds' maps back unchanged", async () => {
    const applied = JSON.parse(await readFile(lockPath, "utf8")) as Lockfile;
    expect(applied.lockfileVersion).toBe(1.2);
    await writeFile(lockPath, JSON.stringify({ ...applied, ...unknownKinds, lockfileVersion: 1.3 }, null, 2) + "\n");

    expect((await p.run("lock", "get", "agent", "triage")).stdout).toBe(`${JSON.stringify({ type: "agent", id: applied.agents.triage!.id, version: 1 })}\n`);
    expect((await p.run("lock", "verify")).code).toBe(0);

    await triage("Sort incoming tickets by urgency.");
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code, apply.stderr).toBe(0);
    const after = JSON.parse(await readFile(lockPath, "utf8")) as Lockfile & typeof unknownKinds;
    expect(after.agents.triage!.version).toBe(2);
    expect(after.lockfileVersion).toBe(1.2);
    expect({ futureWidgets: after.futureWidgets, futureStores: after.futureStores, futureRollouts: after.futureRollouts }).toEqual(unknownKinds);
  });
});
