/**
 * Deployments on the local control plane, through the real SDK (`client.beta.deployments`) over
 * HTTP, with real agents, environments, vaults and memory stores of the same control plane, and
 * real state files.
 */
import Anthropic from "@anthropic-ai/sdk";
import { readFile, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { secretMatches } from "../../src/kinds/credential/secret-digest.js";
import { startLocalControlPlane } from "../../src/local/index.js";
import { allPages, clientFor, expectStatus, loose, refusedStart, startHarness, tick, useTempStateFile, type Harness } from "./helpers.js";

type Deployment = Anthropic.Beta.BetaManagedAgentsDeployment;
type CreateParams = Anthropic.Beta.DeploymentCreateParams;
type UpdateParams = Anthropic.Beta.DeploymentUpdateParams;

const TOKEN = "ghp_TOKENa1b2c3d4e5f6";
const hello = [{ type: "user.message" as const, content: [{ type: "text" as const, text: "Check the orders." }] }];

/** An agent, an environment and a memory store to deploy with. */
async function world(client: Anthropic) {
  const agent = await client.beta.agents.create({ name: "support", model: "claude-sonnet-4-6" });
  const environment = await client.beta.environments.create({ name: `env-${Math.random()}` });
  const store = await client.beta.memoryStores.create({ name: "notes" });
  return { agent, environment, store };
}

describe("deployments", () => {
  let h: Harness;
  let w: Awaited<ReturnType<typeof world>>;
  let deployments: Anthropic.Beta.Deployments;
  const create = (extra: Record<string, unknown> = {}) =>
    deployments.create(loose<CreateParams>({ name: "nightly", agent: w.agent.id, environment_id: w.environment.id, initial_events: hello, ...extra }));
  const update = (id: string, body: Record<string, unknown>) => deployments.update(id, loose<UpdateParams>(body));

  beforeEach(async () => {
    h = await startHarness();
    w = await world(h.client);
    deployments = h.client.beta.deployments;
  });
  afterEach(async () => {
    await h.cp.close();
  });

  it("create returns the Deployment shape: the agent id pinned to its latest version, every default filled in", async () => {
    await h.client.beta.agents.update(w.agent.id, { system: "be kind" });
    const d = await create();
    expect(d.id).toMatch(/^depl_011[0-9A-Za-z]{21}$/);
    expect(d).toEqual({
      id: d.id,
      type: "deployment",
      name: "nightly",
      description: null,
      agent: { type: "agent", id: w.agent.id, version: 2 },
      environment_id: w.environment.id,
      initial_events: hello,
      resources: [],
      schedule: null,
      vault_ids: [],
      metadata: {},
      status: "active",
      paused_reason: null,
      created_at: d.created_at,
      updated_at: d.created_at,
      archived_at: null,
    });
    expect("budget" in d).toBe(false);
    expect(await deployments.retrieve(d.id)).toEqual(d);
    expect((await deployments.list()).data).toEqual([d]);
  });

  it("the agent object pins the version it names; it needs both id and version; the agent must exist and not be archived", async () => {
    await h.client.beta.agents.update(w.agent.id, { system: "v2" });
    expect((await create({ agent: { type: "agent", id: w.agent.id, version: 1 } })).agent).toEqual({ type: "agent", id: w.agent.id, version: 1 });
    await expectStatus(create({ agent: { type: "agent", id: w.agent.id } }), 400, /agent\.version: Field required/);
    await expectStatus(create({ agent: { type: "agent", id: w.agent.id, version: 3 } }), 400, /has no version 3/);
    await expectStatus(create({ agent: { type: "agent", id: w.agent.id, version: 0 } }), 400, /agent\.version/);
    await expectStatus(create({ agent: "agent_011missing" }), 400, /agent agent_011missing does not exist/);
    await expectStatus(create({ agent: "" }), 400, /agent/);
    await expectStatus(create({ agent: null }), 400, /agent: Field required/);
    const other = await h.client.beta.agents.create({ name: "retired", model: "claude-haiku-4-5" });
    await h.client.beta.agents.archive(other.id);
    await expectStatus(create({ agent: other.id }), 400, /archived/);
    await expectStatus(create({ agent: { type: "agent", id: other.id, version: 1 } }), 400, /archived/);
  });

  it("update: the id string re-pins to the latest version, an object pins, leaving agent out keeps the pin", async () => {
    const d = await create();
    expect(d.agent.version).toBe(1);
    await h.client.beta.agents.update(w.agent.id, { system: "v2" });
    await h.client.beta.agents.update(w.agent.id, { system: "v3" });
    // A later agent version does not carry over by itself.
    expect((await deployments.retrieve(d.id)).agent.version).toBe(1);
    expect((await update(d.id, { name: "renamed" })).agent.version).toBe(1);
    expect((await update(d.id, { agent: w.agent.id })).agent.version).toBe(3);
    expect((await update(d.id, { agent: { type: "agent", id: w.agent.id, version: 2 } })).agent.version).toBe(2);
    await h.client.beta.agents.archive(w.agent.id);
    await expectStatus(update(d.id, { agent: w.agent.id }), 400, /archived/);
    // Leaving the agent out keeps it, even once archived.
    expect((await update(d.id, { description: "still here" })).agent).toEqual({ type: "agent", id: w.agent.id, version: 2 });
  });

  it("resources are echoed without the write-only token, optional fields null when not sent", async () => {
    const resources = [
      { type: "github_repository", url: "https://github.com/acme/shop", authorization_token: TOKEN, checkout: { type: "branch", name: "main" }, mount_path: "/workspace/shop" },
      { type: "github_repository", url: "https://github.com/acme/docs" },
      { type: "github_repository", url: "https://github.com/acme/pinned", checkout: { type: "commit", sha: "a".repeat(40) } },
      { type: "file", file_id: "file_011abc" },
      { type: "file", file_id: "file_011def", mount_path: "/data/x.csv" },
      { type: "memory_store", memory_store_id: w.store.id, access: "read_only", instructions: "Read before answering." },
    ];
    const d = await create({ resources });
    expect(d.resources).toEqual([
      { type: "github_repository", url: "https://github.com/acme/shop", checkout: { type: "branch", name: "main" }, mount_path: "/workspace/shop" },
      { type: "github_repository", url: "https://github.com/acme/docs", checkout: null, mount_path: null },
      { type: "github_repository", url: "https://github.com/acme/pinned", checkout: { type: "commit", sha: "a".repeat(40) }, mount_path: null },
      { type: "file", file_id: "file_011abc", mount_path: null },
      { type: "file", file_id: "file_011def", mount_path: "/data/x.csv" },
      { type: "memory_store", memory_store_id: w.store.id, access: "read_only", instructions: "Read before answering." },
    ]);
    const bare = await create({ resources: [{ type: "memory_store", memory_store_id: w.store.id }] });
    expect(bare.resources).toEqual([{ type: "memory_store", memory_store_id: w.store.id, access: null, instructions: null }]);
    for (const seen of [d, await deployments.retrieve(d.id), ...(await deployments.list()).data]) expect(JSON.stringify(seen)).not.toContain(TOKEN);
    expect(JSON.stringify(h.cp.requestLog())).not.toContain(TOKEN);
  });

  it("refuses bad resources: unknown kinds, a missing or archived memory store, a store twice, more than 500, bad fields; no message quotes a token", async () => {
    const repo = (extra: Record<string, unknown>) => ({ type: "github_repository", url: "https://github.com/acme/shop", ...extra });
    await expectStatus(create({ resources: [{ type: "volume" }] }), 400, /resources\[0\]\.type/);
    await expectStatus(create({ resources: [{ type: "memory_store", memory_store_id: "memstore_011nope" }] }), 400, /memory store memstore_011nope does not exist/);
    const archived = await h.client.beta.memoryStores.create({ name: "old" });
    await h.client.beta.memoryStores.archive(archived.id);
    await expectStatus(create({ resources: [{ type: "memory_store", memory_store_id: archived.id }] }), 400, /is archived/);
    const twice = { type: "memory_store", memory_store_id: w.store.id };
    await expectStatus(create({ resources: [twice, twice] }), 400, /more than once/);
    await expectStatus(create({ resources: [{ ...twice, access: "write_only" }] }), 400, /access/);
    await expectStatus(create({ resources: [{ ...twice, instructions: "x".repeat(4097) }] }), 400, /instructions: must be at most 4096/);
    await expectStatus(create({ resources: Array.from({ length: 501 }, (_, i) => ({ type: "file", file_id: `file_${i}` })) }), 400, /at most 500/);
    expect((await create({ resources: Array.from({ length: 500 }, (_, i) => ({ type: "file", file_id: `file_${i}` })) })).resources).toHaveLength(500);
    await expectStatus(create({ resources: [{ type: "file", file_id: "report.csv" }] }), 400, /file id/);
    await expectStatus(create({ resources: [repo({ url: "ftp://github.com/acme/shop" })] }), 400, /http or https URL/);
    const leaky = await expectStatus(create({ resources: [repo({ url: `https://x:${TOKEN}@github.com/acme/shop` })] }), 400, /user name or password/);
    expect(JSON.stringify(leaky.error)).not.toContain(TOKEN);
    await expectStatus(create({ resources: [repo({ authorization_token: "" })] }), 400, /authorization_token: must be at least 1/);
    await expectStatus(create({ resources: [repo({ checkout: { type: "commit", sha: "abc123" } })] }), 400, /full commit SHA/);
    await expectStatus(create({ resources: [repo({ checkout: { type: "tag", name: "v1" } })] }), 400, /checkout\.type/);
    await expectStatus(create({ resources: [repo({ mount_path: "relative/dir" })] }), 400, /absolute path/);
    await expectStatus(create({ resources: [repo({ token: TOKEN })] }), 400, /resources\[0\]\.token: Extra inputs/);
  });

  it("validates initial_events: 1 to 50, the three event types and their content blocks", async () => {
    const text = (t: string) => ({ type: "text", text: t });
    const events = [
      { type: "system.message", content: [text("You run every night.")] },
      {
        type: "user.message",
        content: [
          text("Look at these:"),
          { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" }, title: "Notes" },
          { type: "document", source: { type: "file", file_id: "file_011doc" } },
        ],
      },
      { type: "user.define_outcome", description: "A report", rubric: { type: "text", content: "Complete and correct." }, max_iterations: 5 },
      { type: "user.define_outcome", description: "Another", rubric: { type: "file", file_id: "file_011rubric" } },
    ];
    const d = await create({ initial_events: events });
    expect(d.initial_events).toEqual([
      events[0],
      {
        type: "user.message",
        content: [
          text("Look at these:"),
          { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" }, title: "Notes", context: null },
          { type: "document", source: { type: "file", file_id: "file_011doc" }, title: null, context: null },
        ],
      },
      events[2],
      { ...events[3], max_iterations: null },
    ]);
    await expectStatus(create({ initial_events: [] }), 400, /1 to 50 events/);
    await expectStatus(create({ initial_events: Array.from({ length: 51 }, () => hello[0]) }), 400, /1 to 50 events/);
    expect((await create({ initial_events: Array.from({ length: 50 }, () => hello[0]) })).initial_events).toHaveLength(50);
    await expectStatus(create({ initial_events: undefined }), 400, /initial_events: Field required/);
    await expectStatus(create({ initial_events: [{ type: "user.interrupt" }] }), 400, /initial_events\[0\]\.type/);
    await expectStatus(create({ initial_events: [{ type: "user.message", content: [] }] }), 400, /at least one content block/);
    await expectStatus(create({ initial_events: [{ type: "user.message", content: [text("")] }] }), 400, /text: must be at least 1/);
    await expectStatus(create({ initial_events: [{ type: "system.message", content: [{ type: "image", source: { type: "url", url: "https://e.com/a.png" } }] }] }), 400, /content\[0\]\.type/);
    await expectStatus(create({ initial_events: [{ type: "user.message", content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "AA==" } }] }] }), 400, /media_type/);
    await expectStatus(create({ initial_events: [{ ...events[2], max_iterations: 21 }] }), 400, /max_iterations: must be an integer from 1 to 20/);
    await expectStatus(create({ initial_events: [{ ...events[2], rubric: { type: "text", content: "x".repeat(262_145) } }] }), 400, /content: must be at most 262144/);
    await expectStatus(create({ initial_events: [{ type: "user.define_outcome", rubric: { type: "text", content: "x" } }] }), 400, /description: Field required/);
  });

  it("schedule: a 5-field cron in an IANA zone, echoed with last_run_at null and the next 5 fire times", async () => {
    const d = await create({ schedule: { type: "cron", expression: "0 9 * * 1-5", timezone: "America/Los_Angeles" } });
    const schedule = d.schedule as Anthropic.Beta.BetaManagedAgentsSchedule;
    expect(schedule).toEqual({ type: "cron", expression: "0 9 * * 1-5", timezone: "America/Los_Angeles", last_run_at: null, upcoming_runs_at: expect.any(Array) });
    const upcoming = schedule.upcoming_runs_at as string[];
    expect(upcoming).toHaveLength(5);
    const local = new Intl.DateTimeFormat("en-US", { timeZone: "America/Los_Angeles", hourCycle: "h23", weekday: "short", hour: "2-digit", minute: "2-digit" });
    for (const t of upcoming) {
      expect(Date.parse(t)).toBeGreaterThan(Date.now() - 60_000);
      expect(local.format(new Date(t))).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    }
    expect([...upcoming].sort()).toEqual(upcoming);
    expect((await create({ schedule: { type: "cron", expression: "*/15 * * * *", timezone: "Asia/Kolkata" } })).schedule?.timezone).toBe("Asia/Kolkata");
    const cron = (expression: string, timezone = "UTC") => create({ schedule: { type: "cron", expression, timezone } });
    await expectStatus(cron("0 0 9 * * 1"), 400, /6 fields/);
    await expectStatus(cron("@daily"), 400, /shortcuts/);
    await expectStatus(cron("0 0 L * *"), 400, /L, W, # or \?/);
    await expectStatus(cron("0 9 * * MON"), 400, /day-of-week/);
    await expectStatus(cron("0 0 30 2 *"), 400, /never fires/);
    await expectStatus(cron("0 9 * * *", "Mars/Olympus_Mons"), 400, /not an IANA time zone/);
    await expectStatus(cron("0 9 * * *", "+05:00"), 400, /not an IANA time zone/);
    await expectStatus(create({ schedule: { type: "cron", expression: "0 9 * * *" } }), 400, /schedule\.timezone: Field required/);
    await expectStatus(create({ schedule: { type: "rate", expression: "1h", timezone: "UTC" } }), 400, /schedule\.type/);
    await expectStatus(create({ schedule: { type: "cron", expression: "0 9 * * *", timezone: "UTC", last_run_at: null } }), 400, /schedule\.last_run_at: Extra inputs/);
  });

  it("refuses a bad name, environment id, vault ids, budget, description, metadata and unknown keys, in the API's error envelope", async () => {
    const err = await expectStatus(create({ name: undefined }), 400, /name: Field required/);
    expect(err.error).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.any(String) }, request_id: expect.stringMatching(/^req_011/) });
    await expectStatus(create({ name: "" }), 400, /name: must be at least 1/);
    await expectStatus(create({ name: "x".repeat(257) }), 400, /name: must be at most 256/);
    await expectStatus(create({ environment_id: undefined }), 400, /environment_id: Field required/);
    await expectStatus(create({ environment_id: "production" }), 400, /environment_id: must be a env_… id/);
    // Only the form is checked: a missing environment shows up when the deployment fires.
    expect((await create({ environment_id: "env_011doesnotexist" })).environment_id).toBe("env_011doesnotexist");
    await expectStatus(create({ vault_ids: ["vlt_1", "vlt_1"] }), 400, /more than once/);
    await expectStatus(create({ vault_ids: Array.from({ length: 51 }, (_, i) => `vlt_${i}`) }), 400, /at most 50/);
    await expectStatus(create({ vault_ids: ["my-vault"] }), 400, /vlt_… id/);
    const budget = (amount: unknown, currency = "USD") => ({ type: "limit", max_list_cost: { amount, currency } });
    expect((await create({ budget: budget("2500") })).budget).toEqual(budget("2500"));
    for (const amount of ["0", "012", "12.5", "-5", "", 2500]) await expectStatus(create({ budget: budget(amount) }), 400, /amount/);
    await expectStatus(create({ budget: budget("100", "EUR") }), 400, /currency/);
    await expectStatus(create({ budget: { type: "unlimited" } }), 400, /budget\.type/);
    await expectStatus(create({ description: "x".repeat(2049) }), 400, /description: must be at most 2048/);
    expect((await create({ description: "" })).description).toBeNull();
    await expectStatus(create({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }), 400, /at most 16/);
    await expectStatus(create({ status: "paused" }), 400, /body\.status: Extra inputs/);
    await expectStatus(create({ id: "depl_mine" }), 400, /body\.id: Extra inputs/);
  });

  it("update follows the API's rules: omitted keeps, null/[]/\"\" clear what can be cleared, lists are replaced, metadata is a patch", async () => {
    const full = {
      description: "nightly run",
      resources: [{ type: "file", file_id: "file_011a" }],
      schedule: { type: "cron", expression: "0 3 * * *", timezone: "UTC" },
      vault_ids: ["vlt_011a"],
      budget: { type: "limit", max_list_cost: { amount: "500", currency: "USD" } },
      metadata: { a: "1", b: "2" },
    };
    const d = await create(full);
    await tick();
    expect(await update(d.id, {})).toEqual(d);
    // The same values again are no change: updated_at stays.
    expect(await update(d.id, { ...full, name: "nightly", initial_events: hello })).toEqual(d);
    const changed = await update(d.id, { metadata: { a: null, c: "3" }, initial_events: [hello[0], hello[0]], vault_ids: ["vlt_011b", "vlt_011c"] });
    expect(changed.metadata).toEqual({ b: "2", c: "3" });
    expect(changed.initial_events).toHaveLength(2);
    expect(changed.vault_ids).toEqual(["vlt_011b", "vlt_011c"]);
    expect(changed.updated_at > d.updated_at).toBe(true);
    expect(changed.schedule?.expression).toBe("0 3 * * *");
    const cleared = await update(d.id, { description: "", resources: [], vault_ids: null, schedule: null, budget: null });
    expect(cleared).toMatchObject({ description: null, resources: [], vault_ids: [], schedule: null });
    expect("budget" in cleared).toBe(false);
    await update(d.id, { description: "back", resources: [{ type: "file", file_id: "file_011a" }], vault_ids: ["vlt_011a"] });
    expect(await update(d.id, { description: null, resources: null, vault_ids: [] })).toMatchObject({ description: null, resources: [], vault_ids: [] });
    for (const key of ["name", "agent", "environment_id", "initial_events"]) await expectStatus(update(d.id, { [key]: null }), 400, new RegExp(`${key}: cannot be cleared`));
    await expectStatus(update(d.id, { name: "" }), 400, /name/);
    await expectStatus(update(d.id, { initial_events: [] }), 400, /1 to 50/);
    await expectStatus(update(d.id, { version: 1 }), 400, /body\.version: Extra inputs/);
    await expectStatus(update("depl_011nope", {}), 404, /deployment depl_011nope not found/);
  });

  it("a token sent on update counts as a change (tokens are never compared); dropping one by replacing resources too", async () => {
    const repo = { type: "github_repository", url: "https://github.com/acme/shop", authorization_token: TOKEN };
    const d = await create({ resources: [repo] });
    await tick();
    const again = await update(d.id, { resources: [repo] });
    expect(again.resources).toEqual(d.resources);
    expect(again.updated_at > d.updated_at).toBe(true);
    await tick();
    const dropped = await update(d.id, { resources: [{ type: "github_repository", url: repo.url }] });
    expect(dropped.resources).toEqual(d.resources);
    expect(dropped.updated_at > again.updated_at).toBe(true);
    await tick();
    expect(await update(d.id, { resources: [{ type: "github_repository", url: repo.url }] })).toEqual(dropped);
  });

  it("pause and unpause set status and paused_reason; update leaves them alone; lists filter on status and agent_id", async () => {
    const d = await create();
    const other = await create({ name: "other" });
    await tick();
    const paused = await deployments.pause(d.id);
    expect(paused).toMatchObject({ status: "paused", paused_reason: { type: "manual" } });
    expect(paused.updated_at > d.updated_at).toBe(true);
    expect(await deployments.pause(d.id)).toEqual(paused);
    expect(await update(d.id, { name: "renamed" })).toMatchObject({ name: "renamed", status: "paused", paused_reason: { type: "manual" } });
    expect((await deployments.list({ status: "paused" })).data.map((x) => x.id)).toEqual([d.id]);
    expect((await deployments.list({ status: "active" })).data.map((x) => x.id)).toEqual([other.id]);
    await expectStatus(deployments.list({ status: "paused", include_archived: true }), 400, /cannot be combined/);
    await expectStatus(deployments.list(loose({ status: "archived" })), 400, /status/);
    const unpaused = await deployments.unpause(d.id);
    expect(unpaused).toMatchObject({ status: "active", paused_reason: null });
    expect(await deployments.unpause(d.id)).toEqual(unpaused);
    const agent2 = await h.client.beta.agents.create({ name: "second", model: "claude-haiku-4-5" });
    const third = await create({ agent: agent2.id });
    expect((await deployments.list({ agent_id: agent2.id })).data.map((x) => x.id)).toEqual([third.id]);
    expect((await deployments.list({ agent_id: "agent_011none" })).data).toEqual([]);
  });

  it("archive is terminal: status active, no pause reason, no upcoming runs; every change afterwards is a 400", async () => {
    const d = await create({ schedule: { type: "cron", expression: "0 * * * *", timezone: "UTC" } });
    await deployments.pause(d.id);
    await tick();
    const archived = await deployments.archive(d.id);
    expect(archived).toMatchObject({ status: "active", paused_reason: null, schedule: { expression: "0 * * * *", last_run_at: null, upcoming_runs_at: [] } });
    expect(archived.archived_at).toEqual(expect.any(String));
    expect(archived.updated_at).toBe(archived.archived_at);
    expect(await deployments.archive(d.id)).toEqual(archived);
    await expectStatus(update(d.id, { name: "x" }), 400, /archived/);
    await expectStatus(update(d.id, {}), 400, /archived/);
    await expectStatus(deployments.pause(d.id), 400, /archived/);
    await expectStatus(deployments.unpause(d.id), 400, /archived/);
    await expectStatus(deployments.run(d.id), 400, /archived/);
    expect(await deployments.retrieve(d.id)).toEqual(archived);
    expect((await deployments.list()).data).toEqual([]);
    expect((await deployments.list({ include_archived: true })).data).toEqual([archived]);
  });

  it("run returns a DeploymentRun: a session id when a fire would succeed, else the error a fire would record", async () => {
    const vault = await h.client.beta.vaults.create({ display_name: "v" });
    const d = await create({ vault_ids: [vault.id], resources: [{ type: "memory_store", memory_store_id: w.store.id }] });
    await deployments.pause(d.id);
    const run = await deployments.run(d.id);
    expect(run).toEqual({
      id: expect.stringMatching(/^drun_011/),
      type: "deployment_run",
      agent: d.agent,
      created_at: expect.any(String),
      deployment_id: d.id,
      error: null,
      session_id: expect.stringMatching(/^sesn_011/),
      trigger_context: { type: "manual" },
    });
    // A run changes nothing: still paused, same updated_at, no last_run_at.
    expect(await deployments.retrieve(d.id)).toEqual(await deployments.pause(d.id));
    const errorOf = async (id: string) => (await deployments.run(id)).error;
    await h.client.beta.memoryStores.archive(w.store.id);
    expect(await errorOf(d.id)).toEqual({ type: "memory_store_archived_error", message: expect.stringContaining(w.store.id) });
    await h.client.beta.memoryStores.delete(w.store.id);
    expect((await errorOf(d.id))?.type).toBe("session_resource_not_found_error");
    await h.client.beta.vaults.archive(vault.id);
    expect((await errorOf(d.id))?.type).toBe("vault_archived_error");
    await h.client.beta.vaults.delete(vault.id);
    expect((await errorOf(d.id))?.type).toBe("vault_not_found_error");
    await h.client.beta.environments.archive(w.environment.id);
    expect((await errorOf(d.id))?.type).toBe("environment_archived_error");
    await h.client.beta.environments.delete(w.environment.id);
    expect((await errorOf(d.id))?.type).toBe("environment_not_found_error");
    await h.client.beta.agents.archive(w.agent.id);
    expect((await errorOf(d.id))?.type).toBe("agent_archived_error");
    expect((await deployments.retrieve(d.id)).status).toBe("paused");
    const selfHosted = await h.client.beta.environments.create({ name: "own", config: { type: "self_hosted" } });
    const agent = await h.client.beta.agents.create({ name: "a", model: "claude-haiku-4-5" });
    const onSelfHosted = await create({ agent: agent.id, environment_id: selfHosted.id, resources: [{ type: "file", file_id: "file_011x" }] });
    expect((await errorOf(onSelfHosted.id))?.type).toBe("self_hosted_resources_unsupported_error");
  });

  it("lists page with limit and page (1 to 100); there is no DELETE; deployment runs are not modelled; the beta header is required", async () => {
    for (let i = 0; i < 5; i++) await create({ name: `d${i}` });
    expect((await deployments.list({ limit: 2 })).data.map((d) => d.name)).toEqual(["d0", "d1"]);
    expect((await allPages(deployments.list({ limit: 2 }))).map((d) => d.name)).toEqual(["d0", "d1", "d2", "d3", "d4"]);
    await expectStatus(deployments.list({ limit: 101 }), 400, /limit/);
    const id = (await deployments.list()).data[0]!.id;
    const headers = { "x-api-key": h.cp.apiKey, "anthropic-beta": "managed-agents-2026-04-01" };
    expect((await fetch(`${h.cp.baseUrl}/v1/deployments/${id}`, { method: "DELETE", headers })).status).toBe(404);
    expect((await fetch(`${h.cp.baseUrl}/v1/deployments/${id}/resume`, { method: "POST", headers })).status).toBe(404);
    expect((await fetch(`${h.cp.baseUrl}/v1/deployments/${id}/run`, { method: "GET", headers })).status).toBe(404);
    await expectStatus(h.client.beta.deploymentRuns.list(), 404, /not an endpoint/);
    const noBeta = await fetch(`${h.cp.baseUrl}/v1/deployments`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(noBeta.status).toBe(400);
    expect(await noBeta.text()).toContain("managed-agents-2026-04-01");
    // The memory beta is for memory stores only.
    expect((await fetch(`${h.cp.baseUrl}/v1/deployments`, { headers: { "x-api-key": h.cp.apiKey, "anthropic-beta": "agent-memory-2026-07-22" } })).status).toBe(400);
  });

  it("every call is in the request log, pause, unpause, archive and run as writes", async () => {
    const d = await create();
    h.cp.clearRequestLog();
    await deployments.pause(d.id);
    await deployments.unpause(d.id);
    await deployments.run(d.id);
    await deployments.retrieve(d.id);
    await deployments.archive(d.id);
    expect(h.cp.requestLog().map((e) => [e.method, e.path, e.status, e.write])).toEqual([
      ["POST", `/v1/deployments/${d.id}/pause`, 200, true],
      ["POST", `/v1/deployments/${d.id}/unpause`, 200, true],
      ["POST", `/v1/deployments/${d.id}/run`, 200, true],
      ["GET", `/v1/deployments/${d.id}`, 200, false],
      ["POST", `/v1/deployments/${d.id}/archive`, 200, true],
    ]);
  });
});

