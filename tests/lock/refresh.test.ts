/**
 * `agentform lock refresh`: the lockfile rebuilt from live with zero API writes. It records
 * exactly what live already matches (the bytes `agentform apply` writes for that live state),
 * keeps the existing lockfile's orphans, lists what only an apply can fix (exit 2), and writes
 * nothing at all when the plan has refusals (exit 3) or in a dry run.
 */
import { access, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock, runLockFile } from "../../src/apply/run-lock.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { Lockfile } from "../../src/lock/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const SKILL = "---\nname: refund-policy\ndescription: Refund rules and a pro-rating calculator.\n---\n\nRefund within 30 days, pro-rated.\n";
const triage = (system: string) => `name: triage\nmodel: claude-sonnet-5-5\nsystem: ${system}\nmultiagent:\n  type: coordinator\n  agents:\n    - type: agent\n      ref: billing\n`;
const READ_TOOLS = "tools:\n  - type: agent_toolset_20260401\n    default_config:\n      enabled: false\n    configs:\n      - name: read\n        enabled: true\n";
const FLEET: Record<string, string> = {
  "agents/triage.yaml": triage("Route each ticket."),
  "agents/billing.yaml": `name: billing\nmodel: claude-haiku-5-5\nsystem: Answer billing questions.\n${READ_TOOLS}skills:\n  - type: custom\n    ref: refund-policy\n`,
  "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n  networking:\n    type: limited\n    allowed_hosts: [api.example.com]\n",
  "skills/refund-policy/SKILL.md": SKILL,
  "skills/refund-policy/scripts/prorate.py": "print('prorate')\n",
  "vaults/github-tools.yaml":
    "display_name: github-tools\nmetadata:\n  team: platform\ncredentials:\n  github:\n    auth:\n      type: static_bearer\n      mcp_server_url: https://api.githubcopilot.com/mcp/\n      token_env: GITHUB_MCP_TOKEN\n",
  "memory_stores/notes.yaml": "name: notes\ndescription: What triage learns between runs.\n",
  "deployments/nightly.yaml": `name: nightly
agent: {ref: triage}
environment_id: {ref: sandbox}
vault_ids:
  - ref: github-tools
resources:
  - {type: memory_store, ref: notes, access: read_write}
initial_events:
  - type: user.message
    content: [{type: text, text: Work the queue.}]
schedule: {type: cron, expression: "0 7 * * 1-5", timezone: Europe/Paris}
paused: false
`,
};
const ADDRESSES = [
  "agent.billing",
  "agent.triage",
  "credential.github-tools/github",
  "deployment.nightly",
  "environment.sandbox",
  "memory_store.notes",
  "skill.refund-policy",
  "vault.github-tools",
];

interface RefreshJson {
  recorded: string[];
  skipped: Array<{ address: string; reason: string; code?: string }>;
  kept: string[];
  dropped: Array<{ address: string; reason: string }>;
  written: boolean;
}

