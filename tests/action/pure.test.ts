/**
 * The Action's pure parts with plain data: which comment is the sticky one, the findings line
 * (encode, strict decode, compare), the comment bodies, the inputs and the event payload.
 */
import { projectName } from "../../src/action/project.js";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { failedCommentBody, forkCommentBody, outputBlock, planCommentBody, withoutFindingsLine } from "../../src/action/body.js";
import { pullRequestOf } from "../../src/action/event.js";
import { MAX_FINDINGS_LINE, compareFindings, decodeFindings, encodeFindings, planFindings, planFromJson, type FindingKey } from "../../src/action/findings.js";
import { setOutputs } from "../../src/action/gha.js";
import { mergedPullOf } from "../../src/action/github.js";
import { configArg, planArgsOf, readContext, readInputs, splitArgs } from "../../src/action/inputs.js";
import { childEnv } from "../../src/action/run.js";
import { findSticky, isStickyComment, stickyMarker, type Identity } from "../../src/action/sticky.js";
import type { Plan } from "../../src/plan/types.js";
import { parseOutputs } from "./harness.js";

const MARKER = stickyMarker("support-bots", "default");
const BOT = { login: "github-actions[bot]", type: "Bot" };
const ANY_BOT: Identity = { login: null };
const SHA = "a".repeat(40);

describe("sticky comment matching", () => {
  const comment = (id: number, body: string, user: { login: string; type: string } = BOT) => ({ id, body, user });

  it("matches the exact marker as the first line (LF or CRLF), from the token's user", () => {
    expect(MARKER).toBe("<!-- agentform-plan:support-bots/default -->");
    expect(isStickyComment(comment(1, `${MARKER}\n## plan`), MARKER, ANY_BOT)).toBe(true);
    expect(isStickyComment(comment(1, `${MARKER}\r\n## plan`), MARKER, ANY_BOT)).toBe(true);
    expect(isStickyComment(comment(1, MARKER), MARKER, ANY_BOT)).toBe(true);
  });

  it("ignores a quoted marker, a marker later in the body, a marker with more on its line, and other targets or projects", () => {
    for (const body of [`> ${MARKER}\n`, `Looks good\n${MARKER}\n`, ` ${MARKER}\n`, `${MARKER} extra\n`, `${MARKER}x\n`, "", `${stickyMarker("support-bots", "production")}\n`, `${stickyMarker("other", "default")}\n`]) {
      expect(isStickyComment(comment(1, body), MARKER, ANY_BOT), body).toBe(false);
    }
  });

  it("never matches with an empty or malformed marker (a failed plan's empty output)", () => {
    for (const marker of ["", "<!-- agentform-plan: -->", "<!-- agentform-plan:/default -->", "<!-- agentform-plan:p/ -->", "<!-- agentform-plan:a/b/c -->"]) {
      expect(isStickyComment(comment(1, `${marker}\n`), marker, ANY_BOT), marker).toBe(false);
      expect(isStickyComment(comment(1, ""), marker, ANY_BOT)).toBe(false);
    }
  });

  it("checks the author: the known login exactly, or (for installation tokens) a bot", () => {
    const person = { login: "octocat", type: "User" };
    expect(isStickyComment(comment(1, `${MARKER}\n`, person), MARKER, ANY_BOT)).toBe(false);
    expect(isStickyComment(comment(1, `${MARKER}\n`, person), MARKER, { login: "octocat" })).toBe(true);
    expect(isStickyComment(comment(1, `${MARKER}\n`, BOT), MARKER, { login: "octocat" })).toBe(false);
    expect(isStickyComment({ id: 1, body: `${MARKER}\n`, user: null }, MARKER, ANY_BOT)).toBe(false);
    expect(isStickyComment({ id: 1, body: null, user: BOT }, MARKER, ANY_BOT)).toBe(false);
  });

  it("finds the oldest sticky comment among others", () => {
    const list = [comment(1, `> ${MARKER}`), comment(2, `${MARKER}\n`, { login: "octocat", type: "User" }), comment(3, `${MARKER}\nold`), comment(4, `${MARKER}\nnewer`)];
    expect(findSticky(list, MARKER, ANY_BOT)?.id).toBe(3);
    expect(findSticky([], MARKER, ANY_BOT)).toBeUndefined();
  });

  it("when the token cannot tell its login, only github-actions[bot]'s comment is ours, never another bot's", () => {
    const other = { login: "some-app[bot]", type: "Bot" };
    const list = [comment(1, `${MARKER}\n`, other), comment(2, `${MARKER}\n`)];
    expect(findSticky(list, MARKER, ANY_BOT)?.id).toBe(2);
    // Another app's comment starting with the marker is neither edited nor read as the reviewed plan.
    expect(findSticky([comment(1, `${MARKER}\n`, other)], MARKER, ANY_BOT)).toBeUndefined();
    expect(findSticky(list, MARKER, { login: "some-app[bot]" })?.id).toBe(1);
  });
});

