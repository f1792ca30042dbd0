/**
 * List paging shared by every collection of the local control plane. Records are kept in creation
 * order, so a cursor is just a list name and a position: a page costs O(page), and deleted
 * records stay in their arrays as holes so outstanding cursors keep their meaning.
 */
import { badRequest } from "./api-error.js";
import type { Obj } from "./util.js";

/** One page of a list, in the API's PageCursor shape. */
export interface Page {
  data: Obj[];
  next_page: string | null;
}

/** Whether a record still exists: deleted ones stay in their arrays as holes. */
export const live = <T extends { deleted?: boolean }>(r: T): boolean => r.deleted !== true;

/** The name of a list that belongs to one record (an agent's versions, a vault's credentials), as a cursor carries it. */
export function scopedList(name: string, id: string): string {
  return `${name}:${id.replace(/[^A-Za-z0-9_]/g, "")}`;
}

/** Cursors are opaque to clients; inside they name the list and the next position. */
function encodeCursor(list: string, index: number): string {
  return Buffer.from(`${list}:${index}`, "utf8").toString("base64url");
}

/** The position a cursor names; a cursor of another list (or garbage) is the client's error. */
export function decodeCursor(list: string, page: string | null): number {
  if (page === null || page === "") return 0;
  const text = Buffer.from(page, "base64url").toString("utf8");
  const match = /^([a-z_]+(?::[A-Za-z0-9_]+)?):(\d+)$/.exec(text);
  if (!match || match[1] !== list) throw badRequest("page: invalid page cursor for this list");
  return Number(match[2]);
}

/** Walk `items` from `start`, keep up to `limit` matches, and report whether another match exists. */
export function pageOf<T>(items: readonly T[], start: number, limit: number, keep: (item: T) => boolean, view: (item: T) => Obj, list: string): Page {
  const data: Obj[] = [];
  let i = start;
  for (; i < items.length && data.length < limit; i++) {
    const item = items[i] as T;
    if (keep(item)) data.push(view(item));
  }
  let next: number | null = null;
  for (let j = i; j < items.length; j++) {
    if (keep(items[j] as T)) {
      next = j;
      break;
    }
  }
  return { data, next_page: next === null ? null : encodeCursor(list, next) };
}

/** The `created_at[gte]` / `created_at[lte]` filters of a list, as epoch milliseconds (null: not given). */
export interface CreatedRange {
  createdGte: number | null;
  createdLte: number | null;
}

/** The parsed query of a list that filters on archived and on created_at (agents, memory stores, deployments). */
export interface ListQuery extends CreatedRange {
  limit: number;
  page: string | null;
  includeArchived: boolean;
}

/** Whether a record created at `createdAt` passes both bounds (each inclusive). */
export function createdWithin(createdAt: string, range: CreatedRange): boolean {
  if (range.createdGte === null && range.createdLte === null) return true;
  const t = Date.parse(createdAt);
  return (range.createdGte === null || t >= range.createdGte) && (range.createdLte === null || t <= range.createdLte);
}
