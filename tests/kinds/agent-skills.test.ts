/**
 * Agents referencing this project's skills by name, over plain data: the references a manifest
 * holds, the canonical desired form with a resolver (resolved, known after apply, unknown), which
 * changed pointer is a re-pin, request bodies, no perpetual diff against the live agent, and the
 * rules.
 */
import { describe, expect, it } from "vitest";
import { agentKind as agent } from "../../src/kinds/agent/index.js";
import type { RuleContext, RuleSink } from "../../src/kinds/rules.js";
import { KNOWN_AFTER_APPLY, type BodyRefResolver, type ResolvedRef } from "../../src/kinds/spec.js";
import type { KindRef, LiveAgent } from "../../src/kinds/types.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { diffCanonical } from "../../src/plan/diff.js";

type Obj = Record<string, unknown>;

/** A resolver over a fixed table `name → resolution`, recording what it was asked. */
function resolverOf(table: Record<string, ResolvedRef | undefined>, asked: KindRef[] = []): BodyRefResolver {
  return (target) => {
    asked.push(target);
    return table[`${target.kind}.${target.name}`];
  };
}

/** A live agent shaped like an API response, with the given skills. */
function liveAgent(skills: Obj[]): LiveAgent {
  return {
    id: "agent_011lead",
    type: "agent",
    name: "lead",
    description: null,
    system: null,
    model: { id: "claude-sonnet-5-5", effort: { type: "high" }, speed: "standard" },
    tools: [],
    mcp_servers: [],
    skills,
    multiagent: null,
    execution_identity: { type: "service_account" },
    metadata: {},
    version: 3,
    created_at: "2026-11-01T10:00:00Z",
    updated_at: "2026-11-01T10:00:00Z",
    archived_at: null,
  } as unknown as LiveAgent;
}

const skillsOf = (canonical: Obj) => canonical.skills as Obj;

describe("skill references in an agent manifest", () => {
  it("are listed after the roster references, in document order, with a pinned version id", () => {
    const spec = {
      name: "lead",
      multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "worker" }] },
      skills: [
        { type: "anthropic", skill_id: "xlsx" },
        { type: "custom", ref: "research" },
        { type: "custom", skill_id: "skill_01pasted" },
        { type: "custom", ref: "review", version: "skver_02" },
      ],
    };
    expect(agent.references(spec)).toEqual([
      { kind: "agent", name: "worker" },
      { kind: "skill", name: "research" },
      { kind: "skill", name: "review", version: "skver_02" },
    ]);
  });

  it("lists the custom skill ids a live agent uses, with its roster ids", () => {
    const live = { ...liveAgent([{ type: "custom", skill_id: "skill_1", version: "skver_1" }, { type: "anthropic", skill_id: "xlsx", version: "latest" }]), multiagent: { type: "coordinator", agents: ["agent_2"] } };
    expect(agent.liveReferenceIds(live as unknown as LiveAgent).sort()).toEqual(["agent_2", "skill_1"]);
  });
});

describe("the canonical desired form of skill references", () => {
  const spec = { name: "lead", model: "claude-sonnet-5-5", skills: [{ type: "custom", ref: "research" }, { type: "anthropic", skill_id: "xlsx" }] };

  it("keys a resolved skill by its id, like the live side, pinned at its latest version", () => {
    const asked: KindRef[] = [];
    const resolveRef = resolverOf({ "skill.research": { id: "skill_01r", version: "skver_07" } }, asked);
    expect(skillsOf(agent.canonicalDesired(spec, { resolveRef }))).toEqual({
      "anthropic:xlsx": { skill_id: "xlsx", type: "anthropic" },
      "custom:skill_01r": { skill_id: "skill_01r", type: "custom", version: "skver_07" },
    });
    expect(asked).toEqual([{ kind: "skill", name: "research" }]);
  });

  it("keeps an explicit version, whatever the skill's latest is", () => {
    const pinned = { name: "lead", skills: [{ type: "custom", ref: "research", version: "skver_02" }] };
    const asked: KindRef[] = [];
    const resolveRef = resolverOf({ "skill.research": { id: "skill_01r", version: "skver_07" } }, asked);
    expect(skillsOf(agent.canonicalDesired(pinned, { resolveRef }))).toEqual({ "custom:skill_01r": { skill_id: "skill_01r", type: "custom", version: "skver_02" } });
    expect(asked).toEqual([{ kind: "skill", name: "research", version: "skver_02" }]);
  });

  it("shows a skill's coming version as known after apply", () => {
    const resolveRef = resolverOf({ "skill.research": { id: "skill_01r", version: KNOWN_AFTER_APPLY } });
    expect(skillsOf(agent.canonicalDesired(spec, { resolveRef }))["custom:skill_01r"]).toEqual({ skill_id: "skill_01r", type: "custom", version: KNOWN_AFTER_APPLY });
  });

  it("keys a skill created in the same plan by name, its id and version known after apply", () => {
    const resolveRef = resolverOf({ "skill.research": { id: KNOWN_AFTER_APPLY, version: KNOWN_AFTER_APPLY } });
    expect(skillsOf(agent.canonicalDesired(spec, { resolveRef }))["ref:research"]).toEqual({ skill_id: KNOWN_AFTER_APPLY, type: "custom", version: KNOWN_AFTER_APPLY });
    const pinned = { name: "lead", skills: [{ type: "custom", ref: "research", version: "skver_02" }] };
    const explicit = resolverOf({ "skill.research": { id: KNOWN_AFTER_APPLY, version: "skver_02" } });
    expect(skillsOf(agent.canonicalDesired(pinned, { resolveRef: explicit }))).toEqual({ "ref:research": { skill_id: KNOWN_AFTER_APPLY, type: "custom", version: "skver_02" } });
  });

  it("keeps an unresolved skill by name (no resolver, or an unknown skill)", () => {
    expect(skillsOf(agent.canonicalDesired(spec))["ref:research"]).toEqual({ ref: "research", type: "custom" });
    const pinned = { name: "lead", skills: [{ type: "custom", ref: "research", version: "skver_02" }] };
    expect(skillsOf(agent.canonicalDesired(pinned, { resolveRef: resolverOf({}) }))).toEqual({ "ref:research": { ref: "research", type: "custom", version: "skver_02" } });
  });
});

