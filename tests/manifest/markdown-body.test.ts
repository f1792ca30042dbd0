/**
 * The Markdown form of every kind that has one, through loadProject over real temporary project
 * folders: a `.md` manifest is its YAML frontmatter plus its kind's body field (an agent's
 * `system`, an environment's and a memory store's `description`, a deployment's one opening
 * user message), and loads to exactly the spec of the equivalent YAML. Conflicts, positions in
 * the body, secrets in it, CRLF, empty bodies, and the kinds without a Markdown form.
 */
import { describe, expect, it } from "vitest";
import { tempProjects } from "../helpers/temp-project.js";
import { loadConfig, loadProject } from "../../src/manifest/index.js";
import type { Diagnostic, LoadResult } from "../../src/manifest/types.js";

const project = tempProjects("markdown-body");

async function load(dir: string, paths?: string[]): Promise<LoadResult> {
  return loadProject(await loadConfig({ cwd: dir }), paths ? { paths, cwd: dir } : {});
}

const brief = (d: Diagnostic) => `${d.file}:${d.line}:${d.column} ${d.code}`;

const PROSE = "# Role\n\nYou triage `support` tickets:\n\n- label them\n- link duplicates\n\n---\n\nNever close one yourself.";

/** One project of each form: the same four manifests, the long text as a body or as a YAML value. */
function fleet(form: "yaml" | "md", text = PROSE): Record<string, string> {
  const q = JSON.stringify(text);
  const events = `[{type: user.message, content: [{type: text, text: ${q}}]}]`;
  const file = (folder: string, name: string, frontmatter: string, field: string, value: string) =>
    form === "yaml" ? { [`${folder}/${name}.yaml`]: `${frontmatter}${field}: ${value}\n` } : { [`${folder}/${name}.md`]: `---\n${frontmatter}---\n\n${text}\n` };
  return {
    ...file("agents", "triage", "name: triage\nmodel: claude-sonnet-5-5\ndescription: Triage.\n", "system", q),
    ...file("environments", "sandbox", "name: sandbox\nconfig: {type: cloud, networking: {type: unrestricted}}\n", "description", q),
    ...file("memory_stores", "notes", "name: notes\nmetadata: {team: support}\n", "description", q),
    ...file("deployments", "nightly", "name: nightly\nagent: {ref: triage}\nenvironment_id: {ref: sandbox}\nresources:\n  - {type: memory_store, ref: notes, access: read_write}\n", "initial_events", events),
  };
}

/** An environment for deployments to run in. */
const ENV = { "environments/e.yaml": "name: e\nconfig: {type: cloud}\n" };

const KINDS_WITH_BODY = ["agent", "environment", "memory_store", "deployment"] as const;

