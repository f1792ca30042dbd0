/**
 * Runtime continuity across renames (docs/lockfile.md, "Names from before a rename"): after a
 * manifest is renamed with `agentform.previous_names`, callers still asking for the old name get
 * the renamed resource's pin, with a warning, from `lock get` and from the runtime reader, for as
 * long as the manifest lists the old name. The lockfile records the names (format 1.2); a change
 * of them alone is a lockfile-only change; a lockfile edited to claim an old name for another
 * entry, or to hold hostile values, is refused.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseLock } from "../../src/lock/io.js";
import { loadLock, RuntimeLockError } from "../../src/lock/runtime.js";
import type { Lockfile } from "../../src/lock/types.js";
import { schemaDiagnostics } from "../../src/manifest/index.js";
import type { Plan } from "../../src/plan/types.js";
import { cliProject, KEY_ENV, type CliProject } from "../helpers/cli-project.js";

const agent = (name: string, previous: string[] = []) =>
  `name: ${name}\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets.\n${previous.length > 0 ? `agentform:\n  previous_names: [${previous.join(", ")}]\n` : ""}`;

/** What a caller of `fn` sees thrown: a RuntimeLockError's code and message. */
function thrown(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as RuntimeLockError).code, message: (e as Error).message };
  }
  return {};
}

