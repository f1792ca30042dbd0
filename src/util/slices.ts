/**
 * Long loops that let the event loop through now and then. A plan lists the live workspace while
 * its manifests load and digest: each page that arrives should be taken, and the next one asked
 * for, within a few milliseconds, not once a loop over thousands of files is over.
 */
import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * About how long a slice runs before the event loop is let through. A page's body arrives in
 * several reads, each waiting out the slice in progress: with 1 ms slices a 5,000-agent plan
 * spent about 3 % longer paging; shorter slices cost only their yields (a few µs each).
 */
const SLICE_MS = 0.25;

/** `fn` over every item, in order, in slices of about {@link SLICE_MS} ms. */
export async function eachInSlices<T>(items: readonly T[], fn: (item: T, index: number) => void): Promise<void> {
  let since = performance.now();
  for (let i = 0; i < items.length; i++) {
    if (performance.now() - since > SLICE_MS) {
      await nextTurn();
      since = performance.now();
    }
    fn(items[i] as T, i);
  }
}

/** `fn` over every item, in order, in slices of about {@link SLICE_MS} ms, with its results. */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R): Promise<R[]> {
  const out: R[] = [];
  await eachInSlices(items, (item, i) => out.push(fn(item, i)));
  return out;
}

/**
 * `fn`, once the event loop has polled for I/O once more. Work a list's page hook would do at
 * once delays the next page: the SDK sends the request for it only after the hook returns (its
 * request path is asynchronous), and a server in this process (the local control plane) reads
 * it only at its next poll. Done after that poll instead, the work fills the wait for the page.
 */
export function afterIo<T>(fn: () => T | Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve))).then(fn);
}

/** Let the event loop through once (between two larger steps). */
export function letThrough(): Promise<void> {
  return nextTurn();
}
