/**
 * One instance of each repeated string. JSON.parse makes a new string for every value it reads,
 * so thousands of listed resources each hold their own "always_allow", model id and project
 * marker; equal strings cannot be told apart in JavaScript, so keeping the first one is free of
 * any change in meaning, and saves megabytes.
 */

/** Strings longer than this are rarely repeated (prompts, descriptions): not worth a table entry. */
const MAX_INTERNED_LENGTH = 128;
/** A table never grows past this, whatever a server sends. */
const MAX_TABLE_SIZE = 50_000;

export type InternTable = Map<string, string>;

/**
 * Replace, in place, each short string member or element of `value` (at any depth) by the equal
 * string `table` holds, recording the new ones. Frozen objects and arrays are left as they are.
 */
export function internStrings(value: unknown, table: InternTable): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object" || Object.isFrozen(node)) continue;
    const container = node as Record<string, unknown>;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      const member = container[key];
      if (typeof member === "string") {
        if (member.length > MAX_INTERNED_LENGTH) continue;
        const known = table.get(member);
        if (known !== undefined) container[key] = known;
        else if (table.size < MAX_TABLE_SIZE) table.set(member, member);
      } else if (member !== null && typeof member === "object") {
        stack.push(member);
      }
    }
  }
}
