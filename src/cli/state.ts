/**
 * `agentform state`: what the lockfile says this project manages, and the operations Terraform
 * users know as `state list` and `state rm`: `list` (offline), `forget` (stop managing a resource
 * without archiving it: its lockfile entry goes, and its ownership marker where the kind has one)
 * and `transfer` (take over a renamed project's resources, shown as a plan first).
 */
import { antPathOption, backendOption } from "./backend-options.js";
import path from "node:path";
import { Command, Option } from "commander";
import { ConfigError, ExitCode } from "../errors.js";
import { acquireRunLock, runLockFile, runLockOptionsFromEnv, type RunLock } from "../apply/run-lock.js";
import { addressOf, KIND_ORDER, KINDS, kindSpec, parentOf, versionOf } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import { cloneLock, writeLock } from "../lock/io.js";
import { lockTable } from "../lock/table.js";
import { lockfileName, type Lockfile } from "../lock/types.js";
import { loadConfig, loadProject } from "../manifest/index.js";
import { ownerOf } from "../normalize/index.js";
import { markerRelease } from "../plan/body.js";
import { inertJson, inertText } from "../render/inert.js";
import type { CommandContext } from "./main.js";
import { confirm, runApply } from "./apply.js";
import { selectTarget } from "./target.js";
import { requireLock } from "./lock.js";
import { kindAndName } from "./only.js";
import { openWorkspace, refresh, type Workspace } from "./workflow.js";

interface StateFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  format?: "text" | "json";
  autoApprove?: boolean;
  fromProject?: string;
}

export function registerState(program: Command, ctx: CommandContext): void {
  const state = program.command("state").description("What this project manages (from the lockfile), and operations on it.");
  state
    .command("list")
    .description("List the resources the lockfile records (offline), and which have no manifest.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(new Option("-f, --format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (flags: StateFlags) => {
      ctx.exitCode = await runStateList(flags, ctx);
    });
  state
    .command("forget")
    .description("Stop managing a resource without archiving it: drop its lockfile entry and remove its ownership marker.")
    .argument("<resource>", "<kind>/<name>, e.g. agent/triage (a vault brings its credentials)")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("--auto-approve", "do not ask for confirmation")
    .addHelpText("after", "\nExit codes: 0 forgotten, 3 refused, 4 unknown resource or usage, 1 other errors.")
    .action(async (resource: string, flags: StateFlags) => {
      ctx.exitCode = await runStateForget(resource, flags, ctx);
    });
  state
    .command("transfer")
    .description("Take over the resources of a renamed project (marked with its old name): plan, confirm, apply.")
    .requiredOption("--from-project <name>", "the project name the resources and the lockfile carry")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("--auto-approve", "do not ask for confirmation")
    .option("--prune", "also archive the old project's resources that have no manifest here")
    .option("--allow-empty", "with --prune, allow archiving every resource of a kind")
    .action(async (flags: StateFlags & { prune?: boolean }) => {
      ctx.exitCode = await runApply(undefined, { ...flags, transferFrom: flags.fromProject }, ctx);
    });
}

/** One line per lockfile entry: address, id, version, and whether a manifest still describes it. */
async function runStateList(flags: StateFlags, ctx: CommandContext): Promise<number> {
  const config = await loadConfig({ cwd: process.cwd(), configPath: flags.config });
  const [target] = selectTarget(config, flags.target);
  const file = path.join(config.root, lockfileName(target));
  const lock = await requireLock(file);
  const load = await loadProject(config, { target });
  const rows = KIND_ORDER.flatMap((kind) => {
    const names = new Set(load.manifests[kind].map((m) => m.name));
    return Object.entries(lockTable(lock, kind))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, e]) => ({ address: addressOf(kind, name), id: e.id, ...(e.version !== undefined ? { version: e.version } : {}), manifest: names.has(name) }));
  });
  if (flags.format === "json") {
    ctx.io.stdout.write(`${inertJson(JSON.stringify(rows, null, 2))}\n`);
    return ExitCode.ok;
  }
  for (const r of rows) {
    const version = r.version !== undefined ? ` v${r.version}` : "";
    ctx.io.stdout.write(`${inertText(r.address)}  ${inertText(r.id)}${inertText(version)}${r.manifest ? "" : "  (no manifest)"}\n`);
  }
  ctx.io.stdout.write(`${rows.length} resource(s) in ${path.basename(file)}.\n`);
  return ExitCode.ok;
}

/** What `forget` lets go of: the resource and, for a parent kind, the resources inside it. */
interface Forgotten {
  kind: ResourceKind;
  name: string;
  id: string;
  /** The live resource, when it is live and carries this project's marker (the marker then goes). */
  marked: LiveResource | null;
}