describe("re-pins of followed skills", () => {
  it("maps a skill's version pointer to the reference key the planner records", () => {
    expect(agent.followedRefKey("/skills/custom:skill_01r/version")).toBe("skill_01r");
    expect(agent.followedRefKey("/skills/ref:research/version")).toBe("ref:research");
  });

  it("is no re-pin for any other pointer", () => {
    expect(agent.followedRefKey("/skills/anthropic:xlsx/version")).toBeNull();
    expect(agent.followedRefKey("/skills/custom:skill_01r")).toBeNull();
    expect(agent.followedRefKey("/skills/custom:skill_01r/skill_id")).toBeNull();
    expect(agent.followedRefKey("/skills")).toBeNull();
    // Roster versions are still re-pins.
    expect(agent.followedRefKey("/multiagent/agents/agent_1/version")).toBe("agent_1");
  });
});

describe("request bodies with skill references", () => {
  const spec = {
    name: "lead",
    multiagent: { type: "coordinator", agents: [{ type: "agent", ref: "worker" }] },
    skills: [{ type: "custom", ref: "research" }, { type: "custom", ref: "review", version: "skver_02" }, { type: "anthropic", skill_id: "xlsx" }],
  };

  it("send a resolved skill as {type: custom, skill_id, version}: the explicit version, else the latest", () => {
    const resolve = resolverOf({
      "skill.research": { id: "skill_01r", version: "skver_07" },
      "skill.review": { id: "skill_01v", version: "skver_02" },
      "agent.worker": { id: "agent_01w", version: 4 },
    });
    const resolved = agent.resolveRefs(spec, resolve);
    expect(agent.fieldBody("skills", resolved)).toEqual([
      { type: "custom", skill_id: "skill_01r", version: "skver_07" },
      { type: "custom", skill_id: "skill_01v", version: "skver_02" },
      { type: "anthropic", skill_id: "xlsx" },
    ]);
    expect(resolved.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", id: "agent_01w", version: 4 }] });
  });

  it("keep the reference by name for apply while the id or version is known after apply, or unknown", () => {
    const resolve = resolverOf({
      "skill.research": { id: "skill_01r", version: KNOWN_AFTER_APPLY },
      "skill.review": { id: KNOWN_AFTER_APPLY, version: "skver_02" },
    });
    expect(agent.resolveRefs(spec, resolve).skills).toEqual([
      { type: "custom", ref: "research" },
      { type: "custom", ref: "review", version: "skver_02" },
      { type: "anthropic", skill_id: "xlsx" },
    ]);
    expect(agent.resolveRefs(spec, resolverOf({})).skills).toEqual(spec.skills);
  });

  it("leave a body without skills (an update of other fields) without them", () => {
    const body = agent.resolveRefs({ system: "hi" }, resolverOf({}));
    expect(body).toEqual({ system: "hi" });
  });
});

describe("an agent following a skill against its live form", () => {
  const spec = { name: "lead", model: "claude-sonnet-5-5", skills: [{ type: "custom", ref: "research" }, { type: "anthropic", skill_id: "xlsx" }] };
  const live = liveAgent([
    { type: "custom", skill_id: "skill_01r", version: "skver_07" },
    { type: "anthropic", skill_id: "xlsx", version: "latest" },
  ]);

  it("diffs clean while the skill's version is the one the agent pins (no perpetual diff)", () => {
    const desired = agent.canonicalDesired(spec, { resolveRef: resolverOf({ "skill.research": { id: "skill_01r", version: "skver_07" } }) });
    expect(agent.canonicalLive(live, desired)).toEqual(desired);
  });

  it("changes exactly the skill's version once the skill has a new one: a re-pin of that skill", () => {
    for (const version of ["skver_08", KNOWN_AFTER_APPLY]) {
      const resolveRef = resolverOf({ "skill.research": { id: "skill_01r", version } });
      const desired = agent.canonicalDesired(spec, { resolveRef });
      const changes = diffCanonical(agent.canonicalLive(live, desired), desired);
      expect(changes).toEqual([{ pointer: "/skills/custom:skill_01r/version", op: "replace", before: "skver_07", after: version }]);
      expect(agent.followedRefKey(changes[0]!.pointer)).toBe("skill_01r");
    }
  });

  it("re-pins to the new version in the update body (the skills list is sent whole)", () => {
    const resolved = agent.resolveRefs(spec, resolverOf({ "skill.research": { id: "skill_01r", version: "skver_08" } }));
    expect(agent.fieldBody("skills", resolved)).toEqual([
      { type: "custom", skill_id: "skill_01r", version: "skver_08" },
      { type: "anthropic", skill_id: "xlsx" },
    ]);
  });

  it("still ignores the live version of a skill pasted by id without a version", () => {
    const pasted = { name: "lead", model: "claude-sonnet-5-5", skills: [{ type: "custom", skill_id: "skill_01r" }, { type: "anthropic", skill_id: "xlsx" }] };
    const desired = agent.canonicalDesired(pasted);
    expect(agent.canonicalLive(live, desired)).toEqual(desired);
  });
});

describe("rules for skill references", () => {
  /** An agent manifest with the read tool on, so AF-SKILLS-READ stays out of the way. */
  function manifest(name: string, skills: unknown[]): LoadedManifest {
    return {
      kind: "agent",
      name,
      file: `agents/${name}.yaml`,
      spec: { name, model: "claude-haiku-5-5", tools: [{ type: "agent_toolset_20260401" }], skills },
      settings: { previous_names: [], adopt: false, ignore: [] },
      locate: () => ({ line: 1, column: 1 }),
    };
  }

  function check(skills: unknown[], names: { skills?: string[]; unparsed?: string[] } = {}): Array<{ at: string; code: string; message: string }> {
    const out: Array<{ at: string; code: string; message: string }> = [];
    const sink: RuleSink = { add: (_m, segments, code, message) => void out.push({ at: segments.join("/"), code, message }) };
    const ctx: RuleContext = {
      manifestNames: (kind) => (kind === "skill" ? (names.skills ?? []) : ["lead"]),
      unparsedNames: (kind) => (kind === "skill" ? (names.unparsed ?? []) : []),
      manifestsOf: () => [],
    };
    agent.rules([manifest("lead", skills)], ctx, sink);
    return out;
  }

  it("accepts refs to skill manifests, pinned or not, beside skills given by id", () => {
    expect(check([{ type: "custom", ref: "research" }, { type: "custom", ref: "review", version: "skver_02" }, { type: "custom", skill_id: "skill_01x" }, { type: "anthropic", skill_id: "xlsx" }], { skills: ["research", "review"] })).toEqual([]);
  });

  it("reports a ref to no skill manifest, suggesting a close name", () => {
    expect(check([{ type: "custom", ref: "reserach" }], { skills: ["research", "review"] })).toEqual([
      { at: "skills/0/ref", code: "AF-REF-UNKNOWN", message: 'no skill manifest is named "reserach"; did you mean "research"?' },
    ]);
    // A skill folder that did not parse is known: its parse error is the real problem.
    expect(check([{ type: "custom", ref: "broken" }], { unparsed: ["broken"] })).toEqual([]);
  });

  it("reports a skill listed twice, by ref or by id", () => {
    const twice = check([{ type: "custom", ref: "research" }, { type: "custom", ref: "research", version: "skver_02" }, { type: "custom", skill_id: "skill_01x" }, { type: "custom", skill_id: "skill_01x" }], { skills: ["research"] });
    expect(twice.map((d) => `${d.at} ${d.code}`)).toEqual(["skills/1 AF-SKILLS-DUPLICATE", "skills/3 AF-SKILLS-DUPLICATE"]);
    expect(twice[0]!.message).toBe('skill "research" is listed twice');
  });

  it("reports a pinned version that is not a version id", () => {
    const bad = check([{ type: "custom", ref: "research", version: "" }, { type: "custom", ref: "review", version: 2 }], { skills: ["research", "review"] });
    expect(bad.map((d) => `${d.at} ${d.code}`)).toEqual(["skills/0/version AF-SKILLS-VERSION", "skills/1/version AF-SKILLS-VERSION"]);
  });

  it("counts refs toward the 20-skill limit", () => {
    const names = Array.from({ length: 21 }, (_, i) => `skill-${i}`);
    const many = check(names.map((ref) => ({ type: "custom", ref })), { skills: names });
    expect(many.map((d) => `${d.at} ${d.code}`)).toEqual(["skills AF-LIMIT-SKILLS"]);
  });
});
