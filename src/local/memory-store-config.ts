/**
 * Memory store bodies → the stored memory store (docs/local-control-plane.md, "Memory stores").
 * Pure. The same functions check request bodies and, through state-check.ts, the memory stores of
 * a state file.
 */
import { badRequest } from "./api-error.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import { checkKeys, expectObj, expectString } from "./util.js";

/** The mutable part of a memory store. `description` is "" when unset, never null (as the SDK documents). */
export interface MemoryStoreConfig {
  name: string;
  description: string;
  metadata: Record<string, string>;
}

/** Limits the SDK documents. */
export const MEMORY_STORE_NAME_MAX = 255;
export const MEMORY_STORE_DESCRIPTION_MAX = 1024;

const KEYS = ["name", "description", "metadata"];
// C0 and C1 control characters: the SDK says names are "without control characters".
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** 1 to 255 code points without control characters; names are not unique. */
function resolveName(v: unknown): string {
  const name = expectString(v, "name", { min: 1, max: MEMORY_STORE_NAME_MAX });
  if (CONTROL.test(name)) throw badRequest("name: must not contain control characters");
  return name;
}

/** Free text up to 1,024 code points (newlines allowed: it is prose for the agent's system prompt); null and absent mean "". */
function resolveDescription(v: unknown): string {
  if (v === undefined || v === null) return "";
  return expectString(v, "description", { max: MEMORY_STORE_DESCRIPTION_MAX });
}

/** Resolve a create body: `name` is required; metadata has the common limits (a plain 400, no `error_code`). */
export function resolveMemoryStoreCreate(body: unknown): MemoryStoreConfig {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  if (b.name === undefined || b.name === null) throw badRequest("name: Field required");
  return { name: resolveName(b.name), description: resolveDescription(b.description), metadata: createMetadata(b.metadata, undefined) };
}

/**
 * A partial update: an omitted or null `name` keeps the stored one (it cannot be cleared, and the
 * SDK's type allows null, as for vaults); `description` "" or null clears it; `metadata` is a
 * patch where only null deletes a key (`""` is stored, as the SDK documents only null).
 */
export function resolveMemoryStoreUpdate(stored: MemoryStoreConfig, body: unknown): MemoryStoreConfig {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  return {
    name: b.name === undefined || b.name === null ? stored.name : resolveName(b.name),
    description: b.description === undefined ? stored.description : resolveDescription(b.description),
    metadata: patchMetadata(stored.metadata, b.metadata, undefined, { emptyDeletes: false }),
  };
}
