/**
 * agentform's own retry and pacing policy, wrapped around any ControlPlane (sdk today, ant
 * later), so both backends get the same behaviour (docs/apply.md):
 *
 * - Retries: 429, 408, 5xx and lost responses (none, cut off, or stalled) are retried with
 *   jittered exponential backoff; a server's Retry-After is honoured up to a cap. Spend-limit
 *   429s, other 4xx and unusable answers (too large, not JSON, malformed, endless lists) are not.
 * - Pacing: writes take a token from a bucket refilled at `writesPerMinute`, cut by each 429
 *   and raised again after runs of successes (AIMD, pacing.ts), and at most
 *   `environmentConcurrency` environment calls are in flight (the API's documented limit).
 * - Safe create: a create that may have committed without us seeing the answer (no response,
 *   or a 5xx) is never blindly resent. We first list the kind and look for a resource with the
 *   same name carrying this project's ownership marker; if one exists it is the one we made.
 *   Kinds without metadata (skills: `ownership: "lockfile"`) carry no marker, so a same-named
 *   resource found then cannot be told from someone else's: it is reported with its ids and
 *   never adopted, and the create is not resent. Only when none exists is it sent again.
 * - Ambiguous agent update: the agent is re-read. Same version as `expectedVersion`: the write
 *   did not land, so it is resent (the version lock makes that safe). A newer version whose
 *   content reflects every field we sent, reached in exactly one step from `expectedVersion`:
 *   the write landed, and the re-read agent is returned. Anything else is resent unchanged and
 *   the server's version lock answers 409, which the executor reports as "changed since plan".
 * - Environment updates are idempotent (same body, same result), archive and delete are
 *   idempotent once we account for "already archived"/"already gone" after a lost response.
 *   A skill update uploads a new version; resent after a lost response it makes a second version
 *   with the same files, which changes nothing anyone compares.
 */
import { SafetyError, type AgentformError } from "../errors.js";
import { BackendError } from "./errors.js";
import { bodyName } from "./shape.js";
import { canonicalJson, canonicalLive, ownerOf } from "../normalize/index.js";
import type { ControlPlane, ListOptions, LiveOf, LiveResource, RequestBody, ResourceKind } from "./types.js";
import { inParent, kindSpec, parentOf, versionOf } from "../kinds/index.js";
import { applyMetadataPatch } from "../kinds/values.js";
import { WriteBucket, type PacingStats } from "./pacing.js";

export { WriteBucket, type PacingStats } from "./pacing.js";

