/**
 * `agentform lock refresh`: rebuild the lockfile from live with zero API writes, for when the
 * lockfile was lost, deleted, or lags (the commit after apply was lost). It records exactly the
 * resources whose live state already equals their manifest (the plan's no-write entries), keeps
 * the existing lockfile's orphans (no manifest, still live: the inventory `--prune` needs), and
 * lists the rest, which only `agentform apply` can bring in line.
 *
 * The entries are recorded by the apply executor itself, on the plan cut down to those no-write
 * entries, so the file is byte for byte what `agentform apply` writes for the same live state.
 * It runs under the apply run lock of the target, and the lockfile is written once, atomically,
 * at the end (never with refusals in the plan, never in a dry run). The backend it uses refuses
 * any write, so "no API writes" does not rest on the plan alone.
 */
import { antPathOption, backendOption } from "./backend-options.js";
import path from "node:path";
import { Command, Option } from "commander";
import { AgentformError, ExitCode, OperationalError, SafetyError } from "../errors.js";
import { applyPlan } from "../apply/index.js";
import { dropsEntry } from "../apply/lockbook.js";
import type { RunLock } from "../apply/run-lock.js";
import { runLockHolder } from "./run-lock-holder.js";
import { addressOf, KIND_ORDER, kindSpec, type LiveResource, type ResourceKind } from "../kinds/index.js";
import { emptyLock, serializeLock, writeLock } from "../lock/io.js";
import { lockTable, type LockedEntry } from "../lock/table.js";
import type { Lockfile } from "../lock/types.js";
import type { Plan, PlannedResource } from "../plan/types.js";
import { inertText } from "../render/index.js";
import { ownerOf } from "../normalize/index.js";
import { inertJson } from "../render/inert.js";
import { setOwn } from "../util/record.js";
import type { CommandContext } from "./main.js";
import { paintFor } from "./output.js";
import { computePlan, openWorkspace, reportWarnings, uploadsOf, type LiveState, type Workspace } from "./workflow.js";

interface RefreshFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  format?: "text" | "json";
  dryRun?: boolean;
  adopt?: boolean;
}

