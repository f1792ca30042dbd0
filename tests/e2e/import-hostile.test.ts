/**
 * `agentform import` and `agentform import --from-ant` against what an adversarial review threw
 * at them: symbolic links leading reads (and removals) outside the project, splice bombs,
 * pathological globs, batches failing halfway, `${` in live text, skills another project may own,
 * README-named resources, adopt ids naming the wrong thing, echoed secrets, agentform.yaml as a
 * link, unused data files. Real files in temporary folders, the real CLI in-process against the
 * local control plane, the workspace populated with raw SDK calls (not agentform).
 *
 * Every refusal is checked the same way: its exit code and coded message, and every entry of the
 * project (files with their bytes, folders, links and their targets) exactly as it was.
 */
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { loadConfig, loadProject } from "../../src/manifest/load.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";
import { tree as treeOf } from "../helpers/tree.js";

type Obj = Record<string, unknown>;

interface PlanJson {
  refusals: Array<{ address: string; code: string; message: string }>;
  resources: Array<{ address: string; action: string; impact: string; id: string | null; changes: unknown[] }>;
}

const MODEL = "claude-sonnet-5-5";

/** Every entry of the project (`.agentform/`, the local plane's state, left out). */
const tree = (dir: string) => treeOf(dir, [".agentform"]);

/** claude-lock.json as ant writes it (sorted keys, 2-space indent), for the workspace at `baseUrl`. */
function antLock(baseUrl: string, resources: Record<string, { kind: string; id: string; version?: string }>): string {
  const sorted = Object.fromEntries(
    Object.keys(resources)
      .sort()
      .map((k) => {
        const hash = createHash("sha256").update(k).digest("hex");
        return [k, Object.fromEntries(Object.entries({ ...resources[k], hash }).sort(([x], [y]) => x.localeCompare(y)))];
      }),
  );
  return `${JSON.stringify({ origin: { base_url: baseUrl }, resources: sorted, version: 1 }, null, 2)}\n`;
}

/** A skill upload's files under `<top>/`, each with its digest, as the raw backend takes them. */
function skillFiles(top: string, files: Record<string, string>): Array<{ path: string; sha256: string; bytes: Uint8Array }> {
  return Object.entries(files).map(([rel, text]) => {
    const bytes = new TextEncoder().encode(text);
    return { path: `${top}/${rel}`, sha256: createHash("sha256").update(bytes).digest("hex"), bytes };
  });
}

const skillMd = (name: string) => `---\nname: ${name}\ndescription: The ${name} rules.\n---\nApply the ${name} rules.\n`;

