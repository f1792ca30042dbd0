/**
 * Vaults and their credentials on the local control plane (`/v1/vaults…`). A vault record holds
 * its credentials in creation order; like environments and skills, deleted records stay in the
 * ordered arrays as holes so outstanding list cursors keep their meaning.
 *
 * Secrets are never kept: `CredentialRecord.secrets` holds a slow salted digest of each value
 * sent (the state file sits in the project folder, and nothing here ever needs a secret back),
 * and no view reads it. Archiving a credential (directly, or by archiving its vault) erases
 * them, and so does deleting it.
 */
import { badRequest, conflict, notFound } from "./api-error.js";
import { credentialKey, resolveCredentialCreate, resolveCredentialUpdate, type CredentialConfig, type CredentialSecrets } from "./credential-config.js";
import { decodeCursor, live, pageOf, scopedList, type Page } from "./paging.js";
import { RecordStore } from "./records.js";
import { canonicalJson, cloneJson, newId, type Obj } from "./util.js";
import { resolveVaultCreate, resolveVaultUpdate } from "./vault-config.js";
import { secretDigest } from "../kinds/credential/secret-digest.js";

export interface CredentialRecord {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  display_name: string | null;
  metadata: Record<string, string>;
  /** What responses show. */
  auth: Obj;
  /** The write-only values; null once erased (archive). No view reads this field. */
  secrets: CredentialSecrets | null;
  deleted?: boolean;
}

export interface VaultRecord {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  display_name: string;
  metadata: Record<string, string>;
  credentials: CredentialRecord[];
  deleted?: boolean;
}

/** Page sizes: the documented default 20 and maximum 100 for both lists. */
export const VAULT_LIST_DEFAULT_LIMIT = 20;
export const VAULT_LIST_MAX_LIMIT = 100;
export const CREDENTIAL_LIST_DEFAULT_LIMIT = 20;
export const CREDENTIAL_LIST_MAX_LIMIT = 100;
/** At most this many credentials per vault, counting active (non-archived) ones only. */
export const VAULT_MAX_ACTIVE_CREDENTIALS = 20;

const active = (c: CredentialRecord) => live(c) && c.archived_at === null;

/**
 * The secrets to keep: each value just sent as its digest; those not sent (still `before`'s) as
 * they were. The digest is cheaper than agentform's own (nothing here is ever checked against
 * it; it exists so that the file holds no secret), so a fleet's apply does not pay twice.
 */
const LOCAL_COST = { N: 1 << 12, r: 8, p: 1 } as const;

/** The digest this control plane keeps of a write-only value (credential secrets, deployments' repository tokens). */
export function localSecretDigest(secret: string): string {
  return secretDigest(secret, undefined, LOCAL_COST);
}

function digested(secrets: CredentialSecrets, before: CredentialSecrets): CredentialSecrets {
  return Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v === before[k] ? v : localSecretDigest(v)]));
}

/** The vaults of one control plane. `commit` is called after every change (persistence hooks in there). */
export class VaultStore extends RecordStore<VaultRecord> {
  private credentialIndex = new Map<string, { vault: VaultRecord; credential: CredentialRecord }>();

  constructor(commit: () => void, now: () => Date) {
    super("vault", commit, now);
  }

  /** A credential is found only under its own vault. */
  private credential(vaultId: string, id: string): { vault: VaultRecord; credential: CredentialRecord } {
    const vault = this.records.get(vaultId);
    const found = this.credentialIndex.get(id);
    if (!found || found.vault !== vault) throw notFound(`credential ${id} not found in vault ${vaultId}`);
    return found;
  }

  /** Credentials of an archived vault cannot be created or updated: 400, as for other archived resources. */
  private checkVaultActive(vault: VaultRecord): void {
    if (vault.archived_at !== null) throw badRequest(`vault ${vault.id} is archived; its credentials can no longer be created or updated`);
  }

  protected view(r: VaultRecord): Obj {
    return { id: r.id, type: "vault", display_name: r.display_name, metadata: { ...r.metadata }, created_at: r.created_at, updated_at: r.updated_at, archived_at: r.archived_at };
  }

