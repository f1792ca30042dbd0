/**
 * The KindSpec members the generic layers rely on, over plain data: references a manifest holds,
 * ids a live resource references, which changed pointers are re-pins, and the live → manifest
 * conversion import will use.
 */
import { describe, expect, it } from "vitest";
import { KIND_ORDER, KINDS, kindSpec } from "../../src/kinds/index.js";
import { canonicalJson } from "../../src/normalize/index.js";
import { liveAgent, liveEnvironment } from "../plan/helpers.js";

const agent = kindSpec("agent");
const environment = kindSpec("environment");

describe("the registry", () => {
  it("lists kinds in dependency order, each spec under its own name, with its own lockfile map and folder", () => {
    expect(KIND_ORDER).toEqual(["environment", "skill", "vault", "credential", "memory_store", "agent", "deployment"]);
    for (const kind of KIND_ORDER) {
      expect(KINDS[kind].kind).toBe(kind);
      expect(KINDS[kind].schema).toBe(kind);
      expect(KINDS[kind].lockKey).toBe(`${kind}s`);
    }
    // A kind written inside another's manifests (credentials in vaults) shares its parent's folder.
    const own = KIND_ORDER.filter((k) => !KINDS[k].parentKind);
    expect(new Set(own.map((k) => KINDS[k].folder)).size).toBe(own.length);
    for (const k of KIND_ORDER.filter((x) => KINDS[x].parentKind)) {
      const parent = KINDS[k].parentKind!;
      expect(KINDS[k].folder).toBe(KINDS[parent].folder);
      expect(KINDS[parent].nested?.kind).toBe(k);
      expect(KIND_ORDER.indexOf(parent)).toBeLessThan(KIND_ORDER.indexOf(k));
    }
  });

  it("the published plan and lockfile schemas know every kind (a new kind cannot ship with stale schemas)", async () => {
    const { readFileSync } = await import("node:fs");
    const read = (name: string) => JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), "utf8"));
    const plan = read("plan");
    expect([...plan.definitions.resource.properties.kind.enum].sort()).toEqual([...KIND_ORDER].sort());
    const address = new RegExp(plan.definitions.resource.properties.address.pattern);
    for (const kind of KIND_ORDER) expect(address.test(`${kind}.x`)).toBe(true);
    const basisKinds = plan.definitions.basis.oneOf.flatMap((b: { properties?: { kind?: { const?: string } } }) => (b.properties?.kind?.const ? [b.properties.kind.const] : []));
    expect([...basisKinds].sort()).toEqual([...KIND_ORDER].sort());
    const lock = read("lockfile");
    for (const kind of KIND_ORDER) expect(Object.keys(lock.properties)).toContain(KINDS[kind].lockKey);
    const project = read("project");
    for (const kind of KIND_ORDER) expect(Object.keys(project.properties.paths.properties)).toContain(KINDS[kind].folder);
  });

  it("a kind only references kinds registered before it (or itself), so planning in registry order sees every target", () => {
    const spec = { name: "lead", multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "worker" }] } };
    for (const [i, kind] of KIND_ORDER.entries()) {
      for (const ref of KINDS[kind].references(spec)) expect(KIND_ORDER.indexOf(ref.kind)).toBeLessThanOrEqual(i);
    }
  });
});

describe("agent references", () => {
  const spec = {
    name: "lead",
    multiagent: {
      type: "multiagent_20261001",
      subagents: { type: "enabled", predefined_agents: [{ type: "agent", ref: "a" }, { type: "agent", ref: "b", version: 3 }, { type: "self" }] },
      workflows: { type: "enabled", predefined_agents: [{ type: "agent", id: "agent_x", version: 2 }, { type: "agent", ref: "a" }] },
    },
  };

  it("lists every by-name roster reference in document order, with its pinned version", () => {
    expect(agent.references(spec)).toEqual([
      { kind: "agent", name: "a" },
      { kind: "agent", name: "b", version: 3 },
      { kind: "agent", name: "a" },
    ]);
    expect(agent.references({ name: "solo" })).toEqual([]);
    expect(environment.references({ name: "sandbox", config: { type: "cloud" } })).toEqual([]);
  });

  it("lists the agent ids a live roster names, as plain ids or {type: agent, id}", () => {
    const live = liveAgent({ name: "lead", multiagent: { type: "coordinator", agents: ["agent_1", { type: "agent", id: "agent_2", version: 4 }, { type: "self" }, "agent_1"] } });
    expect(agent.liveReferenceIds(live).sort()).toEqual(["agent_1", "agent_2"]);
    expect(agent.liveReferenceIds(liveAgent({ name: "solo" }))).toEqual([]);
  });

  it("tells a roster version pointer (a re-pin when the entry follows) from every other pointer", () => {
    expect(agent.followedRefKey("/multiagent/agents/agent_1/version")).toBe("agent_1");
    expect(agent.followedRefKey("/multiagent/subagents/predefined_agents/ref:a/version")).toBe("ref:a");
    expect(agent.followedRefKey("/multiagent/agents/agent_1/id")).toBeNull();
    expect(agent.followedRefKey("/system")).toBeNull();
    expect(environment.followedRefKey("/config/networking/type")).toBeNull();
  });
});

describe("toManifest (live → manifest, for import)", () => {
  const sameCanonical = (kind: "agent" | "environment", live: Parameters<typeof agent.toManifest>[0] | Parameters<typeof environment.toManifest>[0]) => {
    const spec = KINDS[kind].toManifest(live as never);
    const desired = KINDS[kind].canonicalDesired(spec);
    return { spec, equal: canonicalJson(desired) === canonicalJson(KINDS[kind].canonicalLive(live as never, desired)) };
  };

  it("turns a live agent into a manifest with the same canonical form, without server defaults or the ownership marker", () => {
    const live = liveAgent({ name: "triage", system: "Route tickets.", metadata: { "agentform.project": "support-bots", team: "support" }, tools: [{ type: "agent_toolset_20260401" }] });
    const { spec, equal } = sameCanonical("agent", live);
    expect(equal).toBe(true);
    expect(spec.name).toBe("triage");
    expect(spec.metadata).toEqual({ team: "support" });
    // Empty lists, null fields and the default execution identity are the server's, not the manifest's.
    for (const dropped of ["mcp_servers", "skills", "multiagent", "execution_identity", "description"]) expect(spec).not.toHaveProperty(dropped);
    expect(spec).toHaveProperty("model");
    expect(spec).toHaveProperty("system", "Route tickets.");
  });

  it("writes a roster entry naming the agent itself as {type: self}", () => {
    const live = liveAgent({ name: "loop" });
    live.multiagent = { type: "coordinator", agents: [{ type: "agent", id: live.id, version: 1 }, { type: "agent", id: "agent_other", version: 2 }] } as never;
    const { spec, equal } = sameCanonical("agent", live);
    expect(equal).toBe(true);
    expect((spec.multiagent as { agents: unknown[] }).agents).toEqual([{ type: "self" }, { type: "agent", id: "agent_other", version: 2 }]);
  });

  it("turns a live environment into a manifest with the same canonical form, dropping the marker-only metadata", () => {
    const live = liveEnvironment({
      name: "sandbox",
      description: "python",
      config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["pypi.org"], allow_package_managers: true, allow_mcp_servers: false }, packages: { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: ["pandas"] } },
    });
    const { spec, equal } = sameCanonical("environment", live);
    expect(equal).toBe(true);
    expect(spec).not.toHaveProperty("metadata");
    expect(spec).toMatchObject({ name: "sandbox", description: "python" });
  });
});
