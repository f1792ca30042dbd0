/**
 * The property of `agentform import` (docs/import.md, "What it guarantees"): an arbitrary live
 * fleet created directly through the SDK, not through agentform, imports and re-plans empty.
 *
 * Each run: a fresh project and local control plane; the fleet of tests/e2e/import-arbitraries.ts
 * created with the raw SDK backend (references by id and version, as the API takes them); then
 * `import`, and
 *   1. `plan`: no refusal, every imported resource an `adopt`, and no change but the documented
 *      ones: a reference that follows an adopted agent (re-pinned by the adoption's own write,
 *      `before` the live pin, `after` "(known after apply)") and a credential's display_name
 *      when it was not `<vault>/<local>`;
 *   2. `apply --auto-approve`: one update per adopted resource (its marker), no create, no
 *      archive or delete;
 *   3. `plan --detailed-exitcode`: exit 0, every resource noop, no write, and neither a live id or
 *      version nor the lockfile moves.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { safeFileStem } from "../../src/cli/import.js";
import { versionOf } from "../../src/kinds/index.js";
import type { LiveResource, ResourceKind } from "../../src/kinds/types.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";
import { compact, importFleet, swapCase, type AgentPin, type FleetTemplate, type SkillTemplate, type SkillUse } from "./import-arbitraries.js";

type Obj = Record<string, unknown>;

/**
 * Whether import writes skills (skills/<name>/ with the live files). While it does not, the
 * fleet still holds skills that agents use by id, and the property asserts import's documented
 * skip line for each ("not supported by import yet"); once it does, flip this to true and the
 * property asserts each skill is adopted with no change and no write.
 */
const IMPORT_WRITES_SKILLS = true;

// Fixed so CI is deterministic (fast-check prints the seed and path of a failure); explore with
// e.g. PROP_SEED=7 PROP_RUNS=50 (about 4 s a run on a 2-core machine).
const SEED = Number(process.env.PROP_SEED ?? 20260418);
const RUNS = Number(process.env.PROP_RUNS ?? 10);

const KINDS: readonly ResourceKind[] = ["environment", "skill", "memory_store", "vault", "credential", "agent", "deployment"];
const KNOWN_AFTER_APPLY = "(known after apply)";
/** The last path segment of a write to a collection (a create) or an archive, never an id. */
const COLLECTIONS = new Set(["agents", "environments", "skills", "versions", "vaults", "credentials", "memory_stores", "deployments", "archive"]);

interface PlanJson {
  refusals: Array<{ address: string; code: string; message?: string }>;
  resources: Array<{ address: string; action: string; changes: Array<{ pointer: string; before?: unknown; after?: unknown }>; repinReasons?: string[]; notes?: string[] }>;
}

// ---- Populating the workspace through the raw backend -------------------------------------------

const utf8 = new TextEncoder();

/** A skill upload's `files`: every file under `<name>/`, with its sha256, as the raw backend takes them. */
function skillFiles(s: SkillTemplate, extra: Record<string, string> = {}): Obj[] {
  const md = `---\nname: ${s.name}\ndescription: ${JSON.stringify(s.description)}\n---\n${s.body}`;
  const files: Record<string, string> = { "SKILL.md": md, ...s.files, ...extra };
  return Object.entries(files).map(([p, text]) => {
    const bytes = utf8.encode(text);
    return { path: `${s.name}/${p}`, sha256: createHash("sha256").update(bytes).digest("hex"), bytes };
  });
}

interface Made {
  /** Every agent the fleet's references may name (leaves, then coordinators; never the twin). */
  agents: Array<{ id: string; version: number }>;
  twinIds: string[];
  /** Each credential's plan address (`credential.<vault>/<local>`; local is its id when it has no display_name), by id. */
  credentialAddress: Map<string, string>;
}

