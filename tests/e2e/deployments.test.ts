/**
 * Memory stores and deployments through the real CLI against a local control plane: a deployment
 * follows its agent and is re-pinned in the apply that changes the agent (or an agent its roster
 * names); `paused` is reconciled with pause and unpause; prune keeps what a live deployment uses;
 * a memory store is archived only under --prune, marked irreversible.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

const WORKER = "name: worker\nmodel: claude-sonnet-5-5\ndescription: Answers billing questions.\n";
const LEAD = "name: lead\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n    - type: agent\n      ref: worker\n";
const ENV = "name: sandbox\nconfig:\n  type: cloud\n  networking:\n    type: limited\n    allowed_hosts: [api.example.com]\n";
const STORE = "name: notes\ndescription: What the lead learns between runs.\n";
const DEPLOYMENT = `name: nightly
agent: {ref: lead}
environment_id: {ref: sandbox}
resources:
  - {type: memory_store, ref: notes, access: read_write}
initial_events:
  - type: user.message
    content: [{type: text, text: Work the queue.}]
schedule: {type: cron, expression: "0 7 * * 1-5", timezone: Europe/Paris}
paused: false
`;
const FILES = { "agents/worker.yaml": WORKER, "agents/lead.yaml": LEAD, "environments/sandbox.yaml": ENV, "memory_stores/notes.yaml": STORE, "deployments/nightly.yaml": DEPLOYMENT };

interface PlanJson {
  refusals: Array<{ address: string; code: string }>;
  resources: Array<{ address: string; action: string; dependsOn: string[]; notes?: string[]; request: { method: string; body: Record<string, unknown> } | null }>;
}
const changed = (plan: PlanJson) => plan.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}:${r.action}`);

async function lockOf(p: CliProject) {
  return JSON.parse(await readFile(path.join(p.dir, "agentform.lock.json"), "utf8")) as Record<string, Record<string, { id: string; version?: number }>>;
}
const client = (p: CliProject) => new Anthropic({ baseURL: p.cp.baseUrl, apiKey: p.cp.apiKey, maxRetries: 0 });

describe("deployments", () => {
  it("are created after what they use; changing a worker re-pins its coordinator and the deployment in one apply", async () => {
    const p = (project = await cliProject(FILES));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const lock = await lockOf(p);
    const deployment = await client(p).beta.deployments.retrieve(lock.deployments!.nightly!.id);
    expect(deployment.agent).toEqual({ type: "agent", id: lock.agents!.lead!.id, version: 1 });
    expect(deployment.resources).toMatchObject([{ type: "memory_store", memory_store_id: lock.memory_stores!.notes!.id }]);
    p.cp.clearRequestLog();
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(p.writes()).toEqual([]);

    await p.write({ "agents/worker.yaml": WORKER.replace("billing", "invoice") });
    const plan = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(changed(plan)).toEqual(["agent.worker:update", "agent.lead:repin", "deployment.nightly:repin"]);
    expect(plan.resources.find((r) => r.address === "deployment.nightly")?.dependsOn).toEqual(["agent.lead"]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const after = await client(p).beta.deployments.retrieve(lock.deployments!.nightly!.id);
    expect(after.agent).toEqual({ type: "agent", id: lock.agents!.lead!.id, version: 2 });
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("paused is reconciled through pause and unpause, and un-pausing is reviewed", async () => {
    const p = (project = await cliProject(FILES));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const id = (await lockOf(p)).deployments!.nightly!.id;
    await p.write({ "deployments/nightly.yaml": DEPLOYMENT.replace("paused: false", "paused: true") });
    p.cp.clearRequestLog();
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(p.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`POST /v1/deployments/${id}/pause`]);
    expect((await client(p).beta.deployments.retrieve(id)).status).toBe("paused");
    await p.write({ "deployments/nightly.yaml": DEPLOYMENT });
    const plan = await p.run("plan");
    expect(plan.stdout).toContain("[deployment-unpaused]");
    p.cp.clearRequestLog();
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(p.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`POST /v1/deployments/${id}/unpause`]);
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });

  it("prune keeps what a live deployment uses, archives the deployment, and a memory store only under --prune, marked irreversible", async () => {
    const p = (project = await cliProject(FILES));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    // The store's manifest goes while the deployment's manifest still names it: refused offline.
    await p.write({ "memory_stores/notes.yaml": "name: other-notes\n" });
    p.cp.clearRequestLog();
    const refused = await p.run("plan", "--prune");
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("AF-REF-UNKNOWN");
    expect(p.writes()).toEqual([]);
    // The deployment goes too: both are archived, the deployment first; the store's archive is irreversible.
    await p.write({ "deployments/nightly.yaml": "" });
    const { rm } = await import("node:fs/promises");
    await rm(path.join(p.dir, "deployments", "nightly.yaml"));
    const text = await p.run("plan", "--prune", "--allow-empty");
    expect(text.stdout).toContain("irreversible: an archived memory store");
    const plan = JSON.parse((await p.run("plan", "--prune", "--allow-empty", "--format", "json")).stdout) as PlanJson;
    expect(changed(plan)).toEqual(["memory_store.other-notes:create", "deployment.nightly:archive", "memory_store.notes:archive"]);
    expect(plan.resources.find((r) => r.address === "memory_store.notes")?.dependsOn).toEqual(["deployment.nightly"]);
    expect((await p.run("apply", "--prune", "--allow-empty", "--auto-approve")).code).toBe(0);
    expect((await p.run("plan", "--prune", "--allow-empty", "--detailed-exitcode")).code).toBe(0);
  });

  it("a repository token added to a resource is sent, and one removed is revoked (the resources sent without it)", async () => {
    const repo = "  - {type: github_repository, url: https://github.com/example/support}\n";
    const withRepo = DEPLOYMENT.replace("resources:\n", `resources:\n${repo}`);
    const p = (project = await cliProject({ ...FILES, "deployments/nightly.yaml": withRepo }));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    const id = (await lockOf(p)).deployments!.nightly!.id;
    const digest = async () => (await client(p).beta.deployments.retrieve(id)).metadata["agentform.secret_digest"];
    expect(await digest()).toBeUndefined();

    await p.write({ "deployments/nightly.yaml": withRepo.replace("url: https://github.com/example/support}", "url: https://github.com/example/support, authorization_token_env: REPO_TOKEN}") });
    p.env.REPO_TOKEN = "repo-token-value-0001";
    const added = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(changed(added)).toEqual(["deployment.nightly:update"]);
    expect(added.resources.find((r) => r.address === "deployment.nightly")?.request?.body.resources).toMatchObject([{ type: "github_repository", authorization_token: { $env: "REPO_TOKEN" } }, { type: "memory_store" }]);
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(typeof (await digest())).toBe("string");
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
    // Without the variable (a pull request), the token is not checked, and the plan says so.
    delete p.env.REPO_TOKEN;
    const unchecked = await p.run("plan", "--detailed-exitcode");
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).toContain("deployment.nightly: secret not checked: REPO_TOKEN not set here");
    p.env.REPO_TOKEN = "repo-token-value-0001";

    await p.write({ "deployments/nightly.yaml": withRepo });
    const removed = JSON.parse((await p.run("plan", "--format", "json")).stdout) as PlanJson;
    expect(changed(removed)).toEqual(["deployment.nightly:update"]);
    const body = removed.resources.find((r) => r.address === "deployment.nightly")?.request?.body;
    expect(JSON.stringify(body?.resources)).not.toContain("authorization_token");
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    expect(await digest()).toBeUndefined();
    expect((await p.run("plan", "--detailed-exitcode")).code).toBe(0);
  });
});
