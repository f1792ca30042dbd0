/**
 * Memory stores on the local control plane (`/v1/memory_stores…`): the store itself only. Memories
 * and memory versions are data, not configuration, and are not modelled (their paths answer 404).
 * Like vaults, deleted records stay in the ordered array as holes so outstanding list cursors
 * keep their meaning.
 */
import { badRequest } from "./api-error.js";
import { resolveMemoryStoreCreate, resolveMemoryStoreUpdate, type MemoryStoreConfig } from "./memory-store-config.js";
import { createdWithin, decodeCursor, live, pageOf, type ListQuery, type Page } from "./paging.js";
import { RecordStore } from "./records.js";
import { canonicalJson, cloneJson, newId, type Obj } from "./util.js";

export interface MemoryStoreRecord extends MemoryStoreConfig {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  deleted?: boolean;
}

/** The parsed query of `GET /v1/memory_stores`. */
export type MemoryStoreListQuery = ListQuery;

/** Page sizes: the documented default 20, and 1 to 100. */
export const MEMORY_STORE_LIST_DEFAULT_LIMIT = 20;
export const MEMORY_STORE_LIST_MAX_LIMIT = 100;

/** The memory stores of one control plane. `commit` is called after every change (persistence hooks in there). */
export class MemoryStores extends RecordStore<MemoryStoreRecord> {
  constructor(commit: () => void, now: () => Date) {
    super("memory store", commit, now);
  }

  protected view(r: MemoryStoreRecord): Obj {
    return {
      id: r.id,
      type: "memory_store",
      name: r.name,
      description: r.description,
      metadata: { ...r.metadata },
      created_at: r.created_at,
      updated_at: r.updated_at,
      archived_at: r.archived_at,
    };
  }

  create(body: unknown): Obj {
    const config = resolveMemoryStoreCreate(body);
    const at = this.now().toISOString();
    const record: MemoryStoreRecord = { id: newId("memstore"), created_at: at, updated_at: at, archived_at: null, ...config };
    return this.insert(record);
  }

  /** No version lock; updated_at moves only when name, description or metadata changed. An archived store is read-only (400). */
  update(id: string, body: unknown): Obj {
    const record = this.records.get(id);
    if (record.archived_at !== null) throw badRequest(`memory store ${id} is archived and can no longer be updated`);
    const stored: MemoryStoreConfig = { name: record.name, description: record.description, metadata: record.metadata };
    const next = resolveMemoryStoreUpdate(stored, body);
    if (canonicalJson(next) === canonicalJson(stored)) return this.view(record);
    Object.assign(record, next, { updated_at: this.now().toISOString() });
    this.commit();
    return this.view(record);
  }

  list(q: MemoryStoreListQuery): Page {
    const keep = (r: MemoryStoreRecord) => live(r) && (q.includeArchived || r.archived_at === null) && createdWithin(r.created_at, q);
    return pageOf(this.records.all, decodeCursor("memory_stores", q.page), q.limit, keep, (r) => this.view(r), "memory_stores");
  }

  /**
   * One-way. Unlike the other archives here, it moves updated_at (to archived_at): the SDK says
   * archiving a memory store updates it. Archiving again is a no-op.
   */
  archive(id: string): Obj {
    const record = this.records.get(id);
    if (record.archived_at === null) {
      const at = this.now().toISOString();
      record.archived_at = at;
      record.updated_at = at;
      this.commit();
    }
    return this.view(record);
  }

  /** Archived or not. Deployments that name the store keep the id; their runs then fail (see deployments.ts). */
  delete(id: string): Obj {
    const record = this.records.get(id);
    this.records.delete(record);
    this.commit();
    return { id, type: "memory_store_deleted" };
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Live memory stores as plain data. */
  snapshot(): MemoryStoreRecord[] {
    return this.records.all.filter(live);
  }

  /** Replace the memory stores with checked records (see state-check.ts). */
  load(records: readonly MemoryStoreRecord[]): void {
    this.records.load(cloneJson([...records]));
  }
}
