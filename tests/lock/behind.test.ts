/**
 * One definition of "lockfile behind": the lockfile does not record what live is, while live
 * already equals the manifest. Whether it lags (a lost commit after apply) or was edited to pin
 * an older, hostile version, `lock verify` fails and names it, `plan` shows a lockfile-only
 * change (exit 0 with --detailed-exitcode, not drift), `apply` rewrites it with zero API writes,
 * and `lock get` refuses an entry not written for the manifest in the checkout.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { Plan } from "../../src/plan/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

describe("lockfile behind live", () => {
  let p: CliProject;
  let dir: string;
  let lockPath: string;
  const run = (...args: string[]) => p.run(...args);
  const writes = () => p.writes();
  const lockText = () => readFile(lockPath, "utf8");
  const triage = (system: string) => writeFile(path.join(dir, "agents", "triage.yaml"), `name: triage\nmodel: claude-sonnet-5-5\nsystem: ${system}\n`);
  const raw = () => createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });

  beforeEach(async () => {
    p = await cliProject({
      "agents/billing.yaml": "name: billing\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\n",
      "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n",
    });
    dir = p.dir;
    lockPath = path.join(dir, "agentform.lock.json");
    await triage("Sort incoming tickets.");
    expect((await run("apply", "--auto-approve")).code).toBe(0);
  });
  afterEach(() => p.close());

  /** Every command agrees: verify fails, plan shows a lock-only change, apply fixes it with no write. */
  async function expectBehind(current: string, pinnedDiffers: boolean) {
    const verify = await run("lock", "verify");
    expect(verify.code).toBe(3);
    expect(verify.stdout).toMatch(/error\s+agent\.triage: .*the lockfile is behind\..* \[lock-behind\]/);
    if (pinnedDiffers) expect(verify.stdout).toMatch(/What it pins differs from the manifest \(\/system\)/);

    p.cp.clearRequestLog();
    const plan = await run("plan", "--detailed-exitcode", "--fail-on-drift", "--format", "json");
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as Plan;
    const entry = doc.resources.find((r) => r.address === "agent.triage")!;
    expect(entry.action).toBe("noop");
    expect(entry.drift?.detected).toBe(false);
    expect(doc.driftDetected).toBe(false);
    expect(entry.lockOnly).toMatchObject({ reason: "behind", locked: { version: 1 } });
    expect(entry.lockOnly?.pinned).toMatchObject({ version: 1, matchesManifest: !pinnedDiffers });
    // Reading the pinned version is the only extra request: one GET, no write.
    expect(p.cp.requestLog().filter((e) => e.method === "GET" && e.query.includes("version=1"))).toHaveLength(1);
    expect(writes()).toEqual([]);

    const text = await run("plan");
    expect(text.stdout).not.toMatch(/^No changes\. Live resources match the manifests\.\n$/);
    expect(text.stdout).toMatch(/agent\.triage/);
    expect(text.stdout).toMatch(/Lockfile only \(no API writes\):\n  ~ agent\.triage: the lockfile records version 1, but live version 2 already matches the manifest; apply rewrites the entry/);
    if (pinnedDiffers) expect(text.stdout).toMatch(/! runtimes reading this lockfile get version 1, which differs from the manifest in \/system/);
    const markdown = await run("plan", "--format", "markdown");
    expect(markdown.stdout).toMatch(/### Lockfile only/);
    // What runtimes would pin is a security matter for review, whether it lags or was edited.
    const findings = entry.security.filter((f) => f.category === "lockfile-pin-changed");
    expect(findings.map((f) => f.severity)).toEqual(pinnedDiffers ? ["broadening"] : []);
    if (pinnedDiffers) expect(markdown.stdout).toMatch(/1 broadening change\(s\).*\n[\s\S]*lockfile-pin-changed/);

    p.cp.clearRequestLog();
    const apply = await run("apply", "--auto-approve", "--fail-on-drift");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Lockfile agentform\.lock\.json rewritten from live, with no API writes\./);
    expect(writes()).toEqual([]);
    expect(await lockText()).toBe(current);
    expect((await run("lock", "verify")).code).toBe(0);
  }

  it("a lockfile hand-edited to pin an older version with another prompt", async () => {
    await triage("Sort incoming tickets by urgency.");
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const current = await lockText();
    const edited = JSON.parse(current) as Lockfile;
    edited.agents.triage!.version = 1; // the old prompt; specDigest left as the attacker found it
    await writeFile(lockPath, JSON.stringify(edited, null, 2) + "\n");
    await expectBehind(current, true);
  });

  it("a lockfile one apply behind (the commit after apply was lost)", async () => {
    const before = await lockText();
    await triage("Sort incoming tickets by urgency.");
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    const current = await lockText();
    await writeFile(lockPath, before);

    // Offline, lock get refuses the entry: it was not written for the manifest in the checkout.
    const get = await run("lock", "get", "agent", "triage");
    expect(get.code).toBe(3);
    expect(get.stderr).toMatch(/entry for agent "triage" was not written for agents\/triage\.yaml as it is now.*\[lock-spec-stale\]/);
    expect((await run("lock", "get", "agent", "billing")).code).toBe(0);

    await expectBehind(current, true);
    const pin = await run("lock", "get", "agent", "triage");
    expect(pin.code).toBe(0);
    expect(JSON.parse(pin.stdout)).toMatchObject({ type: "agent", version: 2 });
  });

  it("a manifest changed since the last apply is an ordinary change, not drift", async () => {
    await triage("Sort incoming tickets by urgency.");
    const plan = await run("plan", "--detailed-exitcode", "--fail-on-drift", "--format", "json");
    expect(plan.code).toBe(2);
    const doc = JSON.parse(plan.stdout) as Plan;
    const entry = doc.resources.find((r) => r.address === "agent.triage")!;
    expect(entry).toMatchObject({ action: "update", drift: { detected: false, lockedVersion: 1, liveVersion: 1 } });
    expect(doc.driftDetected).toBe(false);
    expect((await run("apply", "--auto-approve", "--fail-on-drift")).code).toBe(0);
  });

  it("a real out-of-band edit is still drift, not a lockfile matter", async () => {
    const lock = JSON.parse(await lockText()) as Lockfile;
    await raw().update("agent", lock.agents.triage!.id, { system: "edited in the console" }, { expectedVersion: 1 });
    const plan = await run("plan", "--detailed-exitcode", "--fail-on-drift", "--format", "json");
    expect(plan.code).toBe(3);
    const entry = (JSON.parse(plan.stdout) as Plan).resources.find((r) => r.address === "agent.triage")!;
    expect(entry.action).toBe("update");
    expect(entry.drift?.detected).toBe(true);
    expect(entry.lockOnly).toBeUndefined();
  });

  it("lock get refuses a name with no manifest in the checkout", async () => {
    await rm(path.join(dir, "agents", "billing.yaml"));
    const get = await run("lock", "get", "agent", "billing");
    expect(get.code).toBe(3);
    expect(get.stderr).toMatch(/lists agent "billing", but no valid manifest in this checkout describes it.*\[lock-no-manifest\]/);
  });

  it("--prune drops the lockfile entry of a resource archived outside agentform whose manifest is gone", async () => {
    const lock = JSON.parse(await lockText()) as Lockfile;
    await raw().archive("agent", lock.agents.billing!.id);
    await rm(path.join(dir, "agents", "billing.yaml"));
    p.cp.clearRequestLog();
    const plain = await run("apply", "--auto-approve");
    expect(plain.code).toBe(0);
    expect(Object.keys((JSON.parse(await lockText()) as Lockfile).agents)).toEqual(["billing", "triage"]);

    const plan = await run("plan", "--prune", "--format", "json");
    const gone = (JSON.parse(plan.stdout) as Plan).resources.find((r) => r.address === "agent.billing")!;
    expect(gone).toMatchObject({ action: "noop", request: null, lockOnly: { reason: "gone", locked: { id: lock.agents.billing!.id, version: 1 } } });

    const pruned = await run("apply", "--auto-approve", "--prune");
    expect(pruned.code).toBe(0);
    expect(writes()).toEqual([]);
    expect(Object.keys((JSON.parse(await lockText()) as Lockfile).agents)).toEqual(["triage"]);
    expect((await run("lock", "verify")).code).toBe(0);
  });

  it("a lockfile edited to point an environment at another environment is a security finding; apply needs no approval to fix it", async () => {
    const current = await lockText();
    const other = await raw().create("environment", { name: "attacker-env", config: { type: "cloud" } });
    const edited = JSON.parse(current) as Lockfile;
    edited.environments.sandbox!.id = other.id;
    await writeFile(lockPath, JSON.stringify(edited, null, 2) + "\n");
    const plan = await run("plan", "--format", "json");
    const sandbox = (JSON.parse(plan.stdout) as Plan).resources.find((r) => r.address === "environment.sandbox")!;
    expect(sandbox.lockOnly).toMatchObject({ reason: "behind", locked: { id: other.id } });
    expect(sandbox.security).toEqual([expect.objectContaining({ category: "lockfile-pin-changed", severity: "broadening" })]);
    expect(sandbox.security[0]!.message).toContain(`at ${other.id}, not at the live`);
    expect((await run("lock", "verify")).code).toBe(3);
    p.cp.clearRequestLog();
    const apply = await run("apply", "--auto-approve", "--require-approval", "broadening");
    expect(apply.code).toBe(0);
    expect(writes()).toEqual([]);
    expect(await lockText()).toBe(current);
  });

  it("a lockfile only formatted differently is not rewritten, and apply does not say it was", async () => {
    const current = await lockText();
    const minified = JSON.stringify(JSON.parse(current));
    await writeFile(lockPath, minified);
    const apply = await run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/No changes\. Live resources match the manifests\./);
    expect(apply.stdout).not.toMatch(/rewritten/);
    expect(await lockText()).toBe(minified);
  });

  it("--prune drops lockfile entries of resources that are not this project's, and never archives them", async () => {
    const stranger = await raw().create("agent", { name: "stranger", model: "claude-sonnet-5-5" });
    const edited = JSON.parse(await lockText()) as Lockfile;
    edited.agents.stranger = { ...edited.agents.billing!, id: stranger.id };
    await writeFile(lockPath, JSON.stringify(edited, null, 2) + "\n");
    expect((await run("lock", "verify")).code).toBe(3);
    p.cp.clearRequestLog();
    const pruned = await run("apply", "--auto-approve", "--prune");
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/agent\.stranger: the lockfile lists .* not marked as this project's; apply drops the entry and leaves the resource alone/);
    expect(writes()).toEqual([]);
    expect(Object.keys((JSON.parse(await lockText()) as Lockfile).agents).sort()).toEqual(["billing", "triage"]);
    expect((await raw().get("agent", stranger.id)).archived_at).toBeFalsy();
    expect((await run("lock", "verify")).code).toBe(0);
  });
});
