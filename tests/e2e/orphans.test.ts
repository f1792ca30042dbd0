/**
 * Deletes are always visible: a resource this project manages whose manifest is gone appears in
 * every plan (text, JSON, Markdown). Without pruning it is an orphan, left alone and counted as a
 * change by --detailed-exitcode; with the target's `prune: true` it is archived, except a memory
 * store, which only `--prune` on the command line archives. A manifest renamed without
 * `previous_names` plans a create and an orphan, each with the hint.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lockfile } from "../../src/lock/types.js";
import type { Plan } from "../../src/plan/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const FILES = {
  "agents/triage.yaml": "name: triage\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets.\n",
  "agents/billing.yaml": "name: billing\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\n",
  "memory_stores/notes.yaml": "name: notes\ndescription: What the nightly run learnt.\n",
  "memory_stores/keep.yaml": "name: keep\n",
};

describe("resources whose manifest is gone", () => {
  let p: CliProject;
  const run = (...args: string[]) => p.run(...args);
  const lock = async () => JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as Lockfile;
  const planJson = async (...args: string[]) => JSON.parse((await run("plan", "--format", "json", ...args)).stdout) as Plan;
  const setTargetPrune = async () => {
    const config = await readFile(p.config, "utf8");
    await writeFile(p.config, `${config}    prune: true\n`);
  };

  beforeEach(async () => {
    p = await cliProject(FILES);
    expect((await run("apply", "--auto-approve")).code).toBe(0);
  });
  afterEach(() => p.close());

  it("without pruning: an orphan in every format, a change for --detailed-exitcode, never written", async () => {
    await rm(path.join(p.dir, "agents", "billing.yaml"));
    const billingId = (await lock()).agents.billing!.id;

    const text = await run("plan", "--detailed-exitcode");
    expect(text.code).toBe(2);
    expect(text.stdout).toContain("! agent.billing: orphan: its manifest is gone; not pruned (set `prune: true` on the target, or pass --prune, to archive it)");
    expect(text.stdout).toMatch(/Plan: 0 to create, 0 to update, 0 to re-pin, 0 to archive\. 1 orphaned \(no manifest, not pruned\)\./);
    expect(text.stdout).not.toMatch(/No changes/);

    const doc = await planJson();
    const orphan = doc.resources.find((r) => r.address === "agent.billing")!;
    expect(orphan).toMatchObject({ action: "orphan", id: billingId, request: null, impact: "none", orphan: { why: "prune-off" } });
    expect(doc.summary).toMatchObject({ orphan: 1, archive: 0, noop: 3 });

    const markdown = (await run("plan", "--format", "markdown")).stdout;
    expect(markdown).toMatch(/<code>! agent\.billing<\/code> orphan: its manifest is gone; not pruned/);
    expect(markdown).toContain("1 orphaned (no manifest, not pruned).");

    p.cp.clearRequestLog();
    const apply = await run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/1 orphaned resource\(s\) left alone: their manifests are gone, and pruning is off for them\.\n$/);
    expect(p.writes()).toEqual([]);
    // Still ours and still in the inventory, so the next plan shows it again and a prune can take it.
    expect((await lock()).agents.billing?.id).toBe(billingId);
    expect((await run("plan", "--detailed-exitcode")).code).toBe(2);
  });

  it("with the target's prune: true the orphan is archived; a memory store only with --prune", async () => {
    await setTargetPrune();
    await rm(path.join(p.dir, "agents", "billing.yaml"));
    await rm(path.join(p.dir, "memory_stores", "notes.yaml"));
    const before = await lock();

    const doc = await planJson();
    expect(doc.resources.find((r) => r.address === "agent.billing")).toMatchObject({ action: "archive", request: { method: "archive" } });
    const store = doc.resources.find((r) => r.address === "memory_store.notes")!;
    expect(store).toMatchObject({ action: "orphan", request: null, orphan: { why: "irreversible" } });
    const text = (await run("plan")).stdout;
    expect(text).toContain("! memory_store.notes: orphan: its manifest is gone; not pruned, because archiving it cannot be undone: only --prune on the command line archives it");
    expect(text).toMatch(/- agent\.billing: archive/);

    p.cp.clearRequestLog();
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    expect(p.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`POST /v1/agents/${before.agents.billing!.id}/archive`]);
    const after = await lock();
    expect(after.agents.billing).toBeUndefined();
    expect(after.memory_stores.notes?.id).toBe(before.memory_stores.notes!.id);

    const pruned = await run("apply", "--auto-approve", "--prune");
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/memory_store\.notes archived/);
    expect((await lock()).memory_stores.notes).toBeUndefined();
    const last = await run("plan", "--detailed-exitcode");
    expect(last.code).toBe(0);
    expect(last.stdout).toMatch(/^No changes\. Live resources match the manifests\.\n$/);
  });

  it("a name changed without previous_names: a create and an orphan, each saying how to rename in place", async () => {
    await rm(path.join(p.dir, "agents", "billing.yaml"));
    await p.write({ "agents/invoices.yaml": "name: invoices\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\n" });
    const doc = await planJson("--detailed-exitcode");
    const create = doc.resources.find((r) => r.address === "agent.invoices")!;
    const orphan = doc.resources.find((r) => r.address === "agent.billing")!;
    expect(create.action).toBe("create");
    expect(orphan.action).toBe("orphan");
    expect(create.notes).toEqual([
      'if this is agent.billing renamed, list "billing" in `agentform.previous_names` of agents/invoices.yaml to rename it in place; as it is, a new agent is created and agent.billing is left with no manifest',
    ]);
    expect(orphan.notes).toEqual(['if agent.invoices is this one renamed, list "billing" in `agentform.previous_names` of agents/invoices.yaml to rename it in place']);
    const text = (await run("plan")).stdout;
    expect(text).toMatch(/\+ agent\.invoices: create[^\n]*\n {4}! if this is agent\.billing renamed, list "billing" in `agentform\.previous_names`/);

    // Following the hint renames in place: same id, no create, no orphan.
    await p.write({ "agents/invoices.yaml": "name: invoices\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\nagentform:\n  previous_names: [billing]\n" });
    const renamed = await planJson();
    expect(renamed.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action, r.id])).toEqual([["agent.invoices", "rename", orphan.id]]);
  });

  it("a vault credential renamed without previous_names: the hint names where inside the vault file", async () => {
    const vault = (key: string, settings = "") =>
      `display_name: tools\ncredentials:\n  ${key}:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://mcp.example.com/\n      token_env: ORPHANS_TEST_TOKEN\n${settings}`;
    p.env.ORPHANS_TEST_TOKEN = "orphans-test-secret";
    await p.write({ "vaults/tools.yaml": vault("github") });
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    await p.write({ "vaults/tools.yaml": vault("gh") });
    const doc = await planJson();
    const create = doc.resources.find((r) => r.address === "credential.tools/gh")!;
    expect(create.notes?.[0]).toMatch(/^if this is credential\.tools\/github renamed, list "github" in `credentials\.gh\.agentform\.previous_names` of vaults\/tools\.yaml/);
    await p.write({ "vaults/tools.yaml": vault("gh", "    agentform:\n      previous_names: [github]\n") });
    const renamed = await planJson();
    expect(renamed.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}:${r.action}`)).toEqual(["credential.tools/gh:rename"]);
  });
});
