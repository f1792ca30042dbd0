/**
 * The ControlPlane contract: every backend (sdk and ant) must pass this suite, unchanged, against
 * the local control plane over real HTTP. Call `defineBackendContract` from a *.test.ts file.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it as vitestIt } from "vitest";
import { rejectionOf } from "../helpers/rejection.js";
import { BackendError } from "../../src/backends/errors.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { seedAgents } from "../../src/local/seed.js";

const MODEL = "claude-sonnet-5-5";

const failure = (p: Promise<unknown>) => rejectionOf(p, BackendError);

export interface ContractOptions {
  /** Register every test as skipped (no client to run them with). */
  skip?: boolean;
  /** Called for each test as it is registered (to count the skipped ones). */
  onRegister?: () => void;
}

export function defineBackendContract(name: string, makeBackend: (cp: LocalControlPlane) => ControlPlane, options: ContractOptions = {}): void {
  const it = (title: string, fn: () => Promise<void>) => {
    options.onRegister?.();
    (options.skip ? vitestIt.skip : vitestIt)(title, fn);
  };
  describe(`ControlPlane contract: ${name}`, () => {
    let cp: LocalControlPlane;
    let backend: ControlPlane;
    beforeAll(async () => {
      cp = await startLocalControlPlane();
      backend = makeBackend(cp);
    });
    afterAll(async () => {
      await cp.close();
    });
    beforeEach(() => {
      cp.resetFaults();
      cp.clearRequestLog();
    });

    it("creates, gets (latest and an exact version) and lists agents", async () => {
      const created = await backend.create("agent", { name: "contract-a", model: MODEL, system: "v1", metadata: { team: "x" } });
      expect(created.id).toMatch(/^agent_/);
      expect(created.version).toBe(1);
      expect(created.model).toMatchObject({ id: MODEL });
      const updated = await backend.update("agent", created.id, { system: "v2" }, { expectedVersion: 1 });
      expect(updated.version).toBe(2);
      expect((await backend.get("agent", created.id)).system).toBe("v2");
      const v1 = await backend.get("agent", created.id, { version: 1 });
      expect(v1.version).toBe(1);
      expect(v1.system).toBe("v1");
      const versions = await backend.listVersions("agent", created.id);
      expect(versions.map((v) => [v.version, v.system])).toEqual([[1, "v1"], [2, "v2"]]);
      const listed = await backend.list("agent");
      expect(listed.find((a) => a.id === created.id)?.version).toBe(2);
    });

    it("an update with a stale expectedVersion is a 409 conflict, sent exactly once", async () => {
      const created = await backend.create("agent", { name: "contract-conflict", model: MODEL });
      await backend.update("agent", created.id, { system: "first" }, { expectedVersion: 1 });
      cp.clearRequestLog();
      const err = await failure(backend.update("agent", created.id, { system: "second" }, { expectedVersion: 1 }));
      expect(err.isConflict).toBe(true);
      expect(err.status).toBe(409);
      expect(err.exitCode).toBe(3);
      expect(err.message).toContain(created.id);
      expect(cp.requestLog().filter((e) => e.write)).toHaveLength(1);
      expect((await backend.get("agent", created.id)).system).toBe("first");
    });

    it("archives agents and environments; archived ones leave the default list", async () => {
      const agent = await backend.create("agent", { name: "contract-archive", model: MODEL });
      const archived = await backend.archive("agent", agent.id);
      expect(archived.archived_at).not.toBeNull();
      expect((await backend.list("agent")).some((a) => a.id === agent.id)).toBe(false);
      expect((await backend.list("agent", { includeArchived: true })).some((a) => a.id === agent.id)).toBe(true);
      const env = await backend.create("environment", { name: "contract-env-archive", config: { type: "cloud" } });
      expect((await backend.archive("environment", env.id)).archived_at).not.toBeNull();
    });

    it("creates, updates, gets and deletes environments", async () => {
      const env = await backend.create("environment", { name: "contract-env", config: { type: "cloud" }, metadata: { a: "1" } });
      expect(env.id).toMatch(/^env_/);
      const updated = await backend.update("environment", env.id, { description: "d", metadata: { a: null, b: "2" } });
      expect(updated.description).toBe("d");
      expect(updated.metadata).toEqual({ b: "2" });
      expect((await backend.get("environment", env.id)).description).toBe("d");
      await backend.delete("environment", env.id);
      expect((await failure(backend.get("environment", env.id))).isNotFound).toBe(true);
    });

    it("lists every page: 250 agents take 3 requests of 100", async () => {
      const fresh = await startLocalControlPlane();
      try {
        seedAgents(fresh, 250, "paged");
        const b = makeBackend(fresh);
        fresh.clearRequestLog();
        const all = await b.list("agent");
        expect(all).toHaveLength(250);
        expect(new Set(all.map((a) => a.id)).size).toBe(250);
        const reads = fresh.requestLog().filter((e) => e.path === "/v1/agents");
        expect(reads).toHaveLength(3);
        expect(reads.every((e) => new URLSearchParams(e.query).get("limit") === "100")).toBe(true);
      } finally {
        await fresh.close();
      }
    });

    it("maps 404 to a not-found BackendError", async () => {
      const err = await failure(backend.get("agent", "agent_doesnotexist"));
      expect(err.status).toBe(404);
      expect(err.isNotFound).toBe(true);
      expect(err.isRetryable).toBe(false);
      expect(err.hint).toMatch(/plan/);
    });

    it("maps 429 with retry-after and 5xx, and does not retry on its own", async () => {
      cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 7 } }, { on: "write", nth: 2, fault: { status: 503 } }] });
      const limited = await failure(backend.create("agent", { name: "contract-429", model: MODEL }));
      expect(limited.status).toBe(429);
      expect(limited.retryAfterSeconds).toBe(7);
      expect(limited.isRetryable).toBe(true);
      const unavailable = await failure(backend.create("agent", { name: "contract-503", model: MODEL }));
      expect(unavailable.status).toBe(503);
      expect(unavailable.isRetryable).toBe(true);
      expect(cp.requestLog().filter((e) => e.write).map((e) => e.status)).toEqual([429, 503]);
    });

    it("a dropped connection is ambiguous (status undefined), and the write did commit", async () => {
      cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
      const err = await failure(backend.create("agent", { name: "contract-dropped", model: MODEL }));
      expect(err.status).toBeUndefined();
      expect(err.isAmbiguous).toBe(true);
      expect(err.isRetryable).toBe(true);
      expect(cp.requestLog().filter((e) => e.write)).toHaveLength(1);
      expect((await backend.list("agent")).filter((a) => a.name === "contract-dropped")).toHaveLength(1);
    });

    it("never puts the API key in an error", async () => {
      const err = await failure(backend.get("agent", "agent_missing"));
      expect(`${err.message} ${err.hint ?? ""}`).not.toContain(cp.apiKey);
    });
  });
}