async function populate(raw: ControlPlane, sdk: Anthropic, f: FleetTemplate): Promise<Made> {
  const envs: string[] = [];
  for (const e of f.environments) envs.push((await raw.create("environment", { name: e.name, ...e.body })).id);

  const skills: Array<{ id: string; first: string; latest: string }> = [];
  for (const s of f.skills) {
    const made = await raw.create("skill", { display_name: s.name, files: skillFiles(s) });
    const first = made.latest_version_id;
    const latest = s.secondVersion ? (await raw.update("skill", made.id, { files: skillFiles(s, { "CHANGELOG.md": "v2: a second upload\n" }) })).latest_version_id : first;
    skills.push({ id: made.id, first, latest });
  }
  const skillList = (uses: SkillUse[]): Obj[] | undefined => {
    const seen = new Set<string>();
    const out: Obj[] = [];
    for (const u of uses) {
      if ("anthropic" in u) {
        if (seen.has(`anthropic:${u.anthropic}`)) continue;
        seen.add(`anthropic:${u.anthropic}`);
        out.push(compact({ type: "anthropic", skill_id: u.anthropic, version: u.version }));
        continue;
      }
      const s = skills.length === 0 ? undefined : skills[u.skill % skills.length]!;
      if (!s || seen.has(s.id)) continue;
      seen.add(s.id);
      const version = u.pin === "latest-id" ? s.latest : u.pin === "first-id" ? s.first : u.pin === "latest" ? "latest" : undefined;
      out.push(compact({ type: "custom", skill_id: s.id, version }));
    }
    return out.length > 0 ? out : undefined;
  };

  const stores: string[] = [];
  for (const m of f.memoryStores) stores.push((await raw.create("memory_store", { name: m.name, ...m.body })).id);

  const vaults: string[] = [];
  const credentialAddress = new Map<string, string>();
  for (const v of f.vaults) {
    const vault = await raw.create("vault", compact({ display_name: v.name, metadata: v.metadata }));
    vaults.push(vault.id);
    for (const c of v.credentials) {
      const display = c.naming === "vault/local" ? `${v.name}/${c.local}` : c.naming === "plain" ? c.local : undefined;
      // Without a display_name through the SDK client itself: agentform's backend insists on naming what it creates.
      const made =
        display === undefined
          ? await sdk.beta.vaults.credentials.create(vault.id, compact({ auth: c.auth, metadata: c.metadata }) as unknown as Anthropic.Beta.Vaults.CredentialCreateParams)
          : await raw.create("credential", compact({ vault_id: vault.id, display_name: display, auth: c.auth, metadata: c.metadata }));
      credentialAddress.set(made.id, `credential.${v.name}/${c.naming === "none" ? made.id : c.local}`);
    }
  }

  const version = new Map<string, number>();
  const update = async (id: string, body: Obj) => {
    const updated = await raw.update("agent", id, body, { expectedVersion: version.get(id)! });
    version.set(id, updated.version);
  };
  const leaves: string[] = [];
  for (const l of f.leaves) {
    const made = await raw.create("agent", compact({ name: l.name, ...l.body, skills: skillList(l.skills) }));
    version.set(made.id, made.version);
    leaves.push(made.id);
    for (const u of l.updatesBefore) await update(made.id, u);
  }
  const twinIds: string[] = [];
  if (f.twin !== undefined) {
    const twin = await raw.create("agent", { name: swapCase(f.leaves[f.twin]!.name), model: "claude-haiku-5-5", description: "Same file name as another agent." });
    twinIds.push(leaves[f.twin]!, twin.id);
  }

  const agentRef = (id: string, pin: AgentPin): unknown =>
    pin === "bare" ? id : pin === "omitted" ? { type: "agent", id } : { type: "agent", id, version: pin === "first" ? 1 : version.get(id)! };
  const coordinators: string[] = [];
  for (const c of f.coordinators) {
    const seen = new Set<string>();
    const agents: unknown[] = [];
    let advisor: string | undefined;
    for (const e of c.entries) {
      if ("advisor" in e) {
        if (advisor === undefined) agents.push({ type: "advisor", model: e.advisor });
        advisor ??= e.advisor;
      } else if ("self" in e) {
        if (!seen.has("self")) agents.push({ type: "self" });
        seen.add("self");
      } else {
        const id = leaves[e.leaf % leaves.length]!;
        if (!seen.has(id)) agents.push(agentRef(id, e.pin));
        seen.add(id);
      }
    }
    const named = agents.filter((a) => !(typeof a === "object" && (a as Obj).type === "advisor"));
    const multiagent =
      c.kind === "coordinator"
        ? { type: "coordinator", agents: named.length > 0 ? agents : [...agents, { type: "self" }] }
        : compact({
            type: "multiagent_20261001",
            advisor: advisor === undefined ? undefined : { type: "enabled", model: advisor },
            subagents: { type: "enabled", predefined_agents: named },
            workflows: { type: "disabled" },
          });
    const made = await raw.create("agent", compact({ name: c.name, ...c.body, skills: skillList(c.skills), multiagent }));
    version.set(made.id, made.version);
    coordinators.push(made.id);
    for (const u of c.updates) await update(made.id, u);
  }
  const agents = [...leaves, ...coordinators];

  for (const d of f.deployments) {
    const agent = agents[d.agent % agents.length]!;
    const used = new Set<number>();
    const resources: Obj[] = d.stores.flatMap((s) => {
      if (stores.length === 0 || used.has(s.store % stores.length)) return [];
      used.add(s.store % stores.length);
      return [compact({ type: "memory_store", memory_store_id: stores[s.store % stores.length]!, access: s.access, instructions: s.instructions })];
    });
    if (d.repository) resources.splice(d.repository.at % (resources.length + 1), 0, d.repository.resource);
    await raw.create("deployment", {
      name: d.name,
      agent: agentRef(agent, d.pin),
      environment_id: envs[d.environment % envs.length]!,
      ...(vaults.length > 0 ? { vault_ids: [...new Set(d.vaults.map((i) => vaults[i % vaults.length]!))] } : {}),
      ...(resources.length > 0 ? { resources } : {}),
      ...d.body,
      ...(d.paused ? { paused: true } : {}),
    });
  }

  // Updates after the coordinators and deployments: the pins they took as "latest" are now older.
  for (const [i, l] of f.leaves.entries()) for (const u of l.updatesAfter) await update(leaves[i]!, u);
  return { agents: agents.map((id) => ({ id, version: version.get(id)! })), twinIds, credentialAddress };
}

