/**
 * A state file is input like any other: every entry is checked at start. A file this server wrote
 * loads back exactly; a hostile or corrupt one is refused with `local-state-corrupt`, naming the
 * file and the entry, and is left untouched.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { startLocalControlPlane } from "../../src/local/index.js";
import { clientFor } from "./helpers.js";

let dir: string;
let stateFile: string;
/** A rich state file written by the server once, and what the API answered while writing it. */
let template: { text: string; agents: unknown[]; environments: unknown[] };
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "agentform-local-state-template-"));
  stateFile = path.join(dir, "state.json");
  const written = await writeRichState();
  template = { text: await readFile(stateFile, "utf8"), ...written };
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "agentform-local-state-check-"));
  stateFile = path.join(dir, "state.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `any` on purpose: the tests reach deep into the parsed file to break one field. */
type Json = Record<string, any>;

/** Everything the store can hold: every tool kind, rosters of both kinds, history, archives, environments. */
async function writeRichState(): Promise<{ agents: unknown[]; environments: unknown[] }> {
  const cp = await startLocalControlPlane({ stateFile });
  try {
    const c = clientFor(cp);
    const worker = await c.beta.agents.create({
      name: "worker",
      model: { id: "claude-haiku-4-5", speed: "fast", inference_geo: "us" },
      system: "work",
      tools: [
        {
          type: "agent_toolset_20260401",
          default_config: { enabled: false, permission_policy: { type: "always_ask" } },
          configs: [
            { name: "web_fetch", allowed_domains: ["example.com"], max_content_tokens: 1000, url_sources: { user_input: "all", client_tool_results: { type: "only", tools: [{ type: "tool_reference", name: "lookup" }] } } },
            { name: "web_search", blocked_domains: ["bad.example/path"], user_location: { type: "approximate", country: "FR", city: "Paris" } },
          ],
        },
        { type: "mcp_toolset", mcp_server_name: "gh", configs: [{ name: "issues", enabled: false }] },
        { type: "custom", name: "lookup", description: "look up", input_schema: { type: "object", properties: { q: { type: "string" } } } },
      ],
      mcp_servers: [{ type: "url", name: "gh", url: "https://mcp.example.com/gh" }],
      skills: [{ type: "anthropic", skill_id: "xlsx" }, { type: "custom", skill_id: "skill_1", version: "3" }],
      execution_identity: { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/x" },
      metadata: { team: "a", empty: "" },
    });
    const worker2 = await c.beta.agents.update(worker.id, { system: "work harder", metadata: { team: null } });
    const coord = await c.beta.agents.create({
      name: "coord",
      model: "claude-opus-4-8",
      multiagent: { type: "coordinator", agents: [{ type: "agent", id: worker.id, version: 1 }, { type: "self" }, { type: "advisor", model: "claude-opus-4-8" }] } as Anthropic.Beta.Agents.BetaManagedAgentsMultiagentCoordinatorParams,
    });
    const ma = await c.beta.agents.create({ name: "ma", model: "claude-opus-4-8", multiagent: { type: "multiagent_20261001", advisor: { type: "enabled", model: "claude-opus-4-8" }, subagents: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [worker.id, { type: "self" }] }, workflows: { type: "disabled" } } });
    const ma2 = await c.beta.agents.update(ma.id, { description: "second" });
    const gone = await c.beta.agents.create({ name: "gone", model: "claude-opus-4-8" });
    const goneArchived = await c.beta.agents.archive(gone.id);
    const e1 = await c.beta.environments.create({ name: "limited", description: "", config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["a.example"], allow_package_managers: true }, packages: { pip: ["requests"] } }, metadata: { k: "v" }, scope: "organization" });
    const e2 = await c.beta.environments.create({ name: "hosted", config: { type: "self_hosted" } });
    const e2a = await c.beta.environments.archive(e2.id);
    const e3 = await c.beta.environments.create({ name: "hosted", config: { type: "self_hosted" } });
    const deleted = await c.beta.environments.create({ name: "deleted" });
    await c.beta.environments.delete(deleted.id);
    return { agents: [worker2, coord, ma2, goneArchived], environments: [e1, e2a, e3] };
  } finally {
    await cp.close();
  }
}

