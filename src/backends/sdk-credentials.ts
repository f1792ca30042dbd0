/**
 * Vault credentials through the SDK. Every credential endpoint is under its vault
 * (`/v1/vaults/{vault_id}/credentials/…`), while agentform addresses a credential by its own id
 * like any other resource: this backend remembers the vault of every credential it has listed or
 * created, and looks one up (listing the vaults) only for an id it has not seen. A create takes
 * the vault from its body's `vault_id`, which the kind puts there for that purpose.
 *
 * A credential is named within its vault (`<vault>/<local name>`, credentialName): two vaults'
 * credentials never share a name, whatever their display names say.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { SafetyError } from "../errors.js";
import { credentialName } from "../kinds/credential/index.js";
import type { LiveCredential } from "../kinds/types.js";
import { isObj } from "../kinds/values.js";
import { BackendError } from "./errors.js";
import type { CursorPage, KindOps, PageLister } from "./sdk.js";
import type { ParentRef, RequestBody } from "./types.js";

/** The credential list's largest page. */
const CREDENTIAL_PAGE = 100;

/** `pages` lists for lookups of a credential's vault (a list call passes its own). */
export function credentialOps(client: Anthropic, req: { maxRetries: 0 }, pages: PageLister): KindOps<LiveCredential> {
  const credentials = client.beta.vaults.credentials;
  const vaultOf = new Map<string, string>();
  const vaultNames = new Map<string, string>();
  /** The answer with its name within its vault (when the vault's name is known), the vault remembered. */
  const named = (item: unknown, vaultId: string): unknown => {
    if (!isObj(item)) return item;
    if (typeof item.id === "string") vaultOf.set(item.id, vaultId);
    // Always set here, so a `name` the server made up is never taken for one.
    const vaultName = vaultNames.get(vaultId);
    return { ...item, name: vaultName === undefined ? (typeof item.display_name === "string" ? item.display_name : String(item.id)) : credentialName(item, vaultName) };
  };
  const vaults = async (listPages: PageLister): Promise<ParentRef[]> =>
    (await listPages(100, () => client.beta.vaults.list({ limit: 100 }, req))).flatMap((v) => (isObj(v) && typeof v.id === "string" && typeof v.display_name === "string" ? [{ id: v.id, name: v.display_name }] : []));
  const listIn = async (listPages: PageLister, vault: ParentRef, includeArchived: boolean) => {
    vaultNames.set(vault.id, vault.name);
    const items = await listPages(CREDENTIAL_PAGE, () => credentials.list(vault.id, { limit: CREDENTIAL_PAGE, include_archived: includeArchived }, req) as unknown as Promise<CursorPage>);
    return items.map((item) => named(item, vault.id));
  };
  /** The vault of a credential id: remembered, or found by listing every vault's credentials once. */
  const vault = async (id: string, operation: string): Promise<string> => {
    if (!vaultOf.has(id)) for (const v of await vaults(pages)) await listIn(pages, v, true);
    const found = vaultOf.get(id);
    if (found === undefined) throw new BackendError({ operation, status: 404, serverMessage: `no vault holds credential ${id}` });
    return found;
  };
  const inVault = async (id: string, operation: string, call: (vaultId: string) => Promise<unknown>): Promise<unknown> => {
    const vaultId = await vault(id, operation);
    return named(await call(vaultId), vaultId);
  };
  const unsupported = () => Promise.reject(new BackendError({ operation: "list versions of a credential", status: 400, serverMessage: "credentials have no versions" }));
  return {
    pageSize: CREDENTIAL_PAGE,
    list: () => unsupported(),
    listEvery: async (listPages, includeArchived, parents) => {
      const all: unknown[] = [];
      for (const v of parents ?? (await vaults(listPages))) all.push(...(await listIn(listPages, v, includeArchived)));
      return all;
    },
    retrieve: (id) => inVault(id, `get credential ${id}`, (vaultId) => credentials.retrieve(id, { vault_id: vaultId }, req)),
    create: async (body, operation) => {
      const { vault_id: vaultId, ...rest } = body;
      if (typeof vaultId !== "string") throw new SafetyError("upload-invalid", `${operation}: agentform refused the request before sending it: the body names no vault id; nothing was sent`, { hint: "Run `agentform plan` again; if this repeats, it is a bug in agentform." });
      return named(await credentials.create(vaultId, rest as unknown as Anthropic.Beta.Vaults.CredentialCreateParams, req), vaultId);
    },
    update: (id, body: RequestBody, _version, operation) => inVault(id, operation, (vaultId) => credentials.update(id, { ...(body as object), vault_id: vaultId } as Anthropic.Beta.Vaults.CredentialUpdateParams, req)),
    archive: (id) => inVault(id, `archive credential ${id}`, (vaultId) => credentials.archive(id, { vault_id: vaultId }, req)),
    remove: async (id) => credentials.delete(id, { vault_id: await vault(id, `delete credential ${id}`) }, req),
    listVersions: () => unsupported(),
  };
}