// ---- What the live workspace says the plan must show ----------------------------------------------

type Live = Record<ResourceKind, Obj[]>;

async function listLive(raw: ControlPlane): Promise<Live> {
  const out = {} as Live;
  for (const kind of KINDS) out[kind] = (await raw.list(kind)) as unknown as Obj[];
  return out;
}

/** Every live resource's id and version (a skill's latest version id), sorted: what must not move. */
function versions(live: Live): string[] {
  return KINDS.flatMap((kind) => live[kind].map((l) => `${kind} ${String(l.id)} ${String(versionOf(kind, l as unknown as LiveResource) ?? "")} ${String(l.latest_version_id ?? "")}`)).sort();
}

/** The roster lists of a live agent, with the pointer segment each lives under. */
function rosterLists(agent: Obj): Array<{ at: string; list: unknown[] }> {
  const ma = agent.multiagent as Obj | null | undefined;
  if (!ma) return [];
  if (ma.type === "coordinator") return [{ at: "/multiagent/agents", list: ma.agents as unknown[] }];
  return (["subagents", "workflows"] as const).flatMap((m) => {
    const member = ma[m] as Obj | undefined;
    return member && Array.isArray(member.predefined_agents) ? [{ at: `/multiagent/${m}/predefined_agents`, list: member.predefined_agents as unknown[] }] : [];
  });
}

interface Expected {
  /** `kind.name` of every resource import writes (credentials as `credential.<vault>/<local>`). */
  adopted: string[];
  /** Import's skip lines, as `kind.name: reason fragment`. */
  skipped: Array<{ address: string; reason: RegExp }>;
  /** Every change the first plan may show, as `address pointer before -> after`. */
  changes: string[];
  /** How many writes apply makes: one per adopted resource (a skill's adoption writes nothing). */
  writes: number;
}

