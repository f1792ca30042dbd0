/**
 * The credential kind: a vault's credential, written in its vault's manifest (`credentials:`, a
 * map from a local name to one credential) and named `<vault>/<local name>`, the display_name
 * agentform gives it. Owned through its metadata marker, unversioned (digest-checked before each
 * write). Its secrets never appear in a manifest or a plan: manifests name the environment
 * variables holding them, and apply reads those and records a slow salted digest of what it sent
 * in the credential's metadata, so the next plan can tell a rotated variable (secret-digest.ts).
 * What no update can change (its vault, its server URL or variable name, its OAuth client) is
 * changed by archiving the credential and creating it again: a replace.
 */
import type { KindSpec } from "../spec.js";
import { secretNotes } from "../secret-notes.js";
import { KNOWN_AFTER_APPLY, SECRET_STATUS_KEY, type DesiredContext, type SecretStatus } from "../spec.js";
import { canonicalMetadata, isObj, minimalManifest, type Obj } from "../values.js";
import { canonicalAuth, createAuth, credentialKeyOf, needsReplace, SECRET_BODY_POINTERS, secretEnvNames, updateAuth } from "./auth.js";
import { credentialFindings } from "./security.js";
import { credentialRules } from "./rules.js";

/**
 * A live credential's name within its vault: its display_name when agentform wrote it
 * (`<vault>/<local>`), else `<vault>/<display_name or id>`, so a credential made in the Console
 * can be claimed through `previous_names`, and two vaults' credentials never share a name.
 */
export function credentialName(raw: Obj, vaultName: string): string {
  const display = typeof raw.display_name === "string" && raw.display_name !== "" ? raw.display_name : String(raw.id);
  return display.startsWith(`${vaultName}/`) ? display : `${vaultName}/${display}`;
}

/** The vault a spec's `vault_id` names: `{ref: name}` in manifests, an id once resolved. */
function vaultRefName(spec: Obj): string | undefined {
  return isObj(spec.vault_id) && typeof spec.vault_id.ref === "string" ? spec.vault_id.ref : undefined;
}

function canonicalVaultId(spec: Obj, context?: DesiredContext): unknown {
  const name = vaultRefName(spec);
  if (name === undefined) return spec.vault_id ?? null;
  const resolved = context?.resolveRef?.({ kind: "vault", name });
  return resolved ? resolved.id : `ref:${name}`;
}

function canonicalCredential(src: Obj, vaultId: unknown, status?: SecretStatus): Obj {
  return {
    display_name: src.display_name ?? null,
    vault_id: vaultId,
    metadata: canonicalMetadata(src.metadata),
    auth: canonicalAuth(src.auth, status),
  };
}

/**
 * An OAuth token's expiry the manifest leaves out is the server's to keep: an update that leaves
 * it out keeps the stored one (what a null would do is not documented, so none is sent), and a
 * difference there would otherwise be planned forever.
 */
function leftToServer(live: Obj, hint: Obj | undefined): Obj {
  const auth = live.auth as Obj;
  if (!isObj(hint?.auth) || hint.auth.expires_at !== null || !("expires_at" in auth)) return live;
  return { ...live, auth: { ...auth, expires_at: null } };
}

function statusOf(spec: Obj): SecretStatus | undefined {
  return spec[SECRET_STATUS_KEY] as SecretStatus | undefined;
}

export const credentialKind: KindSpec<"credential"> = {
  kind: "credential",
  schema: "credential",
  maxNameLength: 255,
  nameField: "display_name",
  // Written in the vault's manifest: never scanned for on its own.
  folder: "vaults",
  layout: "file",
  extensions: [],
  looksLike: () => false,
  parentKind: "vault",
  parentIdOf: (live) => live.vault_id,
  shapeProblem: (raw) => (typeof raw.vault_id !== "string" ? "has no vault_id" : !isObj(raw.auth) || typeof raw.auth.type !== "string" ? "has no auth {type}" : undefined),
  ownership: "marker",
  referencedFrom: "A vault",
  concurrency: "digest",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "credentials",
  lockVersion: "none",
  pinOf: () => undefined,
  // The backend names a credential within its vault when it knows the vault (credentialName);
  // otherwise its display_name stands in (what agentform wrote there is that same name).
  fromApi: (raw) => ({ ...raw, name: typeof raw.name === "string" ? raw.name : typeof raw.display_name === "string" ? raw.display_name : String(raw.id) }) as never,
  uploads: false,
  renamable: true,
  removal: "archive",
  removalNote: "archiving a credential erases its secret; sessions using its vault lose it",
  deletable: true,
  versionOf: () => undefined,
  runtimePin: (entry) => ({ id: entry.id }),
  updateImpact: "in-place",
  wholeFields: new Set(["auth"]),
  replaces: needsReplace,
  archivesFirst: true,
  // An entry's previous names are local: the part after its vault's name ("/" ends a vault's name
  // here, since local names cannot hold one).
  previousNameFor: (live, name) => {
    const vault = name.slice(0, name.lastIndexOf("/") + 1);
    return live.startsWith(vault) ? live.slice(vault.length) : live;
  },
  // Unique among a vault's active credentials: its MCP server URL, or its variable's name.
  uniqueKey: (canonical) => {
    const vault = canonical.vault_id;
    if (typeof vault !== "string" || vault === KNOWN_AFTER_APPLY || vault.startsWith("ref:")) return undefined;
    const key = credentialKeyOf(canonical.auth);
    return typeof key.value === "string" ? `${key.field} ${JSON.stringify(key.value)} in vault ${vault}` : undefined;
  },
  secrets: { bodyPointers: () => [...SECRET_BODY_POINTERS] },
  notes: (spec, action) => secretNotes(spec, action, secretEnvNames(spec.auth), "credential", true),
  canonicalDesired: (spec, context) => canonicalCredential(spec, canonicalVaultId(spec, context), statusOf(spec)),
  canonicalLive: (live, hint) => leftToServer(canonicalCredential(live as unknown as Obj, live.vault_id), hint),
  resolveRefs: (spec, resolve) => {
    const name = vaultRefName(spec);
    const resolved = name === undefined ? undefined : resolve({ kind: "vault", name });
    return resolved && resolved.id !== KNOWN_AFTER_APPLY ? { ...spec, vault_id: resolved.id } : spec;
  },
  createFields: (spec) => {
    const body: Obj = { display_name: spec.display_name, vault_id: spec.vault_id, auth: createAuth(spec.auth) };
    if (spec.metadata !== undefined) body.metadata = spec.metadata;
    return body;
  },
  fieldBody: (field, desired, changed) => (field === "auth" ? updateAuth(desired, changed) : (desired[field] ?? null)),
  reviewSecurity: credentialFindings,
  references: (spec) => {
    const name = vaultRefName(spec);
    return name === undefined ? [] : [{ kind: "vault", name }];
  },
  // A credential is inside its vault, not a user of it: archiving the vault takes it along.
  liveReferenceIds: () => [],
  followedRefKey: () => null,
  rules: credentialRules,
  toManifest: (live) => {
    const raw = live as unknown as Obj;
    return minimalManifest(raw, ["display_name", "vault_id", "metadata", "auth"], (spec) => canonicalCredential(spec, spec.vault_id), canonicalCredential(raw, raw.vault_id));
  },
};
