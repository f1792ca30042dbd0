/**
 * Environments on the local control plane through the real SDK.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure, startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.cp.close();
});

const EMPTY_PACKAGES = { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };

describe("environments", () => {
  it("create fills the cloud config, null description, empty metadata and no scope", async () => {
    const env = await h.client.beta.environments.create({ name: "plain" });
    expect(env.id).toMatch(/^env_011[0-9A-Za-z]{21}$/);
    expect(env).toMatchObject({ type: "environment", name: "plain", description: null, metadata: {}, archived_at: null });
    expect(env.config).toEqual({ type: "cloud", networking: { type: "unrestricted" }, packages: EMPTY_PACKAGES });
    expect("scope" in env).toBe(false);
    const limited = await h.client.beta.environments.create({
      name: "limited",
      config: { type: "cloud", networking: { type: "limited" }, packages: { pip: ["requests"] } },
    }).catch((e: unknown) => e);
    // Packages under limited networking need allow_package_managers.
    expect(limited).toBeInstanceOf(Anthropic.BadRequestError);
    const ok = await h.client.beta.environments.create({ name: "limited", config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["api.example.com"] } }, scope: "organization" });
    expect(ok.config).toEqual({
      type: "cloud",
      networking: { type: "limited", allowed_hosts: ["api.example.com"], allow_mcp_servers: false, allow_package_managers: false },
      packages: EMPTY_PACKAGES,
    });
    expect(ok.scope).toBe("organization");
  });

  it("metadata keys named like Object.prototype members are stored, patched and deleted like any other", async () => {
    const metadata = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    const env = await h.client.beta.environments.create({ name: "proto-keys", metadata });
    expect(Object.keys(env.metadata).sort()).toEqual(["__proto__", "constructor"]);
    const patched = await h.client.beta.environments.update(env.id, { metadata: JSON.parse('{"__proto__":"q","constructor":null}') as Record<string, string | null> });
    expect(JSON.stringify(patched.metadata)).toBe('{"__proto__":"q"}');
    const read = await h.client.beta.environments.retrieve(env.id);
    expect(JSON.stringify(read.metadata)).toBe('{"__proto__":"q"}');
  });

  it("update: omitted keeps, limited fields keep, description \"\" stays \"\", metadata null and \"\" delete", async () => {
    const env = await h.client.beta.environments.create({
      name: "upd",
      description: "d",
      metadata: { a: "1", b: "2", c: "3" },
      config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["x.example"], allow_package_managers: true }, packages: { pip: ["requests"] } },
    });
    const u = await h.client.beta.environments.update(env.id, {
      description: "",
      metadata: { a: null, b: "", d: "4" },
      config: { type: "cloud", networking: { type: "limited", allow_mcp_servers: true } },
    });
    expect(u.description).toBe("");
    expect(u.metadata).toEqual({ c: "3", d: "4" });
    expect(u.config).toEqual({
      type: "cloud",
      networking: { type: "limited", allowed_hosts: ["x.example"], allow_mcp_servers: true, allow_package_managers: true },
      packages: { ...EMPTY_PACKAGES, pip: ["requests"] },
    });
    expect(u.name).toBe("upd");
    const cleared = await h.client.beta.environments.update(env.id, { description: null });
    expect(cleared.description).toBeNull();
  });

  it("a no-op update leaves updated_at alone", async () => {
    const env = await h.client.beta.environments.create({ name: "same", metadata: { k: "v" } });
    await new Promise((r) => setTimeout(r, 5));
    const u = await h.client.beta.environments.update(env.id, { name: "same", metadata: { k: "v" }, config: { type: "cloud" } });
    expect(u.updated_at).toBe(env.updated_at);
  });

  it("changing config.type is 400 invalid_config_type_change", async () => {
    const env = await h.client.beta.environments.create({ name: "typed" });
    const err = await failure(h.client.beta.environments.update(env.id, { config: { type: "self_hosted" } }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.errorCode).toBe("invalid_config_type_change");
  });

  it("an archived environment rejects updates with errorCode environment_archived", async () => {
    const env = await h.client.beta.environments.create({ name: "to-archive" });
    const archived = await h.client.beta.environments.archive(env.id);
    expect(archived.archived_at).not.toBeNull();
    const err = await failure(h.client.beta.environments.update(env.id, { description: "x" }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.errorCode).toBe("environment_archived");
    // The archived name is free again.
    const reused = await h.client.beta.environments.create({ name: "to-archive" });
    expect(reused.id).not.toBe(env.id);
  });

  it("duplicate names among live environments are 409, on create and on rename", async () => {
    await h.client.beta.environments.create({ name: "dup" });
    const err = await failure(h.client.beta.environments.create({ name: "dup" }));
    expect(err).toBeInstanceOf(Anthropic.ConflictError);
    const other = await h.client.beta.environments.create({ name: "dup-2" });
    const rename = await failure(h.client.beta.environments.update(other.id, { name: "dup" }));
    expect(rename.status).toBe(409);
  });

  it("metadata limits give 400 invalid_metadata", async () => {
    const err = await failure(h.client.beta.environments.create({ name: "meta", metadata: { ["k".repeat(65)]: "v" } }));
    expect(err.errorCode).toBe("invalid_metadata");
  });

  it("delete returns environment_deleted and the id is gone; list pages with include_archived", async () => {
    const { cp, client } = await startHarness();
    try {
      const a = await client.beta.environments.create({ name: "a" });
      const b = await client.beta.environments.create({ name: "b" });
      const c = await client.beta.environments.create({ name: "c" });
      await client.beta.environments.archive(b.id);
      expect(await client.beta.environments.delete(c.id)).toEqual({ id: c.id, type: "environment_deleted" });
      expect((await failure(client.beta.environments.retrieve(c.id))).status).toBe(404);
      const live = await client.beta.environments.list();
      expect(live.data.map((e) => e.id)).toEqual([a.id]);
      const all: string[] = [];
      for await (const e of client.beta.environments.list({ include_archived: true, limit: 1 })) all.push(e.id);
      expect(all).toEqual([a.id, b.id]);
      expect((await failure(client.beta.environments.list({ limit: 1001 }))).status).toBe(400);
      expect((await client.beta.environments.list({ limit: 1000 })).data).toHaveLength(1);
    } finally {
      await cp.close();
    }
  });
});