const key = (address: string, category = "tool-enabled", pointer = "/tools/0", detail = "0123456789abcdef"): FindingKey => ({ address, category, pointer, detail });
const b64line = (payload: string) => `<!-- agentform-findings:${Buffer.from(payload, "utf8").toString("base64")} -->`;

describe("findings line", () => {
  it("round-trips through a comment body (as its last line)", () => {
    const keys = [key("agent.a"), key("agent.b", "mcp-server-added", "/mcp_servers/x")];
    const body = planCommentBody(`${MARKER}\n## plan\n`, { project: "p", target: "t", sha: SHA }, encodeFindings(SHA, keys));
    expect(decodeFindings(body)).toEqual({ sha: SHA, findings: keys, digest: expect.stringMatching(/^[0-9a-f]{64}$/), count: 2 });
    expect(decodeFindings(`${body}\n\n`)?.count).toBe(2);
  });

  it("treats anything malformed or hostile as no reviewed plan", () => {
    const good = encodeFindings(SHA, [key("agent.a")]);
    const hostile = [
      "",
      `${MARKER}\n## plan\n`,
      `${good}\nlater text`,
      "<!-- agentform-findings:%%%not-base64%%% -->",
      "<!-- agentform-findings:e30 -->", // non-canonical base64
      b64line("not json"),
      b64line("[]"),
      b64line("null"),
      b64line(JSON.stringify({ v: 2, sha: SHA, f: [] })),
      b64line(JSON.stringify({ v: 1, sha: "HEAD", f: [] })),
      b64line(JSON.stringify({ v: 1, sha: SHA, f: [["a", "b", "c"]] })),
      b64line(JSON.stringify({ v: 1, sha: SHA, f: [["a", "b", "c", "not-a-digest"]] })),
      b64line(JSON.stringify({ v: 1, sha: SHA, f: [["a", 1, "c", "0123456789abcdef"]] })),
      b64line(JSON.stringify({ v: 1, sha: SHA, f: [["a".repeat(2000), "b", "c", "0123456789abcdef"]] })),
      b64line(JSON.stringify({ v: 1, sha: SHA, d: "xyz", n: 1 })),
      b64line(JSON.stringify({ v: 1, sha: SHA, d: "0".repeat(64), n: -1 })),
      `<!-- agentform-findings:${Buffer.from(JSON.stringify({ v: 1, sha: SHA, f: [] })).toString("base64")}${"A".repeat(MAX_FINDINGS_LINE)} -->`,
      `<!-- agentform-findings:${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString("base64")} -->`,
    ];
    for (const body of hostile) expect(decodeFindings(body), body.slice(0, 80)).toBeNull();
    expect(decodeFindings(good)).not.toBeNull();
  });

  it("keeps a list too long for the comment as a digest, within the bound", () => {
    const many = Array.from({ length: 400 }, (_, i) => key(`agent.a${i}`, "tool-enabled", `/tools/${i}`));
    const line = encodeFindings(SHA, many);
    expect(line.length).toBeLessThanOrEqual(MAX_FINDINGS_LINE);
    const reviewed = decodeFindings(line);
    expect(reviewed).toMatchObject({ findings: null, count: 400 });
    expect(compareFindings(reviewed!, [...many].reverse())).toEqual({ unreviewed: [], digestOnly: true });
    expect(compareFindings(reviewed!, [...many, key("agent.new")]).unreviewed).toHaveLength(401);
  });

  it("keeps the longest plan comment under GitHub's 65,536 characters", () => {
    const longest = Array.from({ length: 400 }, (_, i) => key(`agent.${"n".repeat(60)}${i}`, "tool-enabled", `/tools/${"p".repeat(60)}`));
    const lines = [encodeFindings(SHA, longest)];
    for (let n = 1; n < 400; n++) lines.push(encodeFindings(SHA, longest.slice(0, n)));
    const line = lines.reduce((a, b) => (b.length > a.length ? b : a));
    expect(line.length).toBeLessThanOrEqual(MAX_FINDINGS_LINE);
    const body = planCommentBody(`${MARKER}\n${"x".repeat(60000 - MARKER.length - 1)}`, { project: "p", target: "t", sha: SHA }, line);
    expect(body.length).toBeLessThan(65536);
  });

  it("compares by address, category, pointer and detail; findings that went away are fine", () => {
    const reviewed = decodeFindings(encodeFindings(SHA, [key("agent.a"), key("agent.b")]))!;
    expect(compareFindings(reviewed, [key("agent.a")])).toEqual({ unreviewed: [], digestOnly: false });
    expect(compareFindings(reviewed, [key("agent.a"), key("agent.c")]).unreviewed).toEqual([key("agent.c")]);
    expect(compareFindings(reviewed, [key("agent.a", "network-opened")]).unreviewed).toHaveLength(1);
    expect(compareFindings(reviewed, [key("agent.a", "tool-enabled", "/tools/1")]).unreviewed).toHaveLength(1);
    expect(compareFindings(reviewed, [key("agent.a", "tool-enabled", "/tools/0", "fedcba9876543210")]).unreviewed).toHaveLength(1);
  });

  it("takes a plan's broadening findings, ids shown as names, without duplicates", () => {
    const finding = (severity: "broadening" | "notable", message: string, pointer = "/tools/x") => ({ category: "tool-enabled" as const, severity, pointer, message });
    const plan = {
      resources: [
        { address: "agent.b", name: "b", id: "agent_02", changes: [], security: [finding("broadening", "bash"), finding("broadening", "bash"), finding("notable", "read")] },
        { address: "agent.a", name: "a", id: "agent_01", changes: [], security: [finding("broadening", "roster", "/multiagent/agents/agent_02")] },
      ],
    } as unknown as Plan;
    const keys = planFindings(plan);
    expect(keys.map((k) => [k.address, k.pointer])).toEqual([
      ["agent.a", "/multiagent/agents/b"],
      ["agent.b", "/tools/x"],
    ]);
    expect(keys[1]!.detail).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses a saved plan that is not one, with a stable code", () => {
    for (const text of ["nope", "{}", '{"resources":[{"address":1}]}']) {
      expect(() => planFromJson(text)).toThrow(expect.objectContaining({ code: "action-plan-unreadable" }));
    }
  });
});