describe("deployments in the state file", () => {
  let stateFile: string;
  useTempStateFile("agentform-local-deployments-", (file) => (stateFile = file));

  /** A state file with two deployments (one with a token, paused; one archived), and what the API answered. */
  async function writeState(): Promise<{ before: Deployment[]; agentId: string }> {
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      const { agent, environment, store } = await world(c);
      const resources = [
        { type: "github_repository" as const, url: "https://github.com/acme/shop", authorization_token: TOKEN },
        { type: "memory_store" as const, memory_store_id: store.id, access: "read_only" as const },
      ];
      const d = await c.beta.deployments.create({
        name: "kept",
        agent: agent.id,
        environment_id: environment.id,
        initial_events: hello,
        resources,
        schedule: { type: "cron", expression: "30 6 * * 1", timezone: "Europe/Paris" },
        budget: { type: "limit", max_list_cost: { amount: "1000", currency: "USD" } },
        metadata: { team: "ops" },
      });
      await c.beta.deployments.pause(d.id);
      const old = await c.beta.deployments.create({ name: "old", agent: agent.id, environment_id: environment.id, initial_events: hello });
      await c.beta.deployments.archive(old.id);
      return { before: await allPages(c.beta.deployments.list({ include_archived: true })), agentId: agent.id };
    } finally {
      await cp.close();
    }
  }

  /** upcoming_runs_at is computed at read time; compare the rest. */
  const stable = (list: Deployment[]) => list.map((d) => ({ ...d, schedule: d.schedule ? { ...d.schedule, upcoming_runs_at: undefined } : null }));

  it("survive a restart with their pause state, archive and pinned agent; the token is kept only as a digest", async () => {
    const { before, agentId } = await writeState();
    const text = await readFile(stateFile, "utf8");
    expect(text).not.toContain(TOKEN);
    const file = JSON.parse(text) as { deployments: { id: string; tokens: (string | null)[] }[] };
    expect(file.deployments.map((d) => d.id)).toEqual(before.map((d) => d.id));
    expect(file.deployments[0]?.tokens).toEqual([expect.stringMatching(/^scrypt1\$/), null]);
    expect(secretMatches(TOKEN, file.deployments[0]?.tokens[0] as string)).toBe(true);
    expect(file.deployments[1]?.tokens).toEqual([]);

    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      const after = await allPages(c.beta.deployments.list({ include_archived: true }));
      expect(stable(after)).toEqual(stable(before));
      expect(after[0]?.schedule?.upcoming_runs_at).toHaveLength(5);
      expect(after[0]).toMatchObject({ status: "paused", paused_reason: { type: "manual" } });
      await expectStatus(c.beta.deployments.pause(before[1]!.id), 400, /archived/);
      await c.beta.agents.update(agentId, { system: "v2" });
      expect((await c.beta.deployments.update(before[0]!.id, { agent: agentId })).agent.version).toBe(2);
    } finally {
      await cp.close();
    }
  });

  it("refuses a broken deployment record, naming the entry, never quoting a token, and leaves the file alone", async () => {
    await writeState();
    const template = await readFile(stateFile, "utf8");
    type Json = Record<string, any>;
    const cases: [(s: Json) => void, string, RegExp][] = [
      [(s) => (s.deployments = {}), "deployments", /not a list/],
      [(s) => (s.deployments[0].id = "agent_011x"), "deployments[0].id", /not a depl id/],
      [(s) => (s.deployments[0].tokens[0] = TOKEN), "deployments[0].tokens[0]", /digest/],
      [(s) => (s.deployments[0].config.resources[0].authorization_token = s.deployments[0].tokens[0]), "deployments[0].config.resources[0].authorization_token", /form this server stores/],
      [(s) => (s.deployments[0].config.resources[0].authorization_token = TOKEN), "deployments[0].config.resources[0].authorization_token", /form this server stores/],
      [(s) => s.deployments[0].tokens.push(null), "deployments[0].tokens", /form this server stores/],
      [(s) => (s.deployments[0].paused_reason = null), "deployments[0].paused_reason", /manual/],
      [(s) => (s.deployments[1].status = "paused"), "deployments[1].status", /archived deployment reports active/],
      [(s) => (s.deployments[0].config.agent.version = 9), "deployments[0]", /has no version 9/],
      [(s) => (s.deployments[0].config.agent.id = "agent_011gone"), "deployments[0]", /does not exist/],
      [(s) => (s.deployments[0].config.schedule.timezone = "Mars/Base"), "deployments[0]", /IANA/],
      [(s) => (s.deployments[0].config.description = ""), "deployments[0].config.description", /form this server stores/],
      [(s) => delete s.deployments[0].config.resources[1].access, "deployments[0].config.resources[1]", /form this server stores/],
      [(s) => (s.deployments[0].config.schedule.upcoming_runs_at = []), "deployments[0]", /Extra inputs/],
    ];
    for (const [edit, entry, detail] of cases) {
      const state = JSON.parse(template) as Json;
      edit(state);
      const text = JSON.stringify(state);
      const result = await refusedStart(stateFile, text, entry);
      expect(result.code, entry).toBe("local-state-corrupt");
      expect(result.details, entry).toEqual({ file: stateFile, entry });
      expect(result.message).toMatch(detail);
      expect(result.message).not.toContain(TOKEN);
      expect(await readFile(stateFile, "utf8")).toBe(text);
    }
    // A memory store deleted after the deployment was written is fine: runs report it, loading does not.
    const state = JSON.parse(template) as Json;
    state.memory_stores = [];
    await writeFile(stateFile, JSON.stringify(state));
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const id = state.deployments[0].id as string;
      expect((await clientFor(cp).beta.deployments.run(id)).error?.type).toBe("session_resource_not_found_error");
    } finally {
      await cp.close();
    }
  });
});
