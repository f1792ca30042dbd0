/**
 * The headline crash-safety property: for every write index of an apply of ≥ 20 resources, a
 * write that commits and then loses its connection, followed by a re-run, converges: no
 * duplicates, the lockfile matches live, and the next plan is empty.
 *
 * The fleet includes a skill that some workers use by ref. A skill has no metadata, so nothing
 * marks a skill as this project's but the lockfile (src/backends/resilient.ts, "Safe create"):
 * when the skill's create loses its response, the same-named skill found afterwards cannot be
 * told from someone else's. It is then reported (`create-unconfirmed`, with its id), never
 * adopted and never created again; the next plan refuses it (`unmanaged-needs-adopt`, same id)
 * until the user adopts it (`--adopt`, or `agentform: {adopt: true}` in SKILL.md), after which
 * the fleet converges. That index is asserted as that documented behaviour; every other index
 * must be absorbed. A run killed while a created skill is not yet in the lockfile on disk (its
 * create was the write lost, or its save had not happened yet) leaves the next run the same
 * situation, asserted the same way. Editing the skill (a new version, then the re-pins) has no
 * such index: every one of its writes is absorbed or converges on a plain re-run.
 */
import { describe, expect, it } from "vitest";
import { applyPlan, type ApplyResult } from "../../src/apply/index.js";
import type { ControlPlane } from "../../src/backends/types.js";
import type { LiveSkill } from "../../src/kinds/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { applyNow, fleet, FLEET_SKILL, ORIGIN, planNow, PROJECT, resilient, sdk, uploadsOf, writesIn, type Fleet } from "./fleet.js";

const FLEET = fleet(16, "", { skill: true });
/** The same fleet with one file of the skill changed: a new skill version, and the re-pins it causes. */
const EDITED = fleet(16, "", { skill: true, skillEdit: "second" });
const RESOURCES = FLEET.agents.length + FLEET.environments.length + (FLEET.skills?.length ?? 0);
const SKILL = `skill.${FLEET_SKILL}`;

/** Workers using the skill, and the coordinators whose rosters name one of them. */
function skillUsers(f: Fleet): string[] {
  const workers = new Set(f.agents.filter((a) => Array.isArray(a.spec.skills)).map((a) => a.name));
  const roster = (a: (typeof f.agents)[number]) => ((a.spec.multiagent as { agents?: Array<{ ref?: string }> } | undefined)?.agents ?? []).map((e) => e.ref);
  const leads = f.agents.filter((a) => roster(a).some((ref) => ref !== undefined && workers.has(ref))).map((a) => a.name);
  return [...workers, ...leads].map((n) => `agent.${n}`).sort();
}

const isSkillCreate = (e: { method: string; path: string }) => e.method === "POST" && e.path === "/v1/skills";

async function expectConverged(cp: LocalControlPlane, lock: Lockfile, f: Fleet = FLEET): Promise<void> {
  const backend = sdk(cp);
  const [agents, environments, skills] = await Promise.all([backend.list("agent"), backend.list("environment"), backend.list("skill")]);
  expect(agents.map((a) => a.name).sort()).toEqual(f.agents.map((m) => m.name).sort());
  expect(environments.map((e) => e.name).sort()).toEqual(f.environments.map((m) => m.name).sort());
  expect(skills.map((s) => s.name).sort()).toEqual((f.skills ?? []).map((m) => m.name).sort());
  for (const a of agents) expect(lock.agents[a.name]).toMatchObject({ id: a.id, version: a.version });
  for (const e of environments) expect(lock.environments[e.name]).toMatchObject({ id: e.id });
  for (const s of skills) {
    expect(lock.skills[s.name]).toMatchObject({ id: s.id, version: s.latest_version_id });
    // The lockfile's digests are the skill's files as the manifest has them.
    expect(lock.skills[s.name]?.files).toEqual(f.skills?.find((m) => m.name === s.name)?.spec.files);
  }
  expect(Object.keys(lock.agents)).toHaveLength(agents.length);
  expect(Object.keys(lock.environments)).toHaveLength(environments.length);
  expect(Object.keys(lock.skills)).toHaveLength(skills.length);
  // Every agent using the skill pins its latest version.
  const skill = skills.find((s) => s.name === FLEET_SKILL) as LiveSkill | undefined;
  for (const a of agents.filter((x) => f.agents.some((m) => m.name === x.name && Array.isArray(m.spec.skills)))) {
    expect(a.skills, `${a.name}'s skills`).toEqual([{ type: "custom", skill_id: skill?.id, version: skill?.latest_version_id }]);
  }
  const next = await planNow(backend, f, lock);
  expect(next.refusals).toEqual([]);
  expect(next.resources.filter((r) => r.action !== "noop").map((r) => `${r.address}: ${r.action}`)).toEqual([]);
  cp.clearRequestLog();
  const again = await applyNow(next, backend, lock);
  expect(again.writes).toBe(0);
  expect(writesIn(cp)).toEqual([]);
}

