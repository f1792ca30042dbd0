/** Property tests: reordering sets and key order never change the canonical form. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalDesired, canonicalJson, digest } from "../../src/normalize/index.js";

const TOOLS = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;
const policy = fc.constantFrom("always_allow", "always_ask", "auto").map((type) => ({ type }));
const toolConfig = fc.record(
  { name: fc.constantFrom(...TOOLS), enabled: fc.boolean(), permission_policy: policy },
  { requiredKeys: ["name"] },
);
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);

const agentSpec = fc.record({
  name,
  model: fc.constantFrom("claude-sonnet-5-5", "claude-opus-5-5"),
  tools: fc.tuple(
    fc.uniqueArray(toolConfig, { selector: (c) => c.name, maxLength: 8 }),
    fc.uniqueArray(fc.record({ type: fc.constant("mcp_toolset"), mcp_server_name: name }), { selector: (t) => t.mcp_server_name, maxLength: 4 }),
    fc.uniqueArray(fc.record({ type: fc.constant("custom"), name, description: fc.string(), input_schema: fc.record({ type: fc.constant("object"), required: fc.uniqueArray(name, { maxLength: 3 }) }) }), { selector: (t) => t.name, maxLength: 3 }),
  ),
  skills: fc.uniqueArray(fc.record({ type: fc.constant("anthropic"), skill_id: name }), { selector: (s) => s.skill_id, maxLength: 4 }),
  metadata: fc.dictionary(name, fc.string({ minLength: 1 }), { maxKeys: 5 }),
  hosts: fc.uniqueArray(name, { maxLength: 5 }),
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).reverse().map((k) => [k, reversedKeys(o[k])]));
  }
  return v;
}

describe("normalization properties", () => {
  it("reordering tools, configs, skills and required lists is a no-op", () => {
    fc.assert(
      fc.property(agentSpec, fc.nat(), ({ name: n, model, tools: [configs, mcp, custom], skills }, seed) => {
        const spec = (order: (x: unknown[]) => unknown[]) => ({
          name: n,
          model,
          tools: order([{ type: "agent_toolset_20260401", configs: order(configs) }, ...mcp, ...custom.map((c) => ({ ...c, input_schema: { ...c.input_schema, required: order(c.input_schema.required) } }))]),
          mcp_servers: order(mcp.map((m) => ({ type: "url", name: m.mcp_server_name, url: `https://${m.mcp_server_name}.example` }))),
          skills: order(skills),
        });
        const a = canonicalDesired("agent", spec((x) => x));
        const b = canonicalDesired("agent", spec((x) => shuffled(x, seed)));
        expect(canonicalJson(b)).toBe(canonicalJson(a));
      }),
      { numRuns: 200 },
    );
  });

  it("allowed_hosts order and object key order never change an environment's digest", () => {
    fc.assert(
      fc.property(agentSpec, fc.nat(), ({ name: n, hosts, metadata }, seed) => {
        const spec = { name: n, metadata, config: { type: "cloud", networking: { type: "limited", allowed_hosts: hosts } } };
        const other = reversedKeys({ ...spec, config: { ...spec.config, networking: { ...spec.config.networking, allowed_hosts: shuffled(hosts, seed) } } }) as Record<string, unknown>;
        expect(digest(canonicalDesired("environment", other))).toBe(digest(canonicalDesired("environment", spec)));
      }),
      { numRuns: 200 },
    );
  });
});