export function registerLockRefresh(lock: Command, ctx: CommandContext): void {
  lock
    .command("refresh")
    .description("Rebuild the lockfile from live with no API writes: record every resource whose live state equals its manifest, list the rest.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("--dry-run", "print what would be recorded; write nothing")
    .option("--adopt", "also record resources owned through the lockfile alone (skills) that no lockfile lists, when they equal their manifest")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Exit codes: 0 every resource with a manifest was recorded, 2 some were not (they differ from
their manifests or do not exist yet: run \`agentform plan\`), 3 refused by a safety rule
(nothing written), 4 invalid manifests or config, 1 other errors. Never writes to the API.`,
    )
    .action(async (flags: RefreshFlags) => {
      ctx.exitCode = await runLockRefresh(flags, ctx);
    });
}

/** One address the refresh did not record (or refused), and why, in one line. */
interface Skipped {
  address: string;
  reason: string;
  /** Refusals only: the planner's stable code. */
  code?: string;
  hint?: string;
}

/** An entry of the existing lockfile carried over, or left out, with why. */
interface Carried {
  kind: ResourceKind;
  name: string;
  address: string;
  entry: LockedEntry;
  reason: string;
}

/** What the refresh records, keeps, skips and drops, decided from the plan, the lockfile and live ids. */
interface Sorting {
  recordable: PlannedResource[];
  skipped: Skipped[];
  kept: Carried[];
  dropped: Carried[];
}

async function runLockRefresh(flags: RefreshFlags, ctx: CommandContext): Promise<number> {
  // Like apply's: a refresh never interleaves with an apply of the same target on this machine
  // (the lock is taken before the first request). A dry run writes nothing, so, like plan, it
  // takes no lock.
  const holder = flags.dryRun ? null : runLockHolder(ctx.io.env);
  let closeWorkspace = async (): Promise<void> => {};
  try {
    const ws = await openWorkspace(
      { cwd: process.cwd(), configPath: flags.config, target: flags.target, backend: flags.backend, readLive: {}, beforeRequests: holder?.take },
      { env: ctx.io.env, antPath: flags.antPath, beforeWrite: refuseWrite },
    );
    closeWorkspace = ws.close;
    reportWarnings(ws, ctx.io);
    const runLock = holder?.lock ?? null;
    // The target's pruning has no say here: a refresh records, it never plans archives.
    const { plan, live } = await computePlan(ws, { adopt: flags.adopt ?? false, prune: false, targetPrune: false, allowEmpty: false });
    const sorting = sortPlan(plan, ws, live);
    if (plan.refusals.length > 0) return refuse(plan, sorting, flags, ctx);
    const lock = await rebuild(plan, sorting, ws, runLock);
    const outcome = lockOutcome(lock, sorting, ws);
    if (outcome === "changed" && runLock) {
      await runLock.verify();
      await writeLock(ws.lockPath, lock);
    }
    printRefresh(sorting, { outcome, written: outcome === "changed" && runLock !== null, dryRun: flags.dryRun ?? false, lockName: lockNameOf(ws) }, flags, ctx);
    return sorting.skipped.length > 0 ? ExitCode.changes : ExitCode.ok;
  } finally {
    await holder?.release();
    await closeWorkspace();
  }
}

/** The backend's hook before every write attempt: a refresh never gets that far. */
async function refuseWrite(): Promise<void> {
  throw new OperationalError("lock-refresh-write", "lock refresh was about to write to the API; it never does, so it stopped.", {
    hint: "This is a bug in agentform; rerun with AGENTFORM_DEBUG=1 and report it. Nothing was written.",
  });
}

function lockNameOf(ws: Workspace): string {
  return path.relative(ws.config.root, ws.lockPath) || ws.lockPath;
}

/**
 * Record what needs no write: a plan entry with a manifest, a live id, a spec digest and no
 * request (live already equals the manifest; a lockfile-only change is still that). Every other
 * manifest's entry is skipped with its reason; the existing lockfile's other entries are kept
 * or dropped by `sortLocked`.
 */
function sortPlan(plan: Plan, ws: Workspace, live: LiveState): Sorting {
  const recordable: PlannedResource[] = [];
  const skipped: Skipped[] = [];
  for (const r of plan.resources) {
    // Entries without a manifest (prune's, or an orphan's) are the lockfile's business below.
    if (r.file === null) continue;
    const lockOnlyDrop = dropsEntry(r);
    if (r.request === null && r.id && r.specDigest !== null && !lockOnlyDrop) recordable.push(r);
    else skipped.push({ address: r.address, reason: skipReason(r) });
  }
  for (const f of plan.refusals) skipped.push({ address: f.address, reason: f.message, code: f.code, hint: f.hint });
  return { recordable, skipped, ...sortLocked(ws, live, recordable, new Set(skipped.map((s) => s.address))) };
}

function skipReason(r: PlannedResource): string {
  if (r.id === null || r.request?.method === "create") return "would be created";
  if (r.action === "adopt") return "not managed by this project (adopt with agentform apply --adopt)";
  return `differs from its manifest: ${r.changes.length} field(s) (run agentform plan)`;
}

/**
 * The existing lockfile's entries that are not recorded anew. Decided from the lockfile and the
 * live ids alone (not from plan action names):
 * - no manifest, id still live, not recorded under another name: kept unchanged (an orphan:
 *   the inventory `apply --prune` archives from);
 * - a skipped manifest of a kind owned through the lockfile alone (skills), id still live: kept,
 *   since that entry is the only record that the resource is this project's;
 * - anything else is dropped: its resource is gone or is recorded under another name (listed as
 *   dropped), or it is a skipped manifest's (left out silently: its "skipped" line says why;
 *   runtimes asking for it then fail fast instead of pinning a stale entry).
 */
function sortLocked(ws: Workspace, live: LiveState, recordable: readonly PlannedResource[], skipped: ReadonlySet<string>): Pick<Sorting, "kept" | "dropped"> {
  const kept: Carried[] = [];
  const dropped: Carried[] = [];
  if (!ws.lock) return { kept, dropped };
  const recordedAt = new Map(recordable.map((r) => [`${r.kind}:${r.id}`, r.address] as const));
  // An entry pointing at another project's resource (a hand edit can) is never carried over.
  const ours = (kind: ResourceKind, id: string) => {
    if (kindSpec(kind).ownership !== "marker") return true;
    const found = (live[kind] as LiveResource[]).find((l) => l.id === id);
    return found !== undefined && ownerOf(found) === ws.config.project;
  };
  const recordedAddresses = new Set(recordable.map((r) => r.address));
  for (const kind of KIND_ORDER) {
    const manifestNames = new Set(ws.load.manifests[kind].map((m) => m.name));
    const liveIds = new Set((live[kind] as LiveResource[]).map((l) => l.id));
    for (const [name, entry] of Object.entries(lockTable(ws.lock, kind))) {
      const address = addressOf(kind, name);
      if (recordedAddresses.has(address)) continue;
      const carried = { kind, name, address, entry };
      const elsewhere = recordedAt.get(`${kind}:${entry.id}`);
      if (!liveIds.has(entry.id)) dropped.push({ ...carried, reason: "its resource is gone (archived or deleted)" });
      else if (!ours(kind, entry.id)) dropped.push({ ...carried, reason: "its resource is not marked as this project's" });
      else if (elsewhere !== undefined) dropped.push({ ...carried, reason: `its resource is recorded as ${elsewhere}` });
      else if (!manifestNames.has(name)) kept.push({ ...carried, reason: "no manifest (an orphan plan shows)" });
      else if (kindSpec(kind).ownership === "lockfile" && skipped.has(address)) kept.push({ ...carried, reason: LOCKFILE_OWNED_KEPT });
      // Otherwise a skipped manifest's old entry: left out, and its "skipped" line says why.
    }
  }
  return { kept, dropped };
}

const LOCKFILE_OWNED_KEPT = "its manifest is not recorded (see below), but this entry is the only record that the resource is this project's, so it is kept as it was";

/**
 * The new lockfile, made by the apply executor from an empty one plus what is kept: the plan is
 * cut down to the recordable entries, which carry no request, so the executor records each from
 * what the plan observed (skills' file digests from the manifest's files, as apply does) and
 * sends nothing. Saves go nowhere: the caller writes the result once, or not at all.
 */
async function rebuild(plan: Plan, sorting: Sorting, ws: Workspace, runLock: RunLock | null): Promise<Lockfile> {
  const start = startingLock(ws, sorting.kept);
  const result = await applyPlan({ ...plan, resources: sorting.recordable }, ws.target.backend, {
    project: ws.config.project,
    lock: start,
    saveLock: async () => undefined,
    ...(runLock ? { fence: runLock.verify } : {}),
    uploads: uploadsOf(ws),
    secrets: ws.secrets.source,
  });
  const failure = result.failed[0];
  if (failure) {
    throw failure.error instanceof AgentformError
      ? failure.error
      : new OperationalError("internal", `${failure.address}: ${String(failure.error)}`, { hint: "This is a bug in agentform; rerun with AGENTFORM_DEBUG=1 and report it." });
  }
  if (result.writes > 0) throw new OperationalError("internal", "lock refresh made an API write.", { hint: "This is a bug in agentform; report it." });
  return result.lock;
}

/**
 * `emptyLock` for this project, target and origin, with the kept entries and the top-level
 * fields this agentform does not know (a newer minor's maps: carried over, as apply does).
 */
function startingLock(ws: Workspace, kept: readonly Carried[]): Lockfile {
  const start = emptyLock(ws.config.project, ws.target.name, ws.target.origin);
  if (!ws.lock) return start;
  const known = new Set<string>(["lockfileVersion", "project", "target", "origin", ...KIND_ORDER.map((k) => kindSpec(k).lockKey)]);
  const unknown = Object.fromEntries(Object.entries(ws.lock).filter(([key]) => !known.has(key)));
  const lock = { ...structuredClone(unknown), ...start } as Lockfile;
  for (const k of kept) setOwn(lockTable(lock, k.kind), k.name, structuredClone(k.entry));
  return lock;
}


type Outcome = "changed" | "unchanged" | "nothing";

/**
 * Whether the rebuilt lockfile differs from the file there (compared as apply does: by content,
 * so a file only formatted differently is not rewritten), or there is nothing to write at all
 * (no lockfile, and nothing to record).
 */
function lockOutcome(lock: Lockfile, sorting: Sorting, ws: Workspace): Outcome {
  if (!ws.lock) return sorting.recordable.length === 0 && sorting.kept.length === 0 ? "nothing" : "changed";
  return serializeLock(ws.lock) === serializeLock(lock) ? "unchanged" : "changed";
}

/** Refusals stop the refresh before anything is recorded: they are listed, and nothing is written. */
function refuse(plan: Plan, sorting: Sorting, flags: RefreshFlags, ctx: CommandContext): never {
  const skipped = sorting.skipped;
  if (flags.format === "json") {
    ctx.io.stdout.write(`${inertJson(JSON.stringify({ recorded: [], skipped, kept: [], dropped: [], written: false }, null, 2))}\n`);
  } else {
    printSkipped(skipped, ctx);
  }
  throw new SafetyError("lock-refresh-refused", `Refused: ${plan.refusals.length} safety rule(s) stop this refresh; the lockfile was not written, and nothing was sent to the API.`, {
    hint: plan.refusals[0]?.hint ?? "Fix the refusals listed above and run again.",
  });
}

interface Summary {
  outcome: Outcome;
  written: boolean;
  dryRun: boolean;
  lockName: string;
}

function printRefresh(sorting: Sorting, summary: Summary, flags: RefreshFlags, ctx: CommandContext): void {
  const { recordable, skipped, kept, dropped } = sorting;
  if (flags.format === "json") {
    const doc = {
      recorded: recordable.map((r) => r.address),
      skipped,
      kept: kept.map((k) => k.address),
      dropped: dropped.map((d) => ({ address: d.address, reason: d.reason })),
      written: summary.written,
    };
    ctx.io.stdout.write(`${inertJson(JSON.stringify(doc, null, 2))}\n`);
    return;
  }
  const out = ctx.io.stdout;
  for (const r of recordable) out.write(`recorded ${inertText(r.address)} (${inertText(r.id ?? "")})\n`);
  for (const k of kept) out.write(`kept     ${inertText(k.address)}: ${inertText(k.reason)}\n`);
  printSkipped(skipped, ctx);
  for (const d of dropped) out.write(`dropped  ${inertText(d.address)}: ${inertText(d.reason)}\n`);
  out.write(`${summaryLine(sorting, summary)}\n`);
  if (skipped.length > 0) out.write("Run `agentform plan` to see what differs, and `agentform apply` to bring it in line.\n");
}

function printSkipped(skipped: readonly Skipped[], ctx: CommandContext): void {
  const paint = paintFor(ctx.io.stdout, ctx.io.env);
  for (const s of skipped) {
    if (s.code === undefined) {
      ctx.io.stdout.write(`skipped  ${inertText(s.address)}: ${inertText(s.reason)}\n`);
      continue;
    }
    ctx.io.stdout.write(`${paint.red("refused")}  ${inertText(s.address)}: ${inertText(s.reason)} ${paint.dim(`[${inertText(s.code)}]`)}\n`);
    if (s.hint) ctx.io.stdout.write(`    hint: ${inertText(s.hint)}\n`);
  }
}

function summaryLine({ recordable, kept, skipped, dropped }: Sorting, { outcome, dryRun, lockName }: Summary): string {
  const counts = `${recordable.length} recorded, ${kept.length} kept, ${skipped.length} skipped${dropped.length > 0 ? `, ${dropped.length} dropped` : ""}`;
  const name = inertText(lockName);
  if (outcome === "nothing") return `Nothing to record (${counts}); no lockfile written, no API writes.`;
  if (outcome === "unchanged") return `Lockfile ${name} already records live: ${counts}; not rewritten, no API writes.`;
  if (dryRun) return `Dry run: lockfile ${name} would be rebuilt from live: ${counts}; nothing written, no API writes.`;
  return `Lockfile ${name} rebuilt from live: ${counts}; no API writes.`;
}
