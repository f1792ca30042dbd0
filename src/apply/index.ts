/**
 * The apply executor: runs a Plan against a backend and keeps the lockfile in step.
 *
 * - Entries run in plan order, each after the entries it `dependsOn`, at most `concurrency` at
 *   a time. A failed entry stops its dependents (they are reported as skipped); independent
 *   branches carry on.
 * - Agent updates carry the version observed when the plan was made (the optimistic lock, never
 *   a fresh read). Environments have no version, so each one is re-read just before it is
 *   written and its digest compared with the plan's basis. Either mismatch is a SafetyError
 *   "stale-basis" (exit 3).
 * - After every successful write the lockfile is saved, so a crash loses at most the write in
 *   flight, which the next plan finds by name and marker.
 * - The executor never prints: it emits ApplyEvents for the CLI.
 */
import { AgentformError, OperationalError, SafetyError } from "../errors.js";
import { BackendError } from "../backends/errors.js";
import { Semaphore } from "../backends/resilient.js";
import { groupByName } from "../util/group.js";
import { ownValue, setOwn } from "../util/record.js";
import { cloneLock } from "../lock/io.js";
import type { ControlPlane } from "../backends/types.js";
import type { LiveAgent, LiveEnvironment, RequestBody, ResourceKind } from "../kinds/types.js";
import type { Lockfile } from "../lock/types.js";
import { canonicalJson, liveDigest } from "../normalize/index.js";
import type { Plan, PlanAction, PlannedResource } from "../plan/types.js";

export type ApplyEvent =
  | { type: "start"; address: string; action: PlanAction }
  | { type: "done"; address: string; action: PlanAction; id: string; version?: number; completed: number; total: number }
  | { type: "skipped"; address: string; reason: string }
  | { type: "failed"; address: string; error: AgentformError };

export interface ApplyOptions {
  /** The ownership marker value; used in messages and passed to backends that need it. */
  project: string;
  /** Entries in flight at once; default 4. */
  concurrency?: number;
  onEvent?: (e: ApplyEvent) => void;
  /** The starting lockfile (existing, or `emptyLock(...)`). It is not mutated. */
  lock: Lockfile;
  /**
   * Persist the lockfile atomically. Called after successful writes, one call at a time; writes
   * that finish while a save is in flight share the next call.
   */
  saveLock: (lock: Lockfile) => Promise<void>;
  /**
   * The run lock's fence (`RunLock.verify`): awaited before every API write and every lockfile
   * save. When it throws, the apply stops: no further write is sent, and the lockfile is no
   * longer saved (it belongs to whoever holds the lock now).
   */
  fence?: () => Promise<void>;
}

export interface ApplyResult {
  /** The lockfile after this apply (also what the last saveLock call received). */
  lock: Lockfile;
  /** Writes that succeeded (retries by the resilience layer and failed requests are not counted). */
  writes: number;
  failed: Array<{ address: string; error: AgentformError }>;
  /** Addresses not attempted because something they depend on failed. */
  skipped: string[];
}

type Outcome = "ok" | "failed" | "skipped";

interface Pin {
  id: string;
  version: number;
}

