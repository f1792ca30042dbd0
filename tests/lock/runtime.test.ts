import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLock, RuntimeLockError } from "../../src/lock/runtime.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const lockText = JSON.stringify({
  lockfileVersion: 1.1,
  project: "support-bots",
  target: "default",
  origin: { baseUrl: "https://api.anthropic.com", workspaceId: null },
  agents: { triage: { id: "agent_011", version: 7, specDigest: "sha256:a", liveDigest: "sha256:b" } },
  environments: { "python-sandbox": { id: "env_011", specDigest: "sha256:c", liveDigest: "sha256:d" } },
});

describe("agentform/runtime loadLock", () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-runtime-"));
    file = path.join(dir, "agentform.lock.json");
    await writeFile(file, lockText);
  });
  afterAll(async () => {
    delete process.env.AGENTFORM_LOCKFILE;
    await rm(dir, { recursive: true, force: true });
  });

  it("returns version pins and environment ids", () => {
    const lock = loadLock(file);
    expect(lock.agent("triage")).toEqual({ type: "agent", id: "agent_011", version: 7 });
    expect(lock.environmentId("python-sandbox")).toBe("env_011");
    expect(lock.project).toBe("support-bots");
    expect(lock.target).toBe("default");
  });

  it("reads skill pins and vault ids, and a lockfile written before those kinds knows none", async () => {
    const withKinds = path.join(dir, "kinds.lock.json");
    const data = JSON.parse(lockText) as Record<string, unknown>;
    await writeFile(withKinds, JSON.stringify({ ...data, skills: { notes: { id: "skill_011", version: "skver_9", specDigest: "sha256:e", liveDigest: "sha256:f" } }, vaults: { github: { id: "vlt_011", specDigest: "sha256:g", liveDigest: "sha256:h" }, npm: { id: "vlt_012", specDigest: "sha256:i", liveDigest: "sha256:j" } } }));
    const lock = loadLock(withKinds);
    expect(lock.skill("notes")).toEqual({ type: "custom", skill_id: "skill_011", version: "skver_9" });
    expect(lock.vaultId("github")).toBe("vlt_011");
    expect(() => lock.vaultId("gitlab")).toThrow(expect.objectContaining({ code: "unknown-vault", message: expect.stringContaining("(it has: github, npm)") }));
    // Memory stores and deployments by name; a lockfile written before them knows none.
    const withStores = path.join(dir, "stores.lock.json");
    await writeFile(withStores, JSON.stringify({ ...data, memory_stores: { notes: { id: "memstore_011", specDigest: "sha256:k", liveDigest: "sha256:l" } }, deployments: { nightly: { id: "depl_011", specDigest: "sha256:m", liveDigest: "sha256:n" } } }));
    expect(loadLock(withStores).memoryStoreId("notes")).toBe("memstore_011");
    expect(loadLock(withStores).deploymentId("nightly")).toBe("depl_011");
    expect(() => lock.memoryStoreId("notes")).toThrow(expect.objectContaining({ code: "unknown-memory-store", message: expect.stringContaining("has no memory store named") }));
    expect(() => lock.deploymentId("nightly")).toThrow(expect.objectContaining({ code: "unknown-deployment" }));
    // vault_ids keep the order asked for: the first vault with a credential for a URL wins.
    expect(lock.vaultIds("npm", "github")).toEqual(["vlt_012", "vlt_011"]);
    expect(() => lock.vaultIds("github", "gitlab")).toThrow(expect.objectContaining({ code: "unknown-vault" }));
    const old = loadLock(file);
    expect(() => old.skill("notes")).toThrow(expect.objectContaining({ code: "unknown-skill", message: expect.stringContaining("(it lists none)") }));
    expect(() => old.vaultId("__proto__")).toThrow(expect.objectContaining({ code: "unknown-vault" }));
  });

  it("honours AGENTFORM_LOCKFILE when no path is given", () => {
    process.env.AGENTFORM_LOCKFILE = file;
    try {
      expect(loadLock().agent("triage").version).toBe(7);
    } finally {
      delete process.env.AGENTFORM_LOCKFILE;
    }
  });

  it("unknown names throw errors that say what to do", () => {
    const lock = loadLock(file);
    expect(() => lock.agent("nope")).toThrow(/no agent named "nope" \(it has: triage\)\. Add a manifest for it and run `agentform apply`/);
    expect(() => lock.environmentId("constructor")).toThrow(RuntimeLockError);
    expect(() => lock.environmentId("gpu")).toThrow(/no environment named "gpu"/);
  });

  it("refuses an unknown lockfileVersion major with an upgrade instruction", async () => {
    const v2 = path.join(dir, "v2.json");
    await writeFile(v2, JSON.stringify({ ...JSON.parse(lockText), lockfileVersion: 2 }));
    let error: RuntimeLockError | undefined;
    try {
      loadLock(v2);
    } catch (e) {
      error = e as RuntimeLockError;
    }
    expect(error?.code).toBe("lockfile-version-unsupported");
    expect(error?.message).toMatch(/lockfileVersion 2.*Upgrade the agentform package/);
  });

  it("reads every 1.x minor and ignores top-level maps it does not know", async () => {
    for (const version of [1, 1.1, 1.9]) {
      const minor = path.join(dir, `v${version}.json`);
      const skills = { "pdf-tools": { id: "skill_1", version: 2 } };
      await writeFile(minor, JSON.stringify({ ...JSON.parse(lockText), lockfileVersion: version, skills, vaults: { main: { id: "vlt_1" } } }));
      const lock = loadLock(minor);
      expect(lock.agent("triage"), String(version)).toEqual({ type: "agent", id: "agent_011", version: 7 });
      expect(lock.environmentId("python-sandbox")).toBe("env_011");
    }
  });

  it.each([[0.9], [2], ["1.1"], [null]])("refuses lockfileVersion %j, saying it reads 1.x", async (version) => {
    const other = path.join(dir, "other-version.json");
    await writeFile(other, JSON.stringify({ ...JSON.parse(lockText), lockfileVersion: version }));
    let error: RuntimeLockError | undefined;
    try {
      loadLock(other);
    } catch (e) {
      error = e as RuntimeLockError;
    }
    expect(error?.code).toBe("lockfile-version-unsupported");
    expect(error?.message).toContain(`lockfileVersion ${JSON.stringify(version)}, but this reader understands version 1.x.`);
  });

  it("a missing lockfile says to run apply", () => {
    expect(() => loadLock(path.join(dir, "absent.json"))).toThrow(/No lockfile at .*Run `agentform apply`/);
  });

  it("answers every kind's name from before a rename through previous_names, warning once per name", async () => {
    const renamed = path.join(dir, "renamed.lock.json");
    const entry = (id: string, previous: string[], version?: number | string) => ({ id, ...(version !== undefined ? { version } : {}), specDigest: "sha256:s", liveDigest: "sha256:l", previous_names: previous });
    await writeFile(renamed, JSON.stringify({
      ...JSON.parse(lockText),
      agents: { triage: entry("agent_011", ["router"], 7), router2: entry("agent_012", ["dispatch"], 1) },
      environments: { sandbox: entry("env_011", ["python-sandbox"]) },
      skills: { notes: entry("skill_011", ["old-notes"], "skver_9") },
      vaults: { github: entry("vlt_011", ["gh"]), npm: entry("vlt_012", []) },
      memory_stores: { notes: entry("memstore_011", ["memo"]) },
      deployments: { nightly: entry("depl_011", ["cron"]) },
    }));
    const warnings: string[] = [];
    const lock = loadLock({ file: renamed, onWarning: (m) => warnings.push(m) });
    expect(lock.agent("router")).toEqual({ type: "agent", id: "agent_011", version: 7 });
    expect(lock.environmentId("python-sandbox")).toBe("env_011");
    expect(lock.skill("old-notes")).toEqual({ type: "custom", skill_id: "skill_011", version: "skver_9" });
    expect(lock.vaultId("gh")).toBe("vlt_011");
    expect(lock.vaultIds("npm", "gh")).toEqual(["vlt_012", "vlt_011"]);
    expect(lock.memoryStoreId("memo")).toBe("memstore_011");
    expect(lock.deploymentId("cron")).toBe("depl_011");
    expect(lock.agent("router")).toEqual(lock.agent("triage"));
    expect(warnings.map((w) => w.replace(/ \(lockfile [^)]*\)/, ""))).toEqual([
      'agent "router" was renamed to "triage"; update the caller (the old name works while it stays in previous_names)',
      'environment "python-sandbox" was renamed to "sandbox"; update the caller (the old name works while it stays in previous_names)',
      'skill "old-notes" was renamed to "notes"; update the caller (the old name works while it stays in previous_names)',
      'vault "gh" was renamed to "github"; update the caller (the old name works while it stays in previous_names)',
      'memory store "memo" was renamed to "notes"; update the caller (the old name works while it stays in previous_names)',
      'deployment "cron" was renamed to "nightly"; update the caller (the old name works while it stays in previous_names)',
    ]);
    // Old names are per kind, and a name of another kind's entry is no agent.
    expect(() => lock.agent("gh")).toThrow(expect.objectContaining({ code: "unknown-agent" }));
  });

  it("warns through process.emitWarning with the AGENTFORM_RENAMED code by default", async () => {
    const renamed = path.join(dir, "renamed-default.lock.json");
    await writeFile(renamed, JSON.stringify({ ...JSON.parse(lockText), agents: { triage: { id: "agent_011", version: 7, specDigest: "s", liveDigest: "l", previous_names: ["router"] } } }));
    const seen: Array<{ message: string; code?: string }> = [];
    const listener = (w: Error & { code?: string }) => seen.push({ message: w.message, code: w.code });
    process.on("warning", listener);
    try {
      expect(loadLock(renamed).agent("router").id).toBe("agent_011");
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", listener);
    }
    expect(seen).toEqual([{ code: "AGENTFORM_RENAMED", message: expect.stringMatching(/^agent "router" was renamed to "triage"/) }]);
  });

  it("finds a target's lockfile in a folder, and refuses target names that could name another file", async () => {
    const folder = await mkdtemp(path.join(tmpdir(), "agentform-runtime-target-"));
    try {
      const data = JSON.parse(lockText) as Record<string, unknown>;
      await writeFile(path.join(folder, "agentform.lock.json"), JSON.stringify(data));
      await writeFile(path.join(folder, "agentform.prod-eu_2.lock.json"), JSON.stringify({ ...data, target: "prod-eu_2", agents: { triage: { id: "agent_prod", version: 3 } } }));
      expect(loadLock({ dir: folder, target: "prod-eu_2" }).agent("triage")).toEqual({ type: "agent", id: "agent_prod", version: 3 });
      expect(loadLock({ dir: folder }).agent("triage").id).toBe("agent_011");
      expect(loadLock({ dir: folder, target: "default" }).target).toBe("default");
      // An explicit folder or target wins over AGENTFORM_LOCKFILE; an explicit file over both.
      process.env.AGENTFORM_LOCKFILE = path.join(folder, "agentform.prod-eu_2.lock.json");
      try {
        expect(loadLock({ dir: folder }).agent("triage").id).toBe("agent_011");
        expect(loadLock({ onWarning: () => undefined }).agent("triage").id).toBe("agent_prod");
        expect(loadLock({ file: file, dir: folder }).agent("triage").id).toBe("agent_011");
      } finally {
        delete process.env.AGENTFORM_LOCKFILE;
      }
      for (const target of ["../agentform", "a/b", "a\\b", "", ".", "prod.lock", "-x", "x".repeat(41), "prod\u0000", 7 as unknown as string]) {
        expect(() => loadLock({ dir: folder, target }), JSON.stringify(target)).toThrow(expect.objectContaining({ code: "invalid-target" }));
      }
      // The file must say it was written for the target asked for.
      expect(() => loadLock({ file: path.join(folder, "agentform.lock.json"), target: "prod-eu_2" })).toThrow(expect.objectContaining({ code: "lockfile-target-mismatch" }));
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("imports nothing but node built-ins", async () => {
    const source = await readFile(path.join(repo, "src/lock/runtime.ts"), "utf8");
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm), ...source.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s).toMatch(/^node:/);
    expect(source).not.toMatch(/\brequire\(/);
  });
});
