/**
 * `agentform lock verify` (can a runtime trust the lockfile?) and `agentform lock get` (the pin
 * a runtime uses, as JSON, for services not written in Node).
 */
import { antPathOption, backendOption } from "./backend-options.js";
import path from "node:path";
import { Argument, Command, Option } from "commander";
import { ConfigError, ExitCode, SafetyError } from "../errors.js";
import type { ControlPlane, LiveResource, ResourceKind } from "../backends/types.js";
import type { Plan } from "../plan/types.js";
import type { Lockfile } from "../lock/types.js";
import { lockfileName } from "../lock/types.js";
import { readLock } from "../lock/io.js";
import { verifyLock, type LockFinding } from "../lock/verify.js";
import { loadConfig, loadProject } from "../manifest/index.js";
import type { ProjectConfig } from "../manifest/types.js";
import { specDigest } from "../normalize/index.js";
import type { CommandContext } from "./main.js";
import { paintFor } from "./output.js";
import { KIND_ORDER, KINDS, kindSpec } from "../kinds/index.js";
import { entriesRenamedFrom, lockedVersions, lockTable, type LockedEntry } from "../lock/table.js";
import { inertText } from "../render/index.js";
import { inertJson } from "../render/inert.js";
import { selectTarget } from "./target.js";
import { registerLockBreak } from "./lock-break.js";
import { registerLockRefresh } from "./lock-refresh.js";
import { computePlan, openWorkspace, readVersion, refresh, type LiveState } from "./workflow.js";
import { kindCounts, kindNoun } from "./kind-counts.js";
import { nullRecord, ownValue } from "../util/record.js";

interface LockFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  format?: "text" | "json";
}