async function startError(): Promise<AgentformError> {
  const err = await startLocalControlPlane({ stateFile }).then(
    async (cp) => {
      await cp.close();
      return new Error("the server started on a bad state file");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentformError);
  return err as AgentformError;
}

/**
 * Write the template after `edit` (and `rewrite`, for text JSON.stringify cannot produce), expect
 * a refusal naming the file and `entry`, and the file left as it was.
 */
async function expectRefused(edit: (state: Json) => void, entry: string, detail: string | RegExp, rewrite: (text: string) => string = (t) => t): Promise<void> {
  const state = JSON.parse(template.text) as Json;
  edit(state);
  const text = rewrite(JSON.stringify(state));
  await writeFile(stateFile, text);
  const err = await startError();
  expect(err.code).toBe("local-state-corrupt");
  expect(err.message).toContain(stateFile);
  expect(err.message).toContain(`${entry}:`);
  expect(err.message).toMatch(detail);
  expect(err.hint).toContain("entry");
  expect(err.details).toEqual({ file: stateFile, entry });
  expect(await readFile(stateFile, "utf8")).toBe(text);
  expect(await readdir(dir)).toEqual(["state.json"]);
}

describe("state file validation", () => {
  it("a file the server wrote, with every kind of entry, loads back exactly", async () => {
    await writeFile(stateFile, template.text);
    const before = template;
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      const agents = (await c.beta.agents.list({ include_archived: true })).data;
      expect(agents).toEqual(before.agents);
      expect((await c.beta.agents.retrieve((agents[0] as { id: string }).id, { version: 1 })).system).toBe("work");
      expect((await c.beta.environments.list({ include_archived: true })).data).toEqual(before.environments);
    } finally {
      await cp.close();
    }
  });

  it("names the entry and the field of an agent configuration the API would reject", async () => {
    await expectRefused((s) => (s.agents[0].versions[1].config.tools[0].type = "evil_toolset"), "agents[0].versions[1].config", /tools\[0\]\.type/);
  });

  it("refuses a configuration that is not in the stored (resolved) form", async () => {
    await expectRefused((s) => delete s.agents[1].versions[0].config.model.effort, "agents[1].versions[0].config.model.effort", /form this server stores/);
  });

  it("refuses non-objects, missing or extra keys, bad ids and timestamps, version gaps", async () => {
    await expectRefused((s) => (s.agents[2] = null), "agents[2]", /not an object/);
    await expectRefused((s) => delete s.agents[0].created_at, "agents[0]", /missing key "created_at"/);
    await expectRefused((s) => Object.defineProperty(s.environments[0], "__proto__", { value: { polluted: true }, enumerable: true }), "environments[0]", /unexpected key "__proto__"/);
    await expectRefused((s) => (s.agents[3].id = "agent_../../x"), "agents[3].id", /not a agent id/);
    await expectRefused((s) => (s.agents[3].id = s.agents[0].id), "agents[3].id", /more than once/);
    await expectRefused((s) => (s.environments[1].archived_at = "yesterday"), "environments[1].archived_at", /timestamp/);
    await expectRefused((s) => (s.agents[0].versions[1].version = 3), "agents[0].versions[1].version", /must be 2/);
    await expectRefused((s) => (s.agents[0].versions = []), "agents[0].versions", /non-empty/);
  });

  it("refuses rosters that point at missing agents or versions, and duplicate live environment names", async () => {
    await expectRefused((s) => (s.agents[1].versions[0].config.multiagent.agents[0].id = "agent_011missing"), "agents[1].versions[0].config", /agent_011missing does not exist/);
    await expectRefused((s) => (s.agents[1].versions[0].config.multiagent.agents[0].version = 7), "agents[1].versions[0].config", /no version 7/);
    await expectRefused((s) => (s.environments[1].archived_at = null), "environments[2].env.name", /"hosted" is also the name of env_/);
  });

  it("refuses absurdly deep nesting with a coded error, not a stack overflow", async () => {
    const depth = 20_000;
    const deep = '{"type":"object","properties":{"x":'.repeat(depth) + '{"type":"object"}' + "}}".repeat(depth);
    await expectRefused(
      (s) => (s.agents[0].versions[0].config.tools[2].input_schema = "DEEP"),
      "agents[0].versions[0].config",
      /could not be checked/,
      (text) => text.replace('"DEEP"', deep),
    );
  });
});