describe("agentform lock refresh", () => {
  let p: CliProject;
  let lockPath: string;
  /** The lockfile the first apply wrote. */
  let applied: string;
  const lockText = () => readFile(lockPath, "utf8");
  const lockJson = async () => JSON.parse(await lockText()) as Lockfile;
  const exists = (file: string) => access(file).then(() => true, () => false);
  const raw = () => createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  /** Run a command; the API must not have seen a single write during it. */
  const readOnly = async (...args: string[]) => {
    p.cp.clearRequestLog();
    const result = await p.run(...args);
    expect(p.writes()).toEqual([]);
    return result;
  };

  beforeEach(async () => {
    p = await cliProject(FLEET);
    p.env.GITHUB_MCP_TOKEN = "refresh-test-token-0001";
    lockPath = path.join(p.dir, "agentform.lock.json");
    const first = await p.run("apply", "--auto-approve");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    applied = await lockText();
  });
  afterEach(() => p.close());

  it("rebuilds a deleted lockfile byte for byte with no API writes; a skill, owned through the lockfile alone, is recorded only with --adopt", async () => {
    expect(Object.keys((JSON.parse(applied) as Lockfile).skills)).toEqual(["refund-policy"]);
    await rm(lockPath);

    // Without the lockfile nothing says the skill is this project's: a refusal, and nothing written.
    const refused = await readOnly("lock", "refresh");
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/^refused {2}skill\.refund-policy: A live skill named "refund-policy" \(skill_\w+\) exists but is not managed by agentform\. \[unmanaged-needs-adopt\]$/m);
    expect(refused.stdout).not.toMatch(/^recorded/m);
    expect(refused.stderr).toMatch(/Refused: 1 safety rule\(s\) stop this refresh; the lockfile was not written.*\[lock-refresh-refused\]/);
    expect(await exists(lockPath)).toBe(false);

    const refreshed = await readOnly("lock", "refresh", "--adopt");
    expect(refreshed.stderr).toBe("");
    expect(refreshed.code).toBe(0);
    expect(await lockText()).toBe(applied);
    const lock = JSON.parse(applied) as Lockfile;
    expect(refreshed.stdout).toContain(`recorded agent.triage (${lock.agents.triage!.id})\n`);
    expect(refreshed.stdout).toContain(`recorded skill.refund-policy (${lock.skills["refund-policy"]!.id})\n`);
    expect(refreshed.stdout.match(/^recorded /gm)).toHaveLength(ADDRESSES.length);
    expect(refreshed.stdout).toMatch(/^Lockfile agentform\.lock\.json rebuilt from live: 8 recorded, 0 kept, 0 skipped; no API writes\.$/m);
    // The skill's entry carries the file digests, as apply's does.
    expect(Object.keys(lock.skills["refund-policy"]!.files ?? {}).sort()).toEqual(["SKILL.md", "scripts/prorate.py"]);

    expect((await readOnly("plan", "--detailed-exitcode")).code).toBe(0);
    expect((await readOnly("lock", "verify")).code).toBe(0);
    const again = await readOnly("lock", "refresh");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Lockfile agentform\.lock\.json already records live: 8 recorded, 0 kept, 0 skipped; not rewritten, no API writes\.$/m);
    // The run lock refresh took is gone.
    expect(await exists(runLockFile(p.dir, "default"))).toBe(false);
  });

  it("a credential whose secret is not set here is still recorded (the plan says it cannot check it, and it is a no-op)", async () => {
    await rm(lockPath);
    delete p.env.GITHUB_MCP_TOKEN;
    const refreshed = await readOnly("lock", "refresh", "--adopt");
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toMatch(/^recorded credential\.github-tools\/github \(vcrd_\w+\)$/m);
    expect(await lockText()).toBe(applied);
  });

  it("a manifest changed after apply: the rest is recorded, the changed one (and what follows it) is skipped, exit 2", async () => {
    await rm(lockPath);
    await p.write({ "agents/triage.yaml": triage("Route each ticket by urgency.") });
    const refreshed = await readOnly("lock", "refresh", "--adopt");
    expect(refreshed.code).toBe(2);
    expect(refreshed.stdout).toMatch(/^skipped {2}agent\.triage: differs from its manifest: 1 field\(s\) \(run agentform plan\)$/m);
    // The deployment follows triage: it is re-pinned by the apply that changes triage.
    expect(refreshed.stdout).toMatch(/^skipped {2}deployment\.nightly: differs from its manifest: \d+ field\(s\) \(run agentform plan\)$/m);
    expect(refreshed.stdout).toMatch(/^Lockfile agentform\.lock\.json rebuilt from live: 6 recorded, 0 kept, 2 skipped; no API writes\.$/m);

    const before = JSON.parse(applied) as Lockfile;
    const after = await lockJson();
    expect(after.agents).toEqual({ billing: before.agents.billing });
    // An empty map of a kind added after 1.0 is left out of the file, as apply leaves it out.
    expect(after.deployments).toBeUndefined();
    expect({ ...after, agents: before.agents, deployments: before.deployments }).toEqual(before);

    // What was skipped is exactly what apply changes.
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    expect(new Set(p.writes().map((w) => w.path.split("/")[2]))).toEqual(new Set(["agents", "deployments"]));
    expect((await readOnly("lock", "verify")).code).toBe(0);
  });

  it("a lockfile one apply behind is rewritten to exactly what apply wrote", async () => {
    await p.write({ "agents/triage.yaml": triage("Route each ticket by urgency.") });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const current = await lockText();
    expect(current).not.toBe(applied);
    await writeFile(lockPath, applied);
    expect((await p.run("lock", "verify")).code).toBe(3);

    // The old lockfile records the skill, so no --adopt is needed.
    const refreshed = await readOnly("lock", "refresh");
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toMatch(/rebuilt from live: 8 recorded, 0 kept, 0 skipped; no API writes\.$/m);
    expect(await lockText()).toBe(current);
    expect((await readOnly("lock", "verify")).code).toBe(0);
  });

  it("keeps the maps of kinds a newer agentform wrote, as apply does", async () => {
    const future: Record<string, unknown> = { ...(JSON.parse(applied) as Record<string, unknown>), lockfileVersion: 1.7, widgets: { w: { id: "wdg_1", liveDigest: "sha256:a", specDigest: "sha256:b" } } };
    delete (future.agents as Record<string, unknown>).triage;
    await writeFile(lockPath, JSON.stringify(future, null, 2) + "\n");
    const refreshed = await readOnly("lock", "refresh");
    expect(refreshed.code).toBe(0);
    const after = JSON.parse(await lockText()) as Record<string, unknown>;
    expect(after.widgets).toEqual(future.widgets);
    expect(after.lockfileVersion).toBe(1.2);
    expect({ ...after, widgets: undefined }).toEqual({ ...(JSON.parse(applied) as Record<string, unknown>), widgets: undefined });
  });

  it("keeps an orphan's entry unchanged, drops an entry whose resource is gone, and keeps a skipped skill's entry (its only ownership record)", async () => {
    await p.write({ "agents/spare.yaml": "name: spare\nmodel: claude-haiku-5-5\n", "agents/gone.yaml": "name: gone\nmodel: claude-haiku-5-5\n" });
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const withBoth = await lockJson();
    await rm(path.join(p.dir, "agents", "spare.yaml"));
    await rm(path.join(p.dir, "agents", "gone.yaml"));
    await raw().archive("agent", withBoth.agents.gone!.id);
    await p.write({ "skills/refund-policy/scripts/prorate.py": "print('prorate, v2')\n" });

    const refreshed = await readOnly("lock", "refresh", "--format", "json");
    const doc = JSON.parse(refreshed.stdout) as RefreshJson;
    expect(refreshed.code).toBe(2);
    expect(doc.kept).toEqual(["skill.refund-policy", "agent.spare"]);
    expect(doc.dropped).toEqual([{ address: "agent.gone", reason: "its resource is gone (archived or deleted)" }]);
    // The skill changed, so the agent following it, and the coordinator and deployment above it, move too.
    expect(doc.skipped.map((s) => s.address).sort()).toEqual(["agent.billing", "agent.triage", "deployment.nightly", "skill.refund-policy"]);
    expect(doc.recorded.sort()).toEqual(["credential.github-tools/github", "environment.sandbox", "memory_store.notes", "vault.github-tools"]);
    expect(doc.written).toBe(true);

    const after = await lockJson();
    expect(after.agents).toEqual({ spare: withBoth.agents.spare });
    expect(after.skills).toEqual(withBoth.skills);
    expect(after.environments).toEqual(withBoth.environments);
    const text = await readOnly("lock", "refresh", "--dry-run");
    expect(text.stdout).toMatch(/^kept {5}agent\.spare: no manifest \(an orphan plan shows\)$/m);
    expect(text.stdout).toMatch(/^kept {5}skill\.refund-policy: its manifest is not recorded/m);

    // The skill is still this project's: apply updates it instead of refusing it.
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
  });

  it("never carries over an entry pointing at another project's resource (a hand edit can)", async () => {
    const theirs = await raw().create("agent", { name: "theirs", model: "claude-haiku-5-5", metadata: { "agentform.project": "another-team" } });
    const edited = await lockJson();
    edited.agents.foreigner = { id: theirs.id, version: 1, specDigest: edited.agents.billing!.specDigest, liveDigest: edited.agents.billing!.liveDigest };
    await writeFile(lockPath, JSON.stringify(edited, null, 2) + "\n");
    const doc = JSON.parse((await readOnly("lock", "refresh", "--format", "json")).stdout) as RefreshJson;
    expect(doc.kept).not.toContain("agent.foreigner");
    expect(doc.dropped).toEqual([{ address: "agent.foreigner", reason: "its resource is not marked as this project's" }]);
    expect(await lockText()).toBe(applied);
  });

  it("--dry-run writes nothing (no lockfile, or the old one untouched); the JSON lists what would be recorded", async () => {
    await rm(lockPath);
    const dry = await readOnly("lock", "refresh", "--adopt", "--dry-run", "--format", "json");
    expect(dry.code).toBe(0);
    const doc = JSON.parse(dry.stdout) as RefreshJson;
    expect(doc).toEqual({ recorded: expect.any(Array), skipped: [], kept: [], dropped: [], written: false });
    expect([...doc.recorded].sort()).toEqual(ADDRESSES);
    expect(await exists(lockPath)).toBe(false);

    const stale = JSON.parse(applied) as Lockfile;
    stale.agents.triage!.version = 99;
    const staleText = JSON.stringify(stale, null, 2) + "\n";
    await writeFile(lockPath, staleText);
    const text = await readOnly("lock", "refresh", "--dry-run");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Dry run: lockfile agentform\.lock\.json would be rebuilt from live: 8 recorded, 0 kept, 0 skipped; nothing written, no API writes\.$/m);
    expect(await lockText()).toBe(staleText);
  });

  it("waits for no apply: while one holds the target's run lock, refresh is refused and writes nothing", async () => {
    await rm(lockPath);
    const held = await acquireRunLock(runLockFile(p.dir, "default"));
    try {
      const refused = await readOnly("lock", "refresh", "--adopt");
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/holds the run lock .*apply-default\.lock.*\[apply-in-progress\]/);
      expect(await exists(lockPath)).toBe(false);
    } finally {
      await held.release();
    }
    expect((await readOnly("lock", "refresh", "--adopt")).code).toBe(0);
    expect(await lockText()).toBe(applied);
  });
});
