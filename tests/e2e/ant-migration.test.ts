/**
 * `agentform import --from-ant claude-lock.json`: a repository kept by the official CLI's
 * declarative mode (`ant apply`) is converted in place into agentform manifests, and the
 * workspace `ant apply` left behind is taken over without re-creating anything.
 *
 * The workspace is built here as `ant apply` would have left it: raw SDK calls (not agentform)
 * with bodies written by hand from tests/fixtures/ant-repo (references resolved to ids, pinned
 * unless the file says `version: latest`, Markdown bodies in their kind's long text field, data
 * files of tools and MCP servers spliced in), and a claude-lock.json recording what was created.
 * Then: the conversion, and the guarantee after it (validate passes; the plan only adopts, with
 * nothing to edit; apply writes only ownership markers; the lockfile holds the very ids ant made;
 * nothing moves after).
 */
import { createHash } from "node:crypto";
import { cp, readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane, ResourceKind } from "../../src/backends/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/ant-repo/", import.meta.url));

/** The inline skill id code-reviewer.md names: a skill another team manages, not in the repository. */
const INLINE_SKILL = "skill_011CVnF7hQq2sTz4LbWm8Xd3";
/** The GitHub source code-reviewer.md names, as written there and as claude-lock.json keys it. */
const GITHUB_SKILL = "https://github.com/acme/agent-skills/tree/main/skills/changelog-writer";
const GITHUB_REVISION = "4f1c9b2e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c";
const KNOWN_AFTER_APPLY = "(known after apply)";

type Obj = Record<string, unknown>;

/** One entry of claude-lock.json's `resources`. */
interface AntEntry {
  kind: string;
  id: string;
  version?: string;
  hash: string;
  remote_hash?: string;
  revision?: string;
  subpath?: string;
}

interface PlanJson {
  refusals: Array<{ address: string; code: string }>;
  resources: Array<{ address: string; action: string; changes: Array<{ pointer: string; before: unknown; after: unknown }>; repinReasons?: string[] }>;
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** JSON with keys sorted at every level, as claude-lock.json is written. */
function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.keys(value as Obj).sort().map((k) => [k, sortedJson((value as Obj)[k])]));
  }
  return value;
}

/** Frontmatter and body of a Markdown file: the frontmatter ends at the first `---` line at column 0. */
function splitMarkdown(text: string): { frontmatter: string; body: string } {
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!m) throw new Error("no frontmatter");
  return { frontmatter: m[1] ?? "", body: m[2] ?? "" };
}

