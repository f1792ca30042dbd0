/**
 * The planner's rules for inventory resources whose manifest is gone (pure, plain data): what a
 * target's `prune: true` may remove on its own, what it leaves as an orphan and why, and how a
 * rename without previous_names is recognised.
 */
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import type { LockedEntry } from "../../src/lock/types.js";
import { liveDigest } from "../../src/normalize/index.js";
import { liveAgent, liveSkill, lockfile, manifest, planInput } from "./helpers.js";

const Z = "sha256:" + "0".repeat(64);
const lockedAgent = (live: ReturnType<typeof liveAgent>): LockedEntry => ({ id: live.id, version: live.version, specDigest: Z, liveDigest: liveDigest("agent", live) });
const spec = (name: string, system = "Route tickets.", extra: Record<string, unknown> = {}) => ({ name, model: "claude-sonnet-5-5", system, ...extra });
const actions = (plan: ReturnType<typeof buildPlan>) => plan.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}:${r.action}${r.orphan ? `:${r.orphan.why}` : ""}`);

describe("orphans and the target's prune: true", () => {
  const keeper = liveAgent({ id: "agent_011keeper", name: "keeper", system: "Route tickets." });
  const old = liveAgent({ id: "agent_011old", name: "old", system: "Old job." });

  it("never deletes a skill on its own: the delete is final and rests on the lockfile alone", () => {
    const skill = liveSkill({ id: "skill_011macros", name: "macros", latest_version_id: "skver_1" });
    const lock = lockfile({ agents: { keeper: lockedAgent(keeper) }, skills: { macros: { id: skill.id, version: "skver_1", specDigest: Z, liveDigest: Z } } });
    const input = { agents: [manifest("agent", spec("keeper"))], liveAgents: [keeper], liveSkills: [skill], lock };
    expect(actions(buildPlan(planInput({ ...input, options: { targetPrune: true } })))).toEqual(["skill.macros:orphan:irreversible"]);
    expect(actions(buildPlan(planInput({ ...input, options: { prune: true, allowEmpty: true } })))).toEqual(["skill.macros:delete"]);
  });

  it("a resource something still uses stays an orphan under the target's pruning; --prune refuses", () => {
    const user = liveAgent({ id: "agent_011user", name: "user", metadata: { "agentform.project": "someone-else" }, multiagent: { type: "coordinator", agents: [{ type: "agent", id: old.id, version: 1 }] } });
    const lock = lockfile({ agents: { keeper: lockedAgent(keeper), old: lockedAgent(old) } });
    const input = { agents: [manifest("agent", spec("keeper", "Route tickets better."))], liveAgents: [keeper, old, user], lock };
    const target = buildPlan(planInput({ ...input, options: { targetPrune: true } }));
    expect(target.refusals).toEqual([]);
    expect(actions(target)).toEqual(["agent.keeper:update", "agent.old:orphan:still-used"]);
    const orphan = target.resources.find((r) => r.address === "agent.old")!;
    expect(orphan.request).toBeNull();
    expect(orphan.notes?.[0]).toMatch(/^Pruning would archive agent\.old, but agent "user" \(agent_011user\) still uses it\./);
    const explicit = buildPlan(planInput({ ...input, options: { prune: true } }));
    expect(explicit.refusals.map((r) => r.code)).toEqual(["prune-still-referenced"]);
  });

  it("removing every resource of a kind is left to --prune --allow-empty, not to the target setting", () => {
    const lock = lockfile({ agents: { old: lockedAgent(old) } });
    const plan = buildPlan(planInput({ liveAgents: [old], lock, options: { targetPrune: true } }));
    expect(plan.refusals).toEqual([]);
    expect(actions(plan)).toEqual(["agent.old:orphan:would-empty"]);
  });

  it("an orphan changed outside agentform is not drift (nothing could overwrite it)", () => {
    const lock = lockfile({ agents: { keeper: lockedAgent(keeper), old: { ...lockedAgent(old), liveDigest: Z } } });
    const plan = buildPlan(planInput({ agents: [manifest("agent", spec("keeper"))], liveAgents: [keeper, old], lock }));
    expect(plan.resources.find((r) => r.address === "agent.old")).toMatchObject({ action: "orphan", drift: null });
    expect(plan.driftDetected).toBe(false);
  });

  it("says when the lockfile lists the resource under another name than its live one", () => {
    const lock = lockfile({ agents: { keeper: lockedAgent(keeper), stolen: lockedAgent(old) } });
    const plan = buildPlan(planInput({ agents: [manifest("agent", spec("keeper"))], liveAgents: [keeper, old], lock }));
    expect(plan.resources.find((r) => r.address === "agent.old")?.notes).toEqual(['the lockfile lists it as "stolen", not under its live name']);
  });
});

describe("renames without previous_names", () => {
  const a = liveAgent({ id: "agent_011a", name: "a", system: "First job." });
  const b = liveAgent({ id: "agent_011b", name: "b", system: "Second job." });

  it("pairs each leftover with the create it resembles most, best pairs first", () => {
    const lock = lockfile({ agents: { a: lockedAgent(a), b: lockedAgent(b) } });
    // c is b renamed exactly; d has a's prompt but another model.
    const manifests = [manifest("agent", spec("c", "Second job.")), manifest("agent", { ...spec("d", "First job."), model: "claude-haiku-5-5" })];
    const plan = buildPlan(planInput({ agents: manifests, liveAgents: [a, b], lock }));
    const note = (address: string) => plan.resources.find((r) => r.address === address)?.notes?.[0] ?? "";
    expect(note("agent.c")).toMatch(/^if this is agent\.b renamed, list "b"/);
    expect(note("agent.d")).toMatch(/^if this is agent\.a renamed, list "a"/);
  });

  it("does not suggest a rename for an unrelated create", () => {
    const big = liveAgent({ id: "agent_011big", name: "big", system: "Escalations.", description: "Hard tickets", tools: [{ type: "agent_toolset_20260401" }], multiagent: { type: "coordinator", agents: [{ type: "self" }] } });
    const lock = lockfile({ agents: { big: lockedAgent(big) } });
    const plan = buildPlan(planInput({ agents: [manifest("agent", { ...spec("zzz", "Something else."), model: "claude-haiku-5-5" })], liveAgents: [big], lock }));
    expect(plan.resources.every((r) => r.notes === undefined)).toBe(true);
  });
});

describe("lockfile entries runtimes must not be handed", () => {
  const router = liveAgent({ id: "agent_011router", name: "router", system: "Route tickets." });
  const theirs = liveAgent({ id: "agent_011theirs", name: "theirs", metadata: { "agentform.project": "another-team" } });
  const routerSpec = (settings = {}) => manifest("agent", spec("router"), settings);

  it("an entry pointing at another project's resource is dropped without pruning, as a reviewed lockfile change", () => {
    const lock = lockfile({ agents: { router: lockedAgent(router), payments: lockedAgent(theirs) } });
    const plan = buildPlan(planInput({ agents: [routerSpec()], liveAgents: [router, theirs], lock }));
    const entry = plan.resources.find((r) => r.address === "agent.payments")!;
    expect(entry).toMatchObject({ action: "noop", request: null, lockOnly: { reason: "foreign" } });
    expect(entry.security.map((f) => f.category)).toEqual(["lockfile-pin-changed"]);
  });

  it("a second name for a managed resource is dropped; a finding unless a manifest lists that name as previous", () => {
    const lock = lockfile({ agents: { router: lockedAgent(router), triage: lockedAgent(router) } });
    const stray = buildPlan(planInput({ agents: [routerSpec()], liveAgents: [router], lock })).resources.find((r) => r.address === "agent.triage")!;
    expect(stray).toMatchObject({ action: "noop", request: null, lockOnly: { reason: "duplicate" } });
    expect(stray.security.map((f) => f.message)).toEqual([expect.stringMatching(/^the lockfile hands callers of agent\.triage \(no manifest here\) agent_011router, a resource another manifest manages/)]);
    const listed = buildPlan(planInput({ agents: [routerSpec({ previous_names: ["triage"] })], liveAgents: [router], lock })).resources.find((r) => r.address === "agent.triage")!;
    expect(listed).toMatchObject({ lockOnly: { reason: "duplicate" }, security: [] });
  });

  it("a rename in the plan replaces its old entry itself: no second entry for it", () => {
    const old = liveAgent({ id: "agent_011old", name: "triage", system: "Route tickets." });
    const lock = lockfile({ agents: { triage: lockedAgent(old) } });
    const plan = buildPlan(planInput({ agents: [routerSpec({ previous_names: ["triage"] })], liveAgents: [old], lock }));
    expect(plan.resources.map((r) => `${r.address}:${r.action}`)).toEqual(["agent.router:rename"]);
  });
});