async function runStateForget(resource: string, flags: StateFlags, ctx: CommandContext): Promise<number> {
  const { kind, name } = parseResource(resource);
  const ws = await openWorkspace({ cwd: process.cwd(), configPath: flags.config, target: flags.target, backend: flags.backend }, { env: ctx.io.env, antPath: flags.antPath });
  let runLock: RunLock | null = null;
  try {
    runLock = await acquireRunLock(runLockFile(ws.config.root, ws.target.name), { ...runLockOptionsFromEnv(ctx.io.env), target: ws.target.name });
    const lock = ws.lock;
    const entry = lock ? Object.entries(lockTable(lock, kind)).find(([n]) => n === name)?.[1] : undefined;
    if (!lock || !entry) {
      throw new ConfigError("state-unknown", `The lockfile of target "${inertText(ws.target.name)}" records no ${kind} named "${inertText(name)}".`, {
        hint: "`agentform state list` shows what it records.",
      });
    }
    const forgotten = await whatToForget(ws, lock, kind, name, entry.id);
    for (const f of forgotten) ctx.io.stdout.write(`- ${inertText(addressOf(f.kind, f.name))} (${inertText(f.id)}): ${f.marked ? "remove its ownership marker, drop its lockfile entry" : "drop its lockfile entry"}\n`);
    if (!flags.autoApprove) {
      const declined = await confirmForget(ctx);
      if (declined !== null) return declined;
    }
    const next = cloneLock(lock);
    const done: Forgotten[] = [];
    try {
      for (const f of forgotten) {
        if (f.marked) await releaseMarker(ws, f);
        delete lockTable(next, f.kind)[f.name];
        done.push(f);
      }
    } catch (err) {
      const left = forgotten.filter((f) => !done.includes(f)).map((f) => inertText(addressOf(f.kind, f.name)));
      ctx.io.stderr.write(`state forget stopped: ${done.length} of ${forgotten.length} forgotten (and dropped from the lockfile); not yet: ${left.join(", ")}. Run it again to finish.\n`);
      throw err;
    } finally {
      // What was let go of is recorded even when a later write failed: a marker removed while
      // the lockfile still lists the resource would make the next plan refuse it as unmanaged.
      if (done.length > 0) {
        await runLock.verify();
        await writeLock(ws.lockPath, next);
      }
    }
    reportForgotten(ws, forgotten, ctx);
    return ExitCode.ok;
  } finally {
    if (runLock) await runLock.release();
    await ws.close();
  }
}

function parseResource(resource: string): { kind: ResourceKind; name: string } {
  const parsed = kindAndName(resource);
  if (!parsed) {
    throw new ConfigError("state-invalid-resource", `state forget takes <kind>/<name>, not "${inertText(resource)}".`, {
      hint: `The kind is one of ${Object.keys(KINDS).join(", ")}; e.g. agentform state forget agent/triage.`,
    });
  }
  return parsed;
}

/** The resource and the lockfile's resources inside it (a vault's credentials), children first. */
async function whatToForget(ws: Workspace, lock: Lockfile, kind: ResourceKind, name: string, id: string): Promise<Forgotten[]> {
  const live = await refresh(ws);
  const mine = (k: ResourceKind, liveId: string): LiveResource | null => {
    const found = (live[k] as LiveResource[]).find((l) => l.id === liveId);
    return found && kindSpec(k).ownership === "marker" && ownerOf(found) === ws.config.project ? found : null;
  };
  const children = KIND_ORDER.filter((k) => kindSpec(k).parentKind === kind).flatMap((k) =>
    Object.entries(lockTable(lock, k))
      .filter(([, e]) => parentOf(k, (live[k] as LiveResource[]).find((l) => l.id === e.id)) === id)
      .map(([n, e]) => ({ kind: k, name: n, id: e.id, marked: mine(k, e.id) })),
  );
  return [...children, { kind, name, id, marked: mine(kind, id) }];
}

/** Remove this project's marker: a metadata patch (an agent's makes a new version, as any update). */
async function releaseMarker(ws: Workspace, f: Forgotten): Promise<void> {
  const version = versionOf(f.kind, f.marked as LiveResource);
  await ws.target.backend.update(f.kind, f.id, markerRelease(), version !== undefined ? { expectedVersion: version } : {});
}

/** Null to go ahead; else the exit code of a declined prompt (1, or 130 for Ctrl+C), as apply's. */
async function confirmForget(ctx: CommandContext): Promise<number | null> {
  if (process.stdin.isTTY !== true) {
    throw new ConfigError("approval-required", "state forget needs confirmation, but stdin is not a terminal.", { hint: "Pass --auto-approve." });
  }
  const answer = await confirm(ctx, "Forget these resources? Only 'y' or 'yes' goes ahead. [y/N] ");
  if (answer === "yes") return null;
  ctx.io.stderr.write("Cancelled; nothing was changed.\n");
  return answer === "interrupted" ? 130 : ExitCode.error;
}

function reportForgotten(ws: Workspace, forgotten: readonly Forgotten[], ctx: CommandContext): void {
  const top = forgotten[forgotten.length - 1] as Forgotten;
  const manifest = ws.load.manifests[top.kind].find((m) => m.name === top.name);
  ctx.io.stdout.write(`Forgot ${forgotten.length} resource(s); nothing was archived. ${path.basename(ws.lockPath)} no longer lists them.\n`);
  if (manifest) {
    ctx.io.stdout.write(
      `Its manifest ${inertText(manifest.file)} still exists: remove it, or the next plan refuses the resource as unmanaged (adopt it back with --adopt).\n`,
    );
  }
}