/** Execute a plan. Throws only for a plan with refusals; per-entry failures are in the result. */
export async function applyPlan(plan: Plan, backend: ControlPlane, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.refusals.length > 0) {
    const first = plan.refusals[0];
    throw new SafetyError("plan-refused", `The plan has ${plan.refusals.length} refusal(s), e.g. ${first?.address}: ${first?.message}`, {
      hint: first?.hint ?? "Resolve the refusals shown by `agentform plan` first.",
    });
  }
  const emit = options.onEvent ?? (() => undefined);
  const lock: Lockfile = cloneLock(options.lock);
  const appeared = await namesTakenSincePlan(plan, backend);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));

  // Where roster references point: locked pins, then what the plan saw for unchanged agents,
  // then (as entries complete) the versions this run created.
  const pins = new Map<string, Pin>();
  for (const [name, entry] of Object.entries(lock.agents)) pins.set(name, { id: entry.id, version: entry.version });
  for (const r of plan.resources) {
    if (r.kind === "agent" && r.request === null && r.id && r.basis?.kind === "agent") pins.set(r.name, { id: r.id, version: r.basis.version });
  }

  const total = plan.resources.filter((r) => r.request !== null).length;
  let completed = 0;
  let writes = 0;
  let aborted: AgentformError | null = null;
  // A failed fence is final: remember it, stop the apply, and fail every later check with it.
  let fenceError: AgentformError | null = null;
  const fence = async (): Promise<void> => {
    if (fenceError) throw fenceError;
    try {
      await options.fence?.();
    } catch (err) {
      fenceError = err instanceof AgentformError ? err : new OperationalError("run-lock-unreadable", `Cannot check the run lock: ${String(err)}`, {
              hint: "The apply stopped before its next write; check that .agentform/ is readable, then plan again.",
            });
      aborted ??= fenceError;
      throw fenceError;
    }
  };
  if (options.fence) backend = fenceWrites(backend, fence);
  const failed: ApplyResult["failed"] = [];
  const skipped: string[] = [];
  const outcomes = new Map<string, Promise<Outcome>>();
  const slots = new Semaphore(concurrency);

  // Saves run one at a time so an older snapshot never lands last. Writes that complete while
  // a save is in flight share the next one (one fsync for many writes on large applies); every
  // write still waits for a save that includes it before it is reported done.
  let running: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  // Counts changes to `lock`; comparing counters is much cheaper than serializing a big lockfile.
  let changes = 0;
  let savedChanges = 0;
  let saveFailed = false;
  function save(): Promise<void> {
    if (next) return next;
    const run = running.then(async () => {
      next = null;
      const upTo = changes;
      if (upTo === savedChanges) return;
      try {
        await fence();
        await options.saveLock(cloneLock(lock));
      } catch (err) {
        saveFailed = true;
        throw err;
      }
      savedChanges = Math.max(savedChanges, upTo);
    });
    next = run;
    running = run.catch(() => undefined);
    return run;
  }

  async function runEntry(entry: PlannedResource): Promise<Outcome> {
    const deps = entry.dependsOn.filter((d) => outcomes.has(d) && d !== entry.address);
    const results = await Promise.all(deps.map((d) => outcomes.get(d) as Promise<Outcome>));
    const blocked = deps.find((_, i) => results[i] !== "ok");
    if (blocked !== undefined) return skip(entry, `${blocked} did not complete`);
    if (aborted) return skip(entry, "the apply stopped after an earlier error");
    if (entry.request === null) {
      recordUnchanged(entry);
      return "ok";
    }
    const taken = appeared.get(entry.address);
    if (taken) return fail(entry, taken);
    // The slot bounds API calls only; waiting for the lockfile save happens outside it, so
    // writes keep flowing while a save is in flight (and the next save covers them all).
    const executed = await slots.run(async () => {
      // Bound what a crash (or a failing disk) can leave unrecorded: while `concurrency` writes
      // are still waiting for their save, wait for it before sending another.
      while (!saveFailed && !aborted && changes - savedChanges >= concurrency) await save().catch(() => undefined);
      if (aborted || saveFailed) return null;
      emit({ type: "start", address: entry.address, action: entry.action });
      try {
        return { ok: true as const, result: await execute(entry, () => writes++) };
      } catch (err) {
        return { ok: false as const, error: toAgentformError(err, entry) };
      }
    });
    if (executed === null) return skip(entry, "the apply stopped after an earlier error");
    if (!executed.ok) return fail(entry, executed.error);
    try {
      await save();
    } catch (err) {
      // The write landed but could not be recorded; carrying on would widen the gap.
      const error = toAgentformError(err, entry);
      aborted = error;
      return fail(entry, error);
    }
    completed++;
    const result = executed.result;
    emit({
      type: "done",
      address: entry.address,
      action: entry.action,
      id: result.id,
      ...(result.version !== undefined ? { version: result.version } : {}),
      completed,
      total,
    });
    return "ok";
  }

  function skip(entry: PlannedResource, reason: string): Outcome {
    skipped.push(entry.address);
    emit({ type: "skipped", address: entry.address, reason });
    return "skipped";
  }

  function fail(entry: PlannedResource, error: AgentformError): Outcome {
    failed.push({ address: entry.address, error });
    emit({ type: "failed", address: entry.address, error });
    return "failed";
  }

  /** Entries without a request still get their lockfile entry, from what the plan observed. */
  function recordUnchanged(entry: PlannedResource): void {
    if (entry.lockOnly?.reason === "gone" || entry.lockOnly?.reason === "foreign") return removeEntry(entry.kind === "agent" ? lock.agents : lock.environments, entry.name);
    if (!entry.id || !entry.basis || entry.specDigest === null) return;
    if (entry.kind === "agent" && entry.basis.kind === "agent") {
      setEntry(lock.agents, entry.name, { id: entry.id, version: entry.basis.version, specDigest: entry.specDigest, liveDigest: entry.basis.liveDigest });
    } else if (entry.kind === "environment") {
      setEntry(lock.environments, entry.name, { id: entry.id, specDigest: entry.specDigest, liveDigest: entry.basis.liveDigest });
    }
  }

  /** Set a lockfile entry, counting it as a change only when it differs. */
  function setEntry<T extends { id: string }>(table: Record<string, T>, name: string, value: T): void {
    const before = ownValue(table, name);
    // Key order differs between an entry read from the file and one built here: compare canonically.
    if (before && canonicalJson(before) === canonicalJson(value)) return;
    setOwn(table, name, value);
    changes++;
  }

  function removeEntry(table: Record<string, unknown>, name: string): void {
    if (!Object.prototype.hasOwnProperty.call(table, name)) return;
    delete table[name];
    changes++;
  }

  async function execute(entry: PlannedResource, countWrite: () => void): Promise<{ id: string; version?: number }> {
    const request = entry.request;
    if (!request) throw internal(entry, "has no request");
    // A noop must cost nothing; a request on one means the plan is corrupt, so refuse to send it.
    if (entry.action === "noop") throw internal(entry, "is a noop that carries a request");
    switch (request.method) {
      case "create": {
        const body = resolveRefs(entry, request.body ?? {}, pins);
        const live = await backend.create(entry.kind, body);
        countWrite();
        return recordWritten(entry, live);
      }
      case "update": {
        if (!entry.id) throw internal(entry, "is an update without a live id");
        if (!request.body || Object.keys(request.body).filter((k) => k !== "version").length === 0) {
          // Would mint a version (or touch the environment) for nothing; the planner must not ask.
          throw internal(entry, "is an update with an empty body");
        }
        const body = resolveRefs(entry, request.body, pins);
        if (entry.kind === "agent") {
          if (request.expectedVersion === undefined) throw internal(entry, "is an agent update without the version observed at plan time");
          try {
            const live = await backend.update("agent", entry.id, body, { expectedVersion: request.expectedVersion });
            countWrite();
            return recordWritten(entry, live);
          } catch (err) {
            if (isVersionConflict(err)) throw staleBasis(entry, err);
            throw err;
          }
        }
        await checkEnvironmentBasis(entry, entry.id);
        const live = await backend.update("environment", entry.id, body);
        countWrite();
        return recordWritten(entry, live);
      }
      case "archive": {
        if (!entry.id) throw internal(entry, "is an archive without a live id");
        if (entry.kind === "environment") await checkEnvironmentBasis(entry, entry.id);
        else await checkAgentBasis(entry, entry.id);
        const live = await backend.archive(entry.kind, entry.id);
        countWrite();
        forget(entry);
        return { id: live.id, ...(entry.kind === "agent" ? { version: (live as LiveAgent).version } : {}) };
      }
      case "delete": {
        if (!entry.id || entry.kind !== "environment") throw internal(entry, "is a delete that is not of a live environment");
        await checkEnvironmentBasis(entry, entry.id);
        await backend.delete("environment", entry.id);
        countWrite();
        forget(entry);
        return { id: entry.id };
      }
    }
  }

  async function checkEnvironmentBasis(entry: PlannedResource, id: string): Promise<void> {
    if (!entry.basis) return;
    const live = await backend.get("environment", id);
    if (liveDigest("environment", live) !== entry.basis.liveDigest) throw staleBasis(entry);
  }

  async function checkAgentBasis(entry: PlannedResource, id: string): Promise<void> {
    if (entry.basis?.kind !== "agent") return;
    const live = await backend.get("agent", id);
    if (live.version !== entry.basis.version) throw staleBasis(entry);
  }

  function recordWritten(entry: PlannedResource, live: LiveAgent | LiveEnvironment): { id: string; version?: number } {
    if (entry.specDigest === null) throw internal(entry, "has no specDigest to record");
    if (entry.renamedFrom !== undefined) {
      removeEntry(entry.kind === "agent" ? lock.agents : lock.environments, entry.renamedFrom);
    }
    if (entry.kind === "agent") {
      const agent = live as LiveAgent;
      setEntry(lock.agents, entry.name, { id: agent.id, version: agent.version, specDigest: entry.specDigest, liveDigest: liveDigest("agent", agent) });
      pins.set(entry.name, { id: agent.id, version: agent.version });
      return { id: agent.id, version: agent.version };
    }
    setEntry(lock.environments, entry.name, { id: live.id, specDigest: entry.specDigest, liveDigest: liveDigest("environment", live) });
    return { id: live.id };
  }

  function forget(entry: PlannedResource): void {
    const table: Record<string, { id: string }> = entry.kind === "agent" ? lock.agents : lock.environments;
    for (const [name, locked] of Object.entries(table)) {
      if (name === entry.name || locked.id === entry.id) removeEntry(table, name);
    }
    if (entry.kind === "agent") pins.delete(entry.name);
  }

  for (const entry of plan.resources) outcomes.set(entry.address, runEntry(entry));
  await Promise.all(outcomes.values());
  for (const dup of await duplicatesCreated(plan, backend, lock, failed)) {
    failed.push(dup);
    emit({ type: "failed", address: dup.address, error: dup.error });
  }
  try {
    // Entries that needed no write may still have changed the lockfile (a lost or new one).
    await save();
  } catch (err) {
    const error = err instanceof AgentformError ? err : new OperationalError("lockfile-unwritable", `Cannot save the lockfile: ${String(err)}`);
    if (!failed.some((f) => f.error === error)) failed.push({ address: "(lockfile)", error });
  }
  return { lock, writes, failed, skipped };
}