describe("comment bodies", () => {
  const where = { project: "support-bots", target: "default", sha: SHA };
  const secret = "fake-test-secret-value-0000";

  it("a failed plan has the marker first, the exit code, and the error escaped, inert and scrubbed", () => {
    const stderr = `error agents/x.yaml: <img src=x onerror=alert(1)> @team ${secret} \u001b[31m\n\`\`\`\n<!-- agentform-plan:support-bots/default -->\n`;
    const body = failedCommentBody(where, 4, { stdout: "", stderr }, [secret]);
    const lines = body.split("\n");
    expect(lines[0]).toBe(MARKER);
    expect(lines[1]).toBe("## ❌ plan failed (exit 4) · support-bots → default");
    expect(body).not.toContain(secret);
    expect(body).not.toContain("\u001b");
    expect(body).toContain("\\x1b[31m");
    expect(body.match(/<!--/g)).toHaveLength(1);
    expect(body).toContain("````text");
    expect(decodeFindings(body)).toBeNull();
  });

  it("cuts long error output and says so", () => {
    const block = outputBlock("x".repeat(100).concat("\n").repeat(1000), [], 5000);
    expect(block.length).toBeLessThan(5300);
    expect(block).toMatch(/more characters; see the job log/);
  });

  it("a refused plan (exit 3) quotes the plan as far as it went, below the error", () => {
    const body = failedCommentBody(where, 3, { stdout: `${MARKER}\n## agentform plan\n\n### ⛔ Refused\n`, stderr: "" }, []);
    expect(body.split("\n")[0]).toBe(MARKER);
    expect(body.match(/agentform-plan:/g)).toHaveLength(1);
    expect(body).toContain("### ⛔ Refused");
  });

  it("a fork's comment says why it did not plan; the summary form drops the findings line", () => {
    const body = forkCommentBody(where, 0, "", []);
    expect(body.split("\n")[0]).toBe(MARKER);
    expect(body).toContain("pull request from a fork");
    const plan = planCommentBody(`${MARKER}\n## plan\n`, where, encodeFindings(SHA, []));
    expect(withoutFindingsLine(plan)).not.toContain("agentform-findings");
    expect(withoutFindingsLine(plan)).toContain("_Planned at commit aaaaaaaaaaaa._");
  });
});

