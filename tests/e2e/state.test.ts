/**
 * State operations and scoping: `state list`, `state forget` (stop managing without archiving),
 * `state transfer --from-project` (a renamed project takes its resources back with zero
 * re-creates), `--only` on plan and apply, and `plan --target all`.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { Plan } from "../../src/plan/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const SKILL = "---\nname: refund-policy\ndescription: How refunds are decided.\n---\nRefund within 30 days.\n";
const FILES = {
  "agents/worker.yaml": "name: worker\nmodel: claude-sonnet-5-5\nsystem: Do the work.\nskills:\n  - type: custom\n    ref: refund-policy\n",
  "agents/lead.yaml": "name: lead\nmodel: claude-sonnet-5-5\nsystem: Lead.\nmultiagent:\n  type: coordinator\n  agents:\n    - type: agent\n      ref: worker\n",
  "agents/solo.yaml": "name: solo\nmodel: claude-sonnet-5-5\nsystem: Alone.\n",
  "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n",
  "skills/refund-policy/SKILL.md": SKILL,
  "vaults/tools.yaml":
    "display_name: tools\ncredentials:\n  github:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://api.githubcopilot.com/mcp/\n      token_env: STATE_TEST_TOKEN\n",
  "memory_stores/notes.yaml": "name: notes\n",
};

describe("state operations, --only and --target all", () => {
  let p: CliProject;
  const run = (...args: string[]) => p.run(...args);
  const lock = async () => JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as Lockfile;
  const raw = () => createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  const marker = (l: unknown) => ((l as { metadata?: Record<string, string> }).metadata ?? {})["agentform.project"];

  beforeEach(async () => {
    p = await cliProject(FILES);
    p.env.STATE_TEST_TOKEN = "state-test-secret-value";
    expect((await run("apply", "--auto-approve")).code).toBe(0);
  });
  afterEach(() => p.close());

  it("state list shows every lockfile entry, and which have no manifest", async () => {
    await rm(path.join(p.dir, "agents", "solo.yaml"));
    const text = await run("state", "list");
    expect(text.code).toBe(0);
    const l = await lock();
    expect(text.stdout).toContain(`agent.lead  ${l.agents.lead!.id} v1\n`);
    expect(text.stdout).toContain(`agent.solo  ${l.agents.solo!.id} v1  (no manifest)\n`);
    expect(text.stdout).toContain(`credential.tools/github  ${l.credentials["tools/github"]!.id}\n`);
    expect(text.stdout).toMatch(/8 resource\(s\) in agentform\.lock\.json\.\n$/);
    const rows = JSON.parse((await run("state", "list", "--format", "json")).stdout) as Array<{ address: string; manifest: boolean }>;
    expect(rows.filter((r) => !r.manifest).map((r) => r.address)).toEqual(["agent.solo"]);
  });

  it("state forget lets go of a resource without archiving it: marker and lockfile entry gone", async () => {
    const id = (await lock()).agents.solo!.id;
    await rm(path.join(p.dir, "agents", "solo.yaml"));
    p.cp.clearRequestLog();
    const forget = await run("state", "forget", "agent/solo", "--auto-approve");
    expect(forget.code).toBe(0);
    expect(forget.stdout).toContain(`- agent.solo (${id}): remove its ownership marker, drop its lockfile entry`);
    expect(p.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`POST /v1/agents/${id}`]);
    const live = await raw().get("agent", id);
    expect(marker(live)).toBeUndefined();
    expect(live.archived_at ?? null).toBeNull();
    expect((await lock()).agents.solo).toBeUndefined();
    // No longer this project's: no orphan, no change.
    const plan = await run("plan", "--detailed-exitcode");
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toContain("agent.solo");
  });

  it("state forget of a vault takes its credentials; a kept manifest is named, and refused as unmanaged next", async () => {
    const before = await lock();
    const forget = await run("state", "forget", "vault/tools", "--auto-approve");
    expect(forget.code).toBe(0);
    expect(forget.stdout).toMatch(/- credential\.tools\/github .*\n- vault\.tools /);
    expect(forget.stdout).toContain("Its manifest vaults/tools.yaml still exists");
    const after = await lock();
    // The maps of kinds added after format 1.0 are left out when empty.
    expect(after.vaults?.tools).toBeUndefined();
    expect(after.credentials?.["tools/github"]).toBeUndefined();
    expect(marker(await raw().get("vault", before.vaults.tools!.id))).toBeUndefined();
    const plan = await run("plan");
    expect(plan.code).toBe(3);
    expect(plan.stdout).toMatch(/vault\.tools: A live vault named "tools" .* is not managed by agentform\. \[unmanaged-needs-adopt\]/);
    const unknown = await run("state", "forget", "agent/nobody", "--auto-approve");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/\[state-unknown\]/);
  });

  it("a renamed project takes its resources over with state transfer: markers rewritten, zero re-creates", async () => {
    const before = await lock();
    await writeFile(p.config, (await readFile(p.config, "utf8")).replace("project: support-bots", "project: support-fleet"));
    const refused = await run("plan");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/lock-origin-mismatch/);

    p.cp.clearRequestLog();
    const transfer = await run("state", "transfer", "--from-project", "support-bots", "--auto-approve");
    expect(transfer.code).toBe(0);
    expect(transfer.stdout).toMatch(/~ agent\.lead: adopt/);
    const writes = p.writes();
    // Updates only: no create, no archive.
    expect(writes.every((w) => w.method === "POST" && !/\/v1\/(agents|environments|vaults|memory_stores)$/.test(w.path) && !w.path.endsWith("/archive") && !w.path.endsWith("/credentials"))).toBe(true);
    const after = await lock();
    expect(after.project).toBe("support-fleet");
    for (const [kind, table] of [["agents", after.agents], ["environments", after.environments], ["vaults", after.vaults], ["memory_stores", after.memory_stores], ["skills", after.skills], ["credentials", after.credentials]] as const) {
      const old = before[kind] as Record<string, { id: string }>;
      expect(Object.fromEntries(Object.entries(table).map(([n, e]) => [n, e.id]))).toEqual(Object.fromEntries(Object.entries(old).map(([n, e]) => [n, e.id])));
    }
    expect(marker(await raw().get("agent", after.agents.lead!.id))).toBe("support-fleet");
    const next = await run("plan", "--detailed-exitcode");
    expect(next.code).toBe(0);
    expect(next.stdout).toBe("No changes. Live resources match the manifests.\n");
  });

  it("transfer follows a rename only: never from this project's own name or over another project's lockfile; the old project's orphans first", async () => {
    expect((await run("state", "transfer", "--from-project", "support-bots", "--auto-approve")).stderr).toMatch(/\[transfer-same-project\]/);
    const other = await run("state", "transfer", "--from-project", "other-team", "--auto-approve");
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/The lockfile belongs to project "support-bots", not "other-team": this is not a rename.*\[transfer-not-renamed\]/);

    const envId = (await lock()).environments.sandbox!.id;
    await writeFile(p.config, (await readFile(p.config, "utf8")).replace("project: support-bots", "project: support-fleet"));
    expect((await run("plan")).stderr).toMatch(/state transfer --from-project support-bots/);
    await rm(path.join(p.dir, "environments", "sandbox.yaml"));
    p.cp.clearRequestLog();
    const refused = await run("state", "transfer", "--from-project", "support-bots", "--auto-approve");
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/environment\.sandbox: environment\.sandbox \(env_\w+\) carries project "support-bots"'s marker but has no manifest here.*\[transfer-orphan\]/);
    expect(p.writes()).toEqual([]);
    // The only environment: archiving it needs --allow-empty too, as any prune of a whole kind.
    expect((await run("state", "transfer", "--from-project", "support-bots", "--prune", "--allow-empty", "--auto-approve")).code).toBe(0);
    expect((await raw().get("environment", envId)).archived_at).toBeTruthy();
    expect((await run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("a failed forget records what it already let go of, and says how to finish", async () => {
    const before = await lock();
    // The credential's marker goes (write 1), the vault's update fails (write 2 and its one attempt).
    p.cp.setFaults({ script: [{ on: "write", nth: 2, fault: { status: 500 } }] });
    p.env.AGENTFORM_MAX_ATTEMPTS = "1";
    const failed = await run("state", "forget", "vault/tools", "--auto-approve");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/state forget stopped: 1 of 2 forgotten \(and dropped from the lockfile\); not yet: vault\.tools\. Run it again to finish\./);
    const half = await lock();
    expect(half.credentials?.["tools/github"]).toBeUndefined();
    expect(half.vaults.tools?.id).toBe(before.vaults.tools!.id);
    p.cp.resetFaults();
    expect((await run("state", "forget", "vault/tools", "--auto-approve")).code).toBe(0);
    expect((await lock()).vaults?.tools).toBeUndefined();
  });

  it("--only a credential plans that credential, not the others in its vault; --only with --prune is refused", async () => {
    await p.write({ "vaults/tools.yaml": FILES["vaults/tools.yaml"] + "  jira:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://jira.example.com/mcp/\n      token_env: STATE_TEST_TOKEN\n" });
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const doc = JSON.parse((await run("plan", "--only", "credential/tools/github", "--rotate", "--format", "json")).stdout) as Plan;
    expect(doc.only).toEqual(["credential.tools/github", "vault.tools"]);
    expect(doc.resources.filter((r) => r.action !== "noop").map((r) => r.address)).toEqual(["credential.tools/github"]);
    const vault = JSON.parse((await run("plan", "--only", "vault/tools", "--format", "json")).stdout) as Plan;
    expect(vault.only).toEqual(["credential.tools/github", "credential.tools/jira", "vault.tools"]);
    const both = await run("plan", "--only", "agent/solo", "--prune");
    expect(both.code).toBe(4);
    expect(both.stderr).toMatch(/\[only-prune\]/);
  });

  it("--only plans and applies one resource and what it references, nothing else", async () => {
    await p.write({
      "agents/worker.yaml": FILES["agents/worker.yaml"].replace("Do the work.", "Do the work well."),
      "agents/solo.yaml": FILES["agents/solo.yaml"].replace("Alone.", "Alone again."),
    });
    await rm(path.join(p.dir, "memory_stores", "notes.yaml"));
    const doc = JSON.parse((await run("plan", "--only", "agent/lead", "--format", "json")).stdout) as Plan;
    expect(doc.only).toEqual(["agent.lead", "agent.worker", "skill.refund-policy"]);
    expect(doc.resources.map((r) => `${r.address}:${r.action}`)).toEqual(["skill.refund-policy:noop", "agent.worker:update", "agent.lead:repin"]);
    expect((await run("plan", "--only", "agent/lead")).stdout).toMatch(/^Only agent\.lead, agent\.worker, skill\.refund-policy \(--only, with what they reference\); the rest of the project is not planned, and nothing is pruned\.\n/);

    p.cp.clearRequestLog();
    expect((await run("apply", "--only", "agent/solo", "--auto-approve")).code).toBe(0);
    expect(p.writes()).toHaveLength(1);
    const full = JSON.parse((await run("plan", "--format", "json")).stdout) as Plan;
    expect(full.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}:${r.action}`).sort()).toEqual(["agent.lead:repin", "agent.worker:update", "memory_store.notes:orphan"]);

    const unknown = await run("plan", "--only", "agent/nobody");
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no agent manifest is named "nobody".*\[only-unknown\]/);
    expect((await run("plan", "--only", "triage")).stderr).toMatch(/\[only-invalid\]/);
    const saved = path.join(p.dir, "only.json");
    expect((await run("plan", "--only", "agent/lead", "--out", saved)).code).toBe(0);
    const mismatch = await run("apply", saved);
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(/it was saved with --only, but this apply runs without it/);
    expect((await run("apply", saved, "--only", "agent/lead")).code).toBe(0);
  });

  it("plan --target all: one section per target, the most severe exit code", async () => {
    const config = await readFile(p.config, "utf8");
    // A second target whose lockfile was copied from the first: its section is refused
    // (lock-origin-mismatch, exit 3), the first still plans (changes, exit 2); 3 is the most severe.
    await writeFile(p.config, `${config}  staging:\n    base_url: ${p.cp.baseUrl}\n    api_key_env: AGENTFORM_TEST_KEY\n`);
    await writeFile(path.join(p.dir, "agentform.staging.lock.json"), await readFile(path.join(p.dir, "agentform.lock.json"), "utf8"));
    await p.write({ "agents/solo.yaml": FILES["agents/solo.yaml"].replace("Alone.", "Alone again.") });
    const text = await run("plan", "--target", "all", "--detailed-exitcode");
    expect(text.stdout).toMatch(/^=== target default ===\n\n[\s\S]*~ agent\.solo: update[\s\S]*=== target staging ===\n/);
    expect(text.stderr).toMatch(/target staging:\nerror The lockfile was written for target "default", not "staging"\. \[lock-origin-mismatch\]/);
    expect(text.code).toBe(3);
    await rm(path.join(p.dir, "agentform.staging.lock.json"));
    await writeFile(p.config, config);
    const json = await run("plan", "--target", "all", "--format", "json", "--detailed-exitcode");
    expect(json.code).toBe(2);
    const plans = JSON.parse(json.stdout) as Plan[];
    expect(plans.map((x) => [x.target, x.summary.update])).toEqual([["default", 1]]);
    expect((await run("plan", "--target", "all", "--out", path.join(p.dir, "x.json"))).stderr).toMatch(/\[plan-out-all\]/);
    await writeFile(p.config, `${config}  all:\n    base_url: ${p.cp.baseUrl}\n`);
    const reserved = await run("plan", "--target", "all");
    expect(reserved.code).toBe(4);
    expect(reserved.stderr).toMatch(/agentform\.yaml:\d+:3 targets\.all: the target name "all" is reserved.*\[AF-TARGET-RESERVED\]/);
  });
});