  /** Built field by field from the public parts; `secrets` is never read here. */
  private credentialView(vault: VaultRecord, c: CredentialRecord): Obj {
    return {
      id: c.id,
      type: "vault_credential",
      vault_id: vault.id,
      display_name: c.display_name,
      auth: cloneJson(c.auth),
      metadata: { ...c.metadata },
      created_at: c.created_at,
      updated_at: c.updated_at,
      archived_at: c.archived_at,
    };
  }

  // -- vaults ----------------------------------------------------------------------------------

  create(body: unknown): Obj {
    const config = resolveVaultCreate(body);
    const at = this.now().toISOString();
    const record: VaultRecord = { id: newId("vlt"), created_at: at, updated_at: at, archived_at: null, ...config, credentials: [] };
    return this.insert(record);
  }

  /** No version lock; updated_at moves only when something changed. An archived vault is read-only (400). */
  update(id: string, body: unknown): Obj {
    const record = this.records.get(id);
    if (record.archived_at !== null) throw badRequest(`vault ${id} is archived and can no longer be updated`);
    const stored = { display_name: record.display_name, metadata: record.metadata };
    const next = resolveVaultUpdate(stored, body);
    if (canonicalJson(next) === canonicalJson(stored)) return this.view(record);
    record.display_name = next.display_name;
    record.metadata = next.metadata;
    record.updated_at = this.now().toISOString();
    this.commit();
    return this.view(record);
  }

  list(limit: number, page: string | null, includeArchived: boolean): Page {
    return pageOf(this.records.all, decodeCursor("vaults", page), limit, (r) => live(r) && (includeArchived || r.archived_at === null), (r) => this.view(r), "vaults");
  }

  /** One-way, and cascades: every active credential is archived with it (its secrets erased). Again is a no-op. */
  archive(id: string): Obj {
    const record = this.records.get(id);
    if (record.archived_at === null) {
      const at = this.now().toISOString();
      record.archived_at = at;
      for (const c of record.credentials) if (active(c)) this.erase(c, at);
      this.commit();
    }
    return this.view(record);
  }

  /** Deletes the vault and every credential in it, archived or not. */
  delete(id: string): Obj {
    const record = this.records.get(id);
    for (const c of record.credentials) {
      c.secrets = null;
      this.credentialIndex.delete(c.id);
    }
    record.credentials = [];
    this.records.delete(record);
    this.commit();
    return { id, type: "vault_deleted" };
  }

  // -- credentials -----------------------------------------------------------------------------

  /** Archive one credential: its secrets are erased and its key is free for a new credential. */
  private erase(c: CredentialRecord, at: string): void {
    c.archived_at = at;
    c.secrets = null;
  }

  /** The key is unique among the vault's active credentials (409); at most VAULT_MAX_ACTIVE_CREDENTIALS of them (400). */
  createCredential(vaultId: string, body: unknown): Obj {
    const vault = this.records.get(vaultId);
    this.checkVaultActive(vault);
    const config = resolveCredentialCreate(body, this.now());
    const key = credentialKey(config.auth);
    const others = vault.credentials.filter(active);
    const holder = others.find((c) => credentialKey(c.auth) === key);
    if (holder) throw conflict(`vault ${vault.id} already has an active credential for ${key} (${holder.id}); archive it first to reuse the key`);
    if (others.length >= VAULT_MAX_ACTIVE_CREDENTIALS) {
      throw badRequest(`vault ${vault.id} already holds ${VAULT_MAX_ACTIVE_CREDENTIALS} active credentials, the most a vault may hold; archive or delete one first`);
    }
    const at = this.now().toISOString();
    const credential: CredentialRecord = { id: newId("vcrd"), created_at: at, updated_at: at, archived_at: null, ...config, secrets: digested(config.secrets, {}) };
    vault.credentials.push(credential);
    this.credentialIndex.set(credential.id, { vault, credential });
    this.commit();
    return this.credentialView(vault, credential);
  }

