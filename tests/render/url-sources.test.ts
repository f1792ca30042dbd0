/**
 * web_fetch `url_sources` (which sources may contribute URLs to fetch: user messages, custom
 * tools' results, web_search/web_fetch results) is a reach restriction: letting more sources
 * through is a broadening security finding; narrowing it is not.
 */
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import { renderMarkdown, renderText } from "../../src/render/index.js";
import { expandedToolset, liveAgent, manifest, planInput } from "../plan/helpers.js";

const ref = (...names: string[]) => names.map((name) => ({ type: "tool_reference", name }));

function planFor(live: unknown, desired: unknown) {
  const spec = {
    name: "fetcher",
    model: "m",
    tools: [{ type: "agent_toolset_20260401", default_config: { permission_policy: { type: "always_ask" } }, configs: [{ name: "web_fetch", ...(desired === undefined ? {} : { url_sources: desired }) }] }],
  };
  return buildPlan(
    planInput({
      agents: [manifest("agent", spec)],
      liveAgents: [liveAgent({ name: "fetcher", model: { id: "m", speed: "standard" }, tools: [expandedToolset("always_ask", { web_fetch: { url_sources: live } })] })],
    }),
  );
}

const P = "/tools/agent_toolset_20260401/web_fetch/url_sources";

describe("url_sources widening", () => {
  const widened: Array<[string, unknown, unknown, string[]]> = [
    ["server results none → unset (all)", { server_tool_results: { type: "none" }, user_input: null, client_tool_results: null }, undefined, [`${P}/server_tool_results`]],
    ["user input none → all", { user_input: { type: "none" }, client_tool_results: null, server_tool_results: null }, { user_input: "all" }, [`${P}/user_input`]],
    ["only web_search → only web_search, web_fetch", { server_tool_results: { type: "only", tools: ref("web_search") } }, { server_tool_results: { type: "only", tools: ref("web_search", "web_fetch") } }, [`${P}/server_tool_results`]],
    ["except lookup → all", { client_tool_results: { type: "except", tools: ref("lookup") } }, { client_tool_results: "all" }, [`${P}/client_tool_results`]],
    ["except lookup, crm → except crm", { client_tool_results: { type: "except", tools: ref("lookup", "crm") } }, { client_tool_results: { type: "except", tools: ref("crm") } }, [`${P}/client_tool_results`]],
    ["none → except crm", { client_tool_results: "none" }, { client_tool_results: { type: "except", tools: ref("crm") } }, [`${P}/client_tool_results`]],
    ["only lookup → except crm", { client_tool_results: { type: "only", tools: ref("lookup") } }, { client_tool_results: { type: "except", tools: ref("crm") } }, [`${P}/client_tool_results`]],
  ];
  for (const [name, live, desired, pointers] of widened) {
    it(`${name} is broadening`, () => {
      const r = planFor(live, desired).resources[0]!;
      expect(r.action).toBe("update");
      const found = r.security.filter((f) => f.pointer.startsWith(P));
      expect(found.map((f) => [f.severity, f.pointer])).toEqual(pointers.map((p) => ["broadening", p]));
    });
  }

  const notWidened: Array<[string, unknown, unknown]> = [
    ["all → none", null, { server_tool_results: "none" }],
    ["only web_search, web_fetch → only web_fetch", { server_tool_results: { type: "only", tools: ref("web_search", "web_fetch") } }, { server_tool_results: { type: "only", tools: ref("web_fetch") } }],
    ["except crm → except crm, lookup", { client_tool_results: { type: "except", tools: ref("crm") } }, { client_tool_results: { type: "except", tools: ref("crm", "lookup") } }],
    ["except crm → only lookup", { client_tool_results: { type: "except", tools: ref("crm") } }, { client_tool_results: { type: "only", tools: ref("lookup") } }],
  ];
  for (const [name, live, desired] of notWidened) {
    it(`${name} narrows: a change, but no finding`, () => {
      const r = planFor(live, desired).resources[0]!;
      expect(r.action).toBe("update");
      expect(r.security.filter((f) => f.pointer.startsWith(P))).toEqual([]);
    });
  }

  it("is shown first in the text plan and in the comment's security review", () => {
    const plan = planFor({ server_tool_results: { type: "none" } }, undefined);
    expect(renderText(plan, { color: false })).toContain(`Security review: 1 broadening, 0 notable.\n  broadening agent.fetcher [domains-widened] web_fetch: URLs from server_tool_results widened: none → all (${P}/server_tool_results)`);
    expect(renderMarkdown(plan)).toContain("1 broadening change(s)");
  });
});
