/**
 * The steps every command that talks to a workspace shares, in the order a user thinks of
 * them: load config and manifests, read the lockfile, open the target, read live state
 * (list calls only: ⌈agents/100⌉ + ⌈environments/1000⌉ requests), build the plan. Loading the
 * manifests and listing overlap: the lists start once the target is open, while the manifests
 * still load, and are abandoned (no write ever sent) when the manifests turn out invalid.
 */
import path from "node:path";
import { ConfigError, OperationalError, SafetyError } from "../errors.js";
import { inertText } from "../render/inert.js";
import type { ControlPlane, ListOptions, LiveResource, LiveSets, ResourceKind } from "../backends/types.js";
import { addressOf, KIND_ORDER, kindSpec } from "../kinds/index.js";
import { lockedVersions, lockTable } from "../lock/table.js";
import type { Diagnostic, LoadedManifest, LoadResult, ProjectConfig, UploadFile } from "../manifest/types.js";
import type { PagedListOptions } from "../backends/sdk.js";
import { liveDigest, specDigest } from "../normalize/index.js";
import type { Lockfile } from "../lock/types.js";
import { lockfileName } from "../lock/types.js";
import type { Plan, PlanInput, PlanOptions, Refusal } from "../plan/types.js";
import { loadConfig, loadProject, formatDiagnostics } from "../manifest/index.js";
import { readLockFile, checkLockOrigin } from "../lock/io.js";
import { annotatePinned, buildPlan, pinnedVersionsWanted } from "../plan/index.js";
import { BackendError } from "../backends/errors.js";
import { AGENTFORM_VERSION } from "../version.js";
import { openTarget, selectTarget, type OpenTarget, type TargetFlags } from "./target.js";
import { useColor, type Io } from "./output.js";
import { pageComparer } from "./compare-pages.js";
import { afterIo, eachInSlices } from "../util/slices.js";
import { internStrings, type InternTable } from "../util/intern.js";
import { secretsFor, secretStatuses, type Secrets } from "./secrets.js";

export interface WorkspaceOptions {
  cwd: string;
  configPath?: string | undefined;
  target?: string | undefined;
  backend?: "sdk" | "ant" | undefined;
  /**
   * `state transfer --from-project OLD`: a lockfile written for project OLD is accepted, and read
   * as this project's (apply then writes it under the new name).
   */
  transferFrom?: string | undefined;
  /**
   * Start the lists `refresh` returns as soon as the target is open and the lockfile checked,
   * while the manifests still load (a plan of thousands of resources is mostly waiting for
   * pages). Left out, nothing is read until the command asks.
   */
  readLive?: ListOptions | undefined;
  /**
   * Runs once the target is open and the lockfile's origin checked, before the first request:
   * apply takes its run lock here, so live state is only ever read under it. If opening fails
   * after it, undoing it is the caller's part.
   */
  beforeRequests?: ((opened: { root: string; target: string; lock: Lockfile | null; lockPath: string }) => Promise<void> | void) | undefined;
}

export interface Workspace {
  config: ProjectConfig;
  load: LoadResult;
  target: OpenTarget;
  lockPath: string;
  lock: Lockfile | null;
  /** The sha256 (hex) of the lockfile's text as read (for saved-plan digests), or null when there is none. */
  lockSha256: string | null;
  /** Validation warnings (they do not stop a plan, but the user must see them). */
  warnings: Diagnostic[];
  /** Where credentials' secrets come from (the environment), and what the user should know of it. */
  secrets: Secrets;
  close(): Promise<void>;
}

/** Live resources per kind, archived ones excluded. */
export type LiveState = LiveSets;

/**
 * Load config, lockfile and manifests and open the target; refuse invalid manifests (exit 4).
 * The manifests load while the target opens and (with `readLive`) the lists page; whatever
 * fails meanwhile, invalid manifests are what is reported, and the lists under way are
 * abandoned before any write could be sent.
 */