describe("the Markdown form loads as the equivalent YAML", () => {
  it("gives every kind with a body the same spec, field by field", async () => {
    const yaml = await load(await project(fleet("yaml")));
    const md = await load(await project(fleet("md")));
    expect(yaml.diagnostics).toEqual([]);
    expect(md.diagnostics).toEqual([]);
    for (const kind of KINDS_WITH_BODY) {
      expect(md.manifests[kind].map((m) => m.file.endsWith(".md"))).toEqual([true]);
      expect(md.manifests[kind][0]!.spec).toEqual(yaml.manifests[kind][0]!.spec);
    }
    expect(md.manifests.agent[0]!.spec.system).toBe(PROSE);
    expect(md.manifests.environment[0]!.spec.description).toBe(PROSE);
    expect(md.manifests.memory_store[0]!.spec.description).toBe(PROSE);
    expect(md.manifests.deployment[0]!.spec.initial_events).toEqual([{ type: "user.message", content: [{ type: "text", text: PROSE }] }]);
  });

  it("with CRLF line endings, gives the same spec as with LF (no phantom diff on a Windows checkout)", async () => {
    const lf = await load(await project(fleet("md")));
    const crlfFiles = Object.fromEntries(Object.entries(fleet("md")).map(([f, t]) => [f, f.endsWith(".md") ? t.replace(/\n/g, "\r\n") : t]));
    const crlf = await load(await project(crlfFiles));
    expect(Object.values(crlfFiles).filter((t) => t.includes("\r\n")).length).toBe(4);
    expect(crlf.diagnostics).toEqual([]);
    for (const kind of KINDS_WITH_BODY) {
      expect(crlf.manifests[kind][0]!.spec).toEqual(lf.manifests[kind][0]!.spec);
    }
    expect(crlf.manifests.deployment[0]!.spec.initial_events).toEqual([{ type: "user.message", content: [{ type: "text", text: PROSE }] }]);
  });

  it("trims the body: blank lines and spaces around it are not part of the value", async () => {
    const dir = await project({ "memory_stores/notes.md": "---\nname: notes\n---\n\n\n   Resolved issues, newest first.  \n\n\n" });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.memory_store[0]!.spec).toEqual({ name: "notes", description: "Resolved issues, newest first." });
  });

  it("an empty or blank body sets nothing: the frontmatter alone is the manifest", async () => {
    const dir = await project({
      "environments/bare.md": "---\nname: bare\nconfig: {type: cloud}\n---\n",
      "environments/blank.md": "---\nname: blank\nconfig: {type: cloud}\n---\n\n  \n\t\n",
      "memory_stores/notes.md": "---\nname: notes\ndescription: Set in the frontmatter.\n---\n\n",
      "agents/a.md": "---\nname: a\nmodel: claude-sonnet-5-5\n---\n",
      "deployments/d.md": "---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: bare}\ninitial_events: [{type: user.message, content: [{type: text, text: Go.}]}, {type: user.message, content: [{type: text, text: Again.}]}]\n---\n",
    });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.environment.map((m) => m.spec)).toEqual([
      { name: "bare", config: { type: "cloud" } },
      { name: "blank", config: { type: "cloud" } },
    ]);
    expect(result.manifests.memory_store[0]!.spec).toEqual({ name: "notes", description: "Set in the frontmatter." });
    expect(result.manifests.agent[0]!.spec).toEqual({ name: "a", model: "claude-sonnet-5-5" });
    expect((result.manifests.deployment[0]!.spec.initial_events as unknown[]).length).toBe(2);
  });

  it("a deployment with an empty body and no initial_events in the frontmatter misses them (the schema says so)", async () => {
    const dir = await project({ ...ENV, "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\n", "deployments/d.md": "---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\n---\n\n" });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => `${brief(d)} ${d.message}`)).toEqual(['deployments/d.md:2:1 AF-SCHEMA-REQUIRED missing required key "initial_events"']);
  });
});

describe("the field set twice", () => {
  it("is AF-MD-BODY-CONFLICT at the frontmatter's key, naming the field, for every kind", async () => {
    const dir = await project({
      "agents/a.md": "---\nname: a\nmodel: claude-sonnet-5-5\nsystem: Also here.\n---\nThe prompt.\n",
      "environments/e.md": "---\nname: e\nconfig: {type: cloud}\nmetadata: {team: x}\ndescription: Also here.\n---\nThe description.\n",
      "memory_stores/m.md": "---\n# a comment first\nname: m\n  # and an indented one\ndescription: Also here.\n---\n\nThe description.\n",
      "deployments/d.md": "---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\ninitial_events:\n  - {type: user.message, content: [{type: text, text: Go.}]}\n---\nThe task.\n",
    });
    const result = await load(dir);
    const conflicts = result.diagnostics.filter((d) => d.code === "AF-MD-BODY-CONFLICT");
    expect(conflicts.map((d) => `${brief(d)} ${d.path}`)).toEqual([
      "agents/a.md:4:1 AF-MD-BODY-CONFLICT system",
      "deployments/d.md:5:1 AF-MD-BODY-CONFLICT initial_events",
      "environments/e.md:5:1 AF-MD-BODY-CONFLICT description",
      "memory_stores/m.md:5:1 AF-MD-BODY-CONFLICT description",
    ]);
    expect(conflicts.map((d) => d.message)).toEqual([
      "the frontmatter sets `system`, but in a .md agent manifest the Markdown body is the system prompt (`system`)",
      "the frontmatter sets `initial_events`, but in a .md deployment manifest the Markdown body is the opening user message (`initial_events`)",
      "the frontmatter sets `description`, but in a .md environment manifest the Markdown body is the environment's description (`description`)",
      "the frontmatter sets `description`, but in a .md memory_store manifest the Markdown body is the store's description (`description`)",
    ]);
    for (const d of conflicts) expect(d.hint).toContain(`remove \`${d.path}:\` from the frontmatter`);
    expect(result.diagnostics.filter((d) => d.code !== "AF-MD-BODY-CONFLICT")).toEqual([]);
  });
});