/** What `onRetry` is told about each retry (for progress output). */
export interface RetryInfo {
  operation: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface ResilienceOptions {
  /** The ownership marker value (`agentform.project`) used to recognise our own creates. */
  project: string;
  /**
   * Write pacing: the highest rate per minute; default 150, about half the API's documented 300
   * creates a minute, which the runtime's own session creates share. 429s lower it for a while.
   */
  writesPerMinute?: number;
  /** Environment calls in flight at once; default 5. */
  environmentConcurrency?: number;
  /** Attempts per call including the first; default 6. */
  maxAttempts?: number;
  /** Longest Retry-After honoured; default 30 s. */
  maxRetryAfterMs?: number;
  onRetry?: (info: RetryInfo) => void;
  /**
   * Called right before every write attempt, after pacing and back-off waits: the run lock's
   * fence. A process paused during a wait must not send the write once it lost the lock.
   */
  beforeWrite?: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

const BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Writes per minute when the target sets no `writes_per_minute`. */
export const DEFAULT_WRITES_PER_MINUTE = 150;

/** A ControlPlane under agentform's policy, which can say what pacing did. */
export interface ResilientControlPlane extends ControlPlane {
  /** 429s answered to writes so far, and the rates pacing went through. */
  pacing(): PacingStats;
}

/** Wrap a backend with agentform's retry, pacing and safe-create policy. */
export function withResilience(backend: ControlPlane, options: ResilienceOptions): ResilientControlPlane {
  return new ResilientBackend(backend, options);
}

/** A ControlPlane that forwards to `backend` under the retry, pacing and safe-create policy. */
class ResilientBackend implements ResilientControlPlane {
  readonly backend: "sdk" | "ant";
  readonly baseUrl: string;
  /** The inner backend's own, when it has one: a backend without it sends any body. */
  readonly unsendable?: (kind: ResourceKind, body: RequestBody) => AgentformError | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  private readonly bucket: WriteBucket;
  private readonly envSlots: Semaphore;

  constructor(
    private readonly inner: ControlPlane,
    private readonly options: ResilienceOptions,
  ) {
    this.backend = inner.backend;
    this.baseUrl = inner.baseUrl;
    if (inner.unsendable) this.unsendable = inner.unsendable.bind(inner);
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    const now = options.now ?? Date.now;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 6);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.bucket = new WriteBucket(options.writesPerMinute ?? DEFAULT_WRITES_PER_MINUTE, now, this.sleep);
    this.envSlots = new Semaphore(Math.max(1, options.environmentConcurrency ?? 5));
  }

  pacing(): PacingStats {
    return this.bucket.stats();
  }


  list<K extends ResourceKind>(kind: K, listOptions?: ListOptions): Promise<LiveOf<K>[]> {
    return this.retrying(`list ${kind}s`, kind, false, () => this.inner.list(kind, listOptions));
  }

  get<K extends ResourceKind>(kind: K, id: string, getOptions?: { version?: number }): Promise<LiveOf<K>> {
    return this.retrying(`get ${kind} ${id}`, kind, false, () => this.inner.get(kind, id, getOptions));
  }

  async create<K extends ResourceKind>(kind: K, body: RequestBody): Promise<LiveOf<K>> {
    const name = bodyName(kind, body);
    // A kind inside another (a credential in its vault) is ours only inside the parent it was sent to.
    const parent = parentOf(kind, body);
    const operation = `create ${kind} ${name !== undefined ? JSON.stringify(name) : ""}`.trim();
    let mayHaveCommitted = false;
    for (let attempt = 1; ; attempt++) {
      if (mayHaveCommitted) {
        const existing = await this.findOwned(kind, name, operation, parent);
        if (existing) return existing;
      }
      try {
        return await this.once(kind, true, () => this.inner.create(kind, body));
      } catch (err) {
        const error = asBackendError(err, operation);
        const existing = await this.createRecovered(kind, name, operation, error, mayHaveCommitted, parent);
        if (existing) return existing;
        // A 429 is refused before any work; anything else retryable may have committed.
        if (error.status !== 429) mayHaveCommitted = true;
        if (attempt >= this.maxAttempts) {
          if (mayHaveCommitted) {
            const found = await this.findOwned(kind, name, operation, parent);
            if (found) return found;
          }
          throw error;
        }
        await this.backoff(operation, error, attempt);
      }
    }
  }

  /**
   * A failed create attempt that may still have made the resource: our own resource if it is
   * there now, undefined to go on retrying; throws `error` when it must not be retried.
   */
  private async createRecovered<K extends ResourceKind>(
    kind: K,
    name: string | undefined,
    operation: string,
    error: BackendError,
    mayHaveCommitted: boolean,
    parent?: string,
  ): Promise<LiveOf<K> | undefined> {
    // A duplicate-name 409 right after a lost response is our own earlier attempt.
    if (error.isConflict && mayHaveCommitted) {
      const existing = await this.findOwned(kind, name, operation, parent);
      if (existing) return existing;
    }
    if (!error.isRetryable) {
      // An unusable answer (too large, not JSON, malformed) may still follow a commit:
      // look once, but never resend a create the server may have made.
      if (error.isAmbiguous) {
        const existing = await this.findOwnedOrNone(kind, name, operation, parent);
        if (existing) return existing;
      }
      throw error;
    }
    return undefined;
  }

  async update<K extends ResourceKind>(
    kind: K,
    id: string,
    body: RequestBody,
    updateOptions?: { expectedVersion?: number },
  ): Promise<LiveOf<K>> {
    const operation = `update ${kind} ${id}`;
    const expected = updateOptions?.expectedVersion;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(kind, true, () => this.inner.update(kind, id, body, updateOptions));
      } catch (err) {
        const error = asBackendError(err, operation);
        if (!error.isRetryable || attempt >= this.maxAttempts) throw error;
        // Only versioned kinds send an expected version; a lost update of one is recognisable.
        if (expected !== undefined && error.status !== 429) {
          const landed = await this.updateLanded(kind, id, body, expected);
          if (landed) return landed as LiveOf<K>;
        }
        await this.backoff(operation, error, attempt);
      }
    }
  }

  async archive<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>> {
    const operation = `archive ${kind} ${id}`;
    let mayHaveCommitted = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(kind, true, () => this.inner.archive(kind, id));
      } catch (err) {
        const error = asBackendError(err, operation);
        if (mayHaveCommitted && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429) {
          // Archiving twice may be refused; if it is archived now, our earlier attempt did it.
          const live = await this.get(kind, id);
          if (live.archived_at) return live;
        }
        if (!error.isRetryable || attempt >= this.maxAttempts) throw error;
        if (error.status !== 429) mayHaveCommitted = true;
        await this.backoff(operation, error, attempt);
      }
    }
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    const operation = `delete ${kind} ${id}`;
    let mayHaveCommitted = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.once(kind, true, () => this.inner.delete(kind, id));
        return;
      } catch (err) {
        const error = asBackendError(err, operation);
        if (mayHaveCommitted && error.isNotFound) return;
        if (!error.isRetryable || attempt >= this.maxAttempts) throw error;
        if (error.status !== 429) mayHaveCommitted = true;
        await this.backoff(operation, error, attempt);
      }
    }
  }

  files<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<Record<string, Uint8Array>> {
    return this.retrying(`read the files of ${kind} ${live.id}`, kind, false, () => this.inner.files(kind, live));
  }

  detail<K extends ResourceKind>(kind: K, live: LiveOf<K>): Promise<LiveOf<K>> {
    return this.retrying(`read the content of ${kind} ${live.id}`, kind, false, () => this.inner.detail(kind, live));
  }

  listVersions<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>[]> {
    return this.retrying(`list versions of ${kind} ${id}`, kind, false, () => this.inner.listVersions(kind, id));
  }

  /** The server's Retry-After, within what agentform honours. */
  private retryAfterMs(error: BackendError): number | undefined {
    return error.retryAfterSeconds === undefined ? undefined : Math.min(Math.max(0, error.retryAfterSeconds * 1000), this.maxRetryAfterMs);
  }

  private delayFor(error: BackendError, attempt: number): number {
    const retryAfter = this.retryAfterMs(error);
    if (retryAfter !== undefined) return retryAfter;
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
    // "Equal jitter": never less than half the ceiling, so backoff still grows, but spread out.
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /**
   * Run one request: pace it if it writes (telling the bucket how it was answered), hold an
   * environment slot while it is in flight.
   */
  private async once<T>(kind: ResourceKind, write: boolean, fn: () => Promise<T>): Promise<T> {
    const ticket = write ? await this.bucket.take() : undefined;
    const fenced = write && this.options.beforeWrite ? async () => ((await this.options.beforeWrite?.()), fn()) : fn;
    try {
      const result = await (kindSpec(kind).limitedInFlight ? this.envSlots.run(fenced) : fenced());
      if (ticket !== undefined) this.bucket.succeeded(ticket);
      return result;
    } catch (err) {
      // Any 429 the retry policy retries (not spend or ramp limits) slows every later write.
      if (ticket !== undefined && err instanceof BackendError && err.status === 429 && err.isRetryable) this.bucket.rateLimited(ticket, this.retryAfterMs(err));
      throw err;
    }
  }

  private async backoff(operation: string, error: BackendError, attempt: number): Promise<void> {
    const delayMs = this.delayFor(error, attempt);
    this.options.onRetry?.({ operation, attempt, delayMs, reason: reasonOf(error) });
    await this.sleep(delayMs);
  }

  /** Plain retry loop for reads and idempotent writes. */
  private async retrying<T>(operation: string, kind: ResourceKind, write: boolean, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(kind, write, fn);
      } catch (err) {
        const error = asBackendError(err, operation);
        if (!error.isRetryable || attempt >= this.maxAttempts) throw error;
        await this.backoff(operation, error, attempt);
      }
    }
  }

  /**
   * After a create that may have committed: our resource of this kind with this name, if the
   * workspace has one now; undefined when the create did not land (it may be sent again).
   */
  private async findOwned<K extends ResourceKind>(kind: K, name: string | undefined, operation: string, parent?: string): Promise<LiveOf<K> | undefined> {
    const all = name === undefined ? [] : await this.retrying(`list ${kind}s`, kind, false, () => this.inner.list(kind));
    return this.claim(kind, name, inParent(kind, all, parent), operation);
  }

  /** findOwned for a last look: a failed list leaves the caller's own error to report. */
  private async findOwnedOrNone<K extends ResourceKind>(kind: K, name: string | undefined, operation: string, parent?: string): Promise<LiveOf<K> | undefined> {
    let all: LiveOf<K>[];
    try {
      all = name === undefined ? [] : await this.retrying(`list ${kind}s`, kind, false, () => this.inner.list(kind));
    } catch {
      return undefined;
    }
    return this.claim(kind, name, inParent(kind, all, parent), operation);
  }

  /**
   * Which of `all` our possibly-committed create made. With an ownership marker, the oldest
   * same-named resource carrying ours. Without one (kinds owned through the lockfile alone),
   * nothing tells our create from someone else's same-named resource: adopting it could take
   * over another's, and sending the create again could make a duplicate, so any same-named
   * resource (or a create that named none) stops here with what was found.
   */
  private claim<K extends ResourceKind>(kind: K, name: string | undefined, all: readonly LiveOf<K>[], operation: string): LiveOf<K> | undefined {
    if (kindSpec(kind).ownership === "marker") {
      if (name === undefined) return undefined;
      const mine = all.filter((r) => r.name === name && ownerOf(r) === this.options.project);
      mine.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
      return mine[0];
    }
    const same = all.filter((r) => r.name === name);
    if (name !== undefined && same.length === 0) return undefined;
    throw unconfirmedCreate(kind, name, same.map((r) => r.id), operation);
  }

  /**
   * After an update of a versioned resource failed without a clear answer: did it land? Only
   * when it moved exactly one version past `expected` and now shows every field we sent.
   */
  private async updateLanded(kind: ResourceKind, id: string, body: RequestBody, expected: number): Promise<LiveResource | undefined> {
    const live = await this.get(kind, id);
    const version = versionOf(kind, live);
    if (version === undefined || version === expected) return undefined;
    const versions = await this.listVersions(kind, id);
    const index = versions.findIndex((v) => versionOf(kind, v) === version);
    const previous = versions[index - 1];
    if (index < 1 || previous === undefined || versionOf(kind, previous) !== expected) return undefined;
    return bodyReflected(kind, body, previous, live) ? live : undefined;
  }
}