/** Re-run (plan + apply) until nothing is left to do; a converging system needs one re-run. */
async function rerun(cp: LocalControlPlane, lock: Lockfile | null, f: Fleet = FLEET, options: { adopt?: boolean } = {}): Promise<Lockfile> {
  const backend = resilient(cp);
  const plan = await planNow(backend, f, lock, options);
  expect(plan.refusals).toEqual([]);
  const result = await applyNow(plan, backend, lock);
  expect(result.failed).toEqual([]);
  return result.lock;
}

/**
 * The skill's create lost its response, so the skill exists but nothing proves it is ours: the
 * re-run's plan refuses it until adopted, then (`--adopt`) the fleet converges. Returns the lockfile.
 */
async function rerunAfterUnconfirmedSkill(cp: LocalControlPlane, lock: Lockfile | null, label: string): Promise<Lockfile> {
  const skills = await sdk(cp).list("skill");
  expect(skills.map((s) => s.name), `${label}: the create was not sent again`).toEqual([FLEET_SKILL]);
  const id = skills[0]!.id;
  expect(lock?.skills[FLEET_SKILL], `${label}: no lockfile entry for an unconfirmed skill`).toBeUndefined();
  const refused = await planNow(resilient(cp), FLEET, lock);
  expect(refused.refusals.map((r) => ({ address: r.address, code: r.code, ids: r.ids })), label).toEqual([{ address: SKILL, code: "unmanaged-needs-adopt", ids: [id] }]);
  const adopted = await planNow(resilient(cp), FLEET, lock, { adopt: true });
  expect(adopted.resources.find((r) => r.address === SKILL), label).toMatchObject({ action: "adopt", id });
  const after = await rerun(cp, lock, FLEET, { adopt: true });
  expect(after.skills[FLEET_SKILL]?.id, label).toBe(id);
  return after;
}

/**
 * What the resilience policy reports for the skill's ambiguous create: a skill has no ownership
 * marker, so the same-named skill it finds is named (`create-unconfirmed`), never claimed, and
 * the create is not sent again. What uses the skill waits; everything else is applied.
 */
async function expectUnconfirmedCreate(cp: LocalControlPlane, result: ApplyResult & { unsaved: string[] }, label: string): Promise<void> {
  const [live] = await sdk(cp).list("skill");
  expect(result.failed.map((f) => ({ address: f.address, code: f.error.code })), label).toEqual([{ address: SKILL, code: "create-unconfirmed" }]);
  const error = result.failed[0]!.error;
  expect(error.details, label).toMatchObject({ kind: "skill", name: FLEET_SKILL, ids: [live!.id] });
  expect(error.message, label).toContain(live!.id);
  expect([...result.skipped].sort(), label).toEqual(skillUsers(FLEET));
  expect(result.unsaved, label).toEqual([]);
  expect(Object.keys(result.lock.agents), label).toHaveLength(FLEET.agents.length - skillUsers(FLEET).length);
}

