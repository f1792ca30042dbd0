/**
 * The apply executor: runs a Plan against a backend and keeps the lockfile in step.
 *
 * - Entries run in plan order, each after the entries it `dependsOn`, at most `concurrency` at
 *   a time. A failed entry stops its dependents (they are reported as skipped); independent
 *   branches carry on.
 * - Each write carries its kind's concurrency check (src/apply/execute.ts): the version seen at
 *   plan time, or a digest compared just before the write.
 * - After every successful write the lockfile is saved (src/apply/lockbook.ts), so a crash loses
 *   at most the writes in flight, which the next plan finds by name and marker.
 * - The executor never prints: it emits ApplyEvents for the CLI.
 */
import type { UploadFile } from "../manifest/types.js";
import { kindSpec } from "../kinds/index.js";
import { Semaphore } from "../backends/resilient.js";
import type { ControlPlane } from "../backends/types.js";
import { AgentformError, OperationalError, SafetyError } from "../errors.js";
import type { RequestBody, ResourceKind } from "../kinds/types.js";
import type { Lockfile } from "../lock/types.js";
import type { Plan, PlanAction, PlannedResource } from "../plan/types.js";
import { duplicatesCreated, namesTakenSincePlan } from "./checks.js";
import { executeRequest, type Executed } from "./execute.js";
import { LockBook } from "./lockbook.js";
import { missingError, missingSecrets, type SecretSource } from "./secrets.js";

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
  /**
   * Whether the executor also wraps the backend's writes in `fence` (default true). The CLI's
   * backend already checks the fence right before every attempt (after pacing and back-off), so
   * it asks for lockfile saves only: checking twice per write doubled the lock-file reads.
   */
  fenceWrites?: boolean;
  /**
   * The files of a manifest whose kind uploads them (skills), by plan address: apply sends their
   * bytes, after checking each against the digest the plan recorded.
   */
  uploads?: (address: string) => ReadonlyArray<UploadFile> | undefined;
  /**
   * Where the secrets request bodies stand in for come from (the environment, read by the CLI).
   * Apply checks every one it will need before its first write: a missing one stops it with
   * nothing sent. Default: none available.
   */
  secrets?: SecretSource;
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

/** Execute a plan. Throws only for a plan with refusals; per-entry failures are in the result. */
export async function applyPlan(plan: Plan, backend: ControlPlane, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.refusals.length > 0) {
    const first = plan.refusals[0];
    throw new SafetyError("plan-refused", `The plan has ${plan.refusals.length} refusal(s), e.g. ${first?.address}: ${first?.message}`, {
      hint: first?.hint ?? "Resolve the refusals shown by `agentform plan` first.",
    });
  }
  requireSecrets(plan, options.secrets ?? noSecrets);
  const run = new ApplyRun(plan, backend, options);
  return run.execute(await namesTakenSincePlan(plan, backend));
}

const noSecrets: SecretSource = () => undefined;

/** The variables holding secrets the plan will send that `source` does not have, sorted. */
export function secretsMissing(plan: Plan, source: SecretSource): string[] {
  return [...new Set(plan.resources.flatMap((r) => (r.request?.body ? missingSecrets(r.kind, r.request.body, source) : [])))].sort();
}

/** Every secret the plan will send must be available: refused (exit 4) before the first write, or before asking. */
export function requireSecrets(plan: Plan, source: SecretSource): void {
  const missing = secretsMissing(plan, source);
  if (missing.length > 0) throw missingError(missing);
}

/** One apply's state: the schedule of entries, the lockfile book, the failures so far. */
class ApplyRun {
  private readonly book: LockBook;
  private readonly backend: ControlPlane;
  private readonly emit: (e: ApplyEvent) => void;
  private readonly concurrency: number;
  private readonly slots: Semaphore;
  private readonly outcomes = new Map<string, Promise<Outcome>>();
  private readonly failed: ApplyResult["failed"] = [];
  private readonly skipped: string[] = [];
  private readonly total: number;
  private completed = 0;
  private writes = 0;
  private aborted: AgentformError | null = null;
  /** A failed fence is final: every later check fails with it. */
  private fenceError: AgentformError | null = null;
  private taken = new Map<string, SafetyError>();

  constructor(
    private readonly plan: Plan,
    backend: ControlPlane,
    private readonly options: ApplyOptions,
  ) {
    this.emit = options.onEvent ?? (() => undefined);
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.slots = new Semaphore(this.concurrency);
    this.total = plan.resources.filter((r) => r.request !== null).length;
    this.backend = options.fence && options.fenceWrites !== false ? fenceWrites(backend, () => this.fence()) : backend;
    this.book = new LockBook(options.lock, options.saveLock, () => this.fence());
    this.book.seedPins(plan.resources);
  }

  /** An unchanged entry of an uploading kind: its manifest's file digests (live equals them). */
  private unchangedFiles(entry: PlannedResource): Record<string, string> | undefined {
    if (!kindSpec(entry.kind).uploads || entry.file === null || !entry.id) return undefined;
    const uploads = this.options.uploads?.(entry.address);
    return uploads ? Object.fromEntries(uploads.map((f) => [f.path, f.sha256])) : undefined;
  }

