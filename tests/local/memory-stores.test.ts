/**
 * Memory stores on the local control plane, through the real SDK (`client.beta.memoryStores`)
 * over HTTP, with real state files.
 */
import Anthropic from "@anthropic-ai/sdk";
import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startLocalControlPlane } from "../../src/local/index.js";
import { allPages, clientFor, expectStatus, loose, refusedStart, startHarness, tick, useTempStateFile, type Harness } from "./helpers.js";

type MemoryStore = Anthropic.Beta.MemoryStores.BetaManagedAgentsMemoryStore;


const seventeenKeys = () => Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));

describe("memory stores", () => {
  let h: Harness;
  let stores: Anthropic.Beta.MemoryStores;
  beforeEach(async () => {
    h = await startHarness();
    stores = h.client.beta.memoryStores;
  });
  afterEach(async () => {
    await h.cp.close();
  });

  it("create returns the MemoryStore shape (description \"\" when unset); retrieve and list return the same", async () => {
    const store = await stores.create({ name: "User preferences", description: "What the user likes.", metadata: { user: "u1" } });
    expect(store.id).toMatch(/^memstore_011[0-9A-Za-z]{21}$/);
    expect(store).toEqual({
      id: store.id,
      type: "memory_store",
      name: "User preferences",
      description: "What the user likes.",
      metadata: { user: "u1" },
      created_at: store.created_at,
      updated_at: store.created_at,
      archived_at: null,
    });
    expect(new Date(store.created_at).toISOString()).toBe(store.created_at);
    expect(await stores.retrieve(store.id)).toEqual(store);
    const bare = await stores.create({ name: "User preferences" });
    expect(bare).toMatchObject({ name: "User preferences", description: "", metadata: {} });
    // Names are not unique.
    expect((await stores.list()).data).toEqual([store, bare]);
  });

  it("refuses a bad name, a long description, metadata over the limits and unknown keys, in the API's error envelope", async () => {
    const err = await expectStatus(stores.create(loose({})), 400, /name: Field required/);
    expect(err.error).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.any(String) }, request_id: expect.stringMatching(/^req_011/) });
    expect(err.requestID).toBe((err.error as { request_id: string }).request_id);
    await expectStatus(stores.create({ name: "" }), 400, /name: must be at least 1 character/);
    await expectStatus(stores.create({ name: "x".repeat(256) }), 400, /name: must be at most 255/);
    expect((await stores.create({ name: "x".repeat(255) })).name).toHaveLength(255);
    expect((await stores.create({ name: "é".repeat(255) })).name).toHaveLength(255);
    await expectStatus(stores.create({ name: "two\nlines" }), 400, /control characters/);
    await expectStatus(stores.create({ name: "bell\u0007" }), 400, /control characters/);
    await expectStatus(stores.create({ name: "d", description: "x".repeat(1025) }), 400, /description: must be at most 1024/);
    expect((await stores.create({ name: "d", description: "line one\nline two" })).description).toBe("line one\nline two");
    await expectStatus(stores.create({ name: "m", metadata: seventeenKeys() }), 400, /17 keys \(at most 16\)/);
    await expectStatus(stores.create({ name: "m", metadata: { "": "v" } }), 400, /empty key/);
    await expectStatus(stores.create({ name: "m", metadata: { ["k".repeat(65)]: "v" } }), 400, /longer than 64/);
    await expectStatus(stores.create({ name: "m", metadata: { k: "v".repeat(513) } }), 400, /longer than 512/);
    await expectStatus(stores.create(loose({ name: "m", type: "memory_store" })), 400, /body\.type: Extra inputs/);
  });

  it("update: name replaces (null keeps), description \"\" or null clears, metadata is a patch; updated_at moves only on a change", async () => {
    const store = await stores.create({ name: "n", description: "d", metadata: { a: "1", b: "2" } });
    await tick();
    const same = await stores.update(store.id, { name: null, description: "d", metadata: { a: "1" } });
    expect(same).toEqual(store);
    const renamed = await stores.update(store.id, { name: "renamed", metadata: { a: null, c: "3", d: "" } });
    expect(renamed).toMatchObject({ name: "renamed", description: "d", metadata: { b: "2", c: "3", d: "" }, created_at: store.created_at });
    expect(renamed.updated_at > store.updated_at).toBe(true);
    expect((await stores.update(store.id, { description: "" })).description).toBe("");
    await stores.update(store.id, { description: "again" });
    expect((await stores.update(store.id, { description: null })).description).toBe("");
    await expectStatus(stores.update(store.id, { name: "" }), 400, /name/);
    await expectStatus(stores.update(store.id, { metadata: seventeenKeys() }), 400, /at most 16/);
    await expectStatus(stores.update("memstore_011nope", { name: "x" }), 404, /memory store memstore_011nope not found/);
  });

  it("archive is one-way: it sets archived_at and updated_at, the store becomes read-only, and lists hide it", async () => {
    const store = await stores.create({ name: "old" });
    const other = await stores.create({ name: "kept" });
    await tick();
    const archived = await stores.archive(store.id);
    expect(archived.archived_at).toEqual(expect.any(String));
    expect(archived.updated_at).toBe(archived.archived_at);
    expect(archived.updated_at > store.updated_at).toBe(true);
    await tick();
    expect(await stores.archive(store.id)).toEqual(archived);
    await expectStatus(stores.update(store.id, { name: "x" }), 400, /archived/);
    await expectStatus(stores.update(store.id, {}), 400, /archived/);
    expect(await stores.retrieve(store.id)).toEqual(archived);
    expect((await stores.list()).data).toEqual([other]);
    expect((await stores.list({ include_archived: true })).data).toEqual([archived, other]);
    expect(await stores.delete(store.id)).toEqual({ id: store.id, type: "memory_store_deleted" });
  });

  it("list pages with limit and page (1 to 100) and filters on created_at[gte]/[lte]", async () => {
    const made: MemoryStore[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(await stores.create({ name: `s${i}` }));
      await tick();
    }
    const first = await stores.list({ limit: 2 });
    expect(first.data.map((s) => s.name)).toEqual(["s0", "s1"]);
    expect(first.next_page).toEqual(expect.any(String));
    expect((await allPages(stores.list({ limit: 2 }))).map((s) => s.name)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    const [s1, s3] = [made[1] as MemoryStore, made[3] as MemoryStore];
    const range = await allPages(stores.list({ "created_at[gte]": s1.created_at, "created_at[lte]": s3.created_at }));
    expect(range.map((s) => s.name)).toEqual(["s1", "s2", "s3"]);
    expect((await stores.list({ limit: 100 })).data).toHaveLength(5);
    await expectStatus(stores.list({ limit: 101 }), 400, /limit/);
    await expectStatus(stores.list({ limit: 0 }), 400, /limit/);
    await expectStatus(stores.list({ "created_at[gte]": "yesterday" }), 400, /created_at\[gte\]/);
    // A memory-store cursor is not a vault cursor.
    await expectStatus(h.client.beta.vaults.list({ page: first.next_page as string }), 400, /page/);
  });

  it("delete returns memory_store_deleted; afterwards every path of the store is a 404; memories are not modelled", async () => {
    const store = await stores.create({ name: "doomed" });
    expect(await stores.delete(store.id)).toEqual({ id: store.id, type: "memory_store_deleted" });
    await expectStatus(stores.retrieve(store.id), 404);
    await expectStatus(stores.delete(store.id), 404);
    await expectStatus(stores.archive(store.id), 404);
    expect(await allPages(stores.list({ include_archived: true }))).toEqual([]);
    const live = await stores.create({ name: "live" });
    await expectStatus(stores.memories.list(live.id), 404, /not an endpoint/);
  });

  it("takes either beta: agent-memory-2026-07-22 (what the SDK sends) or managed-agents-2026-04-01; neither is a 400 naming both", async () => {
    const url = `${h.cp.baseUrl}/v1/memory_stores`;
    const none = await fetch(url, { headers: { "x-api-key": h.cp.apiKey } });
    expect(none.status).toBe(400);
    expect(await none.text()).toMatch(/agent-memory-2026-07-22 or managed-agents-2026-04-01/);
    for (const beta of ["agent-memory-2026-07-22", "managed-agents-2026-04-01", "foo, managed-agents-2026-04-01"]) {
      expect((await fetch(url, { headers: { "x-api-key": h.cp.apiKey, "anthropic-beta": beta } })).status, beta).toBe(200);
    }
    expect(h.cp.requestLog().map((e) => [e.method, e.path, e.status, e.write])).toEqual([
      ["GET", "/v1/memory_stores", 400, false],
      ["GET", "/v1/memory_stores", 200, false],
      ["GET", "/v1/memory_stores", 200, false],
      ["GET", "/v1/memory_stores", 200, false],
    ]);
  });
});

