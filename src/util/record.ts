/**
 * Records keyed by resource names. Names are free text, so "__proto__" or "constructor" must
 * behave like any other key: lookups see own properties only, and records made here have no
 * prototype (assigning "__proto__" on a plain object would replace its prototype instead).
 */

/** A record with no prototype, optionally filled from entries. */
export function nullRecord<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** The record's own value for `key`, never an inherited one. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** Set an own property, also for "__proto__" on a record that has a prototype. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