  async execute(taken: Map<string, SafetyError>): Promise<ApplyResult> {
    this.taken = taken;
    for (const entry of this.plan.resources) this.outcomes.set(entry.address, this.runEntry(entry));
    await Promise.all(this.outcomes.values());
    for (const dup of await duplicatesCreated(this.plan, this.backend, this.book.lock, this.failed)) this.fail(dup.address, dup.error);
    try {
      // Entries that needed no write may still have changed the lockfile (a lost or new one).
      await this.book.save();
    } catch (err) {
      const error = err instanceof AgentformError ? err : new OperationalError("lockfile-unwritable", `Cannot save the lockfile: ${String(err)}`);
      if (!this.failed.some((f) => f.error === error)) this.failed.push({ address: "(lockfile)", error });
    }
    return { lock: this.book.lock, writes: this.writes, failed: this.failed, skipped: this.skipped };
  }

  private async fence(): Promise<void> {
    if (this.fenceError) throw this.fenceError;
    try {
      await this.options.fence?.();
    } catch (err) {
      this.fenceError =
        err instanceof AgentformError
          ? err
          : new OperationalError("run-lock-unreadable", `Cannot check the run lock: ${String(err)}`, {
              hint: "The apply stopped before its next write; check that .agentform/ is readable, then plan again.",
            });
      this.aborted ??= this.fenceError;
      throw this.fenceError;
    }
  }

  private async runEntry(entry: PlannedResource): Promise<Outcome> {
    const deps = entry.dependsOn.filter((d) => this.outcomes.has(d) && d !== entry.address);
    const results = await Promise.all(deps.map((d) => this.outcomes.get(d) as Promise<Outcome>));
    const blocked = deps.find((_, i) => results[i] !== "ok");
    if (blocked !== undefined) return this.skip(entry, `${blocked} did not complete`);
    if (this.aborted) return this.skip(entry, "the apply stopped after an earlier error");
    if (entry.request === null) {
      this.book.recordUnchanged(entry, this.unchangedFiles(entry));
      return "ok";
    }
    const taken = this.taken.get(entry.address);
    if (taken) return this.fail(entry.address, taken);
    const executed = await this.write(entry);
    if (executed === null) return this.skip(entry, "the apply stopped after an earlier error");
    if (!executed.ok) return this.fail(entry.address, executed.error);
    try {
      await this.book.save();
    } catch (err) {
      // The write landed but could not be recorded; carrying on would widen the gap.
      this.aborted = toAgentformError(err, entry);
      return this.fail(entry.address, this.aborted);
    }
    this.completed++;
    const { id, version } = executed.result;
    this.emit({ type: "done", address: entry.address, action: entry.action, id, ...(version !== undefined ? { version } : {}), completed: this.completed, total: this.total });
    return "ok";
  }

  /**
   * The write itself, in a concurrency slot. The slot bounds API calls only; waiting for the
   * lockfile save happens outside it, so writes keep flowing while a save is in flight.
   */
  private write(entry: PlannedResource): Promise<{ ok: true; result: Executed } | { ok: false; error: AgentformError } | null> {
    return this.slots.run(async () => {
      // Bound what a crash (or a failing disk) can leave unrecorded: while `concurrency` writes
      // are still waiting for their save, wait for it before sending another.
      const book = this.book;
      while (!book.saveFailed && !this.aborted && book.changes - book.savedChanges >= this.concurrency) await book.save().catch(() => undefined);
      if (this.aborted || book.saveFailed) return null;
      this.emit({ type: "start", address: entry.address, action: entry.action });
      try {
        return { ok: true as const, result: await executeRequest(entry, { backend: this.backend, book, countWrite: () => this.writes++, uploads: this.options.uploads ?? (() => undefined), secrets: this.options.secrets ?? noSecrets }) };
      } catch (err) {
        // A write refused by the backend's own fence check: make the loss final here too, so
        // the remaining entries are skipped rather than each failing on its own.
        if (this.options.fence) await this.fence().catch(() => undefined);
        return { ok: false as const, error: toAgentformError(err, entry) };
      }
    });
  }

  private skip(entry: PlannedResource, reason: string): Outcome {
    this.skipped.push(entry.address);
    this.emit({ type: "skipped", address: entry.address, reason });
    return "skipped";
  }

  private fail(address: string, error: AgentformError): Outcome {
    this.failed.push({ address, error });
    this.emit({ type: "failed", address, error });
    return "failed";
  }
}

/** The backend with `fence` awaited before each write; reads pass through unfenced. */
function fenceWrites(backend: ControlPlane, fence: () => Promise<void>): ControlPlane {
  return {
    backend: backend.backend,
    baseUrl: backend.baseUrl,
    list: (kind, options) => backend.list(kind, options),
    get: (kind, id, options) => backend.get(kind, id, options),
    detail: (kind, live) => backend.detail(kind, live),
    files: (kind, live) => backend.files(kind, live),
    listVersions: (kind, id) => backend.listVersions(kind, id),
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
    async delete(kind: ResourceKind, id: string) {
      await fence();
      return backend.delete(kind, id);
    },
  };
}

function toAgentformError(err: unknown, entry: PlannedResource): AgentformError {
  if (err instanceof AgentformError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OperationalError("internal", `${entry.address}: ${message}`, {
    hint: "This is a bug in agentform; rerun with AGENTFORM_DEBUG=1 and report it.",
    cause: err,
  });
}