describe("inputs, context and environment", () => {
  const base = { INPUT_MODE: "plan", GITHUB_REPOSITORY: "acme/support" };

  it("splits args like shell words without a shell", () => {
    expect(splitArgs(` --only agent/a  --only "agent/b c" '$(rm -rf /)' `)).toEqual(["--only", "agent/a", "--only", "agent/b c", "$(rm -rf /)"]);
    expect(splitArgs("")).toEqual([]);
    expect(() => splitArgs('--only "x')).toThrow(expect.objectContaining({ code: "action-input-invalid" }));
  });

  it("checks mode, target, api-key-env, require-reviewed-plan and args", () => {
    const bad: Record<string, string>[] = [
      { INPUT_MODE: "destroy" },
      { INPUT_TARGET: "all" },
      { INPUT_TARGET: "a/b" },
      { INPUT_API_KEY_ENV: "X; rm -rf /" },
      { INPUT_REQUIRE_REVIEWED_PLAN: "yes" },
      { INPUT_ARGS: "--format json" },
      { INPUT_ARGS: "--target=prod" },
      { INPUT_MODE: "apply", INPUT_ARGS: "other-plan.json" },
    ];
    for (const env of bad) expect(() => readInputs({ ...base, ...env }, "/w"), JSON.stringify(env)).toThrow(expect.objectContaining({ code: "action-input-invalid", exitCode: 4 }));
    const ok = readInputs({ ...base, INPUT_MODE: "apply", INPUT_ARGS: "--concurrency 2 --prune", INPUT_WORKING_DIRECTORY: "infra" }, "/w");
    expect(ok).toMatchObject({ mode: "apply", target: "default", workingDirectory: path.resolve("/w", "infra"), apiKeyEnv: "ANTHROPIC_API_KEY", requireReviewedPlan: true, args: ["--concurrency", "2", "--prune"] });
  });

  it("gives the check plan only the options plan shares with apply", () => {
    expect(planArgsOf(["--concurrency", "2", "--prune", "--only", "agent/a", "--require-approval", "broadening", "--approve", "--config=x.yaml", "--adopt"])).toEqual(["--prune", "--only", "agent/a", "--config=x.yaml", "--adopt"]);
    expect(configArg(["-c", "infra/agentform.yaml"])).toBe("infra/agentform.yaml");
    expect(configArg(["--config=a.yaml"])).toBe("a.yaml");
  });

  it("reads the Actions context, and refuses a missing repository", () => {
    expect(readContext({ GITHUB_REPOSITORY: "acme/support", RUNNER_TEMP: "/rt" }, "/tmp")).toMatchObject({ apiUrl: "https://api.github.com", owner: "acme", repo: "support", tempDir: "/rt" });
    expect(() => readContext({}, "/tmp")).toThrow(expect.objectContaining({ code: "action-context-missing" }));
  });

  it("never hands agentform the Action's inputs or the runner's tokens; sets the key where the target reads it", () => {
    const env = childEnv({ PATH: "/bin", INPUT_GITHUB_TOKEN: "t", INPUT_API_KEY: "k", GITHUB_TOKEN: "t", ACTIONS_RUNTIME_TOKEN: "r", FORCE_COLOR: "1", GITHUB_MCP_TOKEN: "m" }, { name: "MY_KEY", value: "k" });
    expect(env).toEqual({ PATH: "/bin", GITHUB_MCP_TOKEN: "m", MY_KEY: "k", NO_COLOR: "1" });
  });

  it("tells a fork's pull request from one of this repository", () => {
    const pr = (head: unknown) => ({ pull_request: { number: 3, head: { sha: SHA, repo: head }, base: { repo: { full_name: "acme/support" } } } });
    expect(pullRequestOf(pr({ full_name: "acme/support" }))).toEqual({ number: 3, headSha: SHA, fork: false });
    expect(pullRequestOf(pr({ full_name: "stranger/support" }))?.fork).toBe(true);
    expect(pullRequestOf(pr(null))?.fork).toBe(true);
    expect(pullRequestOf({ ref: "refs/heads/main" })).toBeNull();
  });

  it("picks the pull request a merge commit came from", () => {
    const p = (number: number, merged: boolean, mergeCommitSha: string | null) => ({ number, headSha: SHA, merged, mergeCommitSha });
    expect(mergedPullOf([p(1, false, null), p(2, true, "m")], "m")?.number).toBe(2);
    expect(mergedPullOf([p(1, true, "x"), p(2, true, "m")], "m")?.number).toBe(2);
    expect(mergedPullOf([p(1, true, "x")], "m")?.number).toBe(1);
    expect(mergedPullOf([p(1, true, "x"), p(2, true, "y")], "m")).toBeUndefined();
    expect(mergedPullOf([], "m")).toBeUndefined();
  });

  it("writes outputs with a delimiter no value can forge", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-outputs-"));
    try {
      const file = path.join(dir, "out");
      await setOutputs(file, { "plan-file": "/tmp/x\nexit-code<<EOF\n0\nEOF", "exit-code": "2" });
      expect(parseOutputs(await readFile(file, "utf8"))).toEqual({ "plan-file": "/tmp/x\nexit-code<<EOF\n0\nEOF", "exit-code": "2" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the project name when agentform.yaml is hostile", () => {
  it("reads only a regular file of a sane size: a link to a device is refused at once, never read", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-action-project-"));
    try {
      await symlink("/dev/zero", path.join(dir, "agentform.yaml"));
      await expect(projectName(dir, undefined)).rejects.toMatchObject({ code: "action-project-unknown" });
      await rm(path.join(dir, "agentform.yaml"));
      await writeFile(path.join(dir, "agentform.yaml"), `project: big\n# ${"x".repeat(2 * 1024 * 1024)}\n`);
      await expect(projectName(dir, undefined)).rejects.toMatchObject({ code: "action-project-unknown" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