/** The backend with `fence` awaited before each write; reads pass through unfenced. */
function fenceWrites(backend: ControlPlane, fence: () => Promise<void>): ControlPlane {
  return {
    backend: backend.backend,
    baseUrl: backend.baseUrl,
    list: (kind, options) => backend.list(kind, options),
    get: (kind, id, options) => backend.get(kind, id, options),
    listVersions: (agentId) => backend.listVersions(agentId),
    async create<K extends ResourceKind>(kind: K, body: RequestBody) {
      await fence();
      return backend.create(kind, body);
    },
    async update<K extends ResourceKind>(kind: K, id: string, body: RequestBody, options?: { expectedVersion?: number }) {
      await fence();
      return backend.update(kind, id, body, options);
    },
    async archive<K extends ResourceKind>(kind: K, id: string) {
      await fence();
      return backend.archive(kind, id);
    },
    async delete(kind: "environment", id: string) {
      await fence();
      return backend.delete(kind, id);
    },
  };
}

/**
 * Replace `{type: "agent", ref}` roster entries (left by the planner for agents that change in
 * this same apply) with the id and version that agent has now.
 */
function resolveRefs(entry: PlannedResource, body: RequestBody, pins: Map<string, Pin>): RequestBody {
  if (!("multiagent" in body) || body.multiagent === null || typeof body.multiagent !== "object") return body;
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    if (obj.type === "agent" && typeof obj.ref === "string") {
      const pin = pins.get(obj.ref);
      if (!pin) {
        throw new OperationalError("unresolved-reference", `${entry.address} refers to agent "${obj.ref}", which has no id yet.`, {
          hint: `Make sure agent "${obj.ref}" has a manifest and applied successfully, then run \`agentform plan\` again.`,
        });
      }
      return { type: "agent", id: pin.id, version: typeof obj.version === "number" ? obj.version : pin.version };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = resolve(v);
    return out;
  };
  return { ...body, multiagent: resolve(body.multiagent) };
}