  getCredential(vaultId: string, id: string): Obj {
    const { vault, credential } = this.credential(vaultId, id);
    return this.credentialView(vault, credential);
  }

  /** updated_at moves when a public field changed or any secret was sent (secrets are never compared). */
  updateCredential(vaultId: string, id: string, body: unknown): Obj {
    const { vault, credential: c } = this.credential(vaultId, id);
    this.checkVaultActive(vault);
    if (c.archived_at !== null || c.secrets === null) throw badRequest(`credential ${id} is archived and can no longer be updated`);
    const stored: CredentialConfig = { display_name: c.display_name, metadata: c.metadata, auth: c.auth, secrets: c.secrets };
    const { config, secretsSent } = resolveCredentialUpdate(stored, body, this.now());
    const visible = (x: CredentialConfig) => canonicalJson({ display_name: x.display_name, metadata: x.metadata, auth: x.auth });
    if (!secretsSent && visible(config) === visible(stored)) return this.credentialView(vault, c);
    Object.assign(c, config, { secrets: digested(config.secrets, c.secrets) });
    c.updated_at = this.now().toISOString();
    this.commit();
    return this.credentialView(vault, c);
  }

  listCredentials(vaultId: string, limit: number, page: string | null, includeArchived: boolean): Page {
    const vault = this.records.get(vaultId);
    const list = scopedList("credentials", vault.id);
    return pageOf(vault.credentials, decodeCursor(list, page), limit, (c) => live(c) && (includeArchived || c.archived_at === null), (c) => this.credentialView(vault, c), list);
  }

  /** One-way; again is a no-op. Leaves updated_at alone, like every archive here. */
  archiveCredential(vaultId: string, id: string): Obj {
    const { vault, credential } = this.credential(vaultId, id);
    if (credential.archived_at === null) {
      this.erase(credential, this.now().toISOString());
      this.commit();
    }
    return this.credentialView(vault, credential);
  }

  deleteCredential(vaultId: string, id: string): Obj {
    const { credential } = this.credential(vaultId, id);
    credential.secrets = null;
    credential.deleted = true;
    this.credentialIndex.delete(id);
    this.commit();
    return { id, type: "vault_credential_deleted" };
  }

  /**
   * The local plane cannot reach an MCP server or a token endpoint, so an active credential is
   * always `unknown`; an archived one holds no access token, which the SDK calls `invalid`.
   * Only `mcp_oauth` credentials can be validated (400 otherwise). Nothing is written.
   */
  validateCredential(vaultId: string, id: string): Obj {
    const { vault, credential } = this.credential(vaultId, id);
    if (credential.auth.type !== "mcp_oauth") throw badRequest(`credential ${id} is ${String(credential.auth.type)}; only mcp_oauth credentials can be validated`);
    return {
      type: "vault_credential_validation",
      status: credential.secrets === null ? "invalid" : "unknown",
      has_refresh_token: credential.secrets?.refresh_token !== undefined,
      mcp_probe: null,
      refresh: null,
      validated_at: this.now().toISOString(),
      credential_id: credential.id,
      vault_id: vault.id,
    };
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Live vaults with their live credentials, as plain data (each secret as its digest, never the value). */
  snapshot(): VaultRecord[] {
    return this.records.all.filter(live).map((v) => ({ ...v, credentials: v.credentials.filter(live) }));
  }

  /** Replace the vaults with checked records (see state-check.ts). */
  load(records: readonly VaultRecord[]): void {
    const vaults = cloneJson([...records]);
    // A file written before secrets were kept as digests holds them in plain text: digest them
    // now, so the next save leaves none behind.
    for (const c of vaults.flatMap((v) => v.credentials)) {
      if (c.secrets) c.secrets = Object.fromEntries(Object.entries(c.secrets).map(([k, v]) => [k, v.startsWith("scrypt1$") ? v : localSecretDigest(v)]));
    }
    this.records.load(vaults);
    this.credentialIndex = new Map(vaults.flatMap((vault) => vault.credentials.map((credential) => [credential.id, { vault, credential }] as const)));
  }
}
