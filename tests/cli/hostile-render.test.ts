/**
 * Hostile text from the API, end to end: live resources edited through the real SDK against the
 * local control plane carry escape sequences, bidi overrides, lone CRs and Markdown/HTML in their
 * names, descriptions, prompts and metadata. `agentform plan` (text and Markdown) and the apply
 * review screen show them as visible escapes and inert text.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "../helpers/capture.js";

const KEY_ENV = "AGENTFORM_HOSTILE_TEST_KEY";
const API_KEY = ["sk", "ant", "hostile", "test", "5d1e9a"].join("-");
const PAYLOAD = "\u001b[2J\u001b]0;pwned\u0007\rsecurity: none\u202eevil\u2066 </details><img src=x> @octocat https://evil.example <!-- agentform-plan:other/prod -->";
// What a terminal must never receive raw (newline and tab excepted).
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("hostile live text through the CLI", () => {
  let cp: LocalControlPlane;
  let dir: string;
  let config: string;

  async function run(args: string[]): Promise<Run> {
    const out = capture();
    const err = capture();
    const env: NodeJS.ProcessEnv = { [KEY_ENV]: API_KEY, NO_COLOR: "1" };
    const code = await main(["node", "agentform", ...args, "--config", config], { stdout: out.stream, stderr: err.stream, env });
    return { code, stdout: out.text(), stderr: err.text() };
  }
  const sdk = () => new Anthropic({ apiKey: API_KEY, baseURL: cp.baseUrl, maxRetries: 0 });

  beforeEach(async () => {
    cp = await startLocalControlPlane({ apiKey: API_KEY });
    dir = await mkdtemp(path.join(tmpdir(), "agentform-hostile-"));
    config = path.join(dir, "agentform.yaml");
    await writeFile(config, ["project: support-bots", "targets:", "  default:", `    base_url: ${cp.baseUrl}`, `    api_key_env: ${KEY_ENV}`, "    writes_per_minute: 100000", ""].join("\n"));
    await mkdir(path.join(dir, "agents"));
    await writeFile(path.join(dir, "agents", "triage.yaml"), "name: triage\nmodel: claude-sonnet-5-5\ndescription: Routes tickets.\nsystem: |\n  Sort incoming tickets.\n  Be brief.\n");
    const first = await run(["apply", "--auto-approve"]);
    expect(first.code).toBe(0);
    // Drift with hostile values, made in "the console".
    const triage = (await sdk().beta.agents.list()).data.find((a) => a.name === "triage")!;
    await sdk().beta.agents.update(triage.id, {
      version: triage.version,
      description: `Routes tickets.${PAYLOAD}`,
      system: `Sort incoming tickets.\n${PAYLOAD}\nBe brief.`,
      metadata: { "agentform.project": "support-bots", note: PAYLOAD },
      // Renamed too: the plan renames it back and names the live name it renames from.
      name: `triage${PAYLOAD}`,
    });
  });

  afterEach(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the text plan shows every hostile value as visible escapes", async () => {
    const plan = await run(["plan"]);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toMatch(UNSAFE);
    expect(plan.stdout).toContain("\\x1b[2J\\x1b]0;pwned\\x07\\rsecurity: none\\u202eevil\\u2066");
    expect(plan.stdout).toContain('rename from "triage\\x1b[2J'); // the hostile live name, inert
    expect(plan.stdout).toContain("-\\x1b[2J"); // the prompt line removed by the diff
    expect(plan.stdout).not.toMatch(/^security: none/m);
  });

  it("the Markdown comment keeps one marker and opens nothing", async () => {
    const plan = await run(["plan", "--format", "markdown"]);
    expect(plan.code).toBe(0);
    const md = plan.stdout;
    expect(md).not.toMatch(UNSAFE);
    expect(md.split("\n")[0]).toBe("<!-- agentform-plan:support-bots/default -->");
    expect(md.match(/<!--/g)).toHaveLength(1);
    // Outside code fences (which GitHub shows verbatim) nothing of the payload is live.
    const prose = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, "");
    expect(prose.match(/<\/details>/g)).toHaveLength(prose.match(/<details>/g)!.length);
    expect(prose).toContain("&lt;img src=x&gt;");
    expect(prose).not.toMatch(/<img|@octocat|https:\/\//);
  });

  it("the apply review screen is inert too", async () => {
    const apply = await run(["apply", "--auto-approve"]);
    expect(apply.code).toBe(0);
    const review = apply.stdout.slice(0, apply.stdout.indexOf("Plan:"));
    expect(review).toContain("\\u202eevil");
    expect(review).not.toMatch(UNSAFE);
  });

  it("progress lines name pruned resources by their hostile live name, inertly", async () => {
    await rm(path.join(dir, "agents", "triage.yaml"));
    const apply = await run(["apply", "--auto-approve", "--prune", "--allow-empty"]);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/^\[1\/1\] - agent\.triage\\x1b\[2J.* archived$/m);
    expect(apply.stdout).not.toMatch(UNSAFE);
  });
});