/**
 * Did our update produce `live` from `previous` (the version the update was locked to)? The body
 * is replayed onto `previous` with the API's update semantics (top-level fields replaced,
 * metadata patched) and the result compared with `live` in canonical form, so server-resolved
 * defaults (tool configs, model effort, roster versions) do not count as differences. A false
 * positive only means someone else made the very same change, which leaves live as we want it.
 */
export function bodyReflected(kind: ResourceKind, body: RequestBody, previous: LiveResource, live: LiveResource): boolean {
  const replayed: Record<string, unknown> = { ...(previous as unknown as Record<string, unknown>) };
  for (const key of ["id", "type", "version", "created_at", "updated_at", "archived_at"]) delete replayed[key];
  for (const [key, sent] of Object.entries(body)) {
    if (key === "version") continue;
    if (key === "metadata") {
      replayed.metadata = applyMetadataPatch(replayed.metadata, sent, kindSpec(kind).emptyMetadataDeletes);
      continue;
    }
    if (key === "model" && typeof sent === "object" && sent !== null && !("effort" in sent)) {
      // Omitting effort keeps the stored one when the model id is unchanged (the SDK documents it).
      const before = replayed.model as Record<string, unknown> | undefined;
      replayed.model = before && before.id === (sent as Record<string, unknown>).id ? { ...sent, effort: before.effort } : sent;
      continue;
    }
    replayed[key] = sent;
  }
  // Both sides in the live canonical form, the replayed one keeping the resource's id, so roster
  // entries pointing at an agent itself read as `self` on both sides.
  replayed.id = live.id;
  const expected = canonicalLive(kind, replayed as unknown as LiveResource);
  return canonicalJson(expected) === canonicalJson(canonicalLive(kind, live, expected));
}

