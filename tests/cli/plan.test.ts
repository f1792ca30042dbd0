/**
 * `agentform plan` end to end, in-process: real HTTP to a local control plane through the real
 * SDK, with the exit codes, formats and read-only request budget the README promises.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { Ajv } from "ajv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import type { Lockfile } from "../../src/lock/types.js";
import type { Plan } from "../../src/plan/types.js";
import { capture } from "../helpers/capture.js";

const KEY_ENV = "AGENTFORM_PLAN_TEST_KEY";
const UNSET_KEY_ENV = "AGENTFORM_PLAN_TEST_UNSET_KEY";
// Distinctive, so a leak into any output is unmistakable.
const API_KEY = ["sk", "ant", "plan", "test", "3c9f1e0d7b5a"].join("-");
const ESC = "\u001b";
const schema = JSON.parse(await readFile(new URL("../../schemas/plan.schema.json", import.meta.url), "utf8")) as object;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("agentform plan (CLI, in-process, local control plane)", () => {
  let cp: LocalControlPlane;
  let dir: string;
  let config: string;
  let runs: Run[];

  /** Runs the CLI; `env` replaces the default environment entries it names (undefined removes). */
  async function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
    const out = capture();
    const err = capture();
    const merged: NodeJS.ProcessEnv = { [KEY_ENV]: API_KEY, NO_COLOR: "1", ...env };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    const code = await main(["node", "agentform", ...args, "--config", config], { stdout: out.stream, stderr: err.stream, env: merged });
    const result = { code, stdout: out.text(), stderr: err.text() };
    runs.push(result);
    return result;
  }
  const sdk = () => new Anthropic({ apiKey: API_KEY, baseURL: cp.baseUrl, maxRetries: 0 });
  const readLockFile = async () => JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as Lockfile;
  const writes = () => cp.requestLog().filter((e) => e.write);
  async function applied(): Promise<Lockfile> {
    const result = await run(["apply", "--auto-approve"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return readLockFile();
  }

  beforeEach(async () => {
    runs = [];
    cp = await startLocalControlPlane({ apiKey: API_KEY });
    dir = await mkdtemp(path.join(tmpdir(), "agentform-plan-cli-"));
    config = path.join(dir, "agentform.yaml");
    await writeFile(
      config,
      [
        "project: support-bots",
        "targets:",
        "  default:",
        `    base_url: ${cp.baseUrl}`,
        `    api_key_env: ${KEY_ENV}`,
        "    writes_per_minute: 100000",
        "  keyless:",
        `    base_url: ${cp.baseUrl}`,
        `    api_key_env: ${UNSET_KEY_ENV}`,
        "",
      ].join("\n"),
    );
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    await writeFile(path.join(dir, "agents", "triage.yaml"), "name: triage\nmodel: claude-sonnet-5-5\nsystem: Sort incoming tickets.\n");
    await writeFile(path.join(dir, "agents", "billing.yaml"), "name: billing\nmodel: claude-sonnet-5-5\nsystem: Answer billing questions.\n");
    await writeFile(path.join(dir, "agents", "refunds.yaml"), "name: refunds\nmodel: claude-sonnet-5-5\nsystem: Process refunds.\n");
    await writeFile(path.join(dir, "environments", "sandbox.yaml"), "name: sandbox\nconfig:\n  type: cloud\n");
  });

  afterEach(async () => {
    // Every run of every test, successful or not: the key never reaches a user's terminal.
    for (const r of runs) {
      expect(r.stdout).not.toContain(API_KEY);
      expect(r.stderr).not.toContain(API_KEY);
    }
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a typo in paths: is shown as a warning, and --prune refuses to archive every agent because of it", async () => {
    await applied();
    await writeFile(config, (await readFile(config, "utf8")).replace("project: support-bots", "project: support-bots\npaths:\n  agents: agentz"));
    const plan = await run(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toMatch(/AF-PATH-MISSING/);
    expect(plan.stderr).toMatch(/agentz/);
    cp.clearRequestLog();
    const prune = await run(["apply", "--prune", "--auto-approve"]);
    expect(prune.code).toBe(3);
    expect(prune.stdout + prune.stderr).toMatch(/every agent .*\[prune-everything\]/);
    expect(writes()).toEqual([]);
    expect((await sdk().beta.agents.list()).data.every((a) => a.archived_at === null)).toBe(true);
  });

  it("--detailed-exitcode: 2 with changes, 0 without; without the flag 0 even with changes; plan writes nothing", async () => {
    const plain = await run(["plan"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/Plan: 4 to create/);
    const detailed = await run(["plan", "--detailed-exitcode"]);
    expect(detailed.code).toBe(2);
    expect(detailed.stdout).toMatch(/\+ agent\.triage: create/);
    expect(writes()).toEqual([]);

    const lock = await applied();
    cp.clearRequestLog();
    const clean = await run(["plan", "--detailed-exitcode"]);
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/No changes/);
    expect(writes()).toEqual([]);
    // "No changes" must also mean nothing moved: every agent is still at the version applied.
    const live = await sdk().beta.agents.retrieve(lock.agents.triage!.id);
    expect(live.version).toBe(1);
    expect(await readLockFile()).toEqual(lock);
  });

  it("refuses (exit 3) an unmanaged live agent with a manifest's name; --adopt plans an adopt (exit 0)", async () => {
    const foreign = await sdk().beta.agents.create({ name: "triage", model: "claude-sonnet-5-5", system: "Sort incoming tickets." });
    cp.clearRequestLog();

    const refused = await run(["plan", "--detailed-exitcode"]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/Refused: 1 safety rule/);
    expect(refused.stdout).toMatch(/✗ agent\.triage: .*\[unmanaged-needs-adopt\]/);
    expect(refused.stdout).toMatch(/--adopt/);

    const adopted = await run(["plan", "--adopt"]);
    expect(adopted.stderr).toBe("");
    expect(adopted.code).toBe(0);
    expect(adopted.stdout).toMatch(/~ agent\.triage: adopt/);
    expect(adopted.stdout).toMatch(/takes ownership: sets metadata agentform\.project/);

    const json = await run(["plan", "--adopt", "--format", "json"]);
    const plan = JSON.parse(json.stdout) as Plan;
    const triage = plan.resources.find((r) => r.address === "agent.triage");
    expect(triage?.action).toBe("adopt");
    expect(triage?.id).toBe(foreign.id);
    expect(plan.refusals).toEqual([]);
    expect(writes()).toEqual([]);
  });

  it("invalid manifests exit 4 naming the file, and no write reaches the server (the lists that started are abandoned)", async () => {
    await writeFile(path.join(dir, "agents", "broken.yaml"), "name: broken\nsystem: no model here\nfavourite_colour: blue\n");
    // triage and billing are valid and not live yet: a plan or apply that went on would create them.
    for (const args of [["plan", "--detailed-exitcode"], ["apply", "--auto-approve"]]) {
      const result = await run(args);
      expect(result.code).toBe(4);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/agents\/broken\.yaml:1:1 missing required key "model"/);
      expect(result.stderr).toMatch(/\[invalid-manifests\]/);
      expect(result.stderr).toMatch(/hint: .*nothing was changed/);
      expect(result.stderr).not.toMatch(/nothing was sent/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(writes()).toEqual([]);
    // Reads only, and none still under way once the command has returned.
    const settled = cp.requestLog();
    expect(settled.every((e) => e.method === "GET")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cp.requestLog()).toEqual(settled);
    await expect(readFile(path.join(dir, "agentform.lock.json"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("invalid manifests outrank a failing list: a wrong API key still gets the manifest diagnostics, exit 4", async () => {
    await writeFile(path.join(dir, "agents", "broken.yaml"), "name: broken\nsystem: no model here\n");
    const result = await run(["plan"], { [KEY_ENV]: "wrong-key-for-this-test" });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/agents\/broken\.yaml:1:1 missing required key "model" \[AF-SCHEMA-REQUIRED\]/);
    expect(result.stderr).toMatch(/\[invalid-manifests\]/);
    expect(result.stderr).not.toMatch(/401|authentication/i);
    // The same key with valid manifests: the list's own failure is what is reported.
    await rm(path.join(dir, "agents", "broken.yaml"));
    const unauthorized = await run(["plan"], { [KEY_ENV]: "wrong-key-for-this-test" });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/401/);
    expect(writes()).toEqual([]);
  });

  it("--fail-on-drift exits 3 after an out-of-band update, and the text marks the drift", async () => {
    const lock = await applied();
    const triageId = lock.agents.triage!.id;
    await sdk().beta.agents.update(triageId, { version: 1, system: "Edited in the console." });
    cp.clearRequestLog();

    const failing = await run(["plan", "--fail-on-drift"]);
    expect(failing.code).toBe(3);
    expect(failing.stdout).toMatch(/agent\.triage: update/);
    expect(failing.stdout).toMatch(/! drift: changed outside agentform since the lockfile \(version 1 → 2\)/);
    // Only the drifted agent is marked.
    expect(failing.stdout.match(/drift:/g)).toHaveLength(1);

    const lenient = await run(["plan"]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/! drift: changed outside agentform since the lockfile \(version 1 → 2\)/);
    expect(writes()).toEqual([]);
  });

  it("live edited and reverted outside agentform equals the manifest: a lockfile-only change, not drift", async () => {
    const lock = await applied();
    const triageId = lock.agents.triage!.id;
    await sdk().beta.agents.update(triageId, { version: 1, system: "Edited in the console." });
    await sdk().beta.agents.update(triageId, { version: 2, system: "Sort incoming tickets." });
    cp.clearRequestLog();

    const detailed = await run(["plan", "--detailed-exitcode"]);
    expect(detailed.code).toBe(0);
    expect(detailed.stdout).toMatch(/~ agent\.triage: the lockfile records version 1, but live version 3 already matches the manifest; apply rewrites the entry/);
    expect(detailed.stdout).toMatch(/the pinned version 1 has the manifest's content/);
    expect(detailed.stdout).toMatch(/No changes to live resources\. The lockfile is behind/);
    const strict = await run(["plan", "--detailed-exitcode", "--fail-on-drift"]);
    expect(strict.code).toBe(0);
    expect(writes()).toEqual([]);
  });

  it("--explain makes exactly one GET of the locked version per drifted agent and shows the changed field", async () => {
    const lock = await applied();
    const triageId = lock.agents.triage!.id;
    const billingId = lock.agents.billing!.id;
    await sdk().beta.agents.update(triageId, { version: 1, system: "Edited in the console." });
    await sdk().beta.agents.update(billingId, { version: 1, description: "Added in the console" });

    cp.clearRequestLog();
    const withoutExplain = await run(["plan"]);
    expect(withoutExplain.code).toBe(0);
    const baseline = cp.requestLog();
    const isList = (e: { path: string }) => ["/v1/agents", "/v1/environments", "/v1/skills", "/v1/vaults", "/v1/memory_stores", "/v1/deployments"].includes(e.path);
    expect(baseline.every((e) => e.method === "GET" && isList(e))).toBe(true);
    expect(withoutExplain.stdout).not.toMatch(/drift detail/);

    cp.clearRequestLog();
    const explained = await run(["plan", "--explain"]);
    expect(explained.stderr).toBe("");
    expect(explained.code).toBe(0);
    const log = cp.requestLog();
    const extra = log.filter((e) => !isList(e));
    expect(log).toHaveLength(baseline.length + 2);
    expect(extra.map((e) => `${e.method} ${e.path}`).sort()).toEqual([`GET /v1/agents/${billingId}`, `GET /v1/agents/${triageId}`].sort());
    for (const e of extra) {
      expect(new URLSearchParams(e.query).get("version")).toBe("1");
      expect(e.status).toBe(200);
    }
    expect(writes()).toEqual([]);

    const triageBlock = block(explained.stdout, "agent.triage");
    expect(triageBlock).toMatch(/drift detail \(locked version → live\):/);
    expect(triageBlock).toMatch(/\/system: "Sort incoming tickets\." → "Edited in the console\."/);
    const billingBlock = block(explained.stdout, "agent.billing");
    expect(billingBlock).toMatch(/drift detail \(locked version → live\):/);
    expect(billingBlock).toMatch(/\/description/);
    expect(explained.stdout).not.toMatch(/agent\.refunds/);
  });

  it("--format json parses, validates against schemas/plan.schema.json (strict ajv) and is formatVersion 1", async () => {
    const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
    const validate = ajv.compile(schema);

    const fresh = await run(["plan", "--format", "json"]);
    expect(fresh.code).toBe(0);
    const plan = JSON.parse(fresh.stdout) as Plan;
    expect(validate(plan), JSON.stringify(validate.errors)).toBe(true);
    expect(plan.formatVersion).toBe(1);
    expect(plan.project).toBe("support-bots");
    expect(plan.target).toBe("default");
    expect(plan.summary.create).toBe(4);
    expect(plan.resources.map((r) => r.address).sort()).toEqual(["agent.billing", "agent.refunds", "agent.triage", "environment.sandbox"]);

    // A drifted, explained plan exercises the optional parts of the schema too.
    const lock = await applied();
    await sdk().beta.agents.update(lock.agents.triage!.id, { version: 1, system: "Edited in the console." });
    const drifted = await run(["plan", "--format", "json", "--explain", "--detailed-exitcode"]);
    expect(drifted.code).toBe(2);
    const driftPlan = JSON.parse(drifted.stdout) as Plan;
    expect(validate(driftPlan), JSON.stringify(validate.errors)).toBe(true);
    expect(driftPlan.driftDetected).toBe(true);
    const triage = driftPlan.resources.find((r) => r.address === "agent.triage");
    expect(triage?.drift?.detected).toBe(true);
    expect(triage?.drift?.changes?.map((c) => c.pointer)).toContain("/system");
  });

  it("--format markdown starts with the hidden marker comment", async () => {
    const result = await run(["plan", "--format", "markdown"]);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("<!-- agentform-plan:support-bots/default -->")).toBe(true);
    expect(result.stdout).toMatch(/agent\.triage/);
  });

  it("--out writes a plan with an inputsDigest, and `apply <file>` applies it", async () => {
    const previous = process.cwd();
    process.chdir(dir);
    let saved: Run;
    try {
      saved = await run(["plan", "--out", "plan.json"]);
    } finally {
      process.chdir(previous);
    }
    expect(saved.code).toBe(0);
    expect(saved.stdout).toMatch(/Plan: 4 to create/);
    expect(saved.stderr).toMatch(/Saved the plan to plan\.json; apply it with `agentform apply plan\.json`/);
    const planFile = path.join(dir, "plan.json");
    const text = await readFile(planFile, "utf8");
    expect(text).not.toContain(API_KEY);
    const plan = JSON.parse(text) as Plan;
    expect(plan.formatVersion).toBe(1);
    expect(plan.inputsDigest).toMatch(/\S{16,}/);
    expect(writes()).toEqual([]);

    const result = await run(["apply", planFile]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(writes()).toHaveLength(4);
    const lock = await readLockFile();
    expect(Object.keys(lock.agents).sort()).toEqual(["billing", "refunds", "triage"]);
    expect(JSON.stringify(lock)).not.toContain(API_KEY);
    const after = await run(["plan", "--detailed-exitcode"]);
    expect(after.code).toBe(0);
  });

  it("--out onto a directory exits 4 with plan-out-unwritable and prints no plan", async () => {
    const result = await run(["plan", "--out", path.join(dir, "agents")]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/Cannot write the plan to .*agents.* \[plan-out-unwritable\]/);
    expect(result.stderr).toMatch(/hint: /);
    // No partial write: the temp file is cleaned up.
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("--out under a path that cannot be a folder is the same clean error, not an internal one", async () => {
    await writeFile(path.join(dir, "not-a-dir"), "x");
    const result = await run(["plan", "--out", path.join(dir, "not-a-dir", "sub", "plan.json")]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/\[plan-out-unwritable\]/);
    expect(result.stderr).not.toMatch(/internal/);
  });

  it("no ANSI escape codes with NO_COLOR or when stdout is not a terminal (FORCE_COLOR shows the test can see them)", async () => {
    await applied();
    const lock = await readLockFile();
    await sdk().beta.agents.update(lock.agents.triage!.id, { version: 1, system: "Edited in the console." });
    await writeFile(path.join(dir, "agents", "new.yaml"), "name: new-agent\nmodel: claude-sonnet-5-5\nsystem: Line one.\nx: 1\n");

    // An invalid manifest gives an error on stderr; a valid tree gives a coloured-capable plan.
    const invalidNoTty = await run(["plan"], { NO_COLOR: undefined });
    expect(invalidNoTty.code).toBe(4);
    expect(invalidNoTty.stderr).not.toContain(ESC);
    await writeFile(path.join(dir, "agents", "new.yaml"), "name: new-agent\nmodel: claude-sonnet-5-5\nsystem: |\n  Line one.\n  Line two.\n");

    const forced = await run(["plan", "--explain"], { NO_COLOR: undefined, FORCE_COLOR: "1" });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(ESC);

    const noColor = await run(["plan", "--explain"], { NO_COLOR: "1", FORCE_COLOR: "1" });
    const nonTty = await run(["plan", "--explain"], { NO_COLOR: undefined });
    for (const r of [noColor, nonTty]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/agent\.new-agent: create/);
      expect(r.stdout).toMatch(/drift/);
      expect(r.stdout).not.toContain(ESC);
      expect(r.stderr).not.toContain(ESC);
    }
    // Same plan, only the colour differs.
    expect(forced.stdout.replace(/\u001b\[[0-9;]*m/g, "")).toBe(nonTty.stdout);
  });

  it("--target nope exits 4 listing the declared targets; nothing is sent", async () => {
    const result = await run(["plan", "--target", "nope"]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/Target "nope" is not declared/);
    expect(result.stderr).toMatch(/Declared targets: default, keyless/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(cp.requestLog()).toEqual([]);
  });

  it("a target whose api_key_env is unset exits 4 with a hint, no stack trace, and nothing sent", async () => {
    const result = await run(["plan", "--target", "keyless"], { AGENTFORM_DEBUG: undefined });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`${UNSET_KEY_ENV}, which is not set`));
    expect(result.stderr).toMatch(new RegExp(`hint: export ${UNSET_KEY_ENV}=`));
    expect(result.stderr).toMatch(/\[api-key-missing\]/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/Error:/);
    expect(cp.requestLog()).toEqual([]);

    // An empty value is as unset as a missing one.
    const empty = await run(["plan", "--target", "keyless"], { [UNSET_KEY_ENV]: "" });
    expect(empty.code).toBe(4);
    expect(empty.stderr).toMatch(/\[api-key-missing\]/);
  });
});

/** The lines of one resource's entry in a text plan: its header line up to the next blank line. */
function block(text: string, address: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.includes(` ${address}:`));
  if (start < 0) return "";
  const end = lines.findIndex((l, i) => i > start && l.trim() === "");
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}
