/**
 * Vault bodies → the stored vault (docs/local-control-plane.md, "Vaults and credentials"). Pure.
 * Credential bodies are in credential-config.ts.
 */
import { badRequest } from "./api-error.js";
import { createMetadata, patchMetadata } from "./metadata.js";
import { resolveDisplayName } from "./skill-config.js";
import { checkKeys, expectObj, expectString } from "./util.js";

/** The mutable part of a vault. */
export interface VaultConfig {
  display_name: string;
  metadata: Record<string, string>;
}

const KEYS = ["display_name", "metadata"];

/**
 * `display_name` follows the skills' rule (1 to 255 code points on one line). Metadata has the
 * common limits; no `error_code` is documented for vaults, so a violation is a plain 400.
 */
export function resolveVaultCreate(body: unknown): VaultConfig {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  if (b.display_name === undefined || b.display_name === null) throw badRequest("display_name: Field required");
  return {
    display_name: resolveDisplayName(expectString(b.display_name, "display_name")),
    metadata: createMetadata(b.metadata, undefined),
  };
}

/**
 * A partial update: an omitted or null `display_name` keeps the stored one (it cannot be
 * cleared), and `metadata` is a patch where only `null` deletes a key.
 */
export function resolveVaultUpdate(stored: VaultConfig, body: unknown): VaultConfig {
  const b = expectObj(body, "body");
  checkKeys(b, KEYS, "body");
  return {
    display_name: b.display_name === undefined || b.display_name === null ? stored.display_name : resolveDisplayName(expectString(b.display_name, "display_name")),
    metadata: patchMetadata(stored.metadata, b.metadata, undefined, { emptyDeletes: false }),
  };
}
