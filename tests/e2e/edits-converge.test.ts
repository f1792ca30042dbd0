/**
 * The update path, end to end: create a generated project, then EDIT it (values changed,
 * optional fields removed, lists reordered or shortened, rosters switched, networking flipped)
 * and apply the edit. The edit must converge: the next plan is empty, nothing drifts, and each
 * agent's version moved exactly when the plan said it would.
 *
 * Skills are edited too (a file changed, added or removed, SKILL.md rewritten): an edited skill
 * uploads exactly one new version, and every agent following it is re-pinned to that version
 * (and the coordinators following those agents in turn), nothing else.
 *
 * Complements no-perpetual-diff.test.ts, which only covers create. A failure here is either a
 * missed diff (a removal the planner did not send, so the field survives on the server), a
 * perpetual diff after an update, or an update body the API rejects.
 *
 * Real parts: manifests are written as YAML/Markdown files and read by the real loader; the
 * planner and executor talk to the local control plane through the SDK backend over HTTP.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPlan } from "../../src/apply/index.js";
import { withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { emptyLock } from "../../src/lock/io.js";
import type { Lockfile } from "../../src/lock/types.js";
import { buildPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import type { LiveSets } from "../../src/backends/types.js";
import { generatedCase, materializeCase, skillBody, type GeneratedAgent, type GeneratedCase, type GeneratedFile, type GeneratedSkill, type MaterializedSkill } from "./arbitraries.js";
import { listLive, uploadsOf, writeGeneratedProject, type GeneratedManifests } from "./project.js";

const KEY_ENV = "AGENTFORM_PROP_KEY";
// Fixed so CI is deterministic; explore with e.g. PROP_SEED=7 PROP_RUNS=200.
const SEED = Number(process.env.PROP_SEED ?? 20260402);
const RUNS = Number(process.env.PROP_RUNS ?? 25);
const SKILL_RUNS = Number(process.env.PROP_RUNS ?? 10);

type Obj = Record<string, unknown>;

/** A generated project and the edited version of it (same resource names). */
interface EditedCase {
  before: GeneratedCase;
  after: GeneratedCase;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Set `key` on a copy of `o`, or remove it when `value` is undefined. */
function withKey(o: Obj, key: string, value: unknown): Obj {
  const out = { ...o };
  if (value === undefined) delete out[key];
  else out[key] = value;
  return out;
}

type Choice = "keep" | "other" | "drop";
const choice = fc.constantFrom<Choice>("keep", "other", "drop");

/**
 * Metadata edits: keep, replace, drop the field, keep a subset of the keys (the rest must be
 * deleted on the server), or a subset plus other keys.
 */
function editMetadata(v1: unknown, v2: unknown): fc.Arbitrary<unknown> {
  const keys = isObj(v1) ? Object.keys(v1) : [];
  return fc.tuple(fc.constantFrom("keep", "other", "drop", "subset", "subset+other"), fc.subarray(keys)).map(([c, kept]) => {
    if (c === "keep") return v1;
    if (c === "other") return v2;
    if (c === "drop") return undefined;
    const subset = Object.fromEntries(kept.map((k) => [k, (v1 as Obj)[k]]));
    if (c === "subset") return subset;
    // At most 15 user keys: one more is the ownership marker.
    const merged: Obj = { ...subset };
    for (const [k, v] of Object.entries(isObj(v2) ? v2 : {})) if (Object.keys(merged).length < 15 || k in merged) merged[k] = v;
    return merged;
  });
}

/**
 * tools + mcp_servers edits, kept valid together: every server stays used by an mcp_toolset,
 * and web_fetch `url_sources` may name custom tools, so custom tools go only with the toolset.
 */
function editTools(a: Obj, b: Obj): fc.Arbitrary<{ tools?: unknown; mcp_servers?: unknown }> {
  const tools = Array.isArray(a.tools) ? (a.tools as Obj[]) : [];
  return fc
    .tuple(fc.constantFrom("keep", "other", "drop", "reorder", "subset"), fc.shuffledSubarray(tools), fc.shuffledSubarray(tools, { minLength: tools.length }))
    .map(([c, subset, shuffled]) => {
      if (c === "keep") return { tools: a.tools, mcp_servers: a.mcp_servers };
      if (c === "other") return { tools: b.tools, mcp_servers: b.mcp_servers };
      if (c === "drop") return {};
      if (c === "reorder") {
        const servers = Array.isArray(a.mcp_servers) ? [...(a.mcp_servers as Obj[])].reverse() : a.mcp_servers;
        return { tools: shuffled.length > 0 ? shuffled : a.tools, mcp_servers: servers };
      }
      let kept = subset;
      if (kept.some((t) => t.type === "agent_toolset_20260401")) {
        kept = [...kept, ...tools.filter((t) => t.type === "custom" && !kept.includes(t))];
      }
      const used = new Set(kept.filter((t) => t.type === "mcp_toolset").map((t) => t.mcp_server_name));
      const servers = Array.isArray(a.mcp_servers) ? (a.mcp_servers as Obj[]).filter((s) => used.has(s.name)) : [];
      return { tools: kept.length > 0 ? kept : undefined, mcp_servers: servers.length > 0 ? servers : undefined };
    });
}

function editAgent(a: GeneratedAgent, b: GeneratedAgent): fc.Arbitrary<GeneratedAgent> {
  return fc
    .record({
      model: fc.boolean(),
      description: choice,
      system: choice,
      skills: choice,
      identity: choice,
      multiagentNull: choice,
      roster: choice,
      markdown: fc.boolean(),
      metadata: editMetadata(a.spec.metadata, b.spec.metadata),
      tools: editTools(a.spec, b.spec),
    })
    .map((c) => {
      let spec: Obj = { ...a.spec };
      const pick = (key: string, ch: Choice) => {
        spec = withKey(spec, key, ch === "keep" ? a.spec[key] : ch === "other" ? b.spec[key] : undefined);
      };
      if (c.model) spec.model = b.spec.model;
      pick("description", c.description);
      pick("system", c.system);
      pick("skills", c.skills);
      pick("execution_identity", c.identity);
      pick("multiagent", c.multiagentNull);
      spec = withKey(spec, "metadata", c.metadata);
      spec = withKey(spec, "tools", c.tools.tools);
      spec = withKey(spec, "mcp_servers", c.tools.mcp_servers);
      const roster = c.roster === "keep" ? a.roster : c.roster === "other" ? b.roster : undefined;
      return { name: a.name, markdown: c.markdown ? b.markdown : a.markdown, spec, roster };
    });
}

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;
const hasPackages = (p: unknown) => isObj(p) && PACKAGE_MANAGERS.some((m) => Array.isArray(p[m]) && (p[m] as unknown[]).length > 0);
const configType = (c: unknown) => (isObj(c) ? c.type : "cloud");
const netType = (c: unknown) => (isObj(c) && isObj(c.networking) ? c.networking.type : "unrestricted");

/**
 * Environment config edits. The API refuses to change `config.type` (cloud ↔ self_hosted,
 * 400 `invalid_config_type_change`), so edits stay within the stored type.
 */
function editConfig(a: unknown, b: unknown): fc.Arbitrary<unknown> {
  if (configType(a) === "self_hosted") return fc.constant(configType(b) === "self_hosted" ? b : a);
  const bCloud = configType(b) === "cloud" ? b : undefined;
  const aCfg = isObj(a) ? a : {};
  const bCfg = isObj(bCloud) ? bCloud : {};
  return fc
    .record({
      whole: fc.constantFrom("fields", "fields", "fields", "keep", "other", "drop", "null"),
      networking: fc.constantFrom("keep", "other", "drop", "flip"),
      packages: choice,
      hostsFrom: fc.boolean(),
    })
    .map((c) => {
      if (c.whole === "keep") return a;
      if (c.whole === "other") return bCloud;
      if (c.whole === "drop") return undefined;
      if (c.whole === "null") return null;
      let networking: unknown;
      if (c.networking === "keep") networking = aCfg.networking;
      else if (c.networking === "other") networking = bCfg.networking;
      else if (c.networking === "flip") {
        networking =
          netType(aCfg) === "limited"
            ? { type: "unrestricted" }
            : c.hostsFrom && netType(bCfg) === "limited"
              ? bCfg.networking
              : { type: "limited", allowed_hosts: ["api.example.com"], allow_mcp_servers: true };
      }
      const packages = c.packages === "keep" ? aCfg.packages : c.packages === "other" ? bCfg.packages : undefined;
      // Under limited networking, packages need allow_package_managers (the API refuses them otherwise).
      if (isObj(networking) && networking.type === "limited" && hasPackages(packages)) networking = { ...networking, allow_package_managers: true };
      let out: Obj = { type: "cloud" };
      out = withKey(out, "networking", networking);
      out = withKey(out, "packages", packages);
      return out;
    });
}

function editEnvironment(a: Obj, b: Obj): fc.Arbitrary<Obj> {
  return fc
    .record({ description: choice, scope: choice, metadata: editMetadata(a.metadata, b.metadata), config: editConfig(a.config, b.config) })
    .map((c) => {
      let env: Obj = { name: a.name };
      env = withKey(env, "description", c.description === "keep" ? a.description : c.description === "other" ? b.description : undefined);
      env = withKey(env, "scope", c.scope === "keep" ? a.scope : c.scope === "other" ? b.scope : undefined);
      env = withKey(env, "metadata", c.metadata);
      env = withKey(env, "config", c.config);
      return env;
    });
}

/** A file's bytes changed: one byte appended (a newline to text, a NUL to binary). */
const touched = (f: GeneratedFile): GeneratedFile => ({ path: f.path, bytes: Uint8Array.from([...f.bytes, f.bytes.includes(0) ? 0 : 0x0a]) });

/**
 * Skill edits, by file: keep, another set of files, none, one file's content changed, a file
 * added or removed; SKILL.md changes with its description, keys or body. The name stays (a new
 * name is a new skill).
 */
function editSkill(a: GeneratedSkill, b: Omit<GeneratedSkill, "name">): fc.Arbitrary<GeneratedSkill> {
  return fc
    .record({
      description: fc.constantFrom("keep", "keep", "other"),
      extra: fc.constantFrom("keep", "keep", "other"),
      body: fc.constantFrom("keep", "keep", "other", "append"),
      files: fc.constantFrom("keep", "other", "drop", "change", "change", "add", "remove"),
    })
    .map((c) => {
      let files = a.files;
      if (c.files === "other") files = b.files;
      else if (c.files === "drop") files = [];
      else if (c.files === "change") files = a.files.length > 0 ? [touched(a.files[0]!), ...a.files.slice(1)] : a.files;
      else if (c.files === "add") {
        const extra = b.files.find((f) => !a.files.some((x) => x.path === f.path)) ?? { path: "added.txt", bytes: new TextEncoder().encode("added\n") };
        files = a.files.some((x) => x.path === extra.path) ? a.files : [...a.files, extra];
      } else if (c.files === "remove") files = a.files.slice(1);
      return {
        name: a.name,
        description: c.description === "keep" ? a.description : b.description,
        extra: c.extra === "keep" ? a.extra : b.extra,
        body: c.body === "keep" ? a.body : c.body === "other" ? b.body : `${a.body}\nOne more line.\n`,
        files,
      };
    });
}

const untouched = <T>(v: T, edit: fc.Arbitrary<T>) => fc.oneof({ weight: 1, arbitrary: fc.constant(v) }, { weight: 3, arbitrary: edit });

/** Skill values for edits of skills the second case has none for. */
const spareSkills = fc.array(skillBody, { minLength: 2, maxLength: 2 });

/**
 * A case and an edit of it. The second, independent case supplies the new values; resources
 * that exist in only one of them are dropped so both versions have the same names (skills are
 * all kept: spare values stand in for the ones the second case lacks).
 */
const editedCase: fc.Arbitrary<EditedCase> = fc.tuple(generatedCase, generatedCase, spareSkills).chain(([a, b, spare]) => {
  const nAgents = Math.min(a.agents.length, b.agents.length);
  const nEnvs = Math.min(a.environments.length, b.environments.length);
  const before: GeneratedCase = { agents: a.agents.slice(0, nAgents), environments: a.environments.slice(0, nEnvs), skills: a.skills };
  // Some resources are left untouched, so the plan also has noops, and coordinators whose
  // only change is a roster target's new version (repin).
  const agents = before.agents.map((ag, i) => untouched(ag, editAgent(ag, b.agents[i]!)));
  const envs = before.environments.map((e, i) => untouched(e, editEnvironment(e, b.environments[i]!)));
  const skills = before.skills.map((sk, i) => untouched(sk, editSkill(sk, b.skills[i] ?? spare[i]!)));
  return fc
    .tuple(
      agents.length === 0 ? fc.constant([]) : fc.tuple(...agents),
      envs.length === 0 ? fc.constant([]) : fc.tuple(...envs),
      skills.length === 0 ? fc.constant([]) : fc.tuple(...skills),
    )
    .map(([ags, es, sks]) => ({ before, after: { agents: ags as GeneratedAgent[], environments: es as Obj[], skills: sks as GeneratedSkill[] } }));
});

/**
 * Only skills change (at least one edited, the rest untouched): the plan must be exactly the
 * new versions and the re-pins that follow them.
 */
const skillOnlyEdit: fc.Arbitrary<EditedCase> = fc
  .tuple(generatedCase.filter((c) => c.skills.length > 0 && c.agents.some((a) => Array.isArray(a.spec.skills) && a.spec.skills.some((s) => typeof (s as Obj).skillRef === "number"))), spareSkills, fc.nat())
  .chain(([before, spare, pick]) => {
    const forced = pick % before.skills.length;
    const skills = before.skills.map((sk, i) => (i === forced ? editSkill(sk, spare[i]!) : untouched(sk, editSkill(sk, spare[i]!))));
    return fc.tuple(...skills).map((sks) => ({ before, after: { ...before, skills: sks } }));
  });

/** JSON pointer of a skill file in the plan's changes. */
const filePointer = (p: string) => `/files/${p.replace(/~/g, "~0").replace(/\//g, "~1")}`;

/** The paths whose bytes differ between two versions of a skill folder (added and removed ones included). */
function changedFiles(a: MaterializedSkill | undefined, b: MaterializedSkill): string[] {
  const before = new Map((a?.files ?? []).map((f) => [f.path, Buffer.from(f.bytes).toString("base64")]));
  const after = new Map(b.files.map((f) => [f.path, Buffer.from(f.bytes).toString("base64")]));
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

/** The skills an agent manifest follows by ref (no pinned version). */
const skillRefs = (a: Obj): string[] => (Array.isArray(a.skills) ? (a.skills as Obj[]) : []).filter((s) => typeof s.ref === "string" && s.version === undefined).map((s) => String(s.ref));

/** The agents an agent manifest's rosters follow by ref (no pinned version). */
function rosterRefs(a: Obj): string[] {
  const ma = isObj(a.multiagent) ? a.multiagent : {};
  const entries = [
    ...(Array.isArray(ma.agents) ? ma.agents : []),
    ...(["subagents", "workflows"] as const).flatMap((k) => (isObj(ma[k]) && Array.isArray((ma[k] as Obj).predefined_agents) ? ((ma[k] as Obj).predefined_agents as unknown[]) : [])),
  ] as unknown[];
  return entries.filter((e): e is Obj => isObj(e) && e.type === "agent" && typeof e.ref === "string" && e.version === undefined).map((e) => String(e.ref));
}

/** Which kinds of edit a case exercises; used to check the generator really removes things. */
function editKinds(e: EditedCase): Set<string> {
  const kinds = new Set<string>();
  const has = (v: unknown) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
  e.before.agents.forEach((a, i) => {
    const b = e.after.agents[i]!;
    for (const f of ["description", "system", "skills", "tools", "mcp_servers"]) if (has(a.spec[f]) && !has(b.spec[f])) kinds.add(`agent.${f} removed`);
    if (Array.isArray(a.spec.tools) && Array.isArray(b.spec.tools) && b.spec.tools.length < a.spec.tools.length && b.spec.tools.length > 0) kinds.add("agent.tools shortened");
    const [ta, tb] = [a.spec.tools, b.spec.tools];
    if (Array.isArray(ta) && Array.isArray(tb) && ta.length > 1 && tb.length === ta.length && tb.every((t) => ta.includes(t)) && tb.some((t, j) => t !== ta[j])) kinds.add("agent.tools reordered");
    const am = isObj(a.spec.metadata) ? Object.keys(a.spec.metadata) : [];
    const bm = isObj(b.spec.metadata) ? b.spec.metadata : {};
    if (am.some((k) => !(k in bm))) kinds.add("agent.metadata key removed");
    if (a.roster && !b.roster) kinds.add("agent.multiagent removed");
    if (a.roster && b.roster && a.roster !== b.roster) kinds.add("agent.multiagent changed");
    if (!a.roster && b.roster) kinds.add("agent.multiagent added");
    if (a.spec.model !== b.spec.model) kinds.add("agent.model changed");
  });
  const [m1, m2] = [materializeCase(e.before, "x"), materializeCase(e.after, "x")];
  m2.skills.forEach((s, i) => {
    const a = m1.skills[i];
    const before = new Set(a?.files.map((f) => f.path));
    const after = new Set(s.files.map((f) => f.path));
    for (const p of changedFiles(a, s)) {
      if (p === "SKILL.md") kinds.add("skill SKILL.md changed");
      else if (!before.has(p)) kinds.add("skill file added");
      else if (!after.has(p)) kinds.add("skill file removed");
      else kinds.add("skill file changed");
    }
    if (changedFiles(a, s).length > 0 && m2.agents.some((ag, j) => skillRefs(ag).includes(s.name) && skillRefs(m1.agents[j]!).includes(s.name))) kinds.add("agent re-pinned by a skill edit");
  });
  m2.agents.forEach((ag, j) => {
    const [r1, r2] = [skillRefs(m1.agents[j]!), skillRefs(ag)];
    if (r2.some((r) => !r1.includes(r))) kinds.add("agent skill ref added");
    if (r1.some((r) => !r2.includes(r))) kinds.add("agent skill ref removed");
  });
  e.before.environments.forEach((a, i) => {
    const b = e.after.environments[i]!;
    if (has(a.description) && !has(b.description)) kinds.add("environment.description removed");
    const am = isObj(a.metadata) ? Object.keys(a.metadata) : [];
    const bm = isObj(b.metadata) ? b.metadata : {};
    if (am.some((k) => !(k in bm))) kinds.add("environment.metadata key removed");
    if (configType(a.config) === "cloud" && configType(b.config) === "cloud") {
      if (netType(a.config) === "limited" && netType(b.config) === "unrestricted") kinds.add("networking limited→unrestricted");
      if (netType(a.config) === "unrestricted" && netType(b.config) === "limited") kinds.add("networking unrestricted→limited");
      const pk = (c: unknown) => JSON.stringify(PACKAGE_MANAGERS.map((m) => (isObj(c) && isObj(c.packages) ? (c.packages[m] ?? []) : [])));
      if (pk(a.config) !== pk(b.config)) kinds.add("packages changed");
      if (hasPackages(isObj(a.config) ? a.config.packages : undefined) && !hasPackages(isObj(b.config) ? b.config.packages : undefined)) kinds.add("packages removed");
    }
  });
  return kinds;
}

let cp: LocalControlPlane;
let root: string;
let counter = 0;

beforeAll(async () => {
  cp = await startLocalControlPlane();
  root = await mkdtemp(path.join(tmpdir(), "agentform-edits-"));
});

afterAll(async () => {
  await cp?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** (Re)write the project's manifests and load them; the loader must accept every generated manifest. */
async function writeProject(project: string, manifests: GeneratedManifests) {
  const loaded = await writeGeneratedProject(root, project, { baseUrl: cp.baseUrl, keyEnv: KEY_ENV }, manifests);
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  expect(errors, `the loader rejected a generated manifest:\n${JSON.stringify(errors, null, 1)}`).toEqual([]);
  return loaded;
}

function describePlan(plan: Plan): string {
  return JSON.stringify(
    plan.resources.filter((r) => r.action !== "noop" || r.changes.length > 0).map((r) => ({ address: r.address, action: r.action, changes: r.changes, drift: r.drift?.detected })),
    null,
    1,
  );
}

async function editConverges(e: EditedCase, exact = false): Promise<void> {
  const n = counter++;
  const project = `edit-${n}`;
  const origin = { baseUrl: cp.baseUrl, workspaceId: null };
  const backend = withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), { project, writesPerMinute: 0, sleep: async () => undefined });
  const planFor = (loaded: Awaited<ReturnType<typeof writeProject>>, lock: Lockfile | null, state: LiveSets) =>
    buildPlan({
      project,
      target: "default",
      origin,
      manifests: loaded.manifests,
      live: state,
      lock,
      options: { adopt: false, prune: false, allowEmpty: false, agentformVersion: "0.0.0-test" },
    });
  const noSave = async () => undefined;
  // Live state as the CLI reads it: lists, with this project's skills completed (their digests).
  const live = (loaded: Awaited<ReturnType<typeof writeProject>>, lock: Lockfile | null) => listLive(backend, loaded, lock);

  // Version 1: create everything.
  const v1 = materializeCase(e.before, `c${n}`);
  const loaded1 = await writeProject(project, v1);
  const first = planFor(loaded1, null, await live(loaded1, null));
  expect(first.refusals).toEqual([]);
  const applied1 = await applyPlan(first, backend, { project, lock: emptyLock(project, "default", origin), uploads: uploadsOf(loaded1), saveLock: noSave });
  expect(applied1.failed.map((f) => `${f.address}: ${f.error.message}`), "creating version 1").toEqual([]);
  const live1 = await live(loaded1, applied1.lock);

  // Version 2: the edit, planned against the lockfile of the first apply.
  const v2 = materializeCase(e.after, `c${n}`);
  expect(v2.agents.map((a) => a.name)).toEqual(v1.agents.map((a) => a.name));
  expect(v2.skills.map((s) => s.name)).toEqual(v1.skills.map((s) => s.name));
  const loaded2 = await writeProject(project, v2);
  const second = planFor(loaded2, applied1.lock, live1);
  expect(second.refusals).toEqual([]);
  expect(second.resources).toHaveLength(v2.agents.length + v2.environments.length + v2.skills.length);
  expect(second.driftDetected).toBe(false);
  for (const r of second.resources) {
    expect(["update", "repin", "noop"], `${r.address} planned as ${r.action}`).toContain(r.action);
    if (r.action === "update" || r.action === "repin") {
      expect(r.changes.length, `${r.address}: ${r.action} without changes`).toBeGreaterThan(0);
      expect(r.request?.method).toBe("update");
      expect(r.request?.body, `${r.address}: ${r.action} without a request body`).toBeDefined();
      expect(Object.keys(r.request?.body ?? {}).length).toBeGreaterThan(0);
    } else {
      expect(r.changes, `${r.address}: noop with changes`).toEqual([]);
    }
  }

  // Skills: an edited folder is one update (a new version) naming exactly the files that
  // changed; an unchanged one is a noop.
  const changedSkills = new Set<string>();
  for (const s of v2.skills) {
    const files = changedFiles(v1.skills.find((x) => x.name === s.name), s);
    const entry = second.resources.find((r) => r.address === `skill.${s.name}`);
    if (files.length > 0) changedSkills.add(s.name);
    expect(entry?.action, `skill ${s.name} with changed files ${JSON.stringify(files)}`).toBe(files.length > 0 ? "update" : "noop");
    expect(entry?.changes.map((c) => c.pointer).sort(), `skill ${s.name}'s changes`).toEqual(files.map(filePointer).sort());
  }
  // Agents following an edited skill (before and after the edit) are re-pinned to its new
  // version, alone (repin) or with their own edit (update); none names an unchanged skill.
  for (const [j, a] of v2.agents.entries()) {
    const name = String(a.name);
    const entry = second.resources.find((r) => r.address === `agent.${name}`)!;
    const followed = skillRefs(a).filter((s) => skillRefs(v1.agents[j]!).includes(s) && changedSkills.has(s));
    const reasons = (entry.repinReasons ?? []).filter((r) => r.startsWith("skill."));
    expect(reasons.sort(), `${name}: re-pin reasons ${JSON.stringify(entry.repinReasons)} for following ${JSON.stringify(followed)}`).toEqual(followed.map((s) => `skill.${s}`).sort());
    if (followed.length > 0) expect(["repin", "update"], `${name} follows an edited skill`).toContain(entry.action);
  }
  if (exact) {
    // Nothing but the skills changed: exactly their new versions, the agents following them,
    // and the coordinators following those agents (transitively), all as re-pins.
    const moved = new Set(v2.agents.filter((a) => skillRefs(a).some((s) => changedSkills.has(s))).map((a) => String(a.name)));
    for (let grew = true; grew; ) {
      grew = false;
      for (const a of v2.agents) {
        if (!moved.has(String(a.name)) && rosterRefs(a).some((r) => moved.has(r))) {
          moved.add(String(a.name));
          grew = true;
        }
      }
    }
    const expected = [...[...changedSkills].map((s) => `skill.${s} update`), ...[...moved].map((a) => `agent.${a} repin`)].sort();
    expect(second.resources.filter((r) => r.action !== "noop").map((r) => `${r.address} ${r.action}`).sort(), describePlan(second)).toEqual(expected);
  }

  cp.clearRequestLog();
  const applied2 = await applyPlan(second, backend, { project, lock: applied1.lock, uploads: uploadsOf(loaded2), saveLock: noSave });
  expect(applied2.failed.map((f) => `${f.address}: ${f.error.message}`), `applying the edit:\n${describePlan(second)}`).toEqual([]);
  expect(applied2.skipped).toEqual([]);
  // One new version per edited skill, and no other skill write.
  const skillWrites = cp.requestLog().filter((r) => r.write && r.path.startsWith("/v1/skills"));
  expect(skillWrites.map((r) => `${r.method} ${r.path.replace(/skill_[A-Za-z0-9]+/, "skill_*")}`)).toEqual([...changedSkills].map(() => "POST /v1/skills/skill_*/versions"));
  const live2 = await live(loaded2, applied2.lock);

  // Versions: +1 for each agent the plan updated or re-pinned, unchanged for a noop.
  for (const a of v2.agents) {
    const name = String(a.name);
    const entry = second.resources.find((r) => r.address === `agent.${name}`);
    const before = live1.agent.find((l) => l.name === name);
    const after = live2.agent.find((l) => l.name === name);
    expect(after?.id, `agent ${name} kept its id`).toBe(before?.id);
    const expected = entry?.action === "noop" ? before!.version : before!.version + 1;
    expect(after?.version, `version of ${name} after ${entry?.action}`).toBe(expected);
    expect(applied2.lock.agents[name]?.version).toBe(after?.version);
    // Every skill it follows is pinned at that skill's latest version.
    for (const ref of skillRefs(a)) {
      const skill = live2.skill.find((l) => l.name === ref);
      expect((after?.skills ?? []).filter((s) => s.type === "custom" && s.skill_id === skill?.id), `${name}'s pin of skill ${ref}`).toEqual([{ type: "custom", skill_id: skill?.id, version: skill?.latest_version_id }]);
    }
  }
  // Skills: a new latest version exactly when edited, recorded in the lockfile with the new digests.
  for (const s of loaded2.manifests.skill) {
    const before = live1.skill.find((l) => l.name === s.name)!;
    const after = live2.skill.find((l) => l.name === s.name)!;
    expect(after.id, `skill ${s.name} kept its id`).toBe(before.id);
    if (changedSkills.has(s.name)) expect(after.latest_version_id, `skill ${s.name} has a new version`).not.toBe(before.latest_version_id);
    else expect(after.latest_version_id, `skill ${s.name} kept its version`).toBe(before.latest_version_id);
    expect(after.files, `digests of skill ${s.name}`).toEqual(s.spec.files);
    expect(applied2.lock.skills[s.name]).toMatchObject({ id: after.id, version: after.latest_version_id, files: s.spec.files });
  }

  // Version 3: nothing left to do, and planning it writes nothing.
  cp.clearRequestLog();
  const live3 = await live(loaded2, applied2.lock);
  const third = planFor(loaded2, applied2.lock, live3);
  expect(third.refusals).toEqual([]);
  expect(third.resources.filter((r) => r.action !== "noop" || r.changes.length > 0), `the edit did not converge:\n${describePlan(third)}\nsecond plan:\n${describePlan(second)}`).toEqual([]);
  expect(third.driftDetected).toBe(false);
  const applied3 = await applyPlan(third, backend, { project, lock: applied2.lock, uploads: uploadsOf(loaded2), saveLock: noSave });
  expect(applied3.writes).toBe(0);
  expect(cp.requestLog().filter((r) => r.write)).toEqual([]);
  const live4 = await live(loaded2, applied2.lock);
  for (const a of live3.agent) expect(live4.agent.find((l) => l.id === a.id)?.version).toBe(a.version);
  for (const sk of live3.skill) expect(live4.skill.find((l) => l.id === sk.id)?.latest_version_id).toBe(sk.latest_version_id);
}

describe("edits converge", () => {
  it("the edit generator really removes, reorders and switches things", () => {
    const counts = new Map<string, number>();
    // Its own fixed seed: exploring other property seeds must not make this check flaky.
    for (const e of fc.sample(editedCase, { seed: 42, numRuns: 1000 })) for (const k of editKinds(e)) counts.set(k, (counts.get(k) ?? 0) + 1);
    const expected = [
      "agent.description removed",
      "agent.system removed",
      "agent.skills removed",
      "agent.tools removed",
      "agent.tools shortened",
      "agent.tools reordered",
      "agent.mcp_servers removed",
      "agent.metadata key removed",
      "agent.multiagent removed",
      "agent.multiagent changed",
      "agent.multiagent added",
      "agent.model changed",
      "environment.description removed",
      "environment.metadata key removed",
      "networking limited→unrestricted",
      "networking unrestricted→limited",
      "packages changed",
      "packages removed",
      "skill SKILL.md changed",
      "skill file added",
      "skill file removed",
      "skill file changed",
      "agent re-pinned by a skill edit",
      "agent skill ref added",
      "agent skill ref removed",
    ];
    for (const k of expected) expect(counts.get(k) ?? 0, `${k} in 1000 sampled edits: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(20);
  });

  it(
    "for generated edits of a created project, the update converges: next plan empty, versions moved exactly once",
    async () => {
      // Shrinking replays whole projects against one growing server; cap it so a failure is
      // reported with the smallest counterexample found so far instead of a vitest timeout.
      await fc.assert(fc.asyncProperty(editedCase, (e) => editConverges(e)), { seed: SEED, numRuns: RUNS, endOnFailure: false, interruptAfterTimeLimit: 60_000 });
    },
    Math.max(90_000, RUNS * 4_000),
  );

  it(
    "an edit of skill files alone plans exactly one new version per edited skill and the re-pins that follow it, and converges",
    async () => {
      await fc.assert(
        fc.asyncProperty(skillOnlyEdit, (e) => editConverges(e, true)),
        { seed: SEED + 1, numRuns: SKILL_RUNS, endOnFailure: false, interruptAfterTimeLimit: 60_000 },
      );
    },
    Math.max(90_000, SKILL_RUNS * 4_000),
  );
});