export async function openWorkspace(options: WorkspaceOptions, flags: TargetFlags): Promise<Workspace> {
  const config = await loadConfig({ cwd: options.cwd, configPath: options.configPath });
  // The target first: its vars are part of what the manifests say.
  const [targetName] = selectTarget(config, options.target);
  const loading = loadProject(config, { target: targetName });
  // Awaited on every path below; until then its failure must not count as unhandled.
  loading.catch(() => undefined);
  let opened: Opened;
  try {
    opened = await openChecked(config, targetName, options, flags);
  } catch (err) {
    // The manifests' problems come first (exit 4, with every diagnostic): a failure of the
    // target or the lockfile seen meanwhile would only hide them.
    validLoad(await loading);
    throw err;
  }
  let load: LoadResult;
  try {
    load = validLoad(await loading);
  } catch (err) {
    await opened.close();
    throw err;
  }
  const { target, lockPath, lock, lockSha256, reading } = opened;
  const warnings = load.diagnostics.filter((d) => d.severity === "warning");
  const secrets = secretsFor(target.settings, load.manifests, flags.env);
  const ws: Workspace = { config, load, target, lockPath, lock, lockSha256, warnings, secrets, close: async () => opened.close() };
  if (reading) readings.set(ws, reading);
  return ws;
}

/** The load, when no manifest has an error; else `invalid-manifests` (exit 4) naming every problem. */
function validLoad(load: LoadResult): LoadResult {
  const errors = load.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    throw new ConfigError("invalid-manifests", `${errors.length} problem(s) in the manifests:\n${formatDiagnostics(errors, { color: false })}`, {
      hint: "Fix them (see `agentform validate`) and run again; nothing was changed.",
    });
  }
  return load;
}

/** The target, open, with its lockfile read and checked, and the lists it was asked to start. */
interface Opened {
  target: OpenTarget;
  lockPath: string;
  lock: Lockfile | null;
  lockSha256: string | null;
  reading: LiveReading | undefined;
  /** Abandons the lists if nobody took them, then closes the target. */
  close(): Promise<void>;
}

/**
 * Read the lockfile, open the target, check the lockfile's origin (before any request: a
 * lockfile of another workspace must never guide a plan), run `beforeRequests`, then start the
 * lists. The key-destination check is the target's own, when it opens.
 */
async function openChecked(config: ProjectConfig, targetName: string, options: WorkspaceOptions, flags: TargetFlags): Promise<Opened> {
  const lockPath = path.join(config.root, lockfileName(targetName));
  const read = await readLockFile(lockPath);
  const lock = transferredLock(read?.lock ?? null, options.transferFrom, config.project);
  const lockSha256 = read?.sha256 ?? null;
  let reading: LiveReading | undefined;
  // An abandoned list is not retried: its next wait would only keep the process alive.
  const onRetry: TargetFlags["onRetry"] = (info) => {
    if (reading?.abandoned) throw LISTS_ABANDONED;
    flags.onRetry?.(info);
  };
  const target = await openTarget(config, targetName, { ...flags, onRetry, backend: options.backend ?? flags.backend });
  try {
    if (lock) checkLockOrigin(lock, target.origin, config.project, target.name);
    await options.beforeRequests?.({ root: config.root, target: target.name, lock, lockPath });
  } catch (err) {
    await target.close();
    throw err;
  }
  reading = options.readLive ? startReading(target.backend, options.readLive) : undefined;
  return {
    target,
    lockPath,
    lock,
    lockSha256,
    reading,
    close: async () => {
      await reading?.abandon();
      await target.close();
    },
  };
}

/**
 * The lockfile of the project a transfer takes over, read as this project's. A transfer is for a
 * renamed project only: from another name than this project's, and with that project's lockfile
 * (or none). Taking over a project that still has its own lockfile here would be taking another
 * team's resources, which agentform never does.
 */
function transferredLock(lock: Lockfile | null, from: string | undefined, project: string): Lockfile | null {
  if (from === undefined) return lock;
  if (from === project) {
    throw new ConfigError("transfer-same-project", `--from-project "${inertText(from)}" is this project's own name.`, {
      hint: "state transfer takes over the resources of the name the project had before `project:` in agentform.yaml was changed.",
    });
  }
  if (lock && lock.project !== from) {
    throw new SafetyError("transfer-not-renamed", `The lockfile belongs to project "${inertText(lock.project)}", not "${inertText(from)}": this is not a rename of "${inertText(from)}".`, {
      hint: `state transfer only follows a rename of this project, with the old project's lockfile; resources of another live project stay that project's (it can \`agentform state forget\` them first).`,
    });
  }
  return lock ? { ...lock, project } : lock;
}

/** Print validation warnings to stderr (a typo in `paths:` must not pass silently). */
export function reportWarnings(ws: Workspace, io: Io): void {
  for (const note of ws.target.notes) io.stderr.write(`note: ${note}\n`);
  for (const notice of ws.secrets.notices) io.stderr.write(`warning: ${notice}\n`);
  if (ws.warnings.length === 0) return;
  io.stderr.write(formatDiagnostics(ws.warnings, { color: useColor(io.stderr, io.env) }) + "\n");
}