describe("positions inside the body", () => {
  it("a schema problem anywhere in the body's field is at the body, line and column", async () => {
    // A whole-string reference takes the value's type: a number where text belongs.
    const dir = await project({
      "agentform.yaml": "project: demo\nvars:\n  N: 7\n",
      "agents/a.md": "---\nname: a\nmodel: claude-sonnet-5-5\n---\n\n\n  ${vars.N}\n",
      "environments/e.md": "---\nname: e\nconfig: {type: cloud}\n---\n${vars.N}\n",
      "memory_stores/m.md": "---\nname: m\n---\n\n    ${vars.N}\n",
      "deployments/d.md": "---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\n---\n\n\n ${vars.N}\n",
    });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => `${brief(d)} ${d.path}`)).toEqual([
      "agents/a.md:7:3 AF-SCHEMA-TYPE system",
      "deployments/d.md:8:2 AF-SCHEMA-TYPE initial_events[0].content[0].text",
      "environments/e.md:5:1 AF-SCHEMA-TYPE description",
      "memory_stores/m.md:5:5 AF-SCHEMA-TYPE description",
    ]);
    expect(result.diagnostics[0]!.hint).toContain("${vars.N}");
  });

  it("an unknown var in the body, and a rule's finding on the body's field, are at the body", async () => {
    const dir = await project({
      "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\n",
      ...ENV,
      "deployments/d.md": "---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\n---\nRun for ${vars.TEAM}.\n",
      "memory_stores/m.md": `---\nname: m\n---\n\n\n${"x".repeat(1025)}\n`,
    });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => `${brief(d)} ${d.path}`)).toEqual([
      "deployments/d.md:6:1 AF-VAR-UNKNOWN initial_events[0].content[0].text",
      "memory_stores/m.md:6:1 AF-MEMORY-STORE-DESCRIPTION description",
    ]);
  });

  it("a loaded manifest locates every pointer into the body's field at the body, others in the frontmatter", async () => {
    const dir = await project(fleet("md"));
    const result = await load(dir);
    const at = (kind: (typeof KINDS_WITH_BODY)[number], pointer: string) => result.manifests[kind][0]!.locate(pointer);
    expect(at("deployment", "/initial_events")).toEqual({ line: 9, column: 1 });
    expect(at("deployment", "/initial_events/0/content/0/text")).toEqual({ line: 9, column: 1 });
    expect(at("deployment", "/agent")).toEqual({ line: 3, column: 1 });
    expect(at("environment", "/description")).toEqual({ line: 6, column: 1 });
    expect(at("environment", "/config")).toEqual({ line: 3, column: 1 });
    expect(at("memory_store", "/description")).toEqual({ line: 6, column: 1 });
    expect(at("agent", "/system")).toEqual({ line: 7, column: 1 });
    expect(at("agent", "/description")).toEqual({ line: 4, column: 1 });
  });
});