describe("runtime continuity across a rename", () => {
  let p: CliProject;
  let lockPath: string;
  const lockJson = async () => JSON.parse(await readFile(lockPath, "utf8")) as Lockfile;
  const editLock = async (edit: (lock: Lockfile) => void) => {
    const lock = await lockJson();
    edit(lock);
    await writeFile(lockPath, JSON.stringify(lock, null, 2) + "\n");
  };

  beforeEach(async () => {
    p = await cliProject({ "agents/router.yaml": agent("router"), "agents/billing.yaml": agent("billing") });
    lockPath = path.join(p.dir, "agentform.lock.json");
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
  });
  afterEach(() => p.close());

  /** Rename router → triage in place, as a pull request would. */
  async function renameRouter(): Promise<{ id: string }> {
    const before = (await lockJson()).agents.router!;
    await p.write({ "agents/triage.yaml": agent("triage", ["router"]) });
    await rm(path.join(p.dir, "agents", "router.yaml"));
    p.cp.clearRequestLog();
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/1 to rename/);
    // One write: the rename, in place, of the same agent.
    expect(p.writes()).toHaveLength(1);
    return { id: before.id };
  }

  it("lock get and the runtime reader answer the old name with the renamed agent's pin, and warn", async () => {
    const { id } = await renameRouter();
    const lock = await lockJson();
    expect(Object.keys(lock.agents).sort()).toEqual(["billing", "triage"]);
    expect(lock.agents.triage).toMatchObject({ id, version: 2, previous_names: ["router"] });
    expect(lock.lockfileVersion).toBe(1.2);
    expect(schemaDiagnostics("lockfile", lock, { file: "agentform.lock.json", locate: () => ({ line: 1, column: 1 }) })).toEqual([]);

    const old = await p.run("lock", "get", "agent", "router");
    expect(old.code, old.stderr).toBe(0);
    expect(JSON.parse(old.stdout)).toEqual({ type: "agent", id, version: 2 });
    expect(old.stderr).toBe('warning: agent "router" was renamed to "triage"; update the caller (the old name works while it stays in previous_names)\n');
    const current = await p.run("lock", "get", "agent", "triage");
    expect(current.stdout).toBe(old.stdout);
    expect(current.stderr).toBe("");

    const warnings: string[] = [];
    const runtime = loadLock({ dir: p.dir, target: "default", onWarning: (m) => warnings.push(m) });
    expect(runtime.agent("router")).toEqual({ type: "agent", id, version: 2 });
    expect(runtime.agent("router")).toEqual(runtime.agent("triage"));
    // Once per old name, so a hot path does not flood the log; the current name never warns.
    expect(warnings).toEqual([`agent "router" was renamed to "triage" (lockfile ${lockPath}); update the caller (the old name works while it stays in previous_names)`]);
  });

  it("the old name stops working once the manifest no longer lists it; that is a lockfile-only change", async () => {
    await renameRouter();
    await p.write({ "agents/triage.yaml": agent("triage") });
    const plan = await p.run("plan", "--detailed-exitcode", "--format", "json");
    expect(plan.code).toBe(0);
    const entry = (JSON.parse(plan.stdout) as Plan).resources.find((r) => r.address === "agent.triage")!;
    expect(entry).toMatchObject({ action: "noop", request: null, lockOnly: { reason: "behind" } });
    expect(entry.previousNames).toBeUndefined();
    // Until apply runs, the lockfile answers "router" with triage, which the manifest no longer says.
    expect(entry.security).toEqual([expect.objectContaining({ category: "lockfile-pin-changed", message: expect.stringContaining('callers asking for "router" with agent.triage') })]);
    const refused = await p.run("lock", "get", "agent", "router");
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/answers agent "router" with "triage", but agents\/triage\.yaml does not list "router" in agentform\.previous_names.*\[lock-previous-name-stale\]/);

    p.cp.clearRequestLog();
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/rewritten from live, with no API writes/);
    expect(p.writes()).toEqual([]);
    expect((await lockJson()).agents.triage!.previous_names).toBeUndefined();
    expect((await p.run("lock", "get", "agent", "router")).stderr).toMatch(/has no agent named "router".*\[lock-unknown-name\]/);
    expect(thrown(() => loadLock({ dir: p.dir }).agent("router")).code).toBe("unknown-agent");
  });

  it("adding previous_names alone is a lockfile-only change: plan says so, verify fails, apply rewrites the entry with no write", async () => {
    await p.write({ "agents/billing.yaml": agent("billing", ["payments", "accounts"]) });
    const plan = await p.run("plan", "--detailed-exitcode", "--fail-on-drift", "--format", "json");
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as Plan;
    const entry = doc.resources.find((r) => r.address === "agent.billing")!;
    expect(entry).toMatchObject({ action: "noop", request: null, previousNames: ["accounts", "payments"], lockOnly: { reason: "behind", locked: { version: 1 } } });
    expect(entry.security).toEqual([]);
    const validate = new Ajv({ strict: true, allErrors: true }).compile(JSON.parse(await readFile(new URL("../../schemas/plan.schema.json", import.meta.url), "utf8")) as object);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const text = await p.run("plan");
    expect(text.stdout).toMatch(/Lockfile only \(no API writes\):\n {2}~ agent\.billing:/);
    expect(text.stdout).not.toMatch(/^No changes\. Live resources match the manifests\.$/m);

    const verify = await p.run("lock", "verify");
    expect(verify.code).toBe(3);
    expect(verify.stdout).toMatch(/agent\.billing: .*The previous names it records \(none\) are not the manifest's \("accounts", "payments"\).*\[lock-behind\]/);

    p.cp.clearRequestLog();
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Lockfile agentform\.lock\.json rewritten from live, with no API writes\./);
    expect(p.writes()).toEqual([]);
    expect((await lockJson()).agents.billing!.previous_names).toEqual(["accounts", "payments"]);
    expect(await readFile(lockPath, "utf8")).toContain('"previous_names": [\n        "accounts",\n        "payments"\n      ],');
    expect((await p.run("lock", "verify")).code).toBe(0);
    expect((await p.run("plan", "--detailed-exitcode")).stdout).toMatch(/^No changes\. Live resources match the manifests\./m);
    // `lock get` answers them now (nothing was ever named "payments", but the manifest says so).
    const get = await p.run("lock", "get", "agent", "payments");
    expect(get.code).toBe(0);
    expect(get.stderr).toMatch(/^warning: agent "payments" was renamed to "billing"/);
  });

  it("two entries claiming one old name are refused by lock get and by the runtime reader", async () => {
    await renameRouter();
    await editLock((lock) => {
      lock.agents.billing!.previous_names = ["router"];
    });
    const get = await p.run("lock", "get", "agent", "router");
    expect(get.code).toBe(3);
    expect(get.stdout).toBe("");
    expect(get.stderr).toMatch(/has no agent named "router", and 2 agents list it as a previous name: "billing", "triage".*\[lock-previous-name-ambiguous\]/);
    const runtime = loadLock({ dir: p.dir, onWarning: () => undefined });
    const err = thrown(() => runtime.agent("router"));
    expect(err.code).toBe("ambiguous-previous-name");
    expect(err.message).toMatch(/2 list it as a previous name \(billing, triage\)\. Ask for the current name/);
    // The current names still work, and the plan shows the claim billing's manifest never made.
    expect(runtime.agent("billing").version).toBe(1);
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as Plan;
    const billing = plan.resources.find((r) => r.address === "agent.billing")!;
    expect(billing.lockOnly?.reason).toBe("behind");
    expect(billing.security.map((f) => f.category)).toEqual(["lockfile-pin-changed"]);
  });

  it("lock get refuses an old name a hand edit gave to another entry", async () => {
    await editLock((lock) => {
      lock.agents.billing!.previous_names = ["support"];
    });
    const get = await p.run("lock", "get", "agent", "support");
    expect(get.code).toBe(3);
    expect(get.stdout).toBe("");
    expect(get.stderr).toMatch(/agents\/billing\.yaml does not list "support" in agentform\.previous_names.*\[lock-previous-name-stale\]/);
    // An entry under the name itself always wins over another entry's previous name.
    await editLock((lock) => {
      lock.agents.billing!.previous_names = ["router"];
    });
    expect(JSON.parse((await p.run("lock", "get", "agent", "router")).stdout)).toMatchObject({ id: (await lockJson()).agents.router!.id });
    expect(loadLock({ dir: p.dir, onWarning: () => expect.unreachable() }).agent("router").id).toBe((await lockJson()).agents.router!.id);
  });

  it.each([
    ["a string", "router"],
    ["a number in the list", [1]],
    ["an empty name", [""]],
    ["an object", { 0: "router" }],
    ["null", null],
    ["a nested list", [["router"]]],
    ["a name longer than any name", ["r".repeat(1025)]],
    ["more than 1000 names", Array.from({ length: 1001 }, (_, i) => `n${i}`)],
  ])("a lockfile whose previous_names is %s is refused by the CLI, the runtime reader and the schema", async (_what, value) => {
    await editLock((lock) => {
      (lock.agents.billing as unknown as Record<string, unknown>).previous_names = value;
    });
    const get = await p.run("lock", "get", "agent", "billing");
    expect(get.code).toBe(4);
    expect(get.stderr).toMatch(/is malformed: agents\.billing\.previous_names must be a list of at most 1000 names, each 1 to 1024 characters\..*\[lockfile-invalid\]/);
    const err = thrown(() => loadLock({ dir: p.dir }));
    expect(err.code).toBe("lockfile-invalid");
    expect(err.message).toContain("agents.billing.previous_names must be a list of at most 1000 names, each 1 to 1024 characters");
    const diagnostics = schemaDiagnostics("lockfile", await lockJson(), { file: "agentform.lock.json", locate: () => ({ line: 1, column: 1 }) });
    expect(diagnostics.map((d) => d.path).join(" ")).toMatch(/agents[./]billing[./]previous_names/);
  });

  it("the bounds themselves are accepted, and an entry name in the error is made inert", () => {
    const base = { lockfileVersion: 1.2, project: "p", target: "default", origin: { baseUrl: "u", workspaceId: null }, environments: {} };
    const atLimit = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(1024, "n"));
    const ok = parseLock(JSON.stringify({ ...base, agents: { a: { id: "agent_1", version: 1, specDigest: "s", liveDigest: "l", previous_names: atLimit } } }), "f");
    expect(ok.agents.a!.previous_names).toHaveLength(1000);
    const hostile = JSON.stringify({ ...base, agents: { "evil\u001b[2J\u202e": { id: "agent_1", version: 1, specDigest: "s", liveDigest: "l", previous_names: 7 } } });
    expect(() => parseLock(hostile, "f")).toThrow("agents.evil\\x1b[2J\\u202e.previous_names must be a list");
  });

  it("validate (and so plan) refuses a manifest whose previous names the lockfile could not record", async () => {
    await p.write({ "agents/billing.yaml": agent("billing", ["b".repeat(1025)]) });
    const validate = await p.run("validate");
    expect(validate.code).toBe(4);
    expect(validate.stdout).toMatch(/agents\/billing\.yaml:\d+:\d+ agentform\.previous_names\[0\]: a previous name of 1025 characters; the lockfile records at most 1024 \[AF-PREVIOUS-NAMES-LIMIT\]/);
    const plan = await p.run("plan");
    expect(plan.code).toBe(4);
    expect(plan.stderr).toMatch(/AF-PREVIOUS-NAMES-LIMIT/);
  });
});