/** Live digests computed while the lists were paging, by the live state they were listed into. */
const pagedDigests = new WeakMap<LiveState, Map<LiveResource, string>>();

/**
 * Read live state with list calls only: the lists the workspace started when it opened
 * (`readLive`), or else the active resources (archived ones are not part of the workspace).
 */
export async function refresh(ws: Workspace): Promise<LiveState> {
  const reading = readings.get(ws);
  readings.delete(ws);
  const digests = reading ? reading.digests : new Map<LiveResource, string>();
  const lists = reading ? await reading.take() : await listEveryKind(ws.target.backend, {}, { digests });
  const live = await completeLive(ws, lists);
  if (digests) pagedDigests.set(live, digests);
  return live;
}

/** What stops an abandoned list: thrown from its page hook (no further page is asked for) or its retry. */
const LISTS_ABANDONED = new OperationalError("lists-abandoned", "The live workspace was no longer needed; its lists were stopped.");

/** Lists started when a workspace opened, until `refresh` takes them or the workspace closes. */
interface LiveReading {
  /** Digests of what was paged so far (none when archived resources are listed: no plan compares those). */
  digests: Map<LiveResource, string> | undefined;
  abandoned: boolean;
  take(): Promise<LiveState>;
  /** Unless taken: ask for no further page and no retry, and wait for the requests in flight (one per kind at most) to end. */
  abandon(): Promise<void>;
  /**
   * `fn` for each resource of every page listed so far and of each later one, a slice at a time
   * as the event loop lets it; resolves once every page had its turn (also when a list fails:
   * whoever takes the lists gets that error).
   */
  eachListed(fn: (kind: ResourceKind, live: LiveResource) => void): Promise<void>;
}

/** The lists of a workspace not yet taken by `refresh`. */
const readings = new WeakMap<Workspace, LiveReading>();

function startReading(backend: ControlPlane, options: ListOptions): LiveReading {
  let taken = false;
  const pages: Array<[ResourceKind, readonly LiveResource[]]> = [];
  const listeners: Array<(kind: ResourceKind, items: readonly LiveResource[]) => void> = [];
  const reading: LiveReading = {
    digests: options.includeArchived ? undefined : new Map(),
    abandoned: false,
    take: () => {
      taken = true;
      return lists;
    },
    abandon: async () => {
      if (taken) return;
      reading.abandoned = true;
      await lists.catch(() => undefined);
    },
    eachListed: async (fn) => {
      const turns: Array<Promise<void>> = [];
      const each = (kind: ResourceKind, items: readonly LiveResource[]) => turns.push(afterIo(() => eachInSlices(items, (l) => fn(kind, l))));
      for (const [kind, items] of pages) each(kind, items);
      listeners.push(each);
      await lists.catch(() => undefined);
      await Promise.all(turns);
    },
  };
  const onItems = (kind: ResourceKind, items: readonly LiveResource[]) => {
    pages.push([kind, items]);
    for (const listener of listeners) listener(kind, items);
  };
  const lists = listEveryKind(backend, options, { digests: reading.digests, stopped: () => reading.abandoned, onItems });
  // Taken by refresh, or settled by abandon; until then a failure (a 401, say) must not count as
  // unhandled: whoever takes the lists gets it, and invalid manifests outrank it.
  lists.catch(() => undefined);
  return reading;
}

/**
 * One paged list per kind, all at once; then the kinds inside another (credentials), in each
 * parent just listed (one list per vault, none when there is no vault). With `digests`, each
 * page's resources are digested as the page arrives, while the next one is on its way: the
 * planner needs every live digest, and the lists are mostly waiting. Once `stopped` says so,
 * the next page that arrives ends its list (pages.ts asks for no further page when the hook
 * throws), and no list starts.
 */