/** Every file under `dir` (relative path → sha256), `.agentform/` left out. */
async function tree(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (child === ".agentform") continue;
    if (entry.isDirectory()) Object.assign(out, await tree(dir, child));
    else out[child] = sha256(await readFile(path.join(dir, child)));
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * The workspace as `ant apply` left it, and the claude-lock.json it wrote. Every body is written
 * here from the fixture's files by hand: what the file says, with each reference replaced by what
 * ant sends for it.
 */
async function populate(p: CliProject): Promise<{ raw: ControlPlane; resources: Record<string, AntEntry> }> {
  const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  const text = (file: string) => readFile(path.join(p.dir, file), "utf8");
  const yamlOf = async (file: string) => parse(await text(file)) as Obj;
  const jsonOf = async (file: string) => JSON.parse(await text(file)) as Obj;
  const markdownOf = async (file: string) => {
    const { frontmatter, body } = splitMarkdown(await text(file));
    return { fm: parse(frontmatter) as Obj, body: body.trim() };
  };
  const resources: Record<string, AntEntry> = {};
  const record = (key: string, kind: string, live: Obj, sent: unknown, version?: string | number) => {
    resources[key] = { kind, id: live.id as string, ...(version === undefined ? {} : { version: String(version) }), hash: sha256(JSON.stringify(sortedJson(sent))), remote_hash: sha256(JSON.stringify(sortedJson(live))) };
    return live;
  };

  // Skills: each folder uploaded as it is, named after the folder.
  const skills: Record<string, Obj> = {};
  const upload = async (name: string, files: Record<string, Uint8Array>) => {
    const list = Object.keys(files)
      .sort()
      .map((rel) => ({ path: `${name}/${rel}`, sha256: sha256(files[rel]!), bytes: files[rel]! }));
    const body = { display_name: name, files: list };
    return { live: (await raw.create("skill", body)) as unknown as Obj, sent: list.map((f) => ({ path: f.path, sha256: f.sha256 })) };
  };
  for (const name of ["pr-writer", "refund-policy", "style-guide"]) {
    const files: Record<string, Uint8Array> = {};
    const walk = async (rel: string): Promise<void> => {
      for (const entry of await readdir(path.join(p.dir, "skills", name, rel), { withFileTypes: true })) {
        const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) await walk(child);
        else files[child] = new Uint8Array(await readFile(path.join(p.dir, "skills", name, child)));
      }
    };
    await walk("");
    const { live, sent } = await upload(name, files);
    skills[name] = record(`./skills/${name}`, "skill", live, sent, live.latest_version_id as string);
  }
  // The GitHub source: the folder at GITHUB_REVISION, uploaded the same way; claude-lock.json
  // keys it by its URL and records where it came from.
  const changelog = await upload("changelog-writer", {
    "SKILL.md": new TextEncoder().encode("---\nname: changelog-writer\ndescription: Writes release notes from merged pull requests.\n---\n\nGroup the changes by area; one line each.\n"),
  });
  resources[GITHUB_SKILL] = {
    kind: "skill",
    id: changelog.live.id as string,
    version: changelog.live.latest_version_id as string,
    hash: sha256(JSON.stringify(changelog.sent)),
    revision: GITHUB_REVISION,
    subpath: "skills/changelog-writer",
  };
  /** What ant sends for a skill reference: pinned to the version it last applied, unless `version: latest`. */
  const pinnedSkill = (s: Obj) => ({ type: "custom", skill_id: s.id, version: s.latest_version_id });

  // Environments: a YAML one as written; a Markdown one without name (its file's name) whose body is the description.
  const sandboxBody = await yamlOf("environments/python-sandbox.yaml");
  const sandbox = record("./environments/python-sandbox.yaml", "environment", (await raw.create("environment", sandboxBody)) as unknown as Obj, sandboxBody);
  const locked = await markdownOf("environments/support-locked-down.md");
  const lockedBody = { name: "support-locked-down", description: locked.body, ...locked.fm };
  const lockedDown = record("./environments/support-locked-down.md", "environment", (await raw.create("environment", lockedBody)) as unknown as Obj, lockedBody);

  // The memory store: its body is the description.
  const notesMd = await markdownOf("memory_stores/support-notes.md");
  const notesBody = { ...notesMd.fm, description: notesMd.body };
  const notes = record("./memory_stores/support-notes.md", "memory_store", (await raw.create("memory_store", notesBody)) as unknown as Obj, notesBody);

  // Vaults: one named, one without display_name (its file's name).
  const githubVaultBody = await yamlOf("vaults/github-tools.yml");
  const githubVault = record("./vaults/github-tools.yml", "vault", (await raw.create("vault", githubVaultBody)) as unknown as Obj, githubVaultBody);
  const opsBody = { display_name: "ops-keys", ...(await jsonOf("vaults/ops-keys.json")) };
  const ops = record("./vaults/ops-keys.json", "vault", (await raw.create("vault", opsBody)) as unknown as Obj, opsBody);

  // Agents. billing-specialist.yml has no name; its second tool entry is a data file (a list).
  const billingFile = await yamlOf("agents/billing-specialist.yml");
  const billingTools = parse(await text("agents/shared/billing-tools.yml")) as Obj[];
  const fileTools = billingFile.tools as unknown[];
  const fileSkills = billingFile.skills as unknown[];
  const billingBody = { ...billingFile, name: "billing-specialist", tools: [fileTools[0], ...billingTools], skills: [fileSkills[0], pinnedSkill(skills["refund-policy"]!)] };
  // Applied twice: an earlier revision of the file, then this one (a second version).
  const billingV1 = (await raw.create("agent", { ...billingBody, system: "You are Acme's billing specialist.", tools: [fileTools[0], billingTools[0]] })) as unknown as Obj;
  const billingV2 = (await raw.update("agent", billingV1.id as string, billingBody, { expectedVersion: 1 })) as unknown as Obj;
  expect(billingV2.version).toBe(2);
  const billing = record("./agents/billing-specialist.yml", "agent", billingV2, billingBody, billingV2.version as number);

  // docs-researcher.json: its skill is `{path, version: latest}`, so ant sends it unpinned.
  const docsFile = await jsonOf("agents/docs-researcher.json");
  const docsBody = { ...docsFile, skills: [{ type: "custom", skill_id: skills["style-guide"]!.id }] };
  const docs = (await raw.create("agent", docsBody)) as unknown as Obj;
  record("./agents/docs-researcher.json", "agent", docs, docsBody, docs.version as number);

  // code-reviewer.md: tools and MCP servers from data files, skills by glob (every skill folder,
  // in name order), by inline id (passed through unpinned) and by GitHub URL (pinned).
  const reviewerMd = await markdownOf("agents/code-reviewer.md");
  const reviewerTools = reviewerMd.fm.tools as unknown[];
  const runLinter = JSON.parse(await text("tool-data/run-linter.json")) as Obj[];
  const reviewerBody = {
    ...reviewerMd.fm,
    system: reviewerMd.body,
    tools: [reviewerTools[0], parse(await text("agents/shared/github-toolset.yml")), JSON.parse(await text("tool-data/coverage-report.json")), ...runLinter],
    mcp_servers: parse(await text("agents/shared/github-mcp.yml")),
    skills: [
      pinnedSkill(skills["pr-writer"]!),
      pinnedSkill(skills["refund-policy"]!),
      pinnedSkill(skills["style-guide"]!),
      { type: "custom", skill_id: INLINE_SKILL },
      pinnedSkill(changelog.live),
    ],
  };
  const reviewer = (await raw.create("agent", reviewerBody)) as unknown as Obj;
  record("./agents/code-reviewer.md", "agent", reviewer, reviewerBody, reviewer.version as number);

  // triage.md: the coordinator; its roster pins billing-specialist and code-reviewer, and
  // leaves docs-researcher unpinned (`version: latest`: the server takes its latest).
  const triageMd = await markdownOf("agents/triage.md");
  const triageBody = {
    ...triageMd.fm,
    system: triageMd.body,
    multiagent: {
      type: "coordinator",
      agents: [
        { type: "agent", id: billing.id, version: billing.version },
        { type: "agent", id: docs.id },
        { type: "agent", id: reviewer.id, version: reviewer.version },
      ],
    },
  };
  const triage = (await raw.create("agent", triageBody)) as unknown as Obj;
  record("./agents/triage.md", "agent", triage, triageBody, triage.version as number);

  // Deployments: the Markdown one's body is its first message; the memory store reference
  // carries access and instructions along.
  const nightlyMd = await markdownOf("deployments/nightly-triage.md");
  const nightlyResources = nightlyMd.fm.resources as Obj[];
  const { path: _storePath, ...storeExtras } = nightlyResources[0]!;
  const nightlyBody = {
    ...nightlyMd.fm,
    agent: { type: "agent", id: triage.id, version: triage.version },
    environment_id: lockedDown.id,
    vault_ids: [githubVault.id, ops.id],
    resources: [{ type: "memory_store", memory_store_id: notes.id, ...storeExtras }],
    initial_events: [{ type: "user.message", content: [{ type: "text", text: nightlyMd.body }] }],
  };
  record("./deployments/nightly-triage.md", "deployment", (await raw.create("deployment", nightlyBody)) as unknown as Obj, nightlyBody);
  const weeklyFile = await yamlOf("deployments/weekly-digest.yaml");
  const { path: _weeklyStorePath, ...weeklyStoreExtras } = (weeklyFile.resources as Obj[])[0]!;
  const weeklyBody = {
    ...weeklyFile,
    // `{path, version: latest}`: the agent's id alone, which runs its latest version.
    agent: docs.id,
    environment_id: sandbox.id,
    resources: [{ ...weeklyStoreExtras, memory_store_id: notes.id }],
  };
  record("./deployments/weekly-digest.yaml", "deployment", (await raw.create("deployment", weeklyBody)) as unknown as Obj, weeklyBody);

  const lock = { version: 1, origin: { base_url: p.cp.baseUrl, organization_id: "org_011CVqLocalOrg", workspace_id: "wrkspc_011CVqLocalWorkspace" }, resources };
  await p.write({ "claude-lock.json": `${JSON.stringify(sortedJson(lock), null, 2)}\n` });
  return { raw, resources };
}