describe("loadLock({ target, dir }) on a lockfile the CLI wrote for a named target", () => {
  let p: CliProject;
  beforeEach(async () => {
    p = await cliProject({ "agents/triage.yaml": agent("triage") });
    await writeFile(p.config, `project: support-bots\ntargets:\n  prod:\n    base_url: ${p.cp.baseUrl}\n    api_key_env: ${KEY_ENV}\n`);
    expect((await p.run("apply", "--auto-approve", "--target", "prod")).code).toBe(0);
  });
  afterEach(() => p.close());

  it("reads agentform.prod.lock.json, and refuses another target's file under that name", async () => {
    const written = JSON.parse(await readFile(path.join(p.dir, "agentform.prod.lock.json"), "utf8")) as Lockfile;
    const lock = loadLock({ dir: p.dir, target: "prod" });
    expect(lock.target).toBe("prod");
    expect(lock.agent("triage")).toEqual({ type: "agent", id: written.agents.triage!.id, version: 1 });
    // The default target's lockfile is another file, which this project has not written.
    expect(thrown(() => loadLock({ dir: p.dir, target: "default" })).code).toBe("lockfile-missing");
    expect(thrown(() => loadLock({ dir: p.dir })).code).toBe("lockfile-missing");
    // A copy of prod's lockfile under another target's name is not that target's.
    await writeFile(path.join(p.dir, "agentform.staging.lock.json"), JSON.stringify(written));
    const err = thrown(() => loadLock({ dir: p.dir, target: "staging" }));
    expect(err.code).toBe("lockfile-target-mismatch");
    expect(err.message).toMatch(/was written for target "prod", not "staging"/);
  });
});