describe("agentform import --from-ant, hostile repositories", () => {
  let p: CliProject;
  let outside: string;
  let raw: ControlPlane;
  beforeEach(async () => {
    p = await cliProject({});
    raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
    outside = await mkdtemp(path.join(tmpdir(), "agentform-outside-"));
  });
  afterEach(async () => {
    await p.close();
    await rm(outside, { recursive: true, force: true });
  });

  const lock = (resources: Record<string, { kind: string; id: string; version?: string }> = {}) => p.write({ "claude-lock.json": antLock(p.cp.baseUrl, resources) });
  const migrate = async () => {
    const out = await p.run("import", "--from-ant", path.join(p.dir, "claude-lock.json"));
    return { ...out, output: out.stdout + out.stderr };
  };
  /** Runs the migration, expecting a refusal (exit 4, `code` named) that changes nothing, in the project and in the workspace. */
  const refused = async (code: string) => {
    const before = await tree(p.dir);
    const out = await migrate();
    expect(out.code, out.output).toBe(4);
    expect(out.output).toContain(code);
    expect(await tree(p.dir), "no project entry may change").toEqual(before);
    expect(p.writes()).toEqual([]);
    return out;
  };

  it("refuses a data file reached through a symbolic link in a kind folder's sub-folder, leaving the outside file where it is", async () => {
    const tools = "- type: custom\n  name: outside_tool\n  description: OUTSIDE-CONTENT\n  input_schema:\n    type: object\n";
    await writeFile(path.join(outside, "tools.yml"), tools);
    await p.write({ "agents/lead.md": `---\nname: lead\nmodel: ${MODEL}\ntools:\n  - ./shared/inner/tools.yml\n---\nRoute requests.\n` });
    await mkdir(path.join(p.dir, "agents", "shared"));
    await symlink(outside, path.join(p.dir, "agents", "shared", "inner"));
    await lock();
    // Not followed: to the migration the file is not there.
    const out = await refused("AF-ANT-REF-MISSING");
    expect(out.output).toMatch(/agents\/lead\.md:5:\d+/);
    expect(out.output).toContain("agents/shared/inner/tools.yml");
    expect(out.output).not.toContain("OUTSIDE-CONTENT");
    // Spliced data files in a kind folder are removed: this one, outside the project, must not be.
    expect(await readFile(path.join(outside, "tools.yml"), "utf8")).toBe(tools);
    expect(await readdir(outside)).toEqual(["tools.yml"]);
  });

  it("never splices what a link at the project root leads to (data -> outside, named as ../data/x.yml)", async () => {
    const data = "- type: custom\n  name: leaked\n  description: OUTSIDE-CONTENT\n  input_schema:\n    type: object\n";
    await writeFile(path.join(outside, "x.yml"), data);
    await symlink(outside, path.join(p.dir, "data"));
    const lead = `---\nname: lead\nmodel: ${MODEL}\ntools:\n  - ../data/x.yml\n---\nRoute requests.\n`;
    await p.write({ "agents/lead.md": lead });
    await lock();
    const before = await tree(p.dir);
    const out = await migrate();
    expect(out.code, out.output).toBe(4);
    expect(out.output).toContain("AF-ANT-REF-MISSING");
    expect(out.output).toContain("data/x.yml");
    expect(await tree(p.dir)).toEqual(before);
    expect(p.writes()).toEqual([]);
    expect(await readFile(path.join(p.dir, "agents", "lead.md"), "utf8")).toBe(lead);
    expect(await readFile(path.join(outside, "x.yml"), "utf8")).toBe(data);
    // Whatever the outcome, nothing of the outside file is in any project file.
    for (const [rel, what] of Object.entries(await tree(p.dir))) {
      if (what.startsWith("file ")) expect(await readFile(path.join(p.dir, rel), "utf8"), rel).not.toContain("OUTSIDE-CONTENT");
    }
  });

  it("refuses a splice bomb (a ~1 MiB data file named 20 times) with AF-ANT-DATA-TOO-LARGE, writing nothing", async () => {
    const item = `- type: custom\n  name: big\n  description: "${"x".repeat(1000)}"\n  input_schema:\n    type: object\n`;
    const big = item.repeat(Math.floor(1_000_000 / item.length));
    expect(big.length).toBeGreaterThan(900_000);
    expect(big.length).toBeLessThan(1024 * 1024);
    const list = Array.from({ length: 20 }, () => "  - ./shared/big.yml\n").join("");
    await p.write({ "agents/shared/big.yml": big, "agents/bomb.yml": `name: bomb\nmodel: ${MODEL}\ntools:\n${list}` });
    await lock();
    const out = await refused("AF-ANT-DATA-TOO-LARGE");
    expect(out.output).toContain("agents/bomb.yml");
  });

  it("matches a pathological roster glob (./*a*a*a*a*a*a*a*a*a*a*a*b) against a long file name at once", async () => {
    const long = "a".repeat(40);
    await p.write({
      [`agents/${long}.yaml`]: `name: ${long}\nmodel: ${MODEL}\n`,
      "agents/lead.yml": `name: lead\nmodel: ${MODEL}\nmultiagent:\n  type: coordinator\n  agents:\n    - ./${long}.yaml\n    - ./*a*a*a*a*a*a*a*a*a*a*a*b\n`,
    });
    await lock();
    const out = await migrate();
    expect(out.code, out.output).toBe(0);
    // The glob matches nothing (no file name ends in b): the roster is the named agent alone.
    const lead = parse(await readFile(path.join(p.dir, "agents", "lead.yml"), "utf8")) as Obj;
    expect(lead.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", ref: long }] });
  });

  it("refuses a .json whose .yaml is a folder (vaults/v.yaml/), writing nothing and leaving no temporary file", async () => {
    const vault = await raw.create("vault", { display_name: "v" });
    await p.write({ "vaults/v.json": '{"display_name": "v"}\n', "agents/lead.yml": `name: lead\nmodel: ${MODEL}\n` });
    await mkdir(path.join(p.dir, "vaults", "v.yaml"));
    await lock({ "./vaults/v.json": { kind: "vault", id: vault.id } });
    p.cp.clearRequestLog();
    const before = await tree(p.dir);
    const out = await migrate();
    expect(out.code, out.output).toBe(3);
    expect(out.output).toMatch(/vaults\/v\.yaml: already exists; nothing was written \[file-batch-refused\]/);
    expect(await tree(p.dir), "nothing written, no temporary file").toEqual(before);
    expect(p.writes()).toEqual([]);
  });

  it("converts a vault kept as .md (frontmatter only) and an agent kept as .JSON to .yaml, each adopted with no change", async () => {
    const vault = await raw.create("vault", { display_name: "keys" });
    const upper = await raw.create("agent", { name: "upper", model: MODEL, system: "Answer in capitals." });
    await p.write({
      "vaults/keys.md": "---\ndisplay_name: keys\n---\n",
      "agents/upper.JSON": `${JSON.stringify({ name: "upper", model: MODEL, system: "Answer in capitals." }, null, 2)}\n`,
    });
    await lock({ "./vaults/keys.md": { kind: "vault", id: vault.id }, "./agents/upper.JSON": { kind: "agent", id: upper.id, version: String(upper.version) } });
    const out = await migrate();
    expect(out.code, out.output).toBe(0);
    expect(out.stdout).toContain(`~ vault.keys (${vault.id}) vaults/keys.md -> vaults/keys.yaml: converted`);
    expect(out.stdout).toContain(`~ agent.upper (${upper.id}) agents/upper.JSON -> agents/upper.yaml: converted`);
    const files = await tree(p.dir);
    expect(Object.keys(files).filter((f) => f.startsWith("vaults/") || f.startsWith("agents/")).sort()).toEqual(["agents/upper.yaml", "vaults/keys.yaml"]);
    expect((parse(await readFile(path.join(p.dir, "vaults", "keys.yaml"), "utf8")) as Obj).agentform).toEqual({ adopt: vault.id });
    expect((parse(await readFile(path.join(p.dir, "agents", "upper.yaml"), "utf8")) as Obj).agentform).toEqual({ adopt: upper.id });

    const plan = await p.run("plan", "--format", "json");
    expect(plan.code, plan.stderr).not.toBe(4);
    const json = JSON.parse(plan.stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}:${r.id}:${r.changes.length}`).sort()).toEqual([`agent.upper:adopt:${upper.id}:0`, `vault.keys:adopt:${vault.id}:0`]);

    // A second run finds the .md already converted (claude-lock.json still names the .md).
    const again = await migrate();
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain(`~ vault.keys (${vault.id}) vaults/keys.yaml: already converted`);
    expect(await tree(p.dir)).toEqual(files);
  });

  it("a second run finds an agent kept as .JSON already converted, still tracked", async () => {
    const upper = await raw.create("agent", { name: "upper", model: MODEL, system: "Answer in capitals." });
    await p.write({ "agents/upper.JSON": `${JSON.stringify({ name: "upper", model: MODEL, system: "Answer in capitals." })}\n` });
    await lock({ "./agents/upper.JSON": { kind: "agent", id: upper.id, version: String(upper.version) } });
    expect((await migrate()).code).toBe(0);
    const files = await tree(p.dir);
    const again = await migrate();
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain(`~ agent.upper (${upper.id}) agents/upper.yaml: already converted`);
    expect(again.stdout).not.toMatch(/^! .*not carried/m);
    expect(await tree(p.dir)).toEqual(files);
  });

  it("does not adopt an agent by a lockfile id that is an environment's: no adopt id, no previous_names, the next plan creates it", async () => {
    const env = await raw.create("environment", { name: "sandbox", config: { type: "cloud" } });
    await p.write({ "agents/helper.yml": `name: helper\nmodel: ${MODEL}\nsystem: Help.\n` });
    await lock({ "./agents/helper.yml": { kind: "agent", id: env.id, version: "1" } });
    const out = await migrate();
    expect(out.code, out.output).toBe(0);
    expect(out.stdout).toContain(`+ agent.helper agents/helper.yml: converted; ${env.id} is not a live agent of the workspace: nothing to adopt by id`);
    const helper = parse(await readFile(path.join(p.dir, "agents", "helper.yml"), "utf8")) as Obj;
    expect(helper.agentform).toBeUndefined();
    expect(JSON.stringify(helper)).not.toContain(env.id);
    expect(JSON.stringify(helper)).not.toContain("sandbox");
    const json = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}`)).toEqual(["agent.helper:create"]);
  });

  it("refuses a file in a kind folder's sub-folder that no manifest splices in (AF-ANT-DATA-UNUSED), writing nothing", async () => {
    await p.write({
      "agents/lead.yml": `name: lead\nmodel: ${MODEL}\ntools:\n  - ./shared/used.yml\n`,
      "agents/shared/used.yml": "- type: custom\n  name: used\n  description: Used.\n  input_schema:\n    type: object\n",
      "agents/shared/unused.yml": "- type: custom\n  name: unused\n  description: Unused.\n  input_schema:\n    type: object\n",
    });
    await lock();
    const out = await refused("AF-ANT-DATA-UNUSED");
    expect(out.output).toContain("agents/shared/unused.yml");
    expect(out.output).not.toMatch(/agents\/shared\/used\.yml[^\n]*AF-ANT-DATA-UNUSED/);
  });

  /** An ant repository whose agent has `${vars.x}` in a frontmatter field and in its Markdown body, tracked and live as written. */
  const dollarRepo = async () => {
    const system = "Say ${vars.x} back, exactly as written.";
    const description = "Echoes ${vars.x} literally";
    const echo = await raw.create("agent", { name: "echo", model: MODEL, description, system });
    await p.write({ "agents/echo.md": `---\nname: echo\nmodel: ${MODEL}\ndescription: "${description}"\n---\n${system}\n` });
    await lock({ "./agents/echo.md": { kind: "agent", id: echo.id, version: String(echo.version) } });
    return { system, description };
  };
  const loadedEcho = async () => {
    const loaded = await loadProject(await loadConfig({ cwd: p.dir, configPath: p.config }));
    expect(loaded.diagnostics).toEqual([]);
    return loaded.manifests.agent.map((m) => [m.spec.system, m.spec.description]);
  };

  it("keeps ${ in a Markdown body and a frontmatter field as text: the plan adopts with no change, the loaded value is the live one", async () => {
    const { system, description } = await dollarRepo();
    const out = await migrate();
    expect(out.code, out.output).toBe(0);
    const plan = await p.run("plan", "--format", "json");
    expect(plan.code, plan.stdout + plan.stderr).not.toBe(4);
    const json = JSON.parse(plan.stdout) as PlanJson;
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`)).toEqual(["agent.echo:adopt:0"]);
    expect(await loadedEcho()).toEqual([[system, description]]);
  });

  it("converts ${ once: a second run finds the file already converted, and it still loads as the live text", async () => {
    const { system, description } = await dollarRepo();
    expect((await migrate()).code).toBe(0);
    const converted = await tree(p.dir);
    const again = await migrate();
    expect(again.code, again.output).toBe(0);
    expect(await loadedEcho()).toEqual([[system, description]]);
    // The escape is not escaped again.
    expect(again.stdout).toContain("agents/echo.md: already converted");
    expect(await tree(p.dir)).toEqual(converted);
  });

  it("never escapes twice: a converted file with CRLF line endings and its header removed is still already converted", async () => {
    const { system, description } = await dollarRepo();
    expect((await migrate()).code).toBe(0);
    const file = path.join(p.dir, "agents/echo.md");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/^# Converted from .*\n/m, "").replace(/\n/g, "\r\n"));
    const converted = await tree(p.dir);
    const again = await migrate();
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain("agents/echo.md: already converted");
    expect(await tree(p.dir)).toEqual(converted);
    expect(await loadedEcho()).toEqual([[system, description]]);
  });

  it("splices a data-file glob at the project root (../extr*.yml), as a plain path would", async () => {
    const lead = await raw.create("agent", { name: "lead", model: MODEL, tools: [{ type: "custom", name: "lookup", description: "Look up.", input_schema: { type: "object" } }] });
    await p.write({ "extra.yml": "- {type: custom, name: lookup, description: Look up., input_schema: {type: object}}\n", "agents/lead.md": "---\nname: lead\nmodel: claude-sonnet-5-5\ntools:\n  - ../extr*.yml\n---\n" });
    await lock({ "./agents/lead.md": { kind: "agent", id: lead.id, version: "1" } });
    const out = await migrate();
    expect(out.code, out.output).toBe(0);
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(plan.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`)).toEqual(["agent.lead:adopt:0"]);
  });

  it("refuses what validate would refuse, before writing: 16 metadata keys (no room for the marker), two files with one name", async () => {
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "v"]));
    const env = await raw.create("environment", { name: "full", config: { type: "cloud" }, metadata });
    await p.write({ "environments/full.yaml": `name: full\nconfig:\n  type: cloud\nmetadata:\n${Object.keys(metadata).map((k) => `  ${k}: v`).join("\n")}\n`, "agents/one.yaml": "name: same\nmodel: claude-sonnet-5-5\n", "agents/two.yaml": "name: same\nmodel: claude-sonnet-5-5\n" });
    await lock({ "./environments/full.yaml": { kind: "environment", id: env.id } });
    p.cp.clearRequestLog();
    const out = await refused("AF-METADATA-TOO-MANY");
    expect(out.output).toContain("AF-NAME-DUPLICATE");
  });

  it("refuses a README.md that claude-lock.json tracks (agentform reads it as documentation), naming it", async () => {
    const readme = await raw.create("agent", { name: "README", model: MODEL });
    await p.write({ "agents/README.md": "---\nmodel: claude-sonnet-5-5\n---\n" });
    await lock({ "./agents/README.md": { kind: "agent", id: readme.id, version: "1" } });
    p.cp.clearRequestLog();
    const out = await refused("AF-ANT-README");
    expect(out.output).toContain("agents/README.md");
  });
});

