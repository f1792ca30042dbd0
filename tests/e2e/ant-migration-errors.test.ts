/**
 * `agentform import --from-ant` refuses, writing nothing, a repository `ant apply` itself would
 * refuse, and a claude-lock.json it cannot trust. One small repository per rule: the exit code,
 * the message naming the file (and the line, where the problem has one), and every file of the
 * project byte for byte as it was.
 *
 * The ids in these lockfiles are well formed but name nothing live: each refusal must come before
 * anything is written, to the project or to the workspace.
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

type Entry = { kind: string; id: string; version?: string };

const ids = {
  lead: "agent_011ErrLeadAgent000000001",
  helper: "agent_011ErrHelperAgent0000002",
  a: "agent_011ErrCycleAgentA000003",
  b: "agent_011ErrCycleAgentB000004",
  sandbox: "env_011ErrSandboxEnv000000005",
  notes: "memstore_011ErrNotesStore00006",
  nightly: "depl_011ErrNightlyDepl000007",
};

const agent = (id: string): Entry => ({ kind: "agent", id, version: "1" });

/** claude-lock.json as ant writes it: sorted keys, 2-space indent, a trailing newline. */
function antLock(baseUrl: string, resources: Record<string, Entry>, version = 1): string {
  const sorted = Object.fromEntries(
    Object.keys(resources)
      .sort()
      .map((k) => {
        const e = resources[k]!;
        const hash = createHash("sha256").update(k).digest("hex");
        return [k, Object.fromEntries(Object.entries({ ...e, hash }).sort(([x], [y]) => x.localeCompare(y)))];
      }),
  );
  return `${JSON.stringify({ origin: { base_url: baseUrl }, resources: sorted, version }, null, 2)}\n`;
}

/** The 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`${needle} not in the text`);
  return index + 1;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `file:line` (a column may follow), for one of `lines`. */
const at = (file: string, ...lines: number[]) => new RegExp(`${escape(file)}:(${lines.join("|")})\\b`);

async function snapshot(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (child === ".agentform") continue;
    if (entry.isDirectory()) Object.assign(out, await snapshot(dir, child));
    else out[child] = (await readFile(path.join(dir, child))).toString("base64");
  }
  return out;
}

const LEAD = `---
name: lead
model: claude-sonnet-5-5
---
Route each request to the right helper.
`;

const HELPER = `name: helper
model: claude-haiku-5-5
system: Answer one narrow kind of question.
`;

