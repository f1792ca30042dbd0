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

/**
 * The canonical text as agentform 0.1.0 wrote it, member by member: digests are recorded in
 * lockfiles, so however canonicalJson is computed, its text must never change.
 */
function referenceJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + (referenceJson(value[i] === undefined ? null : value[i]) ?? "");
    return out + "]";
  }
  let out = "{";
  for (const k of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[k];
    if (member === undefined) continue;
    out += (out.length === 1 ? "" : ",") + JSON.stringify(k) + ":" + referenceJson(member);
  }
  return out + "}";
}

function outcome(fn: () => string): { text: string } | { error: string } {
  try {
    return { text: fn() };
  } catch (err) {
    return { error: (err as Error).constructor.name };
  }
}

describe("canonicalJson writes exactly the text it always wrote", () => {
  // Keys that V8 lists first whatever their insertion order, keys that name prototype members,
  // and keys in and out of order.
  const key = fc.oneof(fc.constantFrom("0", "1", "9", "10", "01", "-1", "4294967295", "1e3", "__proto__", "constructor", "toJSON", "", "a", "B", "é"), fc.string({ maxLength: 4 }));
  const plain = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.constant(undefined), fc.boolean(), fc.double(), fc.integer(), fc.string(), tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 5 }),
    object: fc.array(fc.tuple(key, tie("value")), { maxLength: 6 }).map((entries) => {
      const o: Record<string, unknown> = {};
      // defineProperty: a "__proto__" key is an own member, as JSON.parse makes it.
      for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
  })).value;

  it("for JSON data with any keys, in any order, undefined members and holes included", () => {
    fc.assert(
      fc.property(plain, (value) => {
        expect(canonicalJson(value)).toBe(referenceJson(value));
      }),
      { numRuns: 2000 },
    );
  });

  it("for values that are not JSON data: dates, maps, class instances, functions, bigints, sparse and boxed values", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withTypedArray: true }), (value) => {
        expect(outcome(() => canonicalJson(value))).toEqual(outcome(() => referenceJson(value)));
      }),
      { numRuns: 2000 },
    );
    class Point {
      constructor(readonly x: number) {}
    }
    for (const odd of [() => 1, Symbol("s"), 10n, new Point(1), new Date(0), [1, () => 1, undefined], { b: () => 1, a: Symbol("s") }, { toJSON: () => "x" }, Object.assign(Object.create(null), { b: 1, a: 2 })]) {
      expect(outcome(() => canonicalJson(odd))).toEqual(outcome(() => referenceJson(odd)));
    }
  });
});
