/**
 * A live credential as an entry of its vault manifest's `credentials:` (for `agentform import`):
 * its auth as the API shows it, each secret named by a variable (`token_env: IMPORTED_…`), since
 * a secret cannot be read back. Only the auth types whose secret fields do not depend on the rest
 * of the auth are written; an OAuth credential is left to the user.
 */
import { isObj, type Obj } from "../values.js";
import { credentialKind } from "./index.js";
import { RESERVED_METADATA_KEYS } from "../../manifest/types.js";

/** The one secret field each supported auth type takes, by the manifest key that names its variable. */
const SECRET_ENV_KEY: Readonly<Record<string, { key: string; suffix: string }>> = {
  static_bearer: { key: "token_env", suffix: "TOKEN" },
  environment_variable: { key: "secret_value_env", suffix: "SECRET_VALUE" },
};

/** What a vault manifest's local credential names may be (docs/vaults.md). */
const LOCAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `IMPORTED_<VAULT>_<LOCAL>_<SUFFIX>`: upper case, every other character `_`. */
export function importedSecretEnv(vault: string, local: string, suffix: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return `IMPORTED_${part(vault)}_${part(local)}_${suffix}`;
}

export function credentialImportEntry(live: Obj, vault: string): { local: string; entry: Obj; note?: string } | { reason: string } {
  const name = typeof live.name === "string" ? live.name : "";
  const local = name.startsWith(`${vault}/`) ? name.slice(vault.length + 1) : name;
  if (!LOCAL_NAME.test(local)) return { reason: `its name within the vault is not a local name ([A-Za-z0-9._-], at most 64); add it by hand with agentform: {previous_names}` };
  const manifest = credentialKind.toManifest(live as never);
  const auth = manifest.auth;
  const secret = isObj(auth) && typeof auth.type === "string" ? SECRET_ENV_KEY[auth.type] : undefined;
  if (!isObj(auth) || !secret) return { reason: `credentials of auth type ${isObj(auth) ? String(auth.type) : "unknown"} are not supported by import yet; add it by hand` };
  const entry: Obj = { auth: { ...auth, [secret.key]: importedSecretEnv(vault, local, secret.suffix) } };
  // Never agentform's own keys (the marker, a secret digest): apply writes them.
  const metadata = isObj(manifest.metadata) ? Object.fromEntries(Object.entries(manifest.metadata).filter(([k]) => !RESERVED_METADATA_KEYS.has(k))) : {};
  if (Object.keys(metadata).length > 0) entry.metadata = metadata;
  // A manifest names a credential `<vault>/<local>`: one made elsewhere under its plain name is renamed by the adoption.
  const named = `${vault}/${local}`;
  return live.display_name === named ? { local, entry } : { local, entry, note: `adopting it sets its display_name to "${named}"` };
}