describe("agentform import --from-ant refuses, and writes nothing", () => {
  let p: CliProject | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  /**
   * A project holding `files` and, at its root (or at `lockAt`), claude-lock.json listing
   * `resources` (or `lockText` as it is); runs the migration and checks nothing changed.
   */
  async function migrate(files: Record<string, string>, resources: Record<string, Entry>, options: { lockText?: (baseUrl: string) => string; lockAt?: string } = {}) {
    p = await cliProject(files);
    const lockAt = options.lockAt ?? "claude-lock.json";
    await p.write({ [lockAt]: options.lockText ? options.lockText(p.cp.baseUrl) : antLock(p.cp.baseUrl, resources) });
    const before = await snapshot(p.dir);
    const out = await p.run("import", "--from-ant", path.join(p.dir, lockAt));
    expect(await snapshot(p.dir), "no file may change").toEqual(before);
    // A refusal sends nothing to the workspace either.
    expect(p.writes()).toEqual([]);
    return { code: out.code, output: out.stdout + out.stderr };
  }

  it("a reference to a resource of the wrong kind (an environment in a roster)", async () => {
    const lead = `---
name: lead
model: claude-sonnet-5-5
multiagent:
  type: coordinator
  agents:
    - ./helper.yml
    - ../environments/sandbox.yml
---
Route each request to the right helper.
`;
    const out = await migrate(
      { "agents/lead.md": lead, "agents/helper.yml": HELPER, "environments/sandbox.yml": "name: sandbox\nconfig:\n  type: cloud\n" },
      { "./agents/lead.md": agent(ids.lead), "./agents/helper.yml": agent(ids.helper), "./environments/sandbox.yml": { kind: "environment", id: ids.sandbox } },
    );
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("agents/lead.md", lineOf(lead, "../environments/sandbox.yml")));
    expect(out.output).toContain("environments/sandbox.yml");
  });

  it("a reference to a resource of the wrong kind (an agent as a deployment's environment)", async () => {
    const nightly = `name: nightly
agent: ../agents/lead.md
environment_id: ../agents/helper.yml
initial_events:
  - type: user.message
    content:
      - type: text
        text: Work the queue.
`;
    const out = await migrate(
      { "agents/lead.md": LEAD, "agents/helper.yml": HELPER, "deployments/nightly.yml": nightly },
      { "./agents/lead.md": agent(ids.lead), "./agents/helper.yml": agent(ids.helper), "./deployments/nightly.yml": { kind: "deployment", id: ids.nightly } },
    );
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("deployments/nightly.yml", lineOf(nightly, "environment_id:")));
  });

  it("a self-reference by path", async () => {
    const lead = `---
name: lead
model: claude-sonnet-5-5
multiagent:
  type: coordinator
  agents:
    - ./helper.yml
    - ./lead.md
---
Route each request to the right helper.
`;
    const out = await migrate({ "agents/lead.md": lead, "agents/helper.yml": HELPER }, { "./agents/lead.md": agent(ids.lead), "./agents/helper.yml": agent(ids.helper) });
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("agents/lead.md", lineOf(lead, "- ./lead.md")));
  });

  it("a cycle, reported as a path with arrows", async () => {
    const a = `---\nname: a\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - ./b.md\n---\nAsk b.\n`;
    const b = `---\nname: b\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - ./a.md\n---\nAsk a.\n`;
    const out = await migrate({ "agents/a.md": a, "agents/b.md": b }, { "./agents/a.md": agent(ids.a), "./agents/b.md": agent(ids.b) });
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(/(agents\/)?a\.md -> (agents\/)?b\.md -> (agents\/)?a\.md|(agents\/)?b\.md -> (agents\/)?a\.md -> (agents\/)?b\.md/);
  });

  it.each([
    {
      what: "an agent's system",
      file: "agents/lead.md",
      field: "system:",
      text: `---\nname: lead\nmodel: claude-sonnet-5-5\nsystem: Route each request.\n---\nRoute each request to the right helper.\n`,
      entry: agent(ids.lead),
    },
    {
      what: "an environment's description",
      file: "environments/sandbox.md",
      field: "description:",
      text: `---\nname: sandbox\ndescription: A sandbox.\nconfig:\n  type: cloud\n---\nA sandbox for data work.\n`,
      entry: { kind: "environment", id: ids.sandbox },
    },
    {
      what: "a memory store's description",
      file: "memory_stores/notes.md",
      field: "description:",
      text: `---\nname: notes\ndescription: Notes.\n---\nWhat the lead learns between runs.\n`,
      entry: { kind: "memory_store", id: ids.notes },
    },
  ])("a field set in the frontmatter while the file has a body: $what", async ({ file, field, text, entry }) => {
    const out = await migrate({ [file]: text }, { [`./${file}`]: entry });
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at(file, lineOf(text, field)));
  });

  it("a deployment's initial_events set in the frontmatter while the file has a body", async () => {
    const nightly = `---
name: nightly
agent: ../agents/lead.md
environment_id: ../environments/sandbox.yml
initial_events:
  - type: user.message
    content:
      - type: text
        text: Work the queue.
---
Work the queue.
`;
    const out = await migrate(
      { "agents/lead.md": LEAD, "environments/sandbox.yml": "name: sandbox\nconfig:\n  type: cloud\n", "deployments/nightly.md": nightly },
      { "./agents/lead.md": agent(ids.lead), "./environments/sandbox.yml": { kind: "environment", id: ids.sandbox }, "./deployments/nightly.md": { kind: "deployment", id: ids.nightly } },
    );
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("deployments/nightly.md", lineOf(nightly, "initial_events:")));
  });

  it("a reference version other than latest", async () => {
    const lead = `---
name: lead
model: claude-sonnet-5-5
multiagent:
  type: coordinator
  agents:
    - path: ./helper.yml
      version: 3
---
Route each request to the right helper.
`;
    const out = await migrate({ "agents/lead.md": lead, "agents/helper.yml": HELPER }, { "./agents/lead.md": agent(ids.lead), "./agents/helper.yml": agent(ids.helper) });
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("agents/lead.md", lineOf(lead, "version: 3"), lineOf(lead, "- path: ./helper.yml")));
  });

  it("extra keys overriding the id field the path resolves to", async () => {
    const nightly = `---
name: nightly
agent: ../agents/lead.md
environment_id: ../environments/sandbox.yml
resources:
  - path: ../memory_stores/notes.yml
    memory_store_id: memstore_011ErrSomeOtherStore08
    access: read_only
---
Work the queue.
`;
    const out = await migrate(
      {
        "agents/lead.md": LEAD,
        "environments/sandbox.yml": "name: sandbox\nconfig:\n  type: cloud\n",
        "memory_stores/notes.yml": "name: notes\ndescription: What the lead learns.\n",
        "deployments/nightly.md": nightly,
      },
      {
        "./agents/lead.md": agent(ids.lead),
        "./environments/sandbox.yml": { kind: "environment", id: ids.sandbox },
        "./memory_stores/notes.yml": { kind: "memory_store", id: ids.notes },
        "./deployments/nightly.md": { kind: "deployment", id: ids.nightly },
      },
    );
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("deployments/nightly.md", lineOf(nightly, "memory_store_id:"), lineOf(nightly, "- path: ../memory_stores/notes.yml")));
  });

  it("a data file directly in a kind folder", async () => {
    const lead = `---
name: lead
model: claude-sonnet-5-5
tools:
  - type: agent_toolset_20260401
  - ./tools.yml
---
Route each request to the right helper.
`;
    const tools = `- type: custom\n  name: lookup_invoice\n  description: Fetch one invoice.\n  input_schema:\n    type: object\n`;
    const out = await migrate({ "agents/lead.md": lead, "agents/tools.yml": tools }, { "./agents/lead.md": agent(ids.lead) });
    expect(out.code, out.output).toBe(4);
    expect(out.output).toContain("agents/tools.yml");
  });

  it("several problems in several files: every file is named, nothing is converted", async () => {
    const a = `---\nname: a\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - ../environments/sandbox.yml\n---\nAsk the sandbox.\n`;
    const b = `---\nname: b\nmodel: claude-sonnet-5-5\nsystem: Twice.\n---\nTwice.\n`;
    const out = await migrate(
      { "agents/a.md": a, "agents/b.md": b, "agents/helper.yml": HELPER, "environments/sandbox.yml": "name: sandbox\nconfig:\n  type: cloud\n" },
      { "./agents/a.md": agent(ids.a), "./agents/b.md": agent(ids.b), "./agents/helper.yml": agent(ids.helper), "./environments/sandbox.yml": { kind: "environment", id: ids.sandbox } },
    );
    expect(out.code, out.output).toBe(4);
    expect(out.output).toMatch(at("agents/a.md", lineOf(a, "../environments/sandbox.yml")));
    expect(out.output).toMatch(at("agents/b.md", lineOf(b, "system:")));
  });

  describe("claude-lock.json", () => {
    const files = { "agents/lead.md": LEAD };
    const resources = { "./agents/lead.md": agent(ids.lead) };

    it("written against another base URL: exit 3, naming both", async () => {
      let target = "";
      const out = await migrate(files, resources, {
        lockText: (baseUrl) => {
          target = baseUrl;
          return antLock("https://api.anthropic.com", resources);
        },
      });
      expect(out.code, out.output).toBe(3);
      expect(out.output).toContain("https://api.anthropic.com");
      expect(out.output).toContain(target);
    });

    it("written by a newer ant (version 2): exit 4", async () => {
      const out = await migrate(files, resources, { lockText: (baseUrl) => antLock(baseUrl, resources, 2) });
      expect(out.code, out.output).toBe(4);
      expect(out.output).toContain("claude-lock.json");
    });

    it.each(["../outside/agents/lead.md", "./agents/../../outside/lead.md", "/etc/agents/lead.md"])("a key escaping the folder (%s): exit 4", async (key) => {
      const out = await migrate(files, resources, { lockText: (baseUrl) => antLock(baseUrl, { ...resources, [key]: agent(ids.helper) }) });
      expect(out.code, out.output).toBe(4);
      expect(out.output).toContain("claude-lock.json");
    });

    it("malformed JSON: exit 4", async () => {
      const out = await migrate(files, resources, { lockText: (baseUrl) => antLock(baseUrl, resources).slice(0, -12) });
      expect(out.code, out.output).toBe(4);
      expect(out.output).toContain("claude-lock.json");
    });

    it("not at the project root (the folder of agentform.yaml): refused", async () => {
      const out = await migrate({ "fleet/agents/lead.md": LEAD }, resources, { lockAt: "fleet/claude-lock.json" });
      expect(out.code, out.output).toBe(4);
      expect(out.output).toContain("fleet/claude-lock.json");
      expect(out.output).toContain("agentform.yaml");
    });
  });
});
