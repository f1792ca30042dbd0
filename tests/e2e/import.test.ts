/**
 * `agentform import`: a workspace populated from outside (the raw SDK backend, not agentform)
 * becomes manifests whose first plan is adoptions with zero field changes, whose apply writes
 * nothing but the ownership markers, and after which nothing moves.
 */
import { readFile, readdir, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { safeFileStem } from "../../src/cli/import.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

interface PlanJson {
  refusals: Array<{ address: string; code: string }>;
  resources: Array<{ address: string; action: string; changes: unknown[]; repinReasons?: string[]; notes?: string[] }>;
}

const TOOLS = [
  { type: "agent_toolset_20260401", default_config: { enabled: false }, configs: [{ name: "read", enabled: true }] },
  { type: "custom", name: "lookup_invoice", description: "Fetch one invoice.", input_schema: { type: "object", properties: { invoice_id: { type: "string" } }, required: ["invoice_id"] } },
];

/** The workspace as another tool left it: two environments, three agents, a store, a vault, a deployment. */
async function populate(p: CliProject): Promise<Record<string, { id: string; version?: number }>> {
  const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  const sandbox = await raw.create("environment", { name: "sandbox", config: { type: "cloud" } });
  await raw.create("environment", { name: "Locked Down", config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["api.example.com"] } }, metadata: { team: "support" } });
  const billing = await raw.create("agent", { name: "billing", model: "claude-sonnet-5-5", system: "Answer billing questions.", tools: TOOLS });
  const style = await raw.create("skill", { display_name: "style-guide", files: skillFiles("style-guide", { "SKILL.md": "---\nname: style-guide\ndescription: House style.\n---\nWrite plainly.\n" }) });
  const docs = await raw.create("agent", { name: "docs", model: "claude-sonnet-5-5", description: "Finds documentation.", tools: [TOOLS[0]], skills: [{ type: "custom", skill_id: style.id, version: style.latest_version_id }] });
  const lead = await raw.create("agent", {
    name: "lead",
    model: "claude-sonnet-5-5",
    system: "Route requests.",
    multiagent: { type: "coordinator", agents: [{ type: "agent", id: billing.id, version: billing.version }, { type: "agent", id: docs.id, version: docs.version }] },
  });
  const notes = await raw.create("memory_store", { name: "notes", description: "What the lead learns." });
  const vault = await raw.create("vault", { display_name: "tools", metadata: { owner: "platform" } });
  await raw.create("credential", { display_name: "tools/github", vault_id: vault.id, auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "made-elsewhere" } });
  const refresh = { client_id: "agents", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post", client_secret: "cs" }, refresh_token: "rt", scope: "read" };
  await raw.create("credential", { display_name: "tools/linear", vault_id: vault.id, auth: { type: "mcp_oauth", mcp_server_url: "https://mcp.linear.app/sse", access_token: "at", expires_at: "2099-01-01T00:00:00Z", refresh } });
  await raw.create("credential", { display_name: "tools/notion", vault_id: vault.id, auth: { type: "mcp_oauth", mcp_server_url: "https://mcp.notion.com/mcp", access_token: "at" } });
  await raw.create("deployment", {
    name: "nightly",
    agent: { type: "agent", id: lead.id, version: lead.version },
    environment_id: sandbox.id,
    vault_ids: [vault.id],
    resources: [{ type: "memory_store", memory_store_id: notes.id, access: "read_only" }],
    initial_events: [{ type: "user.message", content: [{ type: "text", text: "Work the queue." }] }],
    schedule: { type: "cron", expression: "0 7 * * 1-5", timezone: "Europe/Paris" },
  });
  return { billing, docs, lead } as unknown as Record<string, { id: string; version?: number }>;
}

/** A skill upload's files under `<top>/`, each with its digest, as the raw backend takes them. */
function skillFiles(top: string, files: Record<string, string>): Array<{ path: string; sha256: string; bytes: Uint8Array }> {
  return Object.entries(files).map(([rel, text]) => {
    const bytes = new TextEncoder().encode(text);
    return { path: `${top}/${rel}`, sha256: createHash("sha256").update(bytes).digest("hex"), bytes };
  });
}