export async function listEveryKind(
  backend: ControlPlane,
  options: ListOptions = {},
  paging: { digests?: Map<LiveResource, string> | undefined; stopped?: () => boolean; onItems?: (kind: ResourceKind, items: readonly LiveResource[]) => void } = {},
): Promise<LiveState> {
  const { digests, stopped = () => false, onItems } = paging;
  const top = KIND_ORDER.filter((kind) => !kindSpec(kind).parentKind);
  const digesting: Promise<void>[] = [];
  // Thousands of live resources repeat the same short strings (tool policies, the model, the
  // project's marker): kept once, they take megabytes less for as long as the plan lives.
  const strings: InternTable = new Map();
  const hooked = (kind: ResourceKind): PagedListOptions => ({
    ...options,
    onPage: (items) => {
      if (stopped()) throw LISTS_ABANDONED;
      if (!digests) return;
      digesting.push(
        afterIo(async () => {
          await eachInSlices(items, (l) => {
            internStrings(l, strings);
            digestInto(digests, kind, l as LiveResource);
          });
          onItems?.(kind, items as readonly LiveResource[]);
        }),
      );
    },
  });
  const paged = digests || paging.stopped ? hooked : () => options;
  const lists = await Promise.all(top.map((kind) => backend.list(kind, paged(kind))));
  await Promise.all(digesting);
  const live = Object.fromEntries(top.map((kind, i) => [kind, lists[i]])) as Partial<LiveState>;
  for (const kind of KIND_ORDER.filter((k) => kindSpec(k).parentKind)) {
    if (stopped()) throw LISTS_ABANDONED;
    const parents = (live[kindSpec(kind).parentKind as ResourceKind] ?? []) as LiveResource[];
    live[kind] = (parents.length === 0 ? [] : await backend.list(kind, { ...options, parents: parents.map((p) => ({ id: p.id, name: p.name })) })) as never;
  }
  return live as LiveState;
}

/** A resource the planner cannot digest is left to the planner, which then says so itself. */
function digestInto(digests: Map<LiveResource, string>, kind: ResourceKind, live: LiveResource): void {
  try {
    digests.set(live, liveDigest(kind, live));
  } catch {
    // nothing recorded
  }
}

/**
 * Kinds whose list omits what comparison needs (a skill's file digests): each resource this
 * project may compare (named by a manifest, or recorded in the lockfile) is completed with one
 * `detail` read. The lockfile's own record is never used for it: a pull request can edit it.
 */
export async function completeLive(ws: Pick<Workspace, "load" | "lock" | "target">, live: LiveState): Promise<LiveState> {
  const out = { ...live };
  for (const kind of KIND_ORDER) {
    if (!kindSpec(kind).partialList) continue;
    const lockedIds = new Set(Object.values(ws.lock ? lockTable(ws.lock, kind) : {}).map((e) => e.id));
    const names = new Set(ws.load.manifests[kind].flatMap((m) => [m.name, ...m.settings.previous_names]));
    out[kind] = (await Promise.all(
      (live[kind] as LiveResource[]).map((l) => (lockedIds.has(l.id) || names.has(l.name) ? ws.target.backend.detail(kind, l) : l)),
    )) as never;
  }
  return out;
}

/** The planner's options, plus `rotate` (--rotate: resend every secret, whatever its digest says). */
/** `targetPrune` defaults to the target's `prune` setting; commands that never archive pass false. */
export type PlanFlagsOf = Omit<PlanOptions, "agentformVersion"> & { rotate?: boolean };

export async function computePlan(
  ws: Workspace,
  { rotate, targetPrune: pruneFlag, ...options }: PlanFlagsOf,
  known?: LiveState,
): Promise<{ plan: Plan; live: LiveState }> {
  // The manifests' digests are computed while the lists page (they need nothing live), and the
  // pages already listed, and each later one, compared with the manifests of their names.
  const specDigests = new Map<LoadedManifest, string>();
  const reading = known ? undefined : readings.get(ws);
  const comparer = reading ? pageComparer(ws.load.manifests) : undefined;
  const compared = comparer && reading?.eachListed(comparer.compare);
  const [live] = await Promise.all([known ?? refresh(ws), known ? undefined : digestSpecs(ws.load.manifests, specDigests), compared]);
  const targetPrune = pruneFlag ?? ws.target.settings.prune === true;
  // Versions read once per plan, whoever asks (the prune check, then the lockfile-pin review).
  const reads = new Map<string, Promise<LiveResource | null>>();
  const read: VersionReader = (kind, id, version) => {
    const key = `${kind}:${id}@${version}`;
    if (!reads.has(key)) reads.set(key, readVersion(ws.target.backend, kind, id, version));
    return reads.get(key) as Promise<LiveResource | null>;
  };
  const plan = buildPlan({
    project: ws.config.project,
    target: ws.target.name,
    origin: ws.target.origin,
    manifests: ws.load.manifests,
    live,
    lock: ws.lock,
    options: { ...options, targetPrune, agentformVersion: AGENTFORM_VERSION },
    secretStatus: await secretStatuses(ws.load.manifests, live, ws.lock, ws.secrets, rotate ?? false),
    precomputed: { specDigests, ...(pagedDigests.has(live) ? { liveDigests: pagedDigests.get(live) } : {}), ...(comparer ? { unchanged: comparer.unchanged } : {}) },
    ...(options.prune || targetPrune ? { lockedVersions: await lockedVersionsBehind(ws, live, read) } : {}),
  });
  return { plan: withUnsendable(await withPinnedVersions(plan, live, read), ws.target.backend), live };
}

