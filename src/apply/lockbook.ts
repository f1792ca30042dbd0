/**
 * Lockfile bookkeeping during an apply: the entries each step records, and the saves.
 *
 * Saves run one at a time so an older snapshot never lands last. Writes that complete while a
 * save is in flight share the next one (one fsync for many writes on large applies); every write
 * still waits for a save that includes it before it is reported done.
 */
import { addressOf, KINDS, kindSpec, pinOf as pinOfLive, versionOf } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import { cloneLock } from "../lock/io.js";
import { lockTable, type LockedEntry } from "../lock/table.js";
import type { Lockfile } from "../lock/types.js";
import { canonicalJson, liveDigest } from "../normalize/index.js";
import type { PlannedResource } from "../plan/types.js";
import { ownValue, setOwn } from "../util/record.js";

/** Where a by-name reference points: an id and, for kinds references pin, a version number or id. */
export interface Pin {
  id: string;
  version?: number | string;
}

export class LockBook {
  readonly lock: Lockfile;
  /** Counts changes to `lock`; comparing counters is much cheaper than serializing a big lockfile. */
  changes = 0;
  savedChanges = 0;
  saveFailed = false;
  /**
   * Pins by plan address: locked pins, then what the plan saw for unchanged resources, then (as
   * entries complete) the ids and versions this run wrote.
   */
  readonly pins = new Map<string, Pin>();
  private running: Promise<void> = Promise.resolve();
  private next: Promise<void> | null = null;

  constructor(
    start: Lockfile,
    private readonly persist: (lock: Lockfile) => Promise<void>,
    private readonly fence: () => Promise<void>,
  ) {
    this.lock = cloneLock(start);
  }

  /** Seed the pins from the lockfile and from the plan's unchanged entries. */
  seedPins(resources: readonly PlannedResource[]): void {
    for (const kind of Object.keys(KINDS) as ResourceKind[]) {
      for (const [name, entry] of Object.entries(lockTable(this.lock, kind))) this.pins.set(addressOf(kind, name), pinOf(entry.id, entry.version));
    }
    for (const r of resources) {
      if (r.request === null && r.id && r.basis) this.pins.set(r.address, pinOf(r.id, r.basis.version ?? r.basis.pin));
    }
  }

  /** Save if anything changed since the last save; concurrent callers share one save. */
  save(): Promise<void> {
    if (this.next) return this.next;
    const run = this.running.then(async () => {
      this.next = null;
      const upTo = this.changes;
      if (upTo === this.savedChanges) return;
      try {
        await this.fence();
        await this.persist(cloneLock(this.lock));
      } catch (err) {
        this.saveFailed = true;
        throw err;
      }
      this.savedChanges = Math.max(this.savedChanges, upTo);
    });
    this.next = run;
    this.running = run.catch(() => undefined);
    return run;
  }

  /**
   * Entries without a request still get their lockfile entry, from what the plan observed.
   * `files`: for uploading kinds, the digests of the manifest's files, which live equals (there
   * is no change), recorded for people and runtimes (a plan never reads them back: see completeLive).
   */
  recordUnchanged(entry: PlannedResource, files?: Record<string, string>): void {
    const table = lockTable(this.lock, entry.kind);
    if (dropsEntry(entry)) return this.remove(table, entry.name);
    if (!entry.id || !entry.basis || entry.specDigest === null) return;
    const lockedVersion = entry.basis.version ?? entry.basis.pin;
    const version = lockedVersion !== undefined ? { version: lockedVersion } : {};
    // Details the plan does not carry (a skill's files) stay as the entry had them: a noop means live did not move.
    const kept = ownValue(table, entry.name);
    const detail = files ? { files } : kept && kept.id === entry.id && kept.files ? { files: kept.files } : {};
    this.set(table, entry.name, { id: entry.id, ...version, specDigest: entry.specDigest, liveDigest: entry.basis.liveDigest, ...detail, ...previousNames(entry) });
  }

  /** Record what a write left live; returns the id and, for versioned kinds, the version. */
  recordWritten(entry: PlannedResource, live: LiveResource, specDigest: string): { id: string; version?: number } {
    const table = lockTable(this.lock, entry.kind);
    if (entry.renamedFrom !== undefined) this.remove(table, entry.renamedFrom);
    const version = versionOf(entry.kind, live);
    const pinned = pinOfLive(entry.kind, live);
    const detail = (kindSpec(entry.kind).partialList?.lockDetail as ((l: LiveResource) => object) | undefined)?.(live) ?? {};
    this.set(table, entry.name, { id: live.id, ...(pinned !== undefined ? { version: pinned } : {}), specDigest, liveDigest: liveDigest(entry.kind, live), ...detail, ...previousNames(entry) });
    this.pins.set(entry.address, pinOf(live.id, pinned));
    return { id: live.id, ...(version !== undefined ? { version } : {}) };
  }

  /** An archived or deleted resource leaves the lockfile (under its name, and any name holding its id). */
  forget(entry: PlannedResource): void {
    const table = lockTable(this.lock, entry.kind);
    for (const [name, locked] of Object.entries(table)) {
      if (name === entry.name || locked.id === entry.id) this.remove(table, name);
    }
    this.pins.delete(entry.address);
  }

  /** Set an entry, counting it as a change only when it differs. */
  private set(table: Record<string, LockedEntry>, name: string, value: LockedEntry): void {
    const before = ownValue(table, name);
    // Key order differs between an entry read from the file and one built here: compare canonically.
    if (before && canonicalJson(before) === canonicalJson(value)) return;
    setOwn(table, name, value);
    this.changes++;
  }

  private remove(table: Record<string, unknown>, name: string): void {
    if (!Object.prototype.hasOwnProperty.call(table, name)) return;
    delete table[name];
    this.changes++;
  }
}

/**
 * The manifest's previous names, which runtimes still asking for an old name resolve through
 * (format 1.2): from the plan, so what is recorded is exactly what plan compares against.
 */
function previousNames(entry: PlannedResource): { previous_names?: string[] } {
  return entry.previousNames && entry.previousNames.length > 0 ? { previous_names: [...entry.previousNames] } : {};
}

/** Lockfile-only entries whose lockfile entry goes (gone, foreign, duplicate), with no API write. */
export function dropsEntry(entry: PlannedResource): boolean {
  const reason = entry.lockOnly?.reason;
  return reason === "gone" || reason === "foreign" || reason === "duplicate";
}

function pinOf(id: string, version: number | string | undefined): Pin {
  return version === undefined ? { id } : { id, version };
}