const change = (address: string, pointer: string, before: unknown, after: unknown) => `${address} ${pointer} ${JSON.stringify(before)} -> ${JSON.stringify(after)}`;

function expected(live: Live, made: Made): Expected {
  const skippedIds = new Set(made.twinIds);
  if (!IMPORT_WRITES_SKILLS) for (const s of live.skill) skippedIds.add(String(s.id));
  const adoptedAgents = new Map(live.agent.filter((a) => !skippedIds.has(String(a.id))).map((a) => [String(a.id), a]));
  const agentAddress = (a: Obj) => `agent.${String(a.name)}`;
  const changes: string[] = [];
  for (const a of adoptedAgents.values()) {
    for (const { at, list } of rosterLists(a)) {
      for (const e of list as Obj[]) {
        const target = adoptedAgents.get(String(e.id));
        // A reference to the agent's latest version follows it: the adoption re-pins it.
        if (e.id !== a.id && target && e.version === target.version) changes.push(change(agentAddress(a), `${at}/${String(e.id)}/version`, e.version, KNOWN_AFTER_APPLY));
      }
    }
  }
  for (const d of live.deployment) {
    const ref = d.agent as Obj;
    const target = adoptedAgents.get(String(ref.id));
    if (target && ref.version === target.version) changes.push(change(`deployment.${String(d.name)}`, `/agent/${String(ref.id)}`, ref.version, KNOWN_AFTER_APPLY));
  }
  const vaultName = new Map(live.vault.map((v) => [String(v.id), String(v.display_name)]));
  for (const c of live.credential) {
    const address = made.credentialAddress.get(String(c.id))!;
    const wanted = address.slice("credential.".length);
    if (c.display_name !== wanted) changes.push(change(address, "/display_name", c.display_name ?? null, wanted));
    expect(wanted.startsWith(`${vaultName.get(String(c.vault_id))}/`)).toBe(true);
  }
  const adopted: string[] = [];
  const skipped: Expected["skipped"] = [];
  for (const kind of KINDS) {
    if (kind === "credential") continue;
    for (const l of live[kind]) {
      const address = `${kind}.${String(l.name)}`;
      if (made.twinIds.includes(String(l.id))) skipped.push({ address, reason: /not imported: file name collision: .* all map to agents\// });
      else if (kind === "skill" && !IMPORT_WRITES_SKILLS) skipped.push({ address, reason: /not imported: skills are not supported by import yet/ });
      else adopted.push(address);
    }
  }
  adopted.push(...made.credentialAddress.values());
  const writes = adopted.filter((a) => !a.startsWith("skill.")).length;
  return { adopted: adopted.sort(), skipped, changes: changes.sort(), writes };
}

// ---- The property -------------------------------------------------------------------------------

let project: CliProject | undefined;
afterEach(async () => {
  await project?.close();
  project = undefined;
});

/** Names the generator promises never collide as files (except the twin): checked, so a generator change cannot hide a skip. */
function checkNames(f: FleetTemplate): void {
  const groups: Array<[string, string[]]> = [
    ["environments", f.environments.map((e) => e.name)],
    ["agents", [...f.leaves, ...f.coordinators].map((a) => a.name)],
    ["memory_stores", f.memoryStores.map((m) => m.name)],
    ["vaults", f.vaults.map((v) => v.name)],
    ["deployments", f.deployments.map((d) => d.name)],
  ];
  for (const [folder, names] of groups) {
    const stems = names.map(safeFileStem);
    expect(new Set(stems).size, `${folder}: ${JSON.stringify(names)}`).toBe(names.length);
    expect(stems.every((s) => s !== "")).toBe(true);
  }
}

type Run = { stdout: string; stderr: string; code: number };
const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A `plan --format json` answer; when it is not JSON (a refused project), the failure shows what the command said. */
function planJson(r: Run): PlanJson {
  try {
    return JSON.parse(r.stdout) as PlanJson;
  } catch {
    expect.fail(`plan printed no JSON plan\n${show(r)}`);
  }
}

/**
 * `import --kind skill` (skills carry no marker: import takes them only when asked), then
 * `import` for the rest: their lines together (the second run's skill lines, which only say to
 * import skills by kind, left out) and their summaries summed.
 */
async function importAll(p: CliProject): Promise<{ code: number; stdout: string; stderr: string; summary: { wrote: number; skipped: number } }> {
  const skills = await p.run("import", "--kind", "skill");
  const rest = await p.run("import");
  const sum = (out: string) => {
    const m = /Import: wrote (\d+) manifest\(s\), skipped (\d+)\./.exec(out);
    return m ? { wrote: Number(m[1]), skipped: Number(m[2]) } : { wrote: Number.NaN, skipped: Number.NaN };
  };
  const restLines = rest.stdout.split("\n").filter((l) => !l.startsWith("! skill.") && !l.startsWith("Import: "));
  const skillLines = skills.stdout.split("\n").filter((l) => !l.startsWith("Import: "));
  const noMarker = rest.stdout.split("\n").filter((l) => l.startsWith("! skill.")).length;
  return {
    code: Math.max(skills.code, rest.code),
    stdout: [...skillLines, ...restLines].filter((l) => l !== "").join("\n") + "\n",
    stderr: skills.stderr + rest.stderr,
    summary: { wrote: sum(skills.stdout).wrote + sum(rest.stdout).wrote, skipped: sum(skills.stdout).skipped + sum(rest.stdout).skipped - noMarker },
  };
}

async function importsAndReplansEmpty(f: FleetTemplate): Promise<void> {
  checkNames(f);
  await project?.close();
  const p = (project = await cliProject({}));
  const raw = createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey });
  const made = await populate(raw, new Anthropic({ baseURL: p.cp.baseUrl, apiKey: p.cp.apiKey, maxRetries: 0 }), f);
  const before = await listLive(raw);
  const want = expected(before, made);

  const imported = await importAll(p);
  expect(imported.code, show(imported)).toBe(0);
  expect(imported.stderr, show(imported)).toBe("");
  for (const s of want.skipped) {
    const line = imported.stdout.split("\n").find((l) => l.startsWith(`! ${s.address} (`));
    expect(line, `${s.address} skipped\n${show(imported)}`).toMatch(s.reason);
  }
  expect(imported.stdout.split("\n").filter((l) => l.startsWith("! ")).length, show(imported)).toBe(want.skipped.length);
  // Credentials are entries of their vault's file: one line each, one file per other resource.
  expect(imported.summary, show(imported)).toEqual({ wrote: want.adopted.length - made.credentialAddress.size, skipped: want.skipped.length });

  const plan = await p.run("plan", "--format", "json");
  // Warnings are fine (an MCP server no managed vault has a credential for); errors are not.
  expect(plan.stderr, show(plan)).not.toMatch(/^\S.*:\d+:\d+ error /m);
  const json = planJson(plan);
  expect(json.refusals, show(plan)).toEqual([]);
  expect(json.resources.map((r) => `${r.address}: ${r.action}`).sort(), show(plan)).toEqual(want.adopted.map((a) => `${a}: adopt`).sort());
  const changes = json.resources.flatMap((r) => r.changes.map((c) => change(r.address, c.pointer, c.before ?? null, c.after ?? null))).sort();
  expect(changes, show(plan)).toEqual(want.changes);
  for (const r of json.resources) {
    if (r.changes.some((c) => c.after === KNOWN_AFTER_APPLY)) expect(r.repinReasons, r.address).not.toEqual([]);
    if (r.address.startsWith("credential.")) expect(r.notes?.join("\n"), r.address).toMatch(/secret not checked/);
  }

  p.cp.clearRequestLog();
  const apply = await p.run("apply", "--auto-approve");
  expect(apply.code, show(apply)).toBe(0);
  const writes = p.writes().map((w) => `${w.method} ${w.path}`);
  // One update per adopted resource, addressed to its id: no create (a POST to a collection), no archive, no delete.
  const ids = new Set(KINDS.flatMap((k) => before[k].map((l) => String(l.id))));
  const bad = p.writes().filter((w) => w.method !== "POST" || COLLECTIONS.has(w.path.split("/").pop()!) || !ids.has(w.path.split("/").pop()!));
  expect(bad.map((w) => `${w.method} ${w.path}`), writes.join("\n")).toEqual([]);
  expect(new Set(p.writes().map((w) => w.path)).size, writes.join("\n")).toBe(writes.length);
  expect(writes.length, `${writes.join("\n")}\n${show(apply)}`).toBe(want.writes);

  const lockFile = path.join(p.dir, "agentform.lock.json");
  const lockBefore = await readFile(lockFile, "utf8");
  const liveBefore = versions(await listLive(raw));
  p.cp.clearRequestLog();
  const next = await p.run("plan", "--format", "json", "--detailed-exitcode");
  const nextJson = planJson(next);
  expect(
    nextJson.resources.filter((r) => r.action !== "noop" || r.changes.length > 0),
    show(next),
  ).toEqual([]);
  expect(nextJson.refusals).toEqual([]);
  expect(next.code, show(next)).toBe(0);
  expect(p.writes()).toEqual([]);
  expect(versions(await listLive(raw))).toEqual(liveBefore);
  expect(await readFile(lockFile, "utf8")).toBe(lockBefore);

  // Every adopted agent made exactly one version: its marker.
  const lock = JSON.parse(lockBefore) as { agents?: Record<string, { id: string; version: number }> };
  const lockAgents = Object.values(lock.agents ?? {});
  for (const a of made.agents.filter((x) => !made.twinIds.includes(x.id))) expect(lockAgents.find((l) => l.id === a.id)?.version, a.id).toBe(a.version + 1);

  const again = await importAll(p);
  expect(again.code, show(again)).toBe(0);
  expect(again.stdout.split("\n").filter((l) => l.startsWith("+ ")), show(again)).toEqual([]);
  expect(again.summary, show(again)).toEqual({ wrote: 0, skipped: want.skipped.length });
}

