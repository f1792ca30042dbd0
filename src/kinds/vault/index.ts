/**
 * The vault kind: a named container of credentials, owned through its metadata marker,
 * unversioned (digest-checked before each write), updated in place. Its identity is its
 * `display_name`, as the API names it. Its `credentials:` map holds the credential manifests
 * (src/kinds/credential/), each named `<vault>/<local name>`; credentials made in the Console
 * stay as they are until a manifest claims them.
 */
import type { KindSpec } from "../spec.js";
import { escapePointer } from "../../util/pointer.js";
import { credentialImportEntry } from "../credential/import.js";
import { canonicalMetadata, createFieldsOf, isObj, minimalManifest, type Obj } from "../values.js";

function canonicalVault(src: Obj): Obj {
  return { display_name: src.display_name ?? null, metadata: canonicalMetadata(src.metadata) };
}

/**
 * The credential manifests a vault manifest holds. A credential is renamed with its vault:
 * `previous_names` of the vault carry over to it (the loader derives them).
 */
function credentialsOf(spec: Obj, vault: string): Array<{ name: string; pointer: string; spec: Obj; previousNames: string[] }> {
  const map = isObj(spec.credentials) ? spec.credentials : {};
  return Object.entries(map).flatMap(([local, c]) => {
    if (!isObj(c)) return [];
    const name = `${vault}/${local}`;
    const child: Obj = { display_name: name, vault_id: { ref: vault }, auth: c.auth };
    if (c.metadata !== undefined) child.metadata = c.metadata;
    const settings = isObj(c.agentform) ? c.agentform : {};
    const previous = Array.isArray(settings.previous_names) ? settings.previous_names.filter((n): n is string => typeof n === "string") : [];
    return [{ name, pointer: `/credentials/${escapePointer(local)}`, spec: child, previousNames: previous.map((p) => `${vault}/${p}`) }];
  });
}

export const vaultKind: KindSpec<"vault"> = {
  kind: "vault",
  schema: "vault",
  maxNameLength: 255,
  nameField: "display_name",
  folder: "vaults",
  layout: "file",
  extensions: [".yaml", ".yml"],
  // Only vaults are named by display_name among file-layout kinds.
  looksLike: (value, markdown) => !markdown && "display_name" in value && !("model" in value),
  ownership: "marker",
  referencedFrom: "A reference",
  concurrency: "digest",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "vaults",
  lockVersion: "none",
  pinOf: () => undefined,
  // The API's vault has display_name (its identity here).
  fromApi: (raw) => ({ ...raw, name: raw.display_name }) as never,
  uploads: false,
  renamable: true,
  removal: "archive",
  removalNote: "archiving a vault also archives every credential in it (their secrets are erased; sessions using them fail)",
  deletable: true,
  versionOf: () => undefined,
  runtimePin: (entry) => ({ id: entry.id }),
  updateImpact: "in-place",
  wholeFields: new Set(),
  canonicalDesired: (spec) => canonicalVault(spec),
  canonicalLive: (live) => canonicalVault(live as unknown as Obj),
  resolveRefs: (spec) => spec,
  nested: { kind: "credential", of: credentialsOf, fromLive: credentialImportEntry },
  // Credentials are created on their own, after the vault.
  createFields: (spec) => {
    const { credentials: _credentials, ...rest } = spec;
    return createFieldsOf(rest, {});
  },
  fieldBody: (field, desired) => desired[field] ?? null,
  // A vault on its own widens nothing: its credentials do, in their own review.
  reviewSecurity: () => undefined,
  references: () => [],
  liveReferenceIds: () => [],
  followedRefKey: () => null,
  rules: () => undefined,
  toManifest: (live) => {
    const raw = live as unknown as Obj;
    return minimalManifest(raw, ["display_name", "metadata"], (spec) => canonicalVault(spec), canonicalVault(raw));
  },
};