describe("agentform import", () => {
  let p: CliProject;
  const run = (...args: string[]) => p.run(...args);
  const yamlOf = async (file: string) => parse(await readFile(path.join(p.dir, file), "utf8")) as Record<string, unknown>;

  beforeEach(async () => {
    p = await cliProject({});
  });
  afterEach(() => p.close());

  it("writes manifests whose plan is adoptions with no field edits; apply writes only markers; nothing moves after", async () => {
    const agents = await populate(p);
    // Skills carry no ownership marker: import takes them only when asked, and first, so that
    // the agents written next name them by ref.
    const skills = await run("import", "--kind", "skill");
    expect(skills.stdout).toMatch(/^\+ skill\.style-guide \(.*\) -> skills\/style-guide\/ /);
    const imported = await run("import");
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("+ agent.lead (");
    expect(imported.stdout).toContain("-> environments/locked-down.yaml");
    expect(imported.stdout).toMatch(/\+ credential\.tools\/github \(.*\) -> vaults\/tools\.yaml \(entry github; its secret is named by a variable, never read\)\n/);
    expect(imported.stdout).toMatch(/Import: wrote 8 manifest\(s\), skipped 0\. /);
    expect((await yamlOf("agents/docs.yaml")).skills).toEqual([{ type: "custom", ref: "style-guide" }]);

    const lead = await yamlOf("agents/lead.yaml");
    expect(lead.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", ref: "billing" }, { type: "agent", ref: "docs" }] });
    expect(lead.agentform).toEqual({ adopt: true });
    const nightly = await yamlOf("deployments/nightly.yaml");
    expect(nightly.agent).toEqual({ ref: "lead" });
    expect(nightly.environment_id).toEqual({ ref: "sandbox" });
    expect(nightly.vault_ids).toEqual([{ ref: "tools" }]);
    // The kind's toManifest keeps a resource's fields as the API answered them (instructions: null).
    expect(nightly.resources).toEqual([{ type: "memory_store", access: "read_only", instructions: null, ref: "notes" }]);
    expect((await yamlOf("vaults/tools.yaml")).credentials).toEqual({
      github: { auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token_env: "IMPORTED_TOOLS_GITHUB_TOKEN" } },
      // Which secrets an OAuth credential takes follows from what the API shows of it.
      linear: {
        auth: {
          type: "mcp_oauth",
          mcp_server_url: "https://mcp.linear.app/sse",
          expires_at: "2099-01-01T00:00:00Z",
          refresh: { client_id: "agents", token_endpoint: "https://auth.example.com/token", token_endpoint_auth: { type: "client_secret_post", client_secret_env: "IMPORTED_TOOLS_LINEAR_CLIENT_SECRET" }, scope: "read", refresh_token_env: "IMPORTED_TOOLS_LINEAR_REFRESH_TOKEN" },
          access_token_env: "IMPORTED_TOOLS_LINEAR_ACCESS_TOKEN",
        },
      },
      notion: { auth: { type: "mcp_oauth", mcp_server_url: "https://mcp.notion.com/mcp", access_token_env: "IMPORTED_TOOLS_NOTION_ACCESS_TOKEN" } },
    });
    const tools = (await yamlOf("agents/billing.yaml")).tools as Array<Record<string, unknown>>;
    expect(tools[1]).toEqual(TOOLS[1]);
    expect(tools[0]).toMatchObject({ type: TOOLS[0]!.type, default_config: { enabled: false } });

    const plan = await run("plan", "--format", "json");
    expect(plan.stderr).toBe("");
    const json = JSON.parse(plan.stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}`).sort()).toEqual(
      ["agent.billing", "agent.docs", "agent.lead", "credential.tools/github", "credential.tools/linear", "credential.tools/notion", "deployment.nightly", "environment.Locked Down", "environment.sandbox", "memory_store.notes", "skill.style-guide", "vault.tools"].map((a) => `${a}:adopt`).sort(),
    );
    // No field edit anywhere. The only changes are references that follow an adopted agent: its
    // marker update makes it a new version, and the same single write of the referrer re-pins it.
    const edits = json.resources.flatMap((r) => r.changes.map((c) => ({ address: r.address, ...(c as { pointer: string; before: unknown; after: unknown }) })));
    expect(edits.map((c) => `${c.address} ${c.pointer.replace(/agent_\w+/, "<id>")} ${String(c.before)} -> ${String(c.after)}`)).toEqual([
      "agent.lead /multiagent/agents/<id>/version 1 -> (known after apply)",
      "agent.lead /multiagent/agents/<id>/version 1 -> (known after apply)",
      "deployment.nightly /agent/<id> 1 -> (known after apply)",
    ]);
    for (const r of json.resources.filter((x) => x.changes.length > 0)) expect(r.repinReasons).not.toEqual([]);
    // Its secret cannot be read back, so it is not compared: the plan says so.
    for (const c of ["github", "linear", "notion"]) expect(json.resources.find((r) => r.address === `credential.tools/${c}`)?.notes?.join("\n")).toMatch(/secret not checked/);

    p.cp.clearRequestLog();
    const apply = await run("apply", "--auto-approve");
    expect(apply.code).toBe(0);
    const writes = p.writes();
    // One per resource with metadata (the skill's adoption is its lockfile entry).
    expect(writes.length).toBe(11);
    // Updates in place only: no create (a POST to a collection), no archive.
    expect(writes.filter((w) => w.method !== "POST" || w.path.endsWith("/archive") || /\/v1\/[a-z_]+$/.test(w.path) || w.path.endsWith("/credentials"))).toEqual([]);

    p.cp.clearRequestLog();
    const next = await run("plan", "--detailed-exitcode");
    expect(next.code).toBe(0);
    const lock = JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, { id: string; version: number }> };
    // The marker update is the one new version each agent made (the local control plane versions metadata-only updates).
    for (const name of ["billing", "docs", "lead"]) expect(lock.agents[name]).toMatchObject({ id: agents[name]!.id, version: agents[name]!.version! + 1 });
    expect(p.writes()).toEqual([]);

    const again = await run("import");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("Import: wrote 0 manifest(s), skipped 0.\n");
  });

  it("leaves another project's resources alone, honours --kind, --name and --dry-run, and reports collisions", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    await raw.create("agent", { name: "theirs", model: "claude-sonnet-5-5", metadata: { "agentform.project": "other-team" } });
    await raw.create("agent", { name: "Helper", model: "claude-sonnet-5-5" });
    const helper = await raw.create("agent", { name: "helper", model: "claude-sonnet-5-5" });
    await raw.create("agent", { name: "boss", model: "claude-sonnet-5-5", multiagent: { type: "coordinator", agents: [{ type: "agent", id: helper.id, version: helper.version }] } });
    await raw.create("agent", { name: "mine", model: "claude-sonnet-5-5" });
    await raw.create("memory_store", { name: "notes" });
    await p.write({ "agents/taken.yaml": "name: planned\nmodel: claude-sonnet-5-5\n" });
    await raw.create("agent", { name: "Taken", model: "claude-sonnet-5-5" });

    const dry = await run("import", "--kind", "agent", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/! agent\.theirs \(.*\): not imported: project "other-team" owns it\n/);
    expect(dry.stdout).toMatch(/! agent\.Helper \(.*\): not imported: file name collision: "Helper", "helper" all map to agents\/helper\.yaml/);
    expect(dry.stdout).toMatch(/! agent\.Taken \(.*\): not imported: file name collision: agents\/taken\.yaml already exists/);
    expect(dry.stdout).toMatch(/\+ agent\.mine \(.*\) -> agents\/mine\.yaml \(dry run\)\n/);
    expect(dry.stdout).not.toContain("memory_store.notes");
    expect(dry.stdout).toMatch(/Import: would write 2 manifest\(s\), skipped 4\.\n$/);
    expect(await readdir(path.join(p.dir, "agents"))).toEqual(["taken.yaml"]);


    // A roster entry naming an agent skipped for a collision keeps its id: no manifest would answer to a ref.
    const agentsOnly = await run("import", "--kind", "agent");
    expect(agentsOnly.stdout).toMatch(/\+ agent\.boss .*\n/);
    expect(agentsOnly.stdout).toMatch(/\+ agent\.mine .*\n/);
    const boss = parse(await readFile(path.join(p.dir, "agents", "boss.yaml"), "utf8")) as { multiagent: unknown };
    expect(boss.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", id: helper.id, version: helper.version }] });
    expect((await run("import", "--name", "m*")).stdout).toBe("Import: wrote 0 manifest(s), skipped 0.\n");
    expect((await run("import", "--name", "n?tes")).stdout).toMatch(/^\+ memory_store\.notes .* -> memory_stores\/notes\.yaml\nImport: wrote 1 manifest/);
    expect((await run("import", "--kind", "robot")).stderr).toMatch(/\[import-unknown-kind\]/);
  });

  it("downloads skills into their folders as they are, adopts them through agentform.yaml, and names them by ref", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    const refunds = await raw.create("skill", { display_name: "refunds", files: skillFiles("refunds", { "SKILL.md": "---\nname: refunds\ndescription: How refunds are decided.\n---\nRefund within 30 days.\r\n", "scripts/check.py": "print('ok')\n" }) });
    const labelled = await raw.create("skill", { display_name: "Refund Rules", files: skillFiles("rules", { "SKILL.md": "---\nname: rules\ndescription: Rules.\n---\nBody.\n" }) });
    await raw.create("skill", { display_name: "tone", files: skillFiles("voice", { "SKILL.md": "---\nname: voice\ndescription: Tone of voice.\n---\nBe kind.\n" }) });
    await raw.create("agent", { name: "pinned", model: "claude-sonnet-5-5", skills: [{ type: "custom", skill_id: refunds.id, version: refunds.latest_version_id }, { type: "custom", skill_id: labelled.id }] });
    await raw.create("agent", { name: "floating", model: "claude-sonnet-5-5", skills: [{ type: "custom", skill_id: refunds.id }, { type: "anthropic", skill_id: "xlsx" }] });
    await writeFile(p.config, `# The project.\n${await readFile(p.config, "utf8")}`);

    // Without --kind skill, skills are listed and left alone: another project may own them.
    const plain = await run("import", "--kind", "agent", "--dry-run");
    expect(plain.stdout).not.toContain("skill.");
    const unasked = await run("import", "--dry-run");
    expect(unasked.stdout).toMatch(/! skill\.refunds \(.*\): not imported: a skill carries no ownership marker, so import cannot tell whether another project manages it; if none does, run `agentform import --kind skill`/);
    const out = await run("import", "--kind", "skill");
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(await run("import")).toMatchObject({ code: 0 });
    expect(out.stdout).toMatch(/\+ skill\.refunds \(.*\) -> skills\/refunds\/ \(2 file\(s\) as downloaded; adopted through agentform\.yaml's adopt:\)\n/);
    expect(out.stdout).toMatch(/! skill\.Refund Rules \(.*\): not imported: its name is not a folder name \(it would have to be "refund-rules"\)/);
    expect(out.stdout).toMatch(/! skill\.tone \(.*\): not imported: its SKILL\.md names it "voice", but agentform names a skill by its folder, "tone"/);
    // Byte for byte what was uploaded (CRLF included): any change would upload a new version.
    expect(await readFile(path.join(p.dir, "skills/refunds/SKILL.md"), "utf8")).toBe("---\nname: refunds\ndescription: How refunds are decided.\n---\nRefund within 30 days.\r\n");
    expect(await readFile(path.join(p.dir, "skills/refunds/scripts/check.py"), "utf8")).toBe("print('ok')\n");
    const config = await readFile(p.config, "utf8");
    expect(config.startsWith("# The project.\n")).toBe(true);
    expect((parse(config) as { adopt: unknown }).adopt).toEqual({ "skill/refunds": refunds.id });
    // Following the latest is a plain ref; `latest` as the API keeps it stays; a skill with no manifest keeps its id.
    expect((await yamlOf("agents/pinned.yaml")).skills).toEqual([{ type: "custom", ref: "refunds" }, { type: "custom", skill_id: labelled.id, version: "latest" }]);
    expect((await yamlOf("agents/floating.yaml")).skills).toEqual([{ type: "custom", ref: "refunds", version: "latest" }, { type: "anthropic", skill_id: "xlsx", version: "latest" }]);

    const plan = JSON.parse((await run("plan", "--format", "json")).stdout) as PlanJson;
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`).sort()).toEqual(["agent.floating:adopt:0", "agent.pinned:adopt:0", "skill.refunds:adopt:0"]);
    p.cp.clearRequestLog();
    expect((await run("apply", "--auto-approve")).code).toBe(0);
    // The two agents' markers; the skill is adopted by its lockfile entry alone.
    expect(p.writes().map((w) => w.path).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^\/v1\/agents\/agent_/)]));
    expect(p.writes()).toHaveLength(2);
    const lock = JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as { skills: Record<string, { id: string; version: string }> };
    expect(lock.skills.refunds).toMatchObject({ id: refunds.id, version: refunds.latest_version_id });
    p.cp.clearRequestLog();
    expect((await run("plan", "--detailed-exitcode")).code).toBe(0);
    expect(p.writes()).toEqual([]);
    expect((await run("import", "--kind", "skill")).stdout).toMatch(/Import: wrote 0 manifest\(s\), skipped 2\.\n$/);
  });

  it("writes long or multi-line prompts and descriptions as Markdown bodies that load back exactly", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    const system = "You write release notes.\n\n- Keep each entry to one line.\n- Link the pull request.";
    await raw.create("agent", { name: "writer", model: "claude-sonnet-5-5", system });
    await raw.create("agent", { name: "padded", model: "claude-sonnet-5-5", system: "  Leading spaces\nmatter here." });
    await raw.create("environment", { name: "lab", config: { type: "cloud" }, description: "x".repeat(300) });
    const out = await run("import");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("-> agents/writer.md");
    expect(out.stdout).toContain("-> environments/lab.md");
    // A prompt the Markdown form would change (it trims) stays in YAML.
    expect(out.stdout).toContain("-> agents/padded.yaml");
    const text = await readFile(path.join(p.dir, "agents/writer.md"), "utf8");
    expect(text.startsWith("---\n# Written by `agentform import`")).toBe(true);
    expect(text.endsWith(`---\n\n${system}\n`)).toBe(true);
    const plan = JSON.parse((await run("plan", "--format", "json")).stdout) as PlanJson;
    expect(plan.refusals).toEqual([]);
    expect(plan.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`).sort()).toEqual(["agent.padded:adopt:0", "agent.writer:adopt:0", "environment.lab:adopt:0"]);
  });

  it("writes a vault's credentials it can, and says why not the others", async () => {
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    const vault = await raw.create("vault", { display_name: "keys" });
    await raw.create("credential", { display_name: "plain", vault_id: vault.id, auth: { type: "static_bearer", mcp_server_url: "https://mcp.example.com/", token: "t" } });
    await raw.create("credential", { display_name: "Console Token", vault_id: vault.id, auth: { type: "environment_variable", secret_name: "API_KEY", secret_value: "v", networking: { type: "unrestricted" } } });
    await raw.create("credential", { display_name: "keys/theirs", vault_id: vault.id, metadata: { "agentform.project": "other-team" }, auth: { type: "static_bearer", mcp_server_url: "https://other.example.com/", token: "t" } });

    const out = await run("import");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/\+ credential\.keys\/plain \(.*\) -> vaults\/keys\.yaml \(entry plain; .*; adopting it sets its display_name to "keys\/plain"\)/);
    expect(out.stdout).toMatch(/! credential\.keys\/Console Token \(.*\): not imported: its name within the vault is not a local name/);
    expect(out.stdout).toMatch(/! credential\.keys\/theirs \(.*\): not imported: project "other-team" owns it/);
    expect(out.stdout).toMatch(/Import: wrote 1 manifest\(s\), skipped 2\./);
    expect((await yamlOf("vaults/keys.yaml")).credentials).toEqual({ plain: { auth: { type: "static_bearer", mcp_server_url: "https://mcp.example.com/", token_env: "IMPORTED_KEYS_PLAIN_TOKEN" } } });
  });

  it("derives safe file names from hostile live names", () => {
    expect(safeFileStem("../../etc/passwd")).toBe("-..-etc-passwd");
    expect(safeFileStem("..")).toBe("");
    expect(safeFileStem("a\nb\u0000c/d\\e")).toBe("a-b-c-d-e");
    expect(safeFileStem("x".repeat(200))).toHaveLength(80);
    expect(safeFileStem("Team Bot.v2")).toBe("team-bot.v2");
  });
});