/**
 * The plan with a refusal for each write its target's backend could not send (a value the `ant`
 * CLI cannot pass on): found here, the plan refuses (exit 3) what apply would find only when it
 * reached that write, after the writes before it.
 */
function withUnsendable(plan: Plan, backend: ControlPlane): Plan {
  if (!backend.unsendable) return plan;
  const refusals: Refusal[] = [];
  for (const entry of plan.resources) {
    const body = entry.request?.body;
    const err = body === undefined ? undefined : backend.unsendable(entry.kind, body);
    if (err) refusals.push({ address: entry.address, code: err.code, message: err.message, hint: err.hint ?? "" });
  }
  return refusals.length === 0 ? plan : { ...plan, refusals: [...plan.refusals, ...refusals] };
}

/**
 * Every manifest's specDigest, a slice at a time with the event loop let through between slices,
 * so list responses are taken as they come while this runs beside the paging.
 */
async function digestSpecs(manifests: Workspace["load"]["manifests"], into: Map<LoadedManifest, string>): Promise<void> {
  await eachInSlices(
    KIND_ORDER.flatMap((kind) => manifests[kind]),
    (m) => into.set(m, specDigest(m)),
  );
}

/**
 * A lockfile that pins an agent version other than live (it lags, or was edited): read that
 * version, so the plan can say whether what runtimes pin today is what the manifest says.
 * Usually there is none, and this costs no request.
 */
type VersionReader = (kind: ResourceKind, id: string, version: number) => Promise<LiveResource | null>;

async function withPinnedVersions(plan: Plan, live: LiveState, readAt: VersionReader): Promise<Plan> {
  const wanted = pinnedVersionsWanted(plan);
  if (wanted.length === 0) return plan;
  const read = new Map<string, LiveResource | null>();
  await Promise.all(wanted.map(async (w) => read.set(w.address, await readAt(w.kind, w.id, w.version))));
  return annotatePinned(plan, read, allLive(live));
}

/**
 * The versions the lockfile pins that live has moved past (runtimes still use them), read so a
 * prune never deletes what one of them references. Usually there is none: no request.
 */
async function lockedVersionsBehind(ws: Workspace, live: LiveState, readAt: VersionReader): Promise<NonNullable<PlanInput["lockedVersions"]>> {
  const behind = ws.lock ? lockedVersions(ws.lock, live).filter((v) => !v.current) : [];
  const read = await Promise.all(behind.map(async ({ kind, id, version }) => ({ kind, live: await readAt(kind, id, version) })));
  return read.flatMap(({ kind, live: version }) => (version ? [{ kind, live: version }] : []));
}

/** Every live resource, of every kind. */
export function allLive(live: LiveState): LiveResource[] {
  return KIND_ORDER.flatMap((kind) => live[kind] as LiveResource[]);
}

/** One version of a resource, or null when it does not exist (or the id is not one of that kind's). */
export async function readVersion(backend: ControlPlane, kind: ResourceKind, id: string, version: number): Promise<LiveResource | null> {
  try {
    return await backend.get(kind, id, { version });
  } catch (err) {
    if (err instanceof BackendError && (err.isNotFound || err.status === 400)) return null;
    throw err;
  }
}

/** The files each uploading manifest read from disk, by plan address (`<kind>.<name>`), for apply's executor. */
export function uploadsOf(ws: Pick<Workspace, "load">): (address: string) => ReadonlyArray<UploadFile> | undefined {
  const byAddress = new Map<string, ReadonlyArray<UploadFile> | undefined>(KIND_ORDER.flatMap((kind) => ws.load.manifests[kind].map((m) => [addressOf(kind, m.name), m.uploads] as const)));
  return (address) => byAddress.get(address);
}
