/**
 * Plans whose comparisons were made while the lists paged (src/cli/compare-pages.ts) against
 * plans computed after the lists: the same plan, byte for byte, over a workspace with unchanged,
 * changed, renamed and referencing resources, on the local control plane over real HTTP.
 */
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { pageComparer } from "../../src/cli/compare-pages.js";
import { computePlan, listEveryKind, openWorkspace } from "../../src/cli/workflow.js";
import { renderJson } from "../../src/render/index.js";
import { cliProject, KEY_ENV, type CliProject } from "../helpers/cli-project.js";

const agent = (name: string, extra = "") => `name: ${name}\nmodel: claude-sonnet-5-5\nsystem: You are ${name}.\n${extra}`;
const ROSTER = "multiagent:\n  type: coordinator\n  agents:\n    - {type: agent, ref: billing}\n";

describe("comparing pages with the manifests while the lists page", () => {
  let project: CliProject | undefined;
  afterEach(async () => {
    await project?.close();
    project = undefined;
  });

  async function applied(): Promise<CliProject> {
    const files: Record<string, string> = { "environments/sandbox.yaml": "name: sandbox\nconfig:\n  type: cloud\n  networking: {type: unrestricted}\n" };
    for (const name of ["billing", "docs", "old-name", "changed"]) files[`agents/${name}.yaml`] = agent(name);
    files["agents/triage.yaml"] = agent("triage", ROSTER);
    const p = (project = await cliProject(files));
    expect((await p.run("apply", "--auto-approve")).code).toBe(0);
    // A change, a rename through previous_names, and a new manifest; billing moves too, so
    // triage's roster follows it (a re-pin: a reference that only the whole plan resolves).
    await p.write({
      "agents/changed.yaml": agent("changed", "description: edited\n"),
      "agents/billing.yaml": agent("billing", "description: billing, edited\n"),
      "agents/new-name.yaml": agent("new-name", "agentform: {previous_names: [old-name]}\n").replace("You are new-name.", "You are old-name."),
      "agents/fresh.yaml": agent("fresh"),
    });
    await import("node:fs/promises").then((fs) => fs.rm(path.join(p.dir, "agents/old-name.yaml")));
    // A second live agent named like a manifest, made in the Console: the planner refuses it.
    const sdk = new Anthropic({ apiKey: p.cp.apiKey, baseURL: p.cp.baseUrl, maxRetries: 0 });
    await sdk.beta.agents.create({ name: "twin", model: "claude-sonnet-5-5", system: "You are twin." });
    await sdk.beta.agents.create({ name: "twin", model: "claude-sonnet-5-5", system: "You are twin." });
    await p.write({ "agents/twin.yaml": agent("twin", "agentform: {adopt: true}\n") });
    return p;
  }

  const open = (p: CliProject, readLive: boolean) =>
    openWorkspace({ cwd: p.dir, configPath: p.config, ...(readLive ? { readLive: {} } : {}) }, { env: { [KEY_ENV]: p.cp.apiKey } });

  it("gives the very plan the planner makes alone, change for change", async () => {
    const p = await applied();
    const options = { adopt: false, prune: false, allowEmpty: false };
    const paged = await open(p, true);
    const after = await open(p, false);
    try {
      const a = await computePlan(paged, options);
      const b = await computePlan(after, options);
      expect(renderJson(a.plan)).toBe(renderJson(b.plan));
      const actions = Object.fromEntries(a.plan.resources.map((r) => [r.address, r.action]));
      expect(actions).toMatchObject({ "agent.docs": "noop", "agent.changed": "update", "agent.billing": "update", "agent.triage": "repin", "agent.new-name": "rename", "agent.fresh": "create", "environment.sandbox": "noop" });
      expect(a.plan.refusals.map((r) => `${r.address} ${r.code}`)).toEqual(["agent.twin duplicate-live-name"]);
    } finally {
      await paged.close();
      await after.close();
    }
  });

  it("marks only resources equal to their manifest, with no reference to resolve", async () => {
    const p = await applied();
    const ws = await open(p, false);
    try {
      const live = await listEveryKind(ws.target.backend);
      const comparer = pageComparer(ws.load.manifests);
      for (const l of live.agent) comparer.compare("agent", l);
      for (const l of live.environment) comparer.compare("environment", l);
      const marked = [...comparer.unchanged.keys()].map((m) => `${m.kind}.${m.name}`).sort();
      // triage references billing (resolved by the plan alone); changed and billing differ; the
      // renamed one has no live resource of its new name; fresh has none at all. twin equals
      // both its live namesakes: marked, and still refused by the planner (the test above).
      expect(marked).toEqual(["agent.docs", "agent.twin", "environment.sandbox"]);
      // Each mark names the very live object found equal.
      expect([...comparer.unchanged.values()].every((l) => live.agent.includes(l as never) || live.environment.includes(l as never))).toBe(true);
    } finally {
      await ws.close();
    }
  });
});
