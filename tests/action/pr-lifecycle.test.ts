/**
 * The Action in plan mode over a pull request's life, for real: the built dist/action/main.js as
 * a child process, talking to the GitHub stand-in over HTTP with @octokit/rest, and running the
 * built agentform against a local control plane. One sticky comment per project and target is
 * created, updated in place, marked failed and fixed again; nobody else's comment is touched.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cliProject, type CliProject } from "../helpers/cli-project.js";
import { startGithubStandin, type GithubStandin, type StandinUser } from "../helpers/github-standin.js";
import { decodeFindings } from "../../src/action/findings.js";
import { ACTIONS_BOT, OWNER, REPO, TOKEN, ensureBuilt, prEvent, published, runAction, sha } from "./harness.js";

const MARKER = "<!-- agentform-plan:support-bots/default -->";
const PR = 7;

const triage = (system: string, tools = "[bash]") =>
  [
    "name: triage",
    "model: claude-sonnet-5-5",
    `system: ${system}`,
    "tools:",
    "  - type: agent_toolset_20260401",
    "    default_config: { enabled: false }",
    "    configs:",
    ...tools
      .slice(1, -1)
      .split(",")
      .map((t) => `      - { name: ${t.trim()}, enabled: true }`),
    "",
  ].join("\n");

beforeAll(ensureBuilt, 180_000);

describe("the Action in plan mode (pull request lifecycle)", () => {
  let project: CliProject;
  let standin: GithubStandin;
  const human: StandinUser = { login: "octocat", type: "User" };
  const otherBot: StandinUser = { login: "reviewer-bot[bot]", type: "Bot" };

  beforeEach(async () => {
    project = await cliProject({ "agents/triage.yaml": triage("Sort incoming tickets.") });
    standin = await startGithubStandin();
    standin.addToken(TOKEN, ACTIONS_BOT);
  });
  afterEach(async () => {
    await standin.close();
    await project.close();
  });

  const plan = (head: string) => runAction({ project, standin, mode: "plan", event: prEvent(PR, sha(head)) });
  const bodyOf = (id: number) => standin.comments(OWNER, REPO, PR).find((c) => c.id === id)?.body ?? "";

  it("creates the comment, updates it in place, marks it failed, fixes it, and never touches anyone else's", async () => {
    const quoted = standin.addComment(OWNER, REPO, PR, `> ${MARKER}\n> old plan\n\nWhy this?`, otherBot);
    const forged = standin.addComment(OWNER, REPO, PR, `${MARKER}\n## agentform plan (forged by a person)\n`, human);
    const production = standin.addComment(OWNER, REPO, PR, "<!-- agentform-plan:support-bots/production -->\n## production plan\n", ACTIONS_BOT);
    const untouched = new Map([quoted, forged, production].map((c) => [c.id, c.body]));

    const first = await plan("a1");
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ "has-changes": "true", "exit-code": "2" });
    expect(first.planFileText).toContain('"address": "agent.triage"');
    const created = standin.requests.filter((r) => r.method === "POST");
    expect(created).toHaveLength(1);
    const sticky = standin.comments(OWNER, REPO, PR).filter((c) => c.body.startsWith(`${MARKER}\n`) && c.user.login === ACTIONS_BOT.login);
    expect(sticky).toHaveLength(1);
    const id = sticky[0]!.id;
    expect(bodyOf(id)).toContain("Plan: 1 to create");
    expect(bodyOf(id)).toContain(`_Planned at commit ${sha("a1").slice(0, 12)}._`);
    expect(decodeFindings(bodyOf(id))).toMatchObject({ sha: sha("a1"), findings: [{ address: "agent.triage", category: "tool-enabled" }] });
    expect(first.summary).toContain("## agentform plan · support-bots → default");
    expect(first.summary).toContain(`Plan comment created on pull request #${PR}.`);
    expect(first.summary).not.toContain("agentform-findings");

    // A new push with a changed manifest: the same comment, edited (PATCH), not a second one.
    await project.write({ "agents/triage.yaml": triage("Sort incoming tickets by urgency.") });
    const second = await plan("b2");
    expect(second.code).toBe(0);
    expect(standin.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(standin.requests.filter((r) => r.method === "PATCH").map((r) => r.path)).toEqual([`/repos/${OWNER}/${REPO}/issues/comments/${id}`]);
    expect(bodyOf(id)).toContain("by urgency");
    expect(decodeFindings(bodyOf(id))?.sha).toBe(sha("b2"));

    // An invalid manifest: plan exits 4; the comment says so, with the error, and holds no reviewed plan.
    await project.write({ "agents/triage.yaml": "name: triage\nmodel: 42\nsystem: <b>@everyone</b>\n" });
    const broken = await plan("c3");
    expect(broken.code).toBe(4);
    expect(broken.outputs).toMatchObject({ "has-changes": "false", "exit-code": "4" });
    const failedBody = bodyOf(id);
    expect(failedBody.split("\n")[0]).toBe(MARKER);
    expect(failedBody).toContain("## ❌ plan failed (exit 4) · support-bots → default");
    expect(failedBody).toContain("agents/triage.yaml");
    expect(decodeFindings(failedBody)).toBeNull();
    expect(broken.summary).toContain("❌ plan failed (exit 4)");

    // Fixed: the same comment shows the plan again.
    await project.write({ "agents/triage.yaml": triage("Sort incoming tickets.") });
    const fixed = await plan("d4");
    expect(fixed.code).toBe(0);
    expect(bodyOf(id)).not.toContain("plan failed");
    expect(decodeFindings(bodyOf(id))?.sha).toBe(sha("d4"));

    expect(standin.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    for (const [otherId, body] of untouched) expect(bodyOf(otherId)).toBe(body);
    expect(standin.requests.filter((r) => r.method === "PATCH").every((r) => r.path.endsWith(`/${id}`))).toBe(true);
    for (const run of [first, second, broken, fixed]) {
      expect(published(run)).not.toContain(TOKEN);
      expect(published(run)).not.toContain(project.cp.apiKey);
      expect(run.stdout).toContain(`::add-mask::${project.cp.apiKey}`);
    }
  });

  it("with a user token (which can read /user), takes only that user's comment as its own", async () => {
    const pat = `ghp_${"standinUSERtoken".padEnd(36, "u")}`;
    standin.addToken(pat, { login: "deploy-person", type: "User" }, { readUser: true });
    const actionsBots = standin.addComment(OWNER, REPO, PR, `${MARKER}\n## plan by the Actions bot\n`, ACTIONS_BOT);
    const run = await runAction({ project, standin, mode: "plan", event: prEvent(PR, sha("a9")), token: pat });
    expect(run.code).toBe(0);
    expect(bodyOf(actionsBots.id)).toBe(actionsBots.body);
    const mine = standin.comments(OWNER, REPO, PR).filter((c) => c.user.login === "deploy-person");
    expect(mine).toHaveLength(1);
    expect(mine[0]!.body.split("\n")[0]).toBe(MARKER);
    expect(published(run)).not.toContain(pat);
    const again = await runAction({ project, standin, mode: "plan", event: prEvent(PR, sha("aa")), token: pat });
    expect(again.code).toBe(0);
    expect(standin.requests.filter((r) => r.method === "PATCH").map((r) => r.path)).toEqual([`/repos/${OWNER}/${REPO}/issues/comments/${mine[0]!.id}`]);
  });

  it("finds its comment on page 2 of a pull request with 150 comments", async () => {
    for (let i = 0; i < 140; i++) standin.addComment(OWNER, REPO, PR, `comment ${i}`, i % 2 ? human : otherBot);
    const old = standin.addComment(OWNER, REPO, PR, `${MARKER}\n## an older plan\n`, ACTIONS_BOT);
    for (let i = 140; i < 150; i++) standin.addComment(OWNER, REPO, PR, `comment ${i}`, human);
    const run = await plan("e5");
    expect(run.code).toBe(0);
    const pages = standin.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/issues/${PR}/comments`)).map((r) => r.query.page ?? "1");
    expect(pages).toEqual(["1", "2"]);
    expect(standin.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    expect(bodyOf(old.id)).toContain("Plan: 1 to create");
    expect(standin.comments(OWNER, REPO, PR)).toHaveLength(151);
  });

  it("validates a fork's pull request without planning, and does not fail when GitHub refuses the comment", async () => {
    standin.forbidWrites(true);
    const run = await runAction({ project, standin, mode: "plan", event: prEvent(PR, sha("f6"), "stranger/support"), apiKey: false });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("$ agentform validate --target default");
    expect(run.stdout).not.toContain("$ agentform plan");
    expect(project.cp.requestLog()).toEqual([]);
    expect(standin.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([403]);
    expect(run.outputs).toEqual({ "has-changes": "false", "exit-code": "0", "plan-file": "" });
    expect(run.summary).toContain("plan skipped: pull request from a fork");
    expect(run.summary).toContain("✅ the manifests are valid");
    expect(run.summary).toContain(`GitHub refused the comment on pull request #${PR} (403)`);
  });

  it("fails a fork's pull request whose manifests are invalid, with the validation errors in the summary", async () => {
    standin.forbidWrites(true);
    await project.write({ "agents/triage.yaml": "name: triage\nmodel: 42\n" });
    const run = await runAction({ project, standin, mode: "plan", event: prEvent(PR, sha("f7"), "stranger/support"), apiKey: false });
    expect(run.code).toBe(4);
    expect(run.outputs["exit-code"]).toBe("4");
    expect(run.summary).toContain("❌ the manifests are invalid (exit 4");
    expect(run.summary).toContain("agents/triage.yaml");
  });

  it("fails the step when GitHub refuses the comment on a pull request of this repository", async () => {
    standin.forbidWrites(true);
    const run = await plan("g8");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("[github-comment-refused]");
    expect(run.stderr).toContain("pull-requests: write");
    expect(run.outputs).toMatchObject({ "has-changes": "true", "exit-code": "2" });
  });
});
