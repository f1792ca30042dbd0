/**
 * Vault credentials through the SDK. Every credential endpoint is under its vault
 * (`/v1/vaults/{vault_id}/credentials/…`), while agentform addresses a credential by its own id
 * like any other resource: this backend remembers the vault of every credential it has listed or
 * created, and looks one up (listing the vaults) only for an id it has not seen. A create takes
 * the vault from its body's `vault_id`, which the kind puts there for that purpose.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { SafetyError } from "../errors.js";
import type { LiveCredential } from "../kinds/types.js";
import { isObj } from "../kinds/values.js";
import { BackendError } from "./errors.js";
import type { CursorPage, KindOps, PageLister } from "./sdk.js";
import type { RequestBody } from "./types.js";

/** The credential list's largest page. */
const CREDENTIAL_PAGE = 100;

/** `pages` lists for lookups of a credential's vault (a list call passes its own). */
export function credentialOps(client: Anthropic, req: { maxRetries: 0 }, pages: PageLister): KindOps<LiveCredential> {
  const credentials = client.beta.vaults.credentials;
  const vaultOf = new Map<string, string>();
  const remember = (items: unknown[], vaultId: string): unknown[] => {
    for (const item of items) if (isObj(item) && typeof item.id === "string") vaultOf.set(item.id, vaultId);
    return items;
  };
  const vaultIds = async (pages: PageLister): Promise<string[]> =>
    (await pages(100, () => client.beta.vaults.list({ limit: 100 }, req))).flatMap((v) => (isObj(v) && typeof v.id === "string" ? [v.id] : []));
  const listIn = async (pages: PageLister, vaultId: string, includeArchived: boolean) =>
    remember(await pages(CREDENTIAL_PAGE, () => credentials.list(vaultId, { limit: CREDENTIAL_PAGE, include_archived: includeArchived }, req) as unknown as Promise<CursorPage>), vaultId);
  /** The vault of a credential id: remembered, or found by listing every vault's credentials once. */
  const vault = async (id: string, operation: string): Promise<string> => {
    if (!vaultOf.has(id)) for (const v of await vaultIds(pages)) await listIn(pages, v, true);
    const found = vaultOf.get(id);
    if (found === undefined) throw new BackendError({ operation, status: 404, serverMessage: `no vault holds credential ${id}` });
    return found;
  };
  const unsupported = () => Promise.reject(new BackendError({ operation: "list versions of a credential", status: 400, serverMessage: "credentials have no versions" }));
  return {
    pageSize: CREDENTIAL_PAGE,
    list: () => unsupported(),
    listEvery: async (listPages, includeArchived, parentIds) => {
      const all: unknown[] = [];
      for (const v of parentIds ?? (await vaultIds(listPages))) all.push(...(await listIn(listPages, v, includeArchived)));
      return all;
    },
    retrieve: async (id) => credentials.retrieve(id, { vault_id: await vault(id, `get credential ${id}`) }, req),
    create: async (body, operation) => {
      const { vault_id: vaultId, ...rest } = body;
      if (typeof vaultId !== "string") throw new SafetyError("upload-invalid", `${operation}: agentform refused the request before sending it: the body names no vault id; nothing was sent`, { hint: "Run `agentform plan` again; if this repeats, it is a bug in agentform." });
      const created: unknown = await credentials.create(vaultId, rest as unknown as Anthropic.Beta.Vaults.CredentialCreateParams, req);
      remember([created], vaultId);
      return created;
    },
    update: async (id, body: RequestBody, _version, operation) => credentials.update(id, { ...(body as object), vault_id: await vault(id, operation) } as Anthropic.Beta.Vaults.CredentialUpdateParams, req),
    archive: async (id) => credentials.archive(id, { vault_id: await vault(id, `archive credential ${id}`) }, req),
    remove: async (id) => credentials.delete(id, { vault_id: await vault(id, `delete credential ${id}`) }, req),
    listVersions: () => unsupported(),
  };
}