/** The agentform kind and lockfile map of an ant kind. */
const LOCK_MAP: Record<string, string> = { agent: "agents", environment: "environments", memory_store: "memory_stores", vault: "vaults", deployment: "deployments", skill: "skills" };

/** A live resource with what adopting it may change blanked: versions, update times, agentform's own metadata keys, re-pinned versions. */
function withoutAdoption(live: Obj): Obj {
  const copy = JSON.parse(JSON.stringify(live)) as Obj;
  delete copy.updated_at;
  if (typeof copy.version === "number") copy.version = "*";
  if (copy.metadata && typeof copy.metadata === "object") {
    for (const key of Object.keys(copy.metadata as Obj)) if (key.startsWith("agentform.")) delete (copy.metadata as Obj)[key];
  }
  const multiagent = copy.multiagent as { agents?: Obj[] } | null | undefined;
  for (const e of multiagent?.agents ?? []) e.version = "*";
  if (copy.agent && typeof copy.agent === "object") (copy.agent as Obj).version = "*";
  return copy;
}

describe("agentform import --from-ant", () => {
  let p: CliProject;

  beforeEach(async () => {
    p = await cliProject({});
    await cp(FIXTURE, p.dir, { recursive: true });
  });
  afterEach(() => p.close());

  const text = (file: string) => readFile(path.join(p.dir, file), "utf8");
  const yamlOf = async (file: string) => parse(await text(file)) as Obj;
  const markdownOf = async (file: string) => {
    const { frontmatter, body } = splitMarkdown(await text(file));
    return { fm: parse(frontmatter) as Obj, body };
  };

  it("converts the repository in place; the plan only adopts; apply writes only markers; the ids ant made are kept and nothing moves after", async () => {
    const { raw, resources } = await populate(p);
    const id = (key: string) => resources[key]!.id;
    const lockFile = path.join(p.dir, "claude-lock.json");
    const before = await tree(p.dir);
    const originals: Record<string, string> = {};
    for (const file of Object.keys(before)) originals[file] = await text(file);

    // --dry-run: the same report, nothing written.
    const dry = await p.run("import", "--from-ant", lockFile, "--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(await tree(p.dir)).toEqual(before);

    const out = await p.run("import", "--from-ant", lockFile);
    expect(out.code, out.stderr).toBe(0);
    // The GitHub source cannot be carried over: one line says so, naming it.
    const notCarried = out.stdout.split("\n").filter((l) => l.startsWith("!"));
    expect(notCarried.some((l) => l.includes(GITHUB_SKILL))).toBe(true);
    // The dry run printed the same lines (marked "(dry run)", as `agentform import --dry-run`
    // marks them); only its summary differs ("would convert").
    const body = (stdout: string) => stdout.trimEnd().split("\n").slice(0, -1).map((l) => l.replace(/ \(dry run\)$/, ""));
    expect(body(dry.stdout)).toEqual(body(out.stdout));
    expect(body(out.stdout)).toHaveLength(18);
    expect(dry.stdout.trimEnd().split("\n").at(-1)).toMatch(/would convert/);
    for (const file of ["agents/triage.md", "agents/docs-researcher.json", "vaults/ops-keys.json", "deployments/nightly-triage.md"]) {
      expect(dry.stdout).toContain(file);
      expect(out.stdout).toContain(file);
    }

    // Agents. The coordinator's roster by name, its body still the system prompt, its block
    // scalar with an indented `---` line intact.
    const triage = await markdownOf("agents/triage.md");
    expect(triage.fm.multiagent).toEqual({
      type: "coordinator",
      agents: [
        { type: "agent", ref: "billing-specialist" },
        { type: "agent", ref: "docs-researcher" },
        { type: "agent", ref: "code-reviewer" },
      ],
    });
    expect(triage.fm.agentform).toEqual({ adopt: id("./agents/triage.md") });
    expect(triage.fm.description).toBe(splitMarkdownFm(originals["agents/triage.md"]!).description);
    expect(triage.fm.description).toContain("\n---\n");
    expect(triage.body.trim()).toBe(splitMarkdown(originals["agents/triage.md"]!).body.trim());
    expect(triage.fm.system).toBeUndefined();

    // No name in the file: the file's name, written out. The data file spliced in, in order.
    const billing = await yamlOf("agents/billing-specialist.yml");
    const billingFile = parse(originals["agents/billing-specialist.yml"]!) as Obj;
    expect(billing.name).toBe("billing-specialist");
    expect(billing.tools).toEqual([(billingFile.tools as unknown[])[0], ...(parse(originals["agents/shared/billing-tools.yml"]!) as unknown[])]);
    expect(billing.skills).toEqual([
      { type: "anthropic", skill_id: "xlsx" },
      { type: "custom", ref: "refund-policy" },
    ]);
    expect(billing.agentform).toEqual({ adopt: id("./agents/billing-specialist.yml") });

    // A JSON agent becomes YAML beside it; `version: latest` stays latest.
    expect(await exists(path.join(p.dir, "agents/docs-researcher.json"))).toBe(false);
    const docs = await yamlOf("agents/docs-researcher.yaml");
    const docsFile = JSON.parse(originals["agents/docs-researcher.json"]!) as Obj;
    expect(docs).toEqual({ ...docsFile, skills: [{ type: "custom", ref: "style-guide", version: "latest" }], agentform: { adopt: id("./agents/docs-researcher.json") } });

    // Glob, inline id, GitHub source; tools and MCP servers spliced from data files in order.
    const reviewer = await markdownOf("agents/code-reviewer.md");
    const reviewerFile = parse(splitMarkdown(originals["agents/code-reviewer.md"]!).frontmatter) as Obj;
    expect(reviewer.fm.tools).toEqual([
      (reviewerFile.tools as unknown[])[0],
      parse(originals["agents/shared/github-toolset.yml"]!),
      JSON.parse(originals["tool-data/coverage-report.json"]!),
      ...(JSON.parse(originals["tool-data/run-linter.json"]!) as unknown[]),
    ]);
    expect(reviewer.fm.mcp_servers).toEqual(parse(originals["agents/shared/github-mcp.yml"]!));
    const reviewerSkills = reviewer.fm.skills as Obj[];
    expect(reviewerSkills.slice(0, 3)).toEqual([
      { type: "custom", ref: "pr-writer" },
      { type: "custom", ref: "refund-policy" },
      { type: "custom", ref: "style-guide" },
    ]);
    expect(reviewerSkills).toHaveLength(5);
    expect(reviewerSkills[3]).toMatchObject({ type: "custom", skill_id: INLINE_SKILL });
    expect(reviewerSkills[4]).toMatchObject({ type: "custom", skill_id: resources[GITHUB_SKILL]!.id });
    expect(reviewer.body.trim()).toBe(splitMarkdown(originals["agents/code-reviewer.md"]!).body.trim());
    // Data files inside a kind folder are gone (agentform would read them as manifests); the
    // ones outside the kind folders stay as they were.
    for (const file of ["agents/shared/billing-tools.yml", "agents/shared/github-toolset.yml", "agents/shared/github-mcp.yml"]) expect(await exists(path.join(p.dir, file))).toBe(false);
    for (const file of ["tool-data/coverage-report.json", "tool-data/run-linter.json"]) expect(await text(file)).toBe(originals[file]);

    // Environments, memory store, vaults.
    expect(await yamlOf("environments/python-sandbox.yaml")).toEqual({ ...(parse(originals["environments/python-sandbox.yaml"]!) as Obj), agentform: { adopt: id("./environments/python-sandbox.yaml") } });
    const locked = await markdownOf("environments/support-locked-down.md");
    expect(locked.fm.name).toBe("support-locked-down");
    expect(locked.fm.description).toBeUndefined();
    expect(locked.fm.agentform).toEqual({ adopt: id("./environments/support-locked-down.md") });
    expect(locked.body.trim()).toBe(splitMarkdown(originals["environments/support-locked-down.md"]!).body.trim());
    const notes = await markdownOf("memory_stores/support-notes.md");
    expect(notes.fm).toEqual({ name: "support-notes", metadata: { team: "support-platform" }, agentform: { adopt: id("./memory_stores/support-notes.md") } });
    expect(notes.body.trim()).toBe(splitMarkdown(originals["memory_stores/support-notes.md"]!).body.trim());
    expect(await yamlOf("vaults/github-tools.yml")).toEqual({ display_name: "github-tools", metadata: { team: "support-platform" }, agentform: { adopt: id("./vaults/github-tools.yml") } });
    expect(await exists(path.join(p.dir, "vaults/ops-keys.json"))).toBe(false);
    expect(await yamlOf("vaults/ops-keys.yaml")).toEqual({ display_name: "ops-keys", metadata: { team: "platform", rotation: "quarterly" }, agentform: { adopt: id("./vaults/ops-keys.json") } });

    // Deployments: references by name, extra keys riding along, the body still the first message.
    const nightly = await markdownOf("deployments/nightly-triage.md");
    expect(nightly.fm.agent).toEqual({ ref: "triage" });
    expect(nightly.fm.environment_id).toEqual({ ref: "support-locked-down" });
    expect(nightly.fm.vault_ids).toEqual([{ ref: "github-tools" }, { ref: "ops-keys" }]);
    expect(nightly.fm.resources).toEqual([{ type: "memory_store", ref: "support-notes", access: "read_write", instructions: "Record each recurring issue and its resolution; read it before triaging." }]);
    expect(nightly.fm.initial_events).toBeUndefined();
    expect(nightly.fm.agentform).toEqual({ adopt: id("./deployments/nightly-triage.md") });
    expect(nightly.body.trim()).toBe(splitMarkdown(originals["deployments/nightly-triage.md"]!).body.trim());
    const weekly = await yamlOf("deployments/weekly-digest.yaml");
    expect(weekly.agent).toEqual({ ref: "docs-researcher" });
    expect(weekly.environment_id).toEqual({ ref: "python-sandbox" });
    expect(weekly.resources).toEqual([{ type: "memory_store", ref: "support-notes", access: "read_only" }]);
    expect(weekly.agentform).toEqual({ adopt: id("./deployments/weekly-digest.yaml") });

    // Skills: every byte as it was (a changed SKILL.md would upload a new version); adopted
    // through agentform.yaml instead, which keeps everything it had.
    const after = await tree(p.dir);
    for (const file of Object.keys(before).filter((f) => f.startsWith("skills/"))) expect(after[file], file).toBe(before[file]);
    expect(Object.keys(after).filter((f) => f.startsWith("skills/")).sort()).toEqual(Object.keys(before).filter((f) => f.startsWith("skills/")).sort());
    const config = await yamlOf("agentform.yaml");
    expect(config).toEqual({
      ...(parse(originals["agentform.yaml"]!) as Obj),
      adopt: { "skill/pr-writer": id("./skills/pr-writer"), "skill/refund-policy": id("./skills/refund-policy"), "skill/style-guide": id("./skills/style-guide") },
    });

    // The guarantee. validate passes.
    const validate = await p.run("validate");
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);

    // The plan adopts every resource; no field is edited. The only changes are references that
    // follow an adopted agent: its marker update makes it a new version, and the referrer's own
    // single adopting write re-pins to it (as docs/import.md describes for `agentform import`).
    const plan = await p.run("plan", "--format", "json");
    expect(plan.code, plan.stderr).toBe(0);
    const json = JSON.parse(plan.stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    const antKeys = Object.keys(resources).filter((k) => k !== GITHUB_SKILL);
    const names: Record<string, string> = {
      [id("./agents/triage.md")]: "triage",
      [id("./agents/billing-specialist.yml")]: "billing-specialist",
      [id("./agents/docs-researcher.json")]: "docs-researcher",
      [id("./agents/code-reviewer.md")]: "code-reviewer",
    };
    expect(json.resources.map((r) => `${r.address}:${r.action}`).sort()).toEqual(
      [
        "agent.triage",
        "agent.billing-specialist",
        "agent.docs-researcher",
        "agent.code-reviewer",
        "environment.python-sandbox",
        "environment.support-locked-down",
        "memory_store.support-notes",
        "vault.github-tools",
        "vault.ops-keys",
        "deployment.nightly-triage",
        "deployment.weekly-digest",
        "skill.pr-writer",
        "skill.refund-policy",
        "skill.style-guide",
      ]
        .map((a) => `${a}:adopt`)
        .sort(),
    );
    expect(antKeys).toHaveLength(14);
    const changes = json.resources.flatMap((r) => r.changes.map((c) => `${r.address} ${c.pointer.replace(/agent_\w+/, (m) => `<${names[m] ?? m}>`)} ${String(c.before)} -> ${String(c.after)}`));
    expect(changes.sort()).toEqual(
      [
        `agent.triage /multiagent/agents/<billing-specialist>/version 2 -> ${KNOWN_AFTER_APPLY}`,
        `agent.triage /multiagent/agents/<docs-researcher>/version 1 -> ${KNOWN_AFTER_APPLY}`,
        `agent.triage /multiagent/agents/<code-reviewer>/version 1 -> ${KNOWN_AFTER_APPLY}`,
        `deployment.nightly-triage /agent/<triage> 1 -> ${KNOWN_AFTER_APPLY}`,
        `deployment.weekly-digest /agent/<docs-researcher> 1 -> ${KNOWN_AFTER_APPLY}`,
      ].sort(),
    );
    for (const r of json.resources.filter((x) => x.changes.length > 0)) expect(r.repinReasons, r.address).not.toEqual([]);
    for (const r of json.resources.filter((x) => x.address.startsWith("skill."))) expect(r.changes, r.address).toEqual([]);

    // apply: one update per resource with metadata, none for skills; no create, no archive;
    // and what changed live is agentform's metadata (and the re-pinned versions), nothing else.
    const kindOf = (entry: AntEntry) => entry.kind as ResourceKind;
    const liveBefore: Record<string, Obj> = {};
    for (const key of antKeys) liveBefore[key] = (await raw.get(kindOf(resources[key]!), id(key))) as unknown as Obj;
    p.cp.clearRequestLog();
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const writes = p.writes();
    expect(writes.filter((w) => w.method !== "POST" || w.path.endsWith("/archive") || /\/v1\/[a-z_]+$/.test(w.path) || w.path.includes("/skills"))).toEqual([]);
    const withMetadata = antKeys.filter((k) => resources[k]!.kind !== "skill");
    expect(writes.map((w) => withMetadata.find((k) => w.path.includes(id(k)))).sort()).toEqual([...withMetadata].sort());
    for (const key of antKeys) {
      const now = (await raw.get(kindOf(resources[key]!), id(key))) as unknown as Obj;
      expect(withoutAdoption(now), key).toEqual(withoutAdoption(liveBefore[key]!));
      if (resources[key]!.kind !== "skill") expect((now.metadata as Obj)["agentform.project"], key).toBe("support-bots");
    }

    // The lockfile holds exactly the ids of claude-lock.json: agents one version ahead (the marker
    // write), skills at the version ant uploaded (no write).
    const lockText = await text("agentform.lock.json");
    const lock = JSON.parse(lockText) as Record<string, Record<string, { id: string; version?: number | string }> | undefined>;
    const nameOf = async (key: string) => {
      const entry = resources[key]!;
      const live = (await raw.get(kindOf(entry), entry.id)) as unknown as Obj;
      return (entry.kind === "vault" ? live.display_name : entry.kind === "skill" ? key.slice("./skills/".length) : live.name) as string;
    };
    for (const key of antKeys) {
      const entry = resources[key]!;
      const recorded = lock[LOCK_MAP[entry.kind]!]?.[await nameOf(key)];
      expect(recorded?.id, key).toBe(entry.id);
      if (entry.kind === "agent") {
        const written = writes.filter((w) => w.path.includes(entry.id)).length;
        expect(recorded?.version, key).toBe(Number(entry.version) + written);
      }
      if (entry.kind === "skill") expect(recorded?.version, key).toBe(entry.version);
    }
    // Nothing but what claude-lock.json lists: the GitHub source stays unmanaged.
    const lockedIds = Object.values(LOCK_MAP).flatMap((m) => Object.values(lock[m] ?? {}).map((e) => e.id));
    expect(lockedIds.sort()).toEqual(antKeys.map(id).sort());
    expect(lockedIds).not.toContain(resources[GITHUB_SKILL]!.id);

    // Nothing moves after: an empty plan, and another apply writes nothing and keeps the lockfile.
    p.cp.clearRequestLog();
    const next = await p.run("plan", "--detailed-exitcode");
    expect(next.code, next.stdout + next.stderr).toBe(0);
    const again = await p.run("apply", "--auto-approve");
    expect(again.code).toBe(0);
    expect(p.writes()).toEqual([]);
    expect(await text("agentform.lock.json")).toBe(lockText);
  });

  it("a second import --from-ant leaves the converted repository as it is", async () => {
    await populate(p);
    const lockFile = path.join(p.dir, "claude-lock.json");
    const first = await p.run("import", "--from-ant", lockFile);
    expect(first.code, first.stderr).toBe(0);
    const converted = await tree(p.dir);
    // The files are agentform manifests now: nothing is left to convert. The second run says so
    // (every file "already converted", the skills "kept as it is", the GitHub source again not
    // carried), succeeds, and changes nothing.
    const second = await p.run("import", "--from-ant", lockFile);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/converted 0 file\(s\)/);
    const fileLines = second.stdout.split("\n").filter((l) => l.startsWith("~ "));
    expect(fileLines).toHaveLength(14);
    for (const line of fileLines) expect(line).toMatch(/: (already converted|kept as it is)$/);
    expect(second.stdout.split("\n").filter((l) => l.startsWith("!"))).toEqual(first.stdout.split("\n").filter((l) => l.startsWith("!")));
    expect(await tree(p.dir)).toEqual(converted);
    const plan = await p.run("plan", "--format", "json");
    expect((JSON.parse(plan.stdout) as PlanJson).resources.every((r) => r.action === "adopt")).toBe(true);
  });

});