export function registerLock(program: Command, ctx: CommandContext): void {
  const lock = program.command("lock").description("Check the lockfile, or read pins from it.");

  lock
    .command("verify")
    .description("Check lockfile ↔ manifests ↔ live: ids exist, pinned versions exist, nothing archived, digests match.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(backendOption())
    .addOption(antPathOption())
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", "\nExit codes: 0 the lockfile is sound (warnings allowed), 3 errors found, 4 no or invalid lockfile, 1 other errors.")
    .action(async (flags: LockFlags) => {
      ctx.exitCode = await runLockVerify(flags, ctx);
    });

  lock
    .command("get")
    .description("Print a pin from the lockfile as JSON: agent → {type, id, version}; skill → {type, skill_id, version}; environment, vault → {id}.")
    .addArgument(new Argument("<kind>", "what to look up").choices(Object.keys(KINDS)))
    .argument("<name>", "the manifest name")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addHelpText("after", "\nExample:\n  agentform lock get agent triage   # {\"type\":\"agent\",\"id\":\"agent_…\",\"version\":7}")
    .action(async (kind: string, name: string, flags: LockFlags) => {
      ctx.exitCode = await runLockGet(kind, name, flags, ctx);
    });

  registerLockRefresh(lock, ctx);
  registerLockBreak(lock, ctx);
}

async function runLockGet(kind: string, name: string, flags: LockFlags, ctx: CommandContext): Promise<number> {
  if (!Object.hasOwn(KINDS, kind)) {
    throw new ConfigError("invalid-kind", `lock get takes one of ${Object.keys(KINDS).map((k) => `"${k}"`).join(", ")}, not "${kind}".`, { hint: "e.g. `agentform lock get agent triage`." });
  }
  return printPin(kind as ResourceKind, name, flags, ctx);
}

async function printPin(kind: ResourceKind, name: string, flags: LockFlags, ctx: CommandContext): Promise<number> {
  const config = await loadConfig({ cwd: process.cwd(), configPath: flags.config });
  const [target] = selectTarget(config, flags.target);
  const file = path.join(config.root, lockfileName(target));
  const lock = await requireLock(file);
  const lockName = path.basename(file);
  const found = findLockEntry(lockTable(lock, kind), kind, name, lockName);
  // A caller from before a rename is answered by the entry's current name, with every check that
  // name gets, and the manifest must still list the old name: the lockfile alone is not trusted.
  // That manifest is checked first, so the lockfile's name reaches later messages only once a
  // valid manifest carries it.
  const renamed = found.name !== name;
  if (renamed) await requireRenamedFrom(config, target, kind, found.name, name, lockName);
  await requireManifestMatch(config, target, kind, found.name, found.entry as { specDigest?: unknown }, lockName);
  if (renamed) ctx.io.stderr.write(`warning: ${kind} "${inertText(name)}" was renamed to "${inertText(found.name)}"; update the caller (the old name works while it stays in previous_names)\n`);
  const out = kindSpec(kind).runtimePin(found.entry);
  // The id comes from a lockfile a pull request can edit: bidi and C1 controls are written as
  // \u escapes (the same JSON value), so piping this to a terminal cannot reorder or recolour it.
  ctx.io.stdout.write(`${inertJson(JSON.stringify(out))}\n`);
  return ExitCode.ok;
}

/**
 * The entry named `name`; failing that, the one entry whose previous_names list it (a caller
 * still using a name from before a rename). Two entries claiming one old name is refused: which
 * resource the caller meant cannot be told, and handing out either could be the wrong pin.
 */
function findLockEntry(table: Record<string, LockedEntry>, kind: ResourceKind, name: string, lockName: string): { name: string; entry: LockedEntry } {
  const exact = ownValue(table, name);
  if (exact) return { name, entry: exact };
  const renamed = entriesRenamedFrom(table, name);
  if (renamed.length === 1) return { name: renamed[0]![0], entry: renamed[0]![1] };
  if (renamed.length > 1) {
    throw new SafetyError("lock-previous-name-ambiguous", `${lockName} has no ${kind} named "${inertText(name)}", and ${renamed.length} ${kind}s list it as a previous name: ${renamed.map(([n]) => `"${inertText(n)}"`).join(", ")}.`, {
      hint: `Ask for the current name. Only one ${kind} can be renamed from a given name, so the lockfile was edited or badly merged: run \`agentform apply\` to rewrite it from the manifests.`,
    });
  }
  const known = Object.keys(table).sort();
  throw new ConfigError("lock-unknown-name", `${lockName} has no ${kind} named "${inertText(name)}".`, {
    hint: known.length > 0 ? `It has: ${known.map(inertText).join(", ")}. Run \`agentform apply\` to add new manifests.` : "Run `agentform apply` first.",
  });
}

/**
 * An old name is answered only while the manifest in the checkout still lists it in
 * previous_names: the specDigest check does not cover that list, and a lockfile edited to add an
 * old name to another entry would otherwise hand that entry's pin to the old name's callers.
 */
async function requireRenamedFrom(config: ProjectConfig, target: string, kind: ResourceKind, current: string, old: string, lockName: string): Promise<void> {
  const load = await loadProject(config, { target });
  const manifest = load.manifests[kind].find((m) => m.name === current);
  if (manifest?.settings.previous_names.includes(old)) return;
  throw new SafetyError("lock-previous-name-stale", `${lockName} answers ${kind} "${inertText(old)}" with "${inertText(current)}", but ${manifest ? manifest.file : `the manifest of "${inertText(current)}"`} does not list "${inertText(old)}" in agentform.previous_names.`, {
    hint: `Ask for the current name "${inertText(current)}". If the old name should keep working, list it in previous_names and run \`agentform apply\`; otherwise run \`agentform apply\` to rewrite the lockfile.`,
  });
}

/**
 * A pin is only handed out when the lockfile entry was written for the manifest in this checkout
 * (same specDigest): an entry left behind by a lost commit, or edited to pin something else,
 * must not reach a runtime. Offline: it compares digests, it cannot see live.
 */
async function requireManifestMatch(config: ProjectConfig, target: string, kind: ResourceKind, name: string, entry: { specDigest?: unknown }, lockName: string): Promise<void> {
  // With the target's vars: the lockfile's specDigest is of the spec as that target resolves it.
  const load = await loadProject(config, { target });
  const manifest = load.manifests[kind].find((m) => m.name === name);
  if (!manifest) {
    throw new SafetyError("lock-no-manifest", `${lockName} lists ${kind} "${name}", but no valid manifest in this checkout describes it, so its pin cannot be trusted.`, {
      hint: "Restore the manifest (`agentform validate` shows problems), or run `agentform apply --prune` to retire the resource.",
    });
  }
  if (specDigest(manifest) !== entry.specDigest) {
    throw new SafetyError("lock-spec-stale", `${lockName}'s entry for ${kind} "${name}" was not written for ${manifest.file} as it is now: it pins what an earlier apply (or a hand edit) recorded.`, {
      hint: "Run `agentform plan` to see the difference and `agentform apply` to bring the lockfile up to date, then read the pin again.",
    });
  }
}

export async function requireLock(file: string): Promise<Lockfile> {
  const lock = await readLock(file);
  if (!lock) throw lockMissing(file);
  return lock;
}

function lockMissing(file: string): ConfigError {
  return new ConfigError("lockfile-missing", `There is no lockfile at ${file}.`, { hint: "Run `agentform apply` to create it (and commit it)." });
}

async function runLockVerify(flags: LockFlags, ctx: CommandContext): Promise<number> {
  // Archived resources are listed too, so "archived" can be told apart from "gone"; the lists
  // start while the manifests load, once the lockfile is known to exist.
  const ws = await openWorkspace(
    {
      cwd: process.cwd(),
      configPath: flags.config,
      target: flags.target,
      backend: flags.backend,
      readLive: { includeArchived: true },
      beforeRequests: ({ lock, lockPath }) => {
        if (!lock) throw lockMissing(lockPath);
      },
    },
    { env: ctx.io.env, antPath: flags.antPath },
  );
  try {
    if (!ws.lock) throw lockMissing(ws.lockPath);
    const backend = ws.target.backend;
    const live = await refresh(ws);
    const active = Object.fromEntries(KIND_ORDER.map((kind) => [kind, (live[kind] as LiveResource[]).filter((r) => !r.archived_at)])) as LiveState;
    const { plan } = await computePlan(ws, { adopt: false, prune: false, targetPrune: false, allowEmpty: false }, active);
    const versionsExist = await lockedVersionsExist(ws.lock, live, plan, backend);
    const findings = verifyLock({ lock: ws.lock, manifests: ws.load.manifests, live, versionsExist, plan });
    printFindings(findings, ws.lock, flags, ctx);
    return findings.some((f) => f.severity === "error") ? ExitCode.refused : ExitCode.ok;
  } finally {
    await ws.close();
  }
}

/** Does each locked version exist (versioned kinds)? Reads only what neither live nor the plan answers. */
async function lockedVersionsExist(lock: Lockfile, live: LiveState, plan: Plan, backend: ControlPlane): Promise<Record<string, boolean>> {
  const pinned = new Map(plan.resources.flatMap((r) => (r.lockOnly?.pinned ? [[r.address, r.lockOnly.pinned] as const] : [])));
  const exists = nullRecord<boolean>();
  await Promise.all(
    lockedVersions(lock, live).map(async ({ kind, address, id, version, current }) => {
      // Versions only go up, so a live resource at the locked version proves it exists: no request.
      if (current) return void (exists[address] = true);
      const known = pinned.get(address);
      if (known && known.id === id && known.version === version) return void (exists[address] = known.matchesManifest !== null);
      exists[address] = (await readVersion(backend, kind, id, version)) !== null;
    }),
  );
  return exists;
}

function printFindings(findings: LockFinding[], lock: Lockfile, flags: LockFlags, ctx: CommandContext): void {
  if (flags.format === "json") {
    ctx.io.stdout.write(`${JSON.stringify({ ok: !findings.some((f) => f.severity === "error"), findings }, null, 2)}\n`);
    return;
  }
  const paint = paintFor(ctx.io.stdout, ctx.io.env);
  for (const f of findings) {
    const tag = f.severity === "error" ? paint.red("error  ") : paint.yellow("warning");
    ctx.io.stdout.write(`${tag} ${inertText(f.address)}: ${inertText(f.message)} ${paint.dim(`[${f.code}]`)}\n    hint: ${inertText(f.hint)}\n`);
  }
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  const counted = kindCounts((kind) => Object.keys(lockTable(lock, kind)).length, (kind, n) => `${n} ${kindNoun(kind)}(s)`, "0 resources").join(", ");
  ctx.io.stdout.write(
    errors > 0
      ? `Lockfile has problems: ${errors} error(s), ${warnings} warning(s) across ${counted}.\n`
      : `Lockfile OK: ${counted} verified${warnings > 0 ? ` (${warnings} warning(s))` : ""}.\n`,
  );
}