describe("crash safety", () => {
  it(`the fleet has at least 20 resources (${RESOURCES}), a skill among them used by some workers`, () => {
    expect(RESOURCES).toBeGreaterThanOrEqual(20);
    expect(FLEET.skills?.map((s) => s.name)).toEqual([FLEET_SKILL]);
    expect(skillUsers(FLEET).length).toBeGreaterThan(1);
  });

  it("a lost response at every write index is absorbed by the resilience policy: no duplicates, lock matches live (the skill's create: reported, then adopted)", async () => {
    const seen = new Set<string>();
    for (let k = 1; k <= RESOURCES; k++) {
      const cp = await startLocalControlPlane({ faults: { script: [{ on: "write", nth: k, fault: { dropAfterCommit: true } }] } });
      try {
        const backend = resilient(cp);
        const result = await applyNow(await planNow(backend, FLEET, null), backend, null);
        const dropped = writesIn(cp).filter((e) => e.status === null);
        expect(dropped, `write #${k}`).toHaveLength(1);
        seen.add(`${dropped[0]!.method} ${dropped[0]!.path.replace(/_[A-Za-z0-9]+/g, "_*")}`);
        if (isSkillCreate(dropped[0]!)) {
          await expectUnconfirmedCreate(cp, result, `write #${k} (the skill's create)`);
          await expectConverged(cp, await rerunAfterUnconfirmedSkill(cp, result.lock, `write #${k}`));
          continue;
        }
        expect(result.failed, `write #${k}`).toEqual([]);
        expect(result.unsaved, `write #${k}`).toEqual([]);
        await expectConverged(cp, result.lock);
      } finally {
        await cp.close();
      }
    }
    expect(seen).toContain("POST /v1/skills");
  });

  it("a run killed at every write index (response lost, no retry, lock as last saved) converges on re-run (with --adopt when the skill's create was not saved)", async () => {
    const seen = new Set<string>();
    const skillUnrecorded: number[] = [];
    const skillRecorded: number[] = [];
    for (let k = 1; k <= RESOURCES; k++) {
      const cp = await startLocalControlPlane({ faults: { script: [{ on: "write", nth: k, fault: { dropAfterCommit: true } }] } });
      try {
        // The raw backend surfaces the lost response; the lockfile "on disk" is frozen at that moment.
        const raw: ControlPlane = sdk(cp);
        const plan = await planNow(raw, FLEET, null);
        let onDisk: Lockfile | null = null;
        let frozen = false;
        const first = await applyPlan(plan, raw, {
          project: PROJECT,
          lock: emptyLock(PROJECT, "default", ORIGIN),
          uploads: uploadsOf(FLEET),
          saveLock: async (lock) => {
            if (!frozen) onDisk = lock;
          },
          onEvent: (e) => {
            if (e.type === "failed") frozen = true;
          },
        });
        expect(first.failed.map((f) => f.error.code), `write #${k}`).toEqual(["api.connection_error"]);
        const dropped = writesIn(cp).filter((e) => e.status === null);
        expect(dropped, `write #${k}`).toHaveLength(1);
        seen.add(`${dropped[0]!.method} ${dropped[0]!.path.replace(/_[A-Za-z0-9]+/g, "_*")}`);
        cp.resetFaults();
        // A skill created but not in the lockfile on disk (its create was the write lost, or it
        // completed after the kill) is, to the next run, exactly an unconfirmed create.
        const unrecorded = (await sdk(cp).list("skill")).length > 0 && (onDisk as Lockfile | null)?.skills[FLEET_SKILL] === undefined;
        if (isSkillCreate(dropped[0]!)) expect(unrecorded, `write #${k}`).toBe(true);
        (unrecorded ? skillUnrecorded : skillRecorded).push(k);
        const lock = unrecorded ? await rerunAfterUnconfirmedSkill(cp, onDisk, `write #${k} (the skill unrecorded)`) : await rerun(cp, onDisk);
        await expectConverged(cp, lock);
      } finally {
        await cp.close();
      }
    }
    expect(seen).toContain("POST /v1/skills");
    // Both paths were taken: killed before the skill's create was saved, and after.
    expect(skillUnrecorded.length, `unrecorded at ${skillUnrecorded.join(", ")}`).toBeGreaterThan(0);
    expect(skillRecorded.length, `recorded at ${skillRecorded.join(", ")}`).toBeGreaterThan(0);
  });

  /**
   * A changed skill file: one new skill version, then the re-pin of every worker using it and of
   * the coordinator following one of them. Each of those writes loses its response in turn.
   */
  describe("editing the skill", () => {
    async function created(k: number): Promise<{ cp: LocalControlPlane; lock: Lockfile }> {
      const cp = await startLocalControlPlane();
      const backend = resilient(cp);
      const result = await applyNow(await planNow(backend, FLEET, null), backend, null);
      expect(result.failed).toEqual([]);
      cp.setFaults({ script: [{ on: "write", nth: k, fault: { dropAfterCommit: true } }] });
      return { cp, lock: result.lock };
    }

    async function editPlan(backend: ControlPlane, lock: Lockfile) {
      const plan = await planNow(backend, EDITED, lock);
      expect(plan.refusals).toEqual([]);
      const changed = plan.resources.filter((r) => r.action !== "noop");
      expect(changed.map((r) => `${r.address} ${r.action}`).sort()).toEqual([`${SKILL} update`, ...skillUsers(EDITED).map((a) => `${a} repin`)].sort());
      expect(changed.find((r) => r.address === SKILL)?.changes.map((c) => c.pointer)).toEqual(["/files/scripts~1triage.py"]);
      return plan;
    }

    const EDIT_WRITES = 1 + skillUsers(EDITED).length;

    it(`a lost response at each of its ${EDIT_WRITES} writes is absorbed by the resilience policy`, async () => {
      const seen = new Set<string>();
      for (let k = 1; k <= EDIT_WRITES; k++) {
        const { cp, lock } = await created(k);
        try {
          const backend = resilient(cp);
          const result = await applyNow(await editPlan(backend, lock), backend, lock);
          expect(result.failed, `write #${k}`).toEqual([]);
          expect(result.unsaved, `write #${k}`).toEqual([]);
          const dropped = writesIn(cp).filter((e) => e.status === null);
          expect(dropped, `write #${k}`).toHaveLength(1);
          seen.add(`${dropped[0]!.method} ${dropped[0]!.path.replace(/_[A-Za-z0-9]+/g, "_*")}`);
          expect(result.lock.skills[FLEET_SKILL]?.version, `write #${k}`).not.toBe(lock.skills[FLEET_SKILL]?.version);
          await expectConverged(cp, result.lock, EDITED);
        } finally {
          await cp.close();
        }
      }
      expect(seen).toContain("POST /v1/skills/skill_*/versions");
    });

    it(`a run killed at each of its ${EDIT_WRITES} writes converges on re-run`, async () => {
      for (let k = 1; k <= EDIT_WRITES; k++) {
        const { cp, lock } = await created(k);
        try {
          const raw = sdk(cp);
          let onDisk: Lockfile = lock;
          let frozen = false;
          const first = await applyPlan(await editPlan(raw, lock), raw, {
            project: PROJECT,
            lock,
            uploads: uploadsOf(EDITED),
            saveLock: async (l) => {
              if (!frozen) onDisk = l;
            },
            onEvent: (e) => {
              if (e.type === "failed") frozen = true;
            },
          });
          expect(first.failed.map((f) => f.error.code), `write #${k}`).toEqual(["api.connection_error"]);
          cp.resetFaults();
          await expectConverged(cp, await rerun(cp, onDisk, EDITED), EDITED);
        } finally {
          await cp.close();
        }
      }
    });
  });
});