describe("agentform import --from-ant, an inline id", () => {
  let p: CliProject;
  afterEach(() => p.close());

  it("an inline agent id in a roster stays an id, as ant left it", async () => {
    p = await cliProject({});
    const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    // An agent another team manages, outside this repository.
    const legal = (await raw.create("agent", { name: "legal-review", model: "claude-sonnet-5-5", system: "Review contracts." })) as unknown as Obj;
    await p.write({ "agents/lead.md": `---\nname: lead\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - ${String(legal.id)}\n---\nRoute contract questions to legal.\n` });
    // Passed through unpinned: the server pins its latest version.
    const leadBody = { name: "lead", model: "claude-sonnet-5-5", system: "Route contract questions to legal.", multiagent: { type: "coordinator", agents: [{ type: "agent", id: legal.id }] } };
    const lead = (await raw.create("agent", leadBody)) as unknown as Obj;
    const lock = {
      version: 1,
      origin: { base_url: p.cp.baseUrl },
      resources: { "./agents/lead.md": { kind: "agent", id: lead.id, version: String(lead.version), hash: sha256(JSON.stringify(sortedJson(leadBody))), remote_hash: sha256(JSON.stringify(sortedJson(lead))) } },
    };
    await p.write({ "claude-lock.json": `${JSON.stringify(sortedJson(lock), null, 2)}\n` });

    const out = await p.run("import", "--from-ant", path.join(p.dir, "claude-lock.json"));
    expect(out.code, out.stdout + out.stderr).toBe(0);
    const { frontmatter } = splitMarkdown(await readFile(path.join(p.dir, "agents/lead.md"), "utf8"));
    const fm = parse(frontmatter) as Obj;
    const roster = (fm.multiagent as { agents: unknown[] }).agents;
    expect(roster).toHaveLength(1);
    const entry = roster[0];
    expect(typeof entry === "string" ? entry : (entry as Obj).id).toBe(legal.id);
    expect(fm.agentform).toEqual({ adopt: lead.id });
    const plan = await p.run("plan", "--format", "json");
    expect(plan.code, plan.stderr).toBe(0);
    const json = JSON.parse(plan.stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`)).toEqual(["agent.lead:adopt:0"]);
  });
});

/** The parsed frontmatter of a Markdown text. */
function splitMarkdownFm(text: string): Obj {
  return parse(splitMarkdown(text).frontmatter) as Obj;
}