/** Most ids an unconfirmed create lists (a name reused that often needs a look anyway). */
const MAX_IDS_SHOWN = 10;

/** A create that may have gone through, of a kind whose resources carry no ownership marker. */
function unconfirmedCreate(kind: ResourceKind, name: string | undefined, ids: string[], operation: string): SafetyError {
  const shown = ids.slice(0, MAX_IDS_SHOWN).join(", ") + (ids.length > MAX_IDS_SHOWN ? `, and ${ids.length - MAX_IDS_SHOWN} more` : "");
  const found =
    name === undefined
      ? `the request gave the ${kind} no name, so agentform cannot look for what it may have created`
      : `a ${kind} named ${JSON.stringify(name)} now exists (${ids.length === 1 ? "id" : "ids"} ${shown}); agentform cannot tell whether it created it`;
  return new SafetyError("create-unconfirmed", `${operation} failed without a clear answer, and may have gone through: ${found}.`, {
    hint:
      `Check the ${kind}s ${name === undefined ? "created just now" : `named ${JSON.stringify(name)}`} in the workspace, delete duplicates, then run \`agentform plan\`; ` +
      "to keep one as this manifest's, adopt it with `agentform: {adopt: true}`. agentform does not send the create again on its own: that could make a duplicate.",
    details: { kind, name: name ?? null, ids },
  });
}

function asBackendError(err: unknown, _operation: string): BackendError {
  // A backend raises BackendError for a failed request; anything else (a body it refused before
  // sending, or a bug) is never worth retrying.
  if (err instanceof BackendError) return err;
  throw err;
}

function reasonOf(error: BackendError): string {
  if (error.problem === "timeout") return "response body too slow";
  if (error.problem === "incomplete") return "response cut off";
  if (error.status === undefined) return "no response";
  if (error.status === 429) return `rate limited (HTTP 429${error.retryAfterSeconds !== undefined ? `, retry after ${error.retryAfterSeconds}s` : ""})`;
  return `HTTP ${error.status}`;
}

/** At most `limit` callers inside `run` at once; the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