describe("agentform import (property)", () => {
  it("the fleet generator produces what the property is about", () => {
    const counts = new Map<string, number>();
    const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
    for (const f of fc.sample(importFleet, { seed: 42, numRuns: 300 })) {
      const kinds = new Set<string>();
      if (f.leaves.some((l) => l.updatesBefore.length >= 2)) kinds.add("agent updated twice");
      if (f.leaves.some((l) => l.updatesAfter.length > 0)) kinds.add("agent updated after its referrers");
      if (f.coordinators.some((c) => c.kind === "coordinator" && c.entries.some((e) => "pin" in e && e.pin === "first"))) kinds.add("roster pins version 1");
      if (f.coordinators.some((c) => c.entries.some((e) => "pin" in e && e.pin === "latest"))) kinds.add("roster pins the latest");
      if (f.coordinators.some((c) => c.kind === "multiagent_20261001")) kinds.add("multiagent_20261001");
      if (f.skills.length > 0 && [...f.leaves, ...f.coordinators].some((a) => a.skills.some((s) => "skill" in s))) kinds.add("agent uses a generated skill");
      if (f.skills.some((s) => s.secondVersion)) kinds.add("skill with two versions");
      if (f.vaults.some((v) => v.credentials.some((c) => c.auth.type === "static_bearer"))) kinds.add("static_bearer");
      if (f.vaults.some((v) => v.credentials.some((c) => c.auth.type === "environment_variable"))) kinds.add("environment_variable");
      if (f.vaults.some((v) => v.credentials.some((c) => c.naming !== "vault/local"))) kinds.add("credential named elsewhere");
      if (f.deployments.length > 0) kinds.add("deployment");
      if (f.twin !== undefined) kinds.add("twin");
      if ([...f.leaves, ...f.coordinators].some((a) => typeof a.body.system === "string" && a.body.system.includes("\n"))) kinds.add("multi-line system prompt");
      if ([...f.leaves, ...f.coordinators].some((a) => typeof a.body.system === "string" && a.body.system.length > 2000)) kinds.add("long system prompt");
      if (f.environments.some((e) => (e.body.config as Obj | undefined)?.packages !== undefined)) kinds.add("packages");
      if (f.environments.some((e) => ((e.body.config as Obj | undefined)?.networking as Obj | undefined)?.type === "limited")) kinds.add("limited networking");
      for (const k of kinds) add(k);
    }
    for (const k of ["agent updated twice", "agent updated after its referrers", "roster pins version 1", "roster pins the latest", "multiagent_20261001", "agent uses a generated skill", "skill with two versions", "static_bearer", "environment_variable", "credential named elsewhere", "deployment", "twin", "multi-line system prompt", "long system prompt", "packages", "limited networking"]) {
      expect(counts.get(k) ?? 0, `${k} in 300 sampled fleets: ${JSON.stringify(Object.fromEntries(counts))}`).toBeGreaterThanOrEqual(20);
    }
  });

  it(
    "an arbitrary fleet made through the SDK imports as adoptions, applies only markers, and then plans empty",
    async () => {
      await fc.assert(fc.asyncProperty(importFleet, importsAndReplansEmpty), { seed: SEED, numRuns: RUNS, endOnFailure: false });
    },
    Math.max(120_000, RUNS * 15_000),
  );
});

