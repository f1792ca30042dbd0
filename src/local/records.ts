/**
 * How the local control plane keeps its collections (agents, environments, skills, vaults,
 * memory stores, deployments), in one place so that list order, holes and 404s cannot drift
 * apart between them: records stay in creation order, which is the list order, and deleted ones
 * stay in the array as holes so outstanding list cursors keep their meaning (see paging.ts); a
 * by-id index holds the live ones, so a look-up costs O(1).
 *
 * RecordTable only holds records; RecordStore adds what a store of one collection does the same
 * way for every collection. API rules, views and everything else a kind does stay with its store.
 */
import { notFound } from "./api-error.js";
import type { Obj } from "./util.js";

/** What every stored record has. `archived_at` is absent on kinds that cannot be archived (skills). */
export interface StoredRecord {
  id: string;
  archived_at?: string | null;
  deleted?: boolean;
}

/** One collection's records: the creation-ordered array with its holes, and the index of the live ones. */
export class RecordTable<R extends StoredRecord> {
  private records: R[] = [];
  private index = new Map<string, R>();

  /** `noun` names a record in the 404 for an unknown id ("vault" → "vault vlt_… not found"). */
  constructor(private readonly noun: string) {}

  /** How many live records there are. */
  get count(): number {
    return this.index.size;
  }

  /** Every record in creation order, deleted ones included as holes: what a list page walks. */
  get all(): readonly R[] {
    return this.records;
  }

  /** The live record with this id, if any. */
  find(id: string): R | undefined {
    return this.index.get(id);
  }

  /** The live record with this id; an unknown (or deleted) id is a 404. */
  get(id: string): R {
    const record = this.index.get(id);
    if (!record) throw notFound(`${this.noun} ${id} not found`);
    return record;
  }

  /**
   * What another collection needs to know about a record it names (a deployment's vaults and
   * memory stores): whether it exists, and whether it is archived. A record that has no
   * archived_at (a skill) cannot be archived, hence the `?? null`.
   */
  status(id: string): { archived: boolean } | undefined {
    const record = this.index.get(id);
    return record ? { archived: (record.archived_at ?? null) !== null } : undefined;
  }

  /** A new record, last in list order. */
  add(record: R): void {
    this.records.push(record);
    this.index.set(record.id, record);
  }

  /** Marks the record deleted: it leaves the index but stays in the array as a hole. */
  delete(record: R): void {
    record.deleted = true;
    this.index.delete(record.id);
  }

  /** Replace every record with checked ones the table may keep (the caller copies them first). */
  load(records: R[]): void {
    this.records = records;
    this.index = new Map(records.map((r) => [r.id, r]));
  }
}

/**
 * A store that keeps one collection (skills, vaults, memory stores, deployments): its table and
 * what every such store does the same way, so that a new collection cannot read, count or create
 * differently from the others. The Store keeps two collections (agents, environments) and uses
 * RecordTable directly.
 */
export abstract class RecordStore<R extends StoredRecord> {
  protected readonly records: RecordTable<R>;

  /** `commit` is called after every change (persistence hooks in there). */
  constructor(
    noun: string,
    protected readonly commit: () => void,
    protected readonly now: () => Date,
  ) {
    this.records = new RecordTable<R>(noun);
  }

  get count(): number {
    return this.records.count;
  }

  /** See RecordTable.status: what a deployment run checks about a record it names. */
  status(id: string): { archived: boolean } | undefined {
    return this.records.status(id);
  }

  /** The record as the API shows it. */
  protected abstract view(r: R): Obj;

  get(id: string): Obj {
    return this.view(this.records.get(id));
  }

  /** A new record: kept, committed, and answered as the API shows it. */
  protected insert(record: R): Obj {
    this.records.add(record);
    this.commit();
    return this.view(record);
  }
}