describe("memory stores in the state file", () => {
  let stateFile: string;
  useTempStateFile("agentform-local-memstore-", (file) => (stateFile = file));

  it("survive a restart, archived ones included; deleted ones are not written", async () => {
    const first = await startLocalControlPlane({ stateFile });
    const c1 = clientFor(first);
    const kept = await c1.beta.memoryStores.create({ name: "kept", description: "d", metadata: { k: "v" } });
    await c1.beta.memoryStores.archive((await c1.beta.memoryStores.create({ name: "archived" })).id);
    const gone = await c1.beta.memoryStores.create({ name: "gone" });
    await c1.beta.memoryStores.delete(gone.id);
    const before = await allPages(c1.beta.memoryStores.list({ include_archived: true }));
    await first.close();
    const file = JSON.parse(await readFile(stateFile, "utf8")) as { memory_stores: { id: string }[] };
    expect(file.memory_stores.map((s) => s.id)).toEqual(before.map((s) => s.id));
    const second = await startLocalControlPlane({ stateFile });
    try {
      const c2 = clientFor(second);
      expect(await allPages(c2.beta.memoryStores.list({ include_archived: true }))).toEqual(before);
      await expectStatus(c2.beta.memoryStores.retrieve(gone.id), 404);
      await expectStatus(c2.beta.memoryStores.update(before[1]!.id, { name: "x" }), 400, /archived/);
      expect((await c2.beta.memoryStores.update(kept.id, { name: "renamed" })).name).toBe("renamed");
    } finally {
      await second.close();
    }
  });

  it("a file without memory stores gains `memory_stores` only once there are some", async () => {
    const first = await startLocalControlPlane({ stateFile });
    await clientFor(first).beta.environments.create({ name: "e" });
    await first.close();
    expect("memory_stores" in JSON.parse(await readFile(stateFile, "utf8"))).toBe(false);
  });

  it("refuses a broken memory store record, naming the entry, and leaves the file alone", async () => {
    const cp = await startLocalControlPlane({ stateFile });
    await clientFor(cp).beta.memoryStores.create({ name: "a" });
    await cp.close();
    const template = await readFile(stateFile, "utf8");
    type Json = Record<string, any>;
    const cases: [(s: Json) => void, string, RegExp][] = [
      [(s) => (s.memory_stores = {}), "memory_stores", /not a list/],
      [(s) => (s.memory_stores[0].id = "vlt_011x"), "memory_stores[0].id", /not a memstore id/],
      [(s) => (s.memory_stores[0].description = null), "memory_stores[0].description", /form this server stores/],
      [(s) => (s.memory_stores[0].name = "a\nb"), "memory_stores[0]", /control characters/],
      [(s) => delete s.memory_stores[0].metadata, "memory_stores[0]", /missing key "metadata"/],
      [(s) => (s.memory_stores[0].updated_at = "soon"), "memory_stores[0].updated_at", /timestamp/],
      [(s) => s.memory_stores.push({ ...s.memory_stores[0] }), "memory_stores[1].id", /more than once/],
    ];
    for (const [edit, entry, detail] of cases) {
      const state = JSON.parse(template) as Json;
      edit(state);
      const text = JSON.stringify(state);
      const result = await refusedStart(stateFile, text, entry);
      expect(result.code).toBe("local-state-corrupt");
      expect(result.details).toEqual({ file: stateFile, entry });
      expect(result.message).toMatch(detail);
      expect(await readFile(stateFile, "utf8")).toBe(text);
    }
  });
});