/**
 * Live resources the API accepts for which import writes a manifest the next plan refuses
 * (exit 4, `invalid-manifests`), so that no plan of the project runs until the file is fixed by
 * hand. Found by the property above (the long vault name) and by probing what the local control
 * plane accepts beyond its generator. Whichever the fix (skip with a reason, or write a manifest
 * that loads), the guarantee is the same: never a manifest the plan refuses; what is imported is
 * adopted with no change.
 */
describe("agentform import writes only manifests the next plan accepts (regressions)", () => {
  async function importThenPlanAdopts(make: (raw: ControlPlane) => Promise<unknown>): Promise<void> {
    const p = (project = await cliProject({}));
    await make(createSdkBackend({ baseUrl: p.cp.baseUrl, apiKey: p.cp.apiKey }));
    const imported = await p.run("import");
    expect(imported.code, show(imported)).toBe(0);
    const plan = await p.run("plan", "--format", "json");
    const json = planJson(plan);
    expect(json.refusals, show(plan)).toEqual([]);
    expect(json.resources.filter((r) => r.action !== "adopt" || r.changes.length > 0), show(plan)).toEqual([]);
    expect(plan.code, show(plan)).toBe(0);
  }

  it("a credential in a vault whose name is long: its secret's variable name stays within the schema's 128 characters", async () => {
    // IMPORTED_<VAULT>_<LOCAL>_TOKEN is 129 characters or more once vault and local name together exceed 112.
    // Today: credentials.k0.auth.token_env: must match the pattern ^[A-Za-z_][A-Za-z0-9_]{0,127}$ [AF-SCHEMA]
    await importThenPlanAdopts(async (raw) => {
      const name = `v0 ${"long name ".repeat(14).trim()}`;
      const vault = await raw.create("vault", { display_name: name });
      await raw.create("credential", { vault_id: vault.id, display_name: `${name}/k0`, auth: { type: "static_bearer", mcp_server_url: "https://api.githubcopilot.com/mcp/", token: "made elsewhere" } });
    });
  });

  it("an agent whose name holds a control character (the API takes it for agents and environments)", async () => {
    // Today: name: the agent name "a0\tx" contains control or bidirectional-override characters [AF-NAME-CONTROL-CHAR]
    await importThenPlanAdopts((raw) => raw.create("agent", { name: "a0\tx", model: "claude-haiku-5-5" }));
  });

  it("an agent with an empty metadata value", async () => {
    // Today: metadata.note: metadata value for "note" is empty [AF-METADATA-EMPTY-VALUE]
    await importThenPlanAdopts((raw) => raw.create("agent", { name: "a0", model: "claude-haiku-5-5", metadata: { note: "" } }));
  });

  it("an agent with the API's 16 metadata keys, which leave no room for the ownership marker", async () => {
    // Today: metadata: 16 metadata keys; at most 15 are allowed [AF-METADATA-TOO-MANY]
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "v"]));
    await importThenPlanAdopts((raw) => raw.create("agent", { name: "a0", model: "claude-haiku-5-5", metadata }));
  });
});
