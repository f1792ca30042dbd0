/**
 * `adopt: "<id>"` (in a manifest's agentform block, or agentform.yaml's `adopt:` map): take over
 * exactly that live resource. It picks one among several of the same name, refuses a same-name
 * resource with another id, and is ignored once the resource is this project's.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

interface PlanJson {
  refusals: Array<{ address: string; code: string; message: string }>;
  resources: Array<{ address: string; action: string; id?: string | null; changes: unknown[] }>;
}

describe("adopt by id", () => {
  let p: CliProject;
  beforeEach(async () => {
    p = await cliProject({});
  });
  afterEach(() => p.close());

  const plan = async () => JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;

  it("takes over the named one among live resources of the same name, and only it", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    await raw.create("agent", { name: "dup", model: "claude-sonnet-5-5" });
    const second = await raw.create("agent", { name: "dup", model: "claude-sonnet-5-5" });
    await p.write({ "agents/dup.yaml": "name: dup\nmodel: claude-sonnet-5-5\nagentform:\n  adopt: true\n" });
    // adopt: true cannot say which one.
    expect((await plan()).refusals.map((r) => r.code)).toEqual(["duplicate-live-name"]);

    await p.write({ "agents/dup.yaml": `name: dup\nmodel: claude-sonnet-5-5\nagentform:\n  adopt: ${second.id}\n` });
    const json = await plan();
    expect(json.refusals).toEqual([]);
    expect(json.resources).toMatchObject([{ address: "agent.dup", action: "adopt", changes: [] }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const lock = JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, { id: string }> };
    expect(lock.agents.dup?.id).toBe(second.id);
  });

  it("refuses a same-name resource with another id, and forgets the id once the resource is ours", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    const live = await raw.create("memory_store", { name: "notes" });
    await p.write({ "memory_stores/notes.yaml": "name: notes\nagentform:\n  adopt: memstore_someoneelse\n" });
    const refused = await plan();
    expect(refused.refusals).toMatchObject([{ address: "memory_store.notes", code: "adopt-id-mismatch" }]);
    expect(refused.refusals[0]?.message).toContain(live.id);
    expect((await p.run("plan", "--adopt")).code).toBe(3);

    // agentform.yaml's adopt: map does the same for manifests that cannot carry the block.
    await p.write({ "memory_stores/notes.yaml": "name: notes\n" });
    await p.write({ "agentform.yaml": `${await readFile(p.config, "utf8")}adopt:\n  memory_store/notes: ${live.id}\n` });
    expect((await plan()).resources).toMatchObject([{ address: "memory_store.notes", action: "adopt" }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);

    // Ours now: an adopt id naming something else no longer matters (re-created resources keep working).
    await p.write({ "memory_stores/notes.yaml": "name: notes\nagentform:\n  adopt: memstore_someoneelse\n" });
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("rejects an adopt: map key that is no address and a value that is no id", async () => {
    await p.write({ "agentform.yaml": `${await readFile(p.config, "utf8")}adopt:\n  notes: true\n  memory_store/x: "../../etc"\n` });
    const out = await p.run("validate");
    expect(out.code).toBe(4);
    const text = out.stdout + out.stderr;
    expect(text).toMatch(/agentform\.yaml:\d+:\d+/);
    expect(text).toMatch(/adopt/);
  });
});