describe("the frontmatter's end", () => {
  it("is a `---` line at column 0 only: one inside an indented block scalar is part of the value", async () => {
    const dir = await project({
      "agents/a.md": "---\nname: a\nmodel: claude-sonnet-5-5\ndescription: |\n  Before.\n  ---\n  After.\n---\nThe prompt.\n",
      "environments/e.md": "---\nname: e\nconfig: {type: cloud}\nmetadata:\n  note: |-\n    ---\n---\n---\nThe body, after a rule.\n",
    });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.agent[0]!.spec).toEqual({ name: "a", model: "claude-sonnet-5-5", description: "Before.\n---\nAfter.\n", system: "The prompt." });
    expect(result.manifests.environment[0]!.spec).toEqual({ name: "e", config: { type: "cloud" }, metadata: { note: "---" }, description: "---\nThe body, after a rule." });
    expect(result.manifests.environment[0]!.locate("/description")).toEqual({ line: 8, column: 1 });
  });

  it("missing, it is AF-MD-FRONTMATTER with a hint naming the kind's body field", async () => {
    const dir = await project({
      "deployments/d.md": "---\nname: d\n  ---\nRun.\n",
      "environments/e.md": "# Just notes\n",
      "elsewhere/x.md": "no frontmatter\n",
    });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["deployments/d.md:1:1 AF-MD-FRONTMATTER", "environments/e.md:1:1 AF-MD-FRONTMATTER"]);
    expect(result.diagnostics[0]!.hint).toContain("the opening user message (`initial_events`)");
    expect(result.diagnostics[1]!.hint).toContain("the environment's description (`description`)");
    // Outside the configured folders a .md file is still taken for an agent.
    const named = await load(dir, ["elsewhere/x.md"]);
    expect(named.diagnostics.map(brief)).toEqual(["elsewhere/x.md:1:1 AF-MD-FRONTMATTER"]);
    expect(named.diagnostics[0]!.hint).toContain("A .md agent manifest");
    expect(named.diagnostics[0]!.hint).toContain("(`system`)");
  });
});

describe("secrets in the body", () => {
  const token = ["gh", "p_", "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8aB3dE5gH7j"].join("");

  it("are reported at the body and named by the field the body gives", async () => {
    const dir = await project({
      "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\n",
      ...ENV,
      "deployments/d.md": `---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\n---\nUse ${token} to push.\n`,
      "environments/sandbox.md": `---\nname: sandbox\nconfig: {type: cloud}\n---\nThe token is ${token}.\n`,
    });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => `${brief(d)} ${d.path}`)).toEqual([
      "deployments/d.md:6:1 AF-SECRET initial_events[0].content[0].text",
      "environments/sandbox.md:5:1 AF-SECRET description",
    ]);
    expect(result.diagnostics[0]!.hint).toContain('add "/initial_events/0/content/0/text" to agentform.allow_secret_pattern');
    expect(result.diagnostics.map((d) => d.message).join("\n")).not.toContain(token);
  });

  it("are exempted by the pointer of the body's field, as in the YAML form", async () => {
    const dir = await project({
      "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\n",
      ...ENV,
      "deployments/d.md": `---\nname: d\nagent: {ref: a}\nenvironment_id: {ref: e}\nagentform:\n  allow_secret_pattern: [/initial_events/0/content/0/text]\n---\nTokens look like ${token}.\n`,
      "memory_stores/m.md": `---\nname: m\nagentform:\n  allow_secret_pattern: [/description]\n---\nTokens look like ${token}.\n`,
    });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.deployment).toHaveLength(1);
  });
});

describe("kinds without a Markdown form", () => {
  it("a .md file in vaults/ is skipped by the scan, and refused when named", async () => {
    const dir = await project({
      "vaults/github-tools.yaml": "display_name: github-tools\n",
      "vaults/notes.md": "---\ndisplay_name: notes\n---\nAbout our vaults.\n",
    });
    const all = await load(dir);
    expect(all.diagnostics).toEqual([]);
    expect(all.manifests.vault.map((v) => v.name)).toEqual(["github-tools"]);
    const named = await load(dir, ["vaults/notes.md"]);
    expect(named.diagnostics.map((d) => `${brief(d)} ${d.message}`)).toEqual(["vaults/notes.md:1:1 AF-MD-NO-FORM vault manifests have no Markdown form, so this .md file is not read as one"]);
    expect(named.diagnostics[0]!.hint).toContain("deployment (body: `initial_events`)");
    expect(named.manifests.vault).toEqual([]);
  });

  it("a secret in a refused .md file is still reported", async () => {
    const token = ["gh", "p_", "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8aB3dE5gH7j"].join("");
    const dir = await project({ "vaults/notes.md": `---\ndisplay_name: notes\n---\n${token}\n` });
    const named = await load(dir, ["vaults/notes.md"]);
    expect(named.diagnostics.map(brief)).toEqual(["vaults/notes.md:1:1 AF-MD-NO-FORM", "vaults/notes.md:4:1 AF-SECRET"]);
  });
});
