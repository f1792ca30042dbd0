/**
 * Paged lists, the same for every backend: whoever fetches a page (the SDK, or an `ant` process
 * per page), a cursor seen before (a loop) or a page past `maxPages` stops the list, each page is
 * shape-checked, and all its pages together are bounded in bytes (`maxListBytes`, charged by
 * whoever reads the bytes through the list budget of http.ts).
 */
import { createHash } from "node:crypto";
import { BackendError } from "./errors.js";
import { withListBudget, type ResponseLimits } from "./http.js";
import { checkLive, checkPage } from "./shape.js";
import { versionOf } from "../kinds/index.js";
import type { ListOptions, LiveOf, ResourceKind } from "./types.js";

/**
 * Page sizes: the API's maximum for agents, skills, vaults and memory stores (1 to 100);
 * environments have no stated maximum, and 1,000 keeps a large workspace to a few pages.
 */
export const PAGE_SIZE = { agent: 100, environment: 1000, vault: 100, skill: 100, memory_store: 100 } as const;

/**
 * List options with a page hook: `onPage` is called with each page's resources as it arrives,
 * once the next page has been asked for, so the caller's work on one page overlaps the wait for
 * the next. The objects are those `list` returns. Only kinds with one paged list call it; a page
 * holding an item that does not check out is not passed. It changes no result; a throw from it
 * ends the list with that error, and no page after the one already asked for is requested
 * (that is how a caller abandons a list it no longer needs).
 */
export interface PagedListOptions extends ListOptions {
  onPage?(items: readonly LiveOf<ResourceKind>[]): void;
}

/**
 * One page as a backend fetched it: how to fetch the next one, and a `body` property holding the
 * page as the server sent it (parsed JSON), checked here before use. The SDK's pages keep `body`
 * protected, so it is read by name rather than declared.
 */
export interface CursorPage {
  getNextPage(): Promise<CursorPage>;
}

/** Every item of a paged list, under one list budget of `limits.maxListBytes`. */
export function listAll(limits: ResponseLimits, operation: string, limit: number, first: () => Promise<CursorPage>, onPage?: (data: readonly unknown[]) => void): Promise<unknown[]> {
  return withListBudget(limits.maxListBytes, () => followPages(limits, operation, limit, first, onPage));
}

/**
 * A list's items, checked; with `onPage`, each page goes to it as it arrives. The result is
 * exactly the unhooked list's: items that checked out on their page are reused, and the rest are
 * checked again at the end, in order, so the same item raises the same error after the same requests.
 */
export async function listChecked<K extends ResourceKind>(kind: K, operation: string, onPage: PagedListOptions["onPage"], pages: (page?: (data: readonly unknown[]) => void) => Promise<unknown[]>): Promise<LiveOf<K>[]> {
  if (!onPage) return (await pages()).map((item) => checkLive(kind, item, operation));
  const checked = new Map<unknown, LiveOf<K>>();
  const items = await pages((data) => {
    const page: LiveOf<K>[] = [];
    for (const item of data) {
      try {
        const live = checkLive(kind, item, operation);
        checked.set(item, live);
        page.push(live);
      } catch {
        return;
      }
    }
    onPage(page);
  });
  return items.map((item) => checked.get(item) ?? checkLive(kind, item, operation));
}

/**
 * Follow `next_page` from the first page to the last. Cursors are remembered by digest, so memory
 * stays small however long they are.
 */
export async function followPages(limits: ResponseLimits, operation: string, limit: number, first: () => Promise<CursorPage>, onPage?: (data: readonly unknown[]) => void): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let page = await first();
  for (let pages = 1; ; pages++) {
    const { data, next } = checkPage((page as unknown as { body: unknown }).body, limit, operation);
    for (const item of data) items.push(item);
    if (next === null) {
      onPage?.(data);
      return items;
    }
    const digest = createHash("sha256").update(next).digest("hex");
    if (seen.has(digest)) {
      throw new BackendError({ operation, problem: "pagination-loop", serverMessage: `page ${pages + 1} would repeat an earlier cursor` });
    }
    if (pages >= limits.maxPages) {
      throw new BackendError({ operation, problem: "page-limit", serverMessage: `the list did not end within ${limits.maxPages} pages` });
    }
    seen.add(digest);
    // The next page is asked for first: the caller's work on this one fills the wait.
    const nextPage = page.getNextPage();
    try {
      onPage?.(data);
    } catch (err) {
      nextPage.catch(() => undefined);
      throw err;
    }
    page = await nextPage;
  }
}

/** A resource's versions oldest first, whatever order the server paged them in. */
export function oldestFirst<K extends ResourceKind>(kind: K, versions: LiveOf<K>[]): LiveOf<K>[] {
  return versions.sort((a, b) => (versionOf(kind, a) ?? 0) - (versionOf(kind, b) ?? 0));
}
