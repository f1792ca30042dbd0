/**
 * Hostile text from the API, end to end: live resources edited through the real SDK against the
 * local control plane carry escape sequences, bidi overrides, lone CRs and Markdown/HTML in their
 * names, descriptions, prompts and metadata. `agentform plan` (text and Markdown) and the apply
 * review screen show them as visible escapes and inert text.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

  it("diagnostics quoting hostile file names, keys and values are inert in validate (text and JSON) and in plan warnings", async () => {
    const file = path.join(dir, "agents", "a\u001b]0;TITLE\u0007\u001b[2J\rb.yaml");
    // A warning (an unused allow entry) for plan to print, and an unknown key for validate.
    await writeFile(file, 'name: ok\nmodel: claude-sonnet-5-5\nagentform:\n  allow_secret_pattern: ["/system"]\n');
    const plan = await run(["plan"]);
    expect(plan.stderr).toMatch(/AF-SECRET-ALLOW-UNUSED/);
    expect(plan.stderr).toContain("a\\x1b]0;TITLE\\x07\\x1b[2J\\rb.yaml");
    expect(plan.stderr + plan.stdout).not.toMatch(UNSAFE);
    await writeFile(file, 'name: ok\nmodel: claude-sonnet-5-5\n"bad\\u202e\\x1b[31m": 1\n');
    for (const format of ["text", "json"]) {
      const validate = await run(["validate", "--format", format]);
      expect(validate.code).toBe(4);
      expect(validate.stdout + validate.stderr).toMatch(/AF-SCHEMA|additional|unknown/i);
      expect(validate.stdout + validate.stderr).not.toMatch(UNSAFE);
    }
  });

  it("credentials in live values are redacted in every plan format, and a saved plan with them still applies", async () => {
    // Assembled at run time: no credential-shaped literal in the repository.
    const token = ["ghp", "_", "Zq8Lm2Xw4Vb6Nc1Rt3Yu5Io7Pa9Sd0Fg2Hj4K"].join("");
    const key = ["sk-ant-", "api03-", "Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8Vb7Nm6"].join("");
    const triage = (await sdk().beta.agents.list()).data.find((a) => a.name.startsWith("triage"))!;
    await sdk().beta.agents.update(triage.id, { version: triage.version, system: `Our key is ${key}.`, metadata: { "agentform.project": "support-bots", tok: token } });
    const planFile = path.join(dir, "plan.json");
    for (const format of ["text", "markdown", "json"]) {
      const plan = await run(["plan", "--format", format, "--out", planFile]);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain("[REDACTED]");
      for (const secret of [token, key]) {
        expect(plan.stdout).not.toContain(secret.slice(4, 20));
        expect(await readFile(planFile, "utf8")).not.toContain(secret.slice(4, 20));
      }
    }
    const apply = await run(["apply", planFile]);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).not.toContain(token.slice(4, 20));
  });
});
