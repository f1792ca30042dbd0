/** Awaiting a promise that must reject with an error of one class, for closer inspection. */
import { expect } from "vitest";

/** The error `p` rejects with, checked to be a `type`; fails the test when `p` resolves. */
export async function rejectionOf<E extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