describe("agentform import, hostile workspaces", () => {
  let p: CliProject;
  let raw: ControlPlane;
  beforeEach(async () => {
    p = await cliProject({});
    raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  });
  afterEach(() => p.close());

  const planJson = async () => {
    const out = await p.run("plan", "--format", "json");
    expect(out.code, out.stdout + out.stderr).not.toBe(4);
    return JSON.parse(out.stdout) as PlanJson;
  };

  it("matches a pathological --name glob against a long live name at once", async () => {
    await raw.create("agent", { name: "a".repeat(40), model: MODEL });
    await raw.create("agent", { name: `${"a".repeat(40)}b`, model: MODEL });
    const out = await p.run("import", "--name", "*a*a*a*a*a*a*a*a*a*a*a*b", "--dry-run");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^\\+ agent\\.${"a".repeat(40)}b \\(`, "m"));
    expect(out.stdout).not.toMatch(new RegExp(`agent\\.${"a".repeat(40)} `));
    expect(out.stdout).toMatch(/Import: would write 1 manifest\(s\), skipped 0\./);
  });

  it("keeps ${ in live text as text: the plan adopts with no change and the loaded value equals the live one", async () => {
    // A var of that name exists: interpolating the imported text would change it.
    await writeFile(p.config, `${await readFile(p.config, "utf8")}vars:\n  name: Bob\n`);
    const system = "Reply with ${vars.name} unchanged";
    const multi = "First line keeps ${vars.name}.\nSecond line keeps ${vars.missing} and $${vars.name} too.";
    const agent = await raw.create("agent", { name: "literal", model: MODEL, system, description: "Mentions ${vars.name}" });
    await raw.create("agent", { name: "long", model: MODEL, system: multi });
    await raw.create("memory_store", { name: "notes", description: "Keys like ${vars.name} are literal." });
    const out = await p.run("import");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/Import: wrote 3 manifest\(s\), skipped 0\./);

    const json = await planJson();
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}:${r.changes.length}`).sort()).toEqual(["agent.literal:adopt:0", "agent.long:adopt:0", "memory_store.notes:adopt:0"]);
    const loaded = await loadProject(await loadConfig({ cwd: p.dir, configPath: p.config }));
    expect(loaded.diagnostics).toEqual([]);
    const byName = Object.fromEntries(loaded.manifests.agent.map((m) => [m.name, m.spec]));
    expect(byName.literal?.system).toBe(system);
    expect(byName.literal?.description).toBe("Mentions ${vars.name}");
    expect(byName.long?.system).toBe(multi);
    expect(loaded.manifests.memory_store[0]?.spec.description).toBe("Keys like ${vars.name} are literal.");

    // Adopting writes the marker only: the live text is what it was.
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect((await raw.get("agent", agent.id)).system).toBe(system);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("lists skills as not imported without --kind skill (no marker) and writes nothing for them; --kind skill imports them", async () => {
    const skill = await raw.create("skill", { display_name: "refunds", files: skillFiles("refunds", { "SKILL.md": skillMd("refunds") }) });
    await raw.create("agent", { name: "clerk", model: MODEL });
    const config = await readFile(p.config, "utf8");
    const out = await p.run("import");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`! skill.refunds (${skill.id}): not imported: a skill carries no ownership marker`);
    expect(out.stdout).toContain("agentform import --kind skill");
    expect(out.stdout).toMatch(/\+ agent\.clerk /);
    expect(out.stdout).toMatch(/Import: wrote 1 manifest\(s\), skipped 1\./);
    expect(Object.keys(await tree(p.dir)).filter((f) => f.startsWith("skills"))).toEqual([]);
    expect(await readFile(p.config, "utf8")).toBe(config);

    const skills = await p.run("import", "--kind", "skill");
    expect(skills.code, skills.stderr).toBe(0);
    expect(skills.stdout).toMatch(new RegExp(`^\\+ skill\\.refunds \\(${skill.id}\\) -> skills/refunds/ `, "m"));
    expect(await readFile(path.join(p.dir, "skills", "refunds", "SKILL.md"), "utf8")).toBe(skillMd("refunds"));
    expect((parse(await readFile(p.config, "utf8")) as Obj).adopt).toEqual({ "skill/refunds": skill.id });
  });

  it("writes a live agent named README and a memory store named readme with multi-line text as .yaml the next plan adopts", async () => {
    const system = "First line of the prompt.\n\n- a list item\n- another one\n\nLast line.";
    const description = "What the team learns.\nOne fact per line.\nNever secrets.";
    const agent = await raw.create("agent", { name: "README", model: MODEL, system });
    const store = await raw.create("memory_store", { name: "readme", description });
    const out = await p.run("import");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`+ agent.README (${agent.id}) -> agents/readme.yaml`);
    expect(out.stdout).toContain(`+ memory_store.readme (${store.id}) -> memory_stores/readme.yaml`);
    const files = Object.keys(await tree(p.dir));
    expect(files).toContain("agents/readme.yaml");
    expect(files).toContain("memory_stores/readme.yaml");
    expect(files.filter((f) => /readme\.md$/i.test(f))).toEqual([]);

    const json = await planJson();
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => `${r.address}:${r.action}:${r.id}:${r.changes.length}`).sort()).toEqual([`agent.README:adopt:${agent.id}:0`, `memory_store.readme:adopt:${store.id}:0`]);
  });

  it("refuses an adopt id that is a live resource under another name (naming it), or no live resource; never creates", async () => {
    const other = await raw.create("agent", { name: "someone-else", model: MODEL });
    await p.write({ "agents/mine.yaml": `name: mine\nmodel: ${MODEL}\nagentform:\n  adopt: ${other.id}\n` });
    let json = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(json.refusals).toMatchObject([{ address: "agent.mine", code: "adopt-id-mismatch" }]);
    expect(json.refusals[0]?.message).toContain("someone-else");
    expect(json.refusals[0]?.message).toContain(other.id);
    expect(json.resources.filter((r) => r.action === "create")).toEqual([]);

    const missing = "agent_011NoSuchAgentAnywhere0001";
    await p.write({ "agents/mine.yaml": `name: mine\nmodel: ${MODEL}\nagentform:\n  adopt: ${missing}\n` });
    const store = "memstore_011NoSuchStoreAnywhere01";
    await p.write({ "memory_stores/notes.yaml": `name: notes\nagentform:\n  adopt: ${store}\n` });
    json = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(json.refusals.map((r) => `${r.address}:${r.code}`).sort()).toEqual(["agent.mine:adopt-id-mismatch", "memory_store.notes:adopt-id-mismatch"]);
    expect(json.refusals.find((r) => r.address === "agent.mine")?.message).toContain(missing);
    expect(json.resources.filter((r) => r.action === "create")).toEqual([]);

    // Apply refuses too: not a single create reaches the workspace.
    p.cp.clearRequestLog();
    const apply = await p.run("apply", "--auto-approve");
    expect(apply.code).not.toBe(0);
    expect(p.writes()).toEqual([]);
    expect(((await raw.list("agent")) as Array<{ name: string }>).map((a) => a.name)).toEqual(["someone-else"]);
    expect(await raw.list("memory_store")).toEqual([]);
  });

  it("prints the adopt: entries to add by hand when agentform.yaml is a symbolic link, leaving the link and its target as they were", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "agentform-config-"));
    try {
      const target = path.join(outside, "agentform.yaml");
      const config = await readFile(p.config, "utf8");
      await writeFile(target, config);
      await rm(p.config);
      await symlink(target, p.config);
      const skill = await raw.create("skill", { display_name: "refunds", files: skillFiles("refunds", { "SKILL.md": skillMd("refunds") }) });

      const out = await p.run("import", "--kind", "skill");
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain("agentform.yaml is a symbolic link, so it was not changed: add under adopt:");
      expect(out.stdout).toContain(`"skill/refunds": ${skill.id}`);
      expect((await lstat(p.config)).isSymbolicLink()).toBe(true);
      expect(await readlink(p.config)).toBe(target);
      expect(await readFile(target, "utf8")).toBe(config);
      expect(await readdir(outside)).toEqual(["agentform.yaml"]);
      // The skill's files are written all the same.
      expect(await readFile(path.join(p.dir, "skills", "refunds", "SKILL.md"), "utf8")).toBe(skillMd("refunds"));
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("shows a skill's adoption (import --kind skill, then plan) with impact none", async () => {
    const skill = await raw.create("skill", { display_name: "refunds", files: skillFiles("refunds", { "SKILL.md": skillMd("refunds") }) });
    expect((await p.run("import", "--kind", "skill")).code).toBe(0);
    const json = await planJson();
    expect(json.refusals).toEqual([]);
    expect(json.resources.map((r) => ({ address: r.address, action: r.action, id: r.id, impact: r.impact, changes: r.changes }))).toEqual([{ address: "skill.refunds", action: "adopt", id: skill.id, impact: "none", changes: [] }]);
  });

  it("says credentials come with their vault when asked for --kind credential, and writes nothing", async () => {
    const vault = await raw.create("vault", { display_name: "tools" });
    await raw.create("credential", { display_name: "tools/github", vault_id: vault.id, auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "t" } });
    const before = await tree(p.dir);
    const out = await p.run("import", "--kind", "credential");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/credentials are imported with their vault: run `agentform import --kind vault`/);
    expect(await tree(p.dir)).toEqual(before);
  });
});