function isVersionConflict(err: unknown): boolean {
  if (!(err instanceof BackendError)) return false;
  if (err.isConflict) return true;
  // The mismatch status is undocumented (API-SEMANTICS §2.5); tolerate a 400 that names the
  // version, but not a roster that names one (a pinned version that does not exist is not a race).
  return err.status === 400 && /\bversion\b/i.test(err.message) && !/(multiagent|roster|predefined|agents\[|has no version)/i.test(err.message);
}

function staleBasis(entry: PlannedResource, cause?: unknown): SafetyError {
  return new SafetyError("stale-basis", `${entry.address} changed since plan; run plan again`, {
    hint: "Someone (or another apply) changed it after the plan was made. Run `agentform plan`, review the new changes, and apply again.",
    cause,
    details: { address: entry.address, id: entry.id },
  });
}

function internal(entry: PlannedResource, what: string): OperationalError {
  return new OperationalError("invalid-plan-entry", `${entry.address} ${what}.`, {
    hint: "This plan was not produced by this version of agentform, or it is a bug; run `agentform plan` again.",
  });
}

function toAgentformError(err: unknown, entry: PlannedResource): AgentformError {
  if (err instanceof AgentformError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OperationalError("internal", `${entry.address}: ${message}`, {
    hint: "This is a bug in agentform; rerun with AGENTFORM_DEBUG=1 and report it.",
    cause: err,
  });
}

/**
 * Names are not unique for agents, so a create planned against a workspace where the name was
 * free would make a duplicate if the name got taken since (a second apply, a colleague, the
 * Console) while this plan waited for review or confirmation. One list call per kind that has
 * creates, just before writing, closes most of that window.
 */
async function namesTakenSincePlan(plan: Plan, backend: ControlPlane): Promise<Map<string, SafetyError>> {
  const taken = new Map<string, SafetyError>();
  for (const kind of ["environment", "agent"] as const) {
    const creates = plan.resources.filter((r) => r.kind === kind && r.request?.method === "create");
    if (creates.length === 0) continue;
    const live = groupByName(await backend.list(kind));
    for (const entry of creates) {
      const id = live.get(entry.name)?.[0]?.id;
      if (id === undefined) continue;
      taken.set(
        entry.address,
        new SafetyError("stale-basis", `${entry.address} changed since plan: a live ${kind} named "${entry.name}" (${id}) now exists, so creating it would make a duplicate; run plan again.`, {
          hint: "Another apply (or someone in the Console) created it after this plan was made; `agentform plan` will match it by name.",
        }),
      );
    }
  }
  return taken;
}

/**
 * After creating agents, one more list call per kind shows whether another apply created the
 * same names at the same moment (agent names are not unique on the server, and nothing in the
 * API makes a create conditional). That cannot be prevented across machines, so it is reported
 * at once, with the ids, instead of surfacing as a refused plan later.
 */
async function duplicatesCreated(
  plan: Plan,
  backend: ControlPlane,
  lock: Lockfile,
  failed: ApplyResult["failed"],
): Promise<ApplyResult["failed"]> {
  const found: ApplyResult["failed"] = [];
  for (const kind of ["environment", "agent"] as const) {
    const created = plan.resources.filter(
      (r) => r.kind === kind && r.request?.method === "create" && !failed.some((f) => f.address === r.address),
    );
    if (created.length === 0) continue;
    const byName = groupByName(await backend.list(kind));
    const table: Record<string, { id: string }> = kind === "agent" ? lock.agents : lock.environments;
    for (const entry of created) {
      const ids = (byName.get(entry.name) ?? []).map((l) => l.id);
      if (ids.length < 2) continue;
      const ours = ownValue(table, entry.name)?.id;
      found.push({
        address: entry.address,
        error: new SafetyError(
          "duplicate-created",
          `${ids.length} live ${kind}s are now named "${entry.name}" (${[...ids].sort().join(", ")}): another apply created it at the same time as this one.`,
          {
            hint: `This run recorded ${ours ?? "none of them"} in the lockfile; archive the other one(s), then plan again. Run the applies of one target one at a time (e.g. one CI concurrency group).`,
          },
        ),
      });
    }
  }
  return found;
}

