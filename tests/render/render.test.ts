/** Renderer behaviour that golden files alone do not pin down. */
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import { fenced, renderJson, renderMarkdown, renderText } from "../../src/render/index.js";
import { liveDigest, specDigest } from "../../src/normalize/index.js";
import { liveAgent, lockfile, manifest, planInput } from "../plan/helpers.js";

const many = planInput({
  agents: Array.from({ length: 40 }, (_, i) => manifest("agent", { name: `bot-${i}`, model: "m", system: `a\nb${i}\nc` })),
  liveAgents: Array.from({ length: 40 }, (_, i) => liveAgent({ name: `bot-${i}`, model: { id: "m", effort: { type: "high" }, speed: "standard" }, system: "a\nb\nc" })),
});

describe("renderText", () => {
  it("uses colour only when asked", () => {
    const plan = buildPlan(many);
    expect(renderText(plan, { color: false })).not.toContain("\u001b[");
    expect(renderText(plan, { color: true })).toContain("\u001b[33m~\u001b[0m");
  });
  it("says so when nothing changes, and says when only the lockfile does", () => {
    const m = manifest("agent", { name: "a", model: "m" });
    const live = liveAgent({ name: "a", model: { id: "m", speed: "standard", effort: { type: "high" } } });
    const current = lockfile({ agents: { a: { id: live.id, version: live.version, specDigest: specDigest(m), liveDigest: liveDigest("agent", live) } } });
    expect(renderText(buildPlan(planInput({ agents: [m], liveAgents: [live], lock: current })), { color: false })).toBe("No changes. Live resources match the manifests.\n");
    // No lockfile yet: apply writes one, and the plan says so rather than "No changes".
    expect(renderText(buildPlan(planInput({ agents: [m], liveAgents: [live] })), { color: false })).toBe(
      "Lockfile only (no API writes):\n" +
        "  ~ agent.a: not in the lockfile; live version 1 matches the manifest, so apply records it\n\n" +
        "No changes to live resources. The lockfile is behind: apply updates 1 lockfile entry, with no API writes.\n",
    );
  });
  it("--explain shows ignored differences with their values", () => {
    const plan = buildPlan(planInput({ agents: [manifest("agent", { name: "a", model: "m", description: "x" }, { ignore: ["/description"] })], liveAgents: [liveAgent({ name: "a", model: { id: "m", speed: "standard" }, description: "y" })] }));
    expect(renderText(plan, { color: false, explain: true })).toContain('/description: "y" → "x"');
  });
});

describe("renderMarkdown", () => {
  it("starts with the sticky-comment marker and puts security before changes", () => {
    const md = renderMarkdown(buildPlan(many));
    expect(md.startsWith("<!-- agentform-plan:support-bots/default -->\n")).toBe(true);
    expect(md.indexOf("### Security review")).toBeLessThan(md.indexOf("### Changes"));
  });
  it("degrades to a summary when even tables do not fit, and says what was left out", () => {
    const md = renderMarkdown(buildPlan(many), { maxChars: 6000 });
    expect(md.length).toBeLessThanOrEqual(6000);
    expect(md).not.toContain("<details>");
    expect(md).toContain("- ~ agent.bot-39: update");
    expect(md).toContain("Field diffs and per-resource details were left out to stay within 6000 characters");
  });
  it("never exceeds the budget, even when the summary alone is too long", () => {
    const md = renderMarkdown(buildPlan(many), { maxChars: 1500 });
    expect(md.length).toBeLessThanOrEqual(1500);
    expect(md).toContain("cut to 1500 characters");
  });
  it("fences are longer than any backtick run in the content", () => {
    expect(fenced("a ```` b")).toBe("`````\na ```` b\n`````");
    expect(fenced("plain", "diff")).toBe("```diff\nplain\n```");
  });
});

describe("renderJson", () => {
  it("is 2-space indented with a trailing newline and a fixed top-level key order", () => {
    const json = renderJson(buildPlan(many));
    expect(json.endsWith("}\n")).toBe(true);
    expect(json.split("\n")[1]).toBe('  "formatVersion": 1,');
    expect(Object.keys(JSON.parse(json) as object).slice(0, 3)).toEqual(["formatVersion", "agentformVersion", "project"]);
  });
});

describe("withNames (display only)", () => {
  // Hand-built plan data: exactly the pointer shapes the planner emits for rosters.
  const base = buildPlan(planInput({ agents: [] }));
  const plan = {
    ...base,
    resources: [
      { ...entry("agent.billing/eu~x", "billing/eu~x", "agent_011bill") },
      { ...entry("agent.self", "self", "agent_011self") },
      {
        ...entry("agent.lead", "lead", "agent_011lead"),
        action: "repin" as const,
        changes: [
          { pointer: "/multiagent/agents/agent_011bill/version", op: "replace" as const, before: 1, after: 2 },
          { pointer: "/multiagent/agents/agent_011self/version", op: "replace" as const, before: 1, after: 2 },
        ],
        ignored: [{ pointer: "/multiagent/agents/agent_011bill/version", op: "replace" as const, before: 1, after: 3 }],
        security: [{ category: "multiagent-enabled" as const, severity: "broadening" as const, pointer: "/multiagent/agents/agent_011bill", message: "roster entry agent_011bill added" }],
      },
    ],
  };
  function entry(address: string, name: string, id: string) {
    return { address, kind: "agent" as const, name, action: "noop" as const, id, file: null, basis: null, changes: [], ignored: [], drift: null, impact: "new-version" as const, security: [], dependsOn: [], request: null, specDigest: null };
  }

  it("shows roster pointers and messages by agent name, escaping / and ~, and never confuses a name with self", () => {
    const text = renderText(plan, { color: false, explain: true });
    expect(text).toContain("/multiagent/agents/billing~1eu~0x/version: 1 → 2");
    expect(text).toContain("/multiagent/agents/self (agent_011self)/version: 1 → 2");
    expect(text).toContain("roster entry billing/eu~x added");
  });

  it("keeps ids in ignored pointers (what agentform.ignore matches) and in the JSON plan", () => {
    const text = renderText(plan, { color: false, explain: true });
    expect(text).toContain("/multiagent/agents/agent_011bill/version: 1 → 3");
    expect(renderJson(plan)).toContain("/multiagent/agents/agent_011bill/version");
    expect(renderJson(plan)).not.toContain("billing~1eu");
  });
});
