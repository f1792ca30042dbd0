/**
 * Agents on the local control plane, driven by the real SDK over HTTP: server-resolved defaults,
 * update semantics field by field, versions, rosters and list paging, as the API documents them.
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

describe("create resolves server-side defaults", () => {
  it("fills model effort/speed, toolset policies, url_sources and empty collections", async () => {
    const agent = await h.client.beta.agents.create({
      name: "defaults",
      model: "claude-opus-4-8",
      description: "",
      tools: [
        {
          type: "agent_toolset_20260401",
          default_config: { enabled: false },
          configs: [
            { name: "bash", enabled: true },
            { name: "web_fetch", permission_policy: { type: "always_ask" }, url_sources: { user_input: "none", server_tool_results: { type: "only", tools: [{ type: "tool_reference", name: "web_search" }] } } },
          ],
        },
        { type: "mcp_toolset", mcp_server_name: "github" },
      ],
      mcp_servers: [{ type: "url", name: "github", url: "https://mcp.example.com/github" }],
      skills: [{ type: "anthropic", skill_id: "xlsx" }],
    });
    expect(agent.id).toMatch(/^agent_011[0-9A-Za-z]{21}$/);
    expect(agent.type).toBe("agent");
    expect(agent.version).toBe(1);
    expect(agent.model).toEqual({ id: "claude-opus-4-8", effort: { type: "high" }, speed: "standard" });
    expect(agent.description).toBeNull();
    expect(agent.system).toBeNull();
    expect(agent.tools[0]).toEqual({
      type: "agent_toolset_20260401",
      default_config: { enabled: false, permission_policy: { type: "always_allow" } },
      configs: [
        { name: "bash", type: "bash", enabled: true, permission_policy: { type: "always_allow" } },
        {
          name: "web_fetch",
          type: "web_fetch",
          enabled: false,
          permission_policy: { type: "always_ask" },
          url_sources: { user_input: { type: "none" }, client_tool_results: null, server_tool_results: { type: "only", tools: [{ type: "tool_reference", name: "web_search" }] } },
        },
      ],
    });
    expect(agent.tools[1]).toEqual({
      type: "mcp_toolset",
      mcp_server_name: "github",
      default_config: { enabled: true, permission_policy: { type: "always_ask" } },
      configs: [],
    });
    expect(agent.skills).toEqual([{ type: "anthropic", skill_id: "xlsx", version: "latest" }]);
    expect(agent.execution_identity).toEqual({ type: "service_account" });
    expect(agent.metadata).toEqual({});
    expect(agent.multiagent).toBeNull();
    expect(agent.archived_at).toBeNull();
    expect(agent.created_at).toBe(agent.updated_at);
  });

  it("uses the documented per-model default effort and turns a bare effort string into an object", async () => {
    const haiku = await h.client.beta.agents.create({ name: "h", model: "claude-haiku-4-5" });
    expect(haiku.model.effort).toEqual({ type: "medium" });
    const bare = await h.client.beta.agents.create({ name: "b", model: { id: "claude-sonnet-4-6", effort: "low", speed: "fast" } });
    expect(bare.model).toEqual({ id: "claude-sonnet-4-6", effort: { type: "low" }, speed: "fast" });
  });

  it("requires name and model", async () => {
    const noModel = await failure(h.client.beta.agents.create({ name: "x" } as Anthropic.Beta.Agents.AgentCreateParams));
    expect(noModel.status).toBe(400);
    expect(noModel.message).toContain("model");
    const noName = await failure(h.client.beta.agents.create({ model: "claude-opus-4-8" } as Anthropic.Beta.Agents.AgentCreateParams));
    expect(noName.status).toBe(400);
    const empty = await failure(h.client.beta.agents.create({ name: "", model: "claude-opus-4-8" }));
    expect(empty.status).toBe(400);
  });

  it("answers errors with the real envelope and a request-id header", async () => {
    const err = await failure(h.client.beta.agents.retrieve("agent_011doesnotexist"));
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.requestID).toMatch(/^req_011/);
    expect(err.error).toMatchObject({ type: "error", error: { type: "not_found_error" }, request_id: err.requestID });
  });
});

describe("update semantics", () => {
  it("a no-op update keeps the version and updated_at; a change bumps the version by exactly one", async () => {
    const created = await h.client.beta.agents.create({ name: "noop", model: "claude-opus-4-8", system: "be brief", metadata: { team: "a" } });
    // Same content in unresolved form: string model, omitted defaults.
    const same = await h.client.beta.agents.update(created.id, { version: 1, model: "claude-opus-4-8", system: "be brief", metadata: { team: "a" } });
    expect(same.version).toBe(1);
    expect(same.updated_at).toBe(created.updated_at);
    const changed = await h.client.beta.agents.update(created.id, { version: 1, system: "be thorough" });
    expect(changed.version).toBe(2);
    expect(changed.system).toBe("be thorough");
    expect(changed.name).toBe("noop");
    expect(changed.metadata).toEqual({ team: "a" });
    const latest = await h.client.beta.agents.retrieve(created.id);
    expect(latest.version).toBe(2);
  });

  it("a stale version raises the SDK's ConflictError (409) and changes nothing", async () => {
    const created = await h.client.beta.agents.create({ name: "stale", model: "claude-opus-4-8" });
    await h.client.beta.agents.update(created.id, { version: 1, description: "v2" });
    const err = await failure(h.client.beta.agents.update(created.id, { version: 1, description: "lost" }));
    expect(err).toBeInstanceOf(Anthropic.ConflictError);
    expect(err.status).toBe(409);
    expect((err.error as { error: { type: string } }).error.type).toBe("invalid_request_error");
    const after = await h.client.beta.agents.retrieve(created.id);
    expect(after.version).toBe(2);
    expect(after.description).toBe("v2");
  });

  it("omitted keeps, null and empty clear, arrays replace whole", async () => {
    const a = await h.client.beta.agents.create({
      name: "fields",
      model: "claude-opus-4-8",
      description: "d",
      system: "s",
      skills: [{ type: "anthropic", skill_id: "xlsx" }, { type: "anthropic", skill_id: "pdf" }],
      tools: [{ type: "custom", name: "t1", description: "one", input_schema: { type: "object" } }],
      execution_identity: { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/x" },
    });
    const u = await h.client.beta.agents.update(a.id, {
      description: null,
      system: "",
      skills: [{ type: "anthropic", skill_id: "docx" }],
      tools: [],
      execution_identity: null,
    });
    expect(u.version).toBe(2);
    expect(u.description).toBeNull();
    expect(u.system).toBeNull();
    expect(u.skills).toEqual([{ type: "anthropic", skill_id: "docx", version: "latest" }]);
    expect(u.tools).toEqual([]);
    expect(u.execution_identity).toEqual({ type: "service_account" });
    expect(u.name).toBe("fields");
    expect(u.model).toEqual(a.model);
  });

  it("metadata is a patch: strings set, null deletes, other keys stay", async () => {
    const a = await h.client.beta.agents.create({ name: "meta", model: "claude-opus-4-8", metadata: { keep: "1", drop: "2", change: "3" } });
    const u = await h.client.beta.agents.update(a.id, { metadata: { drop: null, change: "33", add: "4" } });
    expect(u.metadata).toEqual({ keep: "1", change: "33", add: "4" });
    expect(u.version).toBe(2);
  });

  it("rejects metadata over the limits with 400", async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    const err = await failure(h.client.beta.agents.create({ name: "m", model: "claude-opus-4-8", metadata: tooMany }));
    expect(err.status).toBe(400);
    const a = await h.client.beta.agents.create({ name: "m", model: "claude-opus-4-8", metadata: { a: "x" } });
    const long = await failure(h.client.beta.agents.update(a.id, { metadata: { b: "x".repeat(513) } }));
    expect(long.status).toBe(400);
    expect((await h.client.beta.agents.retrieve(a.id)).version).toBe(1);
  });

  it("model: an omitted effort keeps the stored one on update, even when the id changes; create takes the model's default", async () => {
    const a = await h.client.beta.agents.create({ name: "eff", model: { id: "claude-opus-4-8", effort: "max", inference_geo: "us" } });
    const sameId = await h.client.beta.agents.update(a.id, { model: { id: "claude-opus-4-8", speed: "fast" } });
    expect(sameId.model).toEqual({ id: "claude-opus-4-8", effort: { type: "max" }, speed: "fast" });
    expect(sameId.version).toBe(2);
    const newId = await h.client.beta.agents.update(a.id, { model: "claude-haiku-4-5" });
    expect(newId.model).toEqual({ id: "claude-haiku-4-5", effort: { type: "max" }, speed: "standard" });
    expect(newId.version).toBe(3);
    const created = await h.client.beta.agents.create({ name: "eff-default", model: "claude-haiku-4-5" });
    expect(created.model).toEqual({ id: "claude-haiku-4-5", effort: { type: "medium" }, speed: "standard" });
  });

  it("archived agents are read-only (400); archiving again is idempotent", async () => {
    const a = await h.client.beta.agents.create({ name: "arch", model: "claude-opus-4-8" });
    const archived = await h.client.beta.agents.archive(a.id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.version).toBe(1);
    const again = await h.client.beta.agents.archive(a.id);
    expect(again.archived_at).toBe(archived.archived_at);
    const err = await failure(h.client.beta.agents.update(a.id, { description: "x" }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((await h.client.beta.agents.retrieve(a.id)).description).toBeNull();
  });

  it("historical versions stay readable; versions.list pages full agents, one per version", async () => {
    const a = await h.client.beta.agents.create({ name: "hist", model: "claude-opus-4-8", system: "one" });
    await h.client.beta.agents.update(a.id, { system: "two" });
    await h.client.beta.agents.update(a.id, { system: "three" });
    const v1 = await h.client.beta.agents.retrieve(a.id, { version: 1 });
    expect(v1.system).toBe("one");
    expect(v1.version).toBe(1);
    expect((await failure(h.client.beta.agents.retrieve(a.id, { version: 9 }))).status).toBe(404);
    const seen: Array<[number, string | null]> = [];
    for await (const v of h.client.beta.agents.versions.list(a.id, { limit: 2 })) seen.push([v.version, v.system]);
    expect(seen).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
  });
});

describe("mcp server rules", () => {
  it("rejects a server no mcp_toolset references, and a toolset naming an undeclared server", async () => {
    const unreferenced = await failure(
      h.client.beta.agents.create({ name: "m1", model: "claude-opus-4-8", mcp_servers: [{ type: "url", name: "gh", url: "https://x.example" }] }),
    );
    expect(unreferenced.status).toBe(400);
    expect(unreferenced.message).toContain("gh");
    const undeclared = await failure(h.client.beta.agents.create({ name: "m2", model: "claude-opus-4-8", tools: [{ type: "mcp_toolset", mcp_server_name: "nope" }] }));
    expect(undeclared.status).toBe(400);
    expect(undeclared.message).toContain("nope");
  });

  it("checks the rule on the resulting agent after an update", async () => {
    const a = await h.client.beta.agents.create({
      name: "m3",
      model: "claude-opus-4-8",
      tools: [{ type: "mcp_toolset", mcp_server_name: "gh" }],
      mcp_servers: [{ type: "url", name: "gh", url: "https://x.example" }],
    });
    const err = await failure(h.client.beta.agents.update(a.id, { tools: [] }));
    expect(err.status).toBe(400);
    const both = await h.client.beta.agents.update(a.id, { tools: [], mcp_servers: [] });
    expect(both.mcp_servers).toEqual([]);
    expect(both.version).toBe(2);
  });
});

describe("multiagent rosters", () => {
  it("coordinator entries resolve to concrete versions; self points at the agent's own version after the save", async () => {
    const worker = await h.client.beta.agents.create({ name: "worker", model: "claude-haiku-4-5" });
    await h.client.beta.agents.update(worker.id, { system: "v2" });
    const pinned = await h.client.beta.agents.create({ name: "pinned", model: "claude-haiku-4-5" });
    const coord = await h.client.beta.agents.create({
      name: "coord",
      model: "claude-opus-4-8",
      multiagent: { type: "coordinator", agents: [worker.id, { type: "agent", id: pinned.id, version: 1 }, { type: "self" }, { type: "advisor", model: "claude-opus-4-8" }] },
    });
    expect(coord.multiagent).toEqual({
      type: "coordinator",
      agents: [
        { type: "agent", id: worker.id, version: 2 },
        { type: "agent", id: pinned.id, version: 1 },
        { type: "agent", id: coord.id, version: 1 },
        { type: "advisor", model: "claude-opus-4-8" },
      ],
    });
    // The roster stays pinned when the worker moves on (the pinning hazard: rosters do not follow).
    await h.client.beta.agents.update(worker.id, { system: "v3" });
    expect((await h.client.beta.agents.retrieve(coord.id)).multiagent).toEqual(coord.multiagent);
    // Re-sending the same roster re-resolves: the worker moves to 3, self to the new version 2.
    const resaved = await h.client.beta.agents.update(coord.id, { multiagent: { type: "coordinator", agents: [worker.id, { type: "agent", id: pinned.id, version: 1 }, { type: "self" }] } });
    expect(resaved.version).toBe(2);
    expect(resaved.multiagent).toEqual({
      type: "coordinator",
      agents: [
        { type: "agent", id: worker.id, version: 3 },
        { type: "agent", id: pinned.id, version: 1 },
        { type: "agent", id: coord.id, version: 2 },
      ],
    });
  });

  it("rejects missing, archived and nested agents, duplicates, and empty or oversized rosters", async () => {
    const archived = await h.client.beta.agents.create({ name: "gone", model: "claude-haiku-4-5" });
    await h.client.beta.agents.archive(archived.id);
    const leaf = await h.client.beta.agents.create({ name: "leaf", model: "claude-haiku-4-5" });
    const nested = await h.client.beta.agents.create({ name: "nested", model: "claude-haiku-4-5", multiagent: { type: "coordinator", agents: [leaf.id] } });
    const cases: Array<[string, unknown[]]> = [
      ["missing", ["agent_011missing"]],
      ["archived", [archived.id]],
      ["nested", [nested.id]],
      ["duplicate", [leaf.id, { type: "agent", id: leaf.id }]],
      ["two selves", [{ type: "self" }, { type: "self" }]],
      ["empty", []],
      ["too many", Array.from({ length: 21 }, () => ({ type: "advisor", model: "claude-opus-4-8" }))],
    ];
    for (const [label, agents] of cases) {
      const err = await failure(
        h.client.beta.agents.create({ name: `bad-${label}`, model: "claude-opus-4-8", multiagent: { type: "coordinator", agents } as Anthropic.Beta.Agents.BetaManagedAgentsMultiagentCoordinatorParams }),
      );
      expect(err.status, label).toBe(400);
    }
  });

  it("multiagent_20261001: defaults on create, level-by-level merge on update, predefined agents resolved", async () => {
    const helper = await h.client.beta.agents.create({ name: "helper", model: "claude-haiku-4-5" });
    const a = await h.client.beta.agents.create({ name: "ma", model: "claude-opus-4-8", multiagent: { type: "multiagent_20261001" } });
    expect(a.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
      workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
    });
    const merged = await h.client.beta.agents.update(a.id, {
      multiagent: { type: "multiagent_20261001", advisor: { type: "enabled", model: "claude-opus-4-8" }, subagents: { type: "enabled", predefined_agents: [helper.id, { type: "self" }] } },
    });
    expect(merged.version).toBe(2);
    expect(merged.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "enabled", model: "claude-opus-4-8" },
      subagents: {
        type: "enabled",
        inline_agents: { type: "enabled" },
        predefined_agents: [
          { type: "agent", id: helper.id, version: 1 },
          { type: "agent", id: a.id, version: 2 },
        ],
      },
      workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
    });
    // Only inline_agents sent: predefined_agents and the other members keep their stored values.
    const inner = await h.client.beta.agents.update(a.id, { multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", inline_agents: { type: "disabled" } }, workflows: null } });
    expect(inner.multiagent).toEqual({
      ...(merged.multiagent as object),
      subagents: { ...(merged.multiagent as { subagents: object }).subagents, inline_agents: { type: "disabled" } },
    });
    expect(inner.version).toBe(3);
    const invalid = await failure(h.client.beta.agents.update(a.id, { multiagent: { type: "multiagent_20261001", workflows: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [] } } }));
    expect(invalid.status).toBe(400);
  });
});

describe("list", () => {
  it("SDK auto-pagination walks 250 agents in exactly 3 page requests, in creation order", async () => {
    const { cp, client } = await startHarness();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 250; i++) ids.push((await client.beta.agents.create({ name: `p${i}`, model: "claude-haiku-4-5" })).id);
      cp.clearRequestLog();
      const seen: string[] = [];
      for await (const a of client.beta.agents.list({ limit: 100 })) seen.push(a.id);
      expect(seen).toEqual(ids);
      const log = cp.requestLog();
      expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual(Array(3).fill("GET /v1/agents 200"));
      expect(log[0]?.query).toBe("limit=100");
      expect(log[1]?.query).toMatch(/^limit=100&page=/);
    } finally {
      await cp.close();
    }
  });

  it("hides archived agents unless include_archived, filters by created_at and rejects limit > 100", async () => {
    const { cp, client } = await startHarness();
    try {
      const a = await client.beta.agents.create({ name: "a", model: "claude-haiku-4-5" });
      const b = await client.beta.agents.create({ name: "b", model: "claude-haiku-4-5" });
      await client.beta.agents.archive(a.id);
      const visible = await client.beta.agents.list();
      expect(visible.data.map((x) => x.id)).toEqual([b.id]);
      expect(visible.next_page).toBeNull();
      const all = await client.beta.agents.list({ include_archived: true });
      expect(all.data.map((x) => x.id)).toEqual([a.id, b.id]);
      const future = await client.beta.agents.list({ "created_at[gte]": new Date(Date.now() + 60_000).toISOString() });
      expect(future.data).toEqual([]);
      const past = await client.beta.agents.list({ "created_at[lte]": new Date(Date.now() + 60_000).toISOString() });
      expect(past.data.map((x) => x.id)).toEqual([b.id]);
      expect((await failure(client.beta.agents.list({ limit: 101 }))).status).toBe(400);
    } finally {
      await cp.close();
    }
  });
});

describe("validation as strict as the documented API", () => {
  const MODEL = "claude-sonnet-5-5";
  const toolset = (configs: Record<string, unknown>[]) => [{ type: "agent_toolset_20260401" as const, configs }] as unknown as Anthropic.Beta.Agents.AgentCreateParams["tools"];

  it("web_fetch domains are plain hostnames; web_search may carry a path, neither a scheme or port", async () => {
    for (const bad of [
      [{ name: "web_fetch", allowed_domains: ["https://example.com"] }],
      [{ name: "web_fetch", allowed_domains: ["example.com/docs"] }],
      [{ name: "web_search", blocked_domains: ["example.com:8443"] }],
    ]) {
      const err = await failure(h.client.beta.agents.create({ name: "dom", model: MODEL, tools: toolset(bad) }));
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.message).toMatch(/plain hostname/);
    }
    // Only the host is checked for a port; a web_search path may contain anything.
    const ok = await h.client.beta.agents.create({
      name: "dom-ok",
      model: MODEL,
      tools: toolset([{ name: "web_search", allowed_domains: ["example.com/blog", "example.com/redirect/https://x", "*.example.org"] }, { name: "web_fetch", allowed_domains: ["docs.example.com"] }]),
    });
    expect(ok.version).toBe(1);
  });

  it("description ≤ 2048 and system ≤ 100,000 characters", async () => {
    expect(await failure(h.client.beta.agents.create({ name: "long", model: MODEL, description: "d".repeat(2049) }))).toBeInstanceOf(Anthropic.BadRequestError);
    expect(await failure(h.client.beta.agents.create({ name: "long", model: MODEL, system: "s".repeat(100_001) }))).toBeInstanceOf(Anthropic.BadRequestError);
    const ok = await h.client.beta.agents.create({ name: "long-ok", model: MODEL, description: "d".repeat(2048) });
    expect(ok.description).toHaveLength(2048);
  });

  it("the tool limit counts configurations across toolsets, not entries of tools[]", async () => {
    const configs = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}` }));
    const tools = Array.from({ length: 13 }, (_, i) => ({ type: "mcp_toolset" as const, mcp_server_name: `s${i}`, configs }));
    const servers = tools.map((t) => ({ type: "url" as const, name: t.mcp_server_name, url: `https://mcp${t.mcp_server_name}.example.com/` }));
    const err = await failure(h.client.beta.agents.create({ name: "many", model: MODEL, tools, mcp_servers: servers }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.message).toMatch(/260/);
  });

  it("agent metadata: null deletes a key, \"\" is stored as a value (environments differ)", async () => {
    const a = await h.client.beta.agents.create({ name: "meta-empty", model: MODEL, metadata: { k: "v", gone: "x" } });
    const updated = await h.client.beta.agents.update(a.id, { version: 1, metadata: { k: "", gone: null } });
    expect(updated.metadata).toEqual({ k: "" });
  });

  it("a coordinator roster has at most one advisor; an enabled advisor always names its model", async () => {
    const two = await failure(
      h.client.beta.agents.create({ name: "adv2", model: MODEL, multiagent: { type: "coordinator", agents: [{ type: "advisor", model: MODEL }, { type: "advisor", model: MODEL }] } }),
    );
    expect(two).toBeInstanceOf(Anthropic.BadRequestError);
    const lead = await h.client.beta.agents.create({ name: "adv-lead", model: MODEL, multiagent: { type: "multiagent_20261001", advisor: { type: "enabled", model: MODEL } } });
    const noModel = await failure(
      h.client.beta.agents.update(lead.id, { version: 1, multiagent: { type: "multiagent_20261001", advisor: { type: "enabled" } } as never }),
    );
    expect(noModel).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noModel.message).toMatch(/advisor\.model/);
  });
});
