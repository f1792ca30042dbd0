/**
 * A live credential as an entry of its vault manifest's `credentials:` (for `agentform import`):
 * its auth as the API shows it, each secret named by a variable (`token_env: IMPORTED_…`), since
 * a secret cannot be read back. Which secrets an auth takes follows from the rest of it (an OAuth
 * credential's refresh token only when it refreshes).
 */
import { createHash } from "node:crypto";
import { isObj, type Obj } from "../values.js";
import { LITERAL_SECRET_FIELDS } from "./auth.js";
import { credentialKind } from "./index.js";
import { RESERVED_METADATA_KEYS } from "../../manifest/types.js";

/** Where an auth takes a secret: the path of the manifest key naming its variable, and the variable's suffix. */
interface SecretSlot {
  at: readonly string[];
  suffix: string;
}

/**
 * The secrets an auth takes, from what the API shows of it: one for a static bearer and an
 * environment variable; for OAuth the access token, the refresh token when it refreshes, and the
 * client secret when the token endpoint authenticates with one. Undefined: an auth type unknown here.
 */
function secretSlots(auth: Obj): SecretSlot[] | undefined {
  switch (auth.type) {
    case "static_bearer":
      return [{ at: ["token_env"], suffix: "TOKEN" }];
    case "environment_variable":
      return [{ at: ["secret_value_env"], suffix: "SECRET_VALUE" }];
    case "mcp_oauth": {
      const slots: SecretSlot[] = [{ at: ["access_token_env"], suffix: "ACCESS_TOKEN" }];
      const refresh = auth.refresh;
      if (!isObj(refresh)) return slots;
      slots.push({ at: ["refresh", "refresh_token_env"], suffix: "REFRESH_TOKEN" });
      const endpoint = refresh.token_endpoint_auth;
      if (isObj(endpoint) && typeof endpoint.type === "string" && endpoint.type !== "none") slots.push({ at: ["refresh", "token_endpoint_auth", "client_secret_env"], suffix: "CLIENT_SECRET" });
      return slots;
    }
    default:
      return undefined;
  }
}

/**
 * The auth with each secret named by its `IMPORTED_…` variable, and without any secret value a
 * server echoed back (the API never shows one; a broken proxy might): it is never written to disk.
 */
function withSecretVariables(auth: Obj, slots: readonly SecretSlot[], vault: string, local: string): Obj {
  const out = structuredClone(auth);
  for (const field of LITERAL_SECRET_FIELDS) {
    let parent: unknown = out;
    for (const key of field.at.slice(0, -1)) parent = isObj(parent) ? parent[key] : undefined;
    if (isObj(parent)) delete parent[field.at[field.at.length - 1] as string];
  }
  for (const slot of slots) {
    let parent: Obj = out;
    for (const key of slot.at.slice(0, -1)) parent = parent[key] as Obj;
    parent[slot.at[slot.at.length - 1] as string] = importedSecretEnv(vault, local, slot.suffix);
  }
  return out;
}

/** What a vault manifest's local credential names may be (docs/vaults.md). */
const LOCAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The longest variable name a manifest may name (the schema's limit). */
const MAX_ENV_NAME = 128;

/**
 * `IMPORTED_<VAULT>_<LOCAL>_<SUFFIX>`: upper case, every other character `_`; a short digest of
 * both names before the suffix when that mapping lost something, or the name would be too long.
 */
export function importedSecretEnv(vault: string, local: string, suffix: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  const full = `IMPORTED_${part(vault)}_${part(local)}_${suffix}`;
  // Names that are lower-case letters and digits map to distinct variables as they are. Any other
  // name lost something on the way (`a-b` and `a.b` both give `A_B`): a digest of both names
  // keeps two credentials from sharing one secret, which would send it to both servers.
  const lossless = /^[a-z0-9]+$/.test(vault) && /^[a-z0-9]+$/.test(local);
  if (lossless && full.length <= MAX_ENV_NAME) return full;
  const digest = createHash("sha256").update(`${vault}\0${local}`).digest("hex").slice(0, 8).toUpperCase();
  const tail = `_${digest}_${suffix}`;
  const head = `IMPORTED_${part(vault)}_${part(local)}`;
  return `${head.slice(0, MAX_ENV_NAME - tail.length)}${tail}`;
}

export function credentialImportEntry(live: Obj, vault: string): { local: string; entry: Obj; note?: string } | { reason: string } {
  const name = typeof live.name === "string" ? live.name : "";
  const local = name.startsWith(`${vault}/`) ? name.slice(vault.length + 1) : name;
  if (!LOCAL_NAME.test(local)) return { reason: `its name within the vault is not a local name ([A-Za-z0-9._-], at most 64); add it by hand with agentform: {previous_names}` };
  const manifest = credentialKind.toManifest(live as never);
  const auth = manifest.auth;
  const slots = isObj(auth) ? secretSlots(auth) : undefined;
  if (!isObj(auth) || !slots) return { reason: `credentials of auth type ${isObj(auth) ? String(auth.type) : "unknown"} are not supported by import; add it by hand` };
  const entry: Obj = { auth: withSecretVariables(auth, slots, vault, local) };
  // Never agentform's own keys (the marker, a secret digest): apply writes them.
  const metadata = isObj(manifest.metadata) ? Object.fromEntries(Object.entries(manifest.metadata).filter(([k]) => !RESERVED_METADATA_KEYS.has(k))) : {};
  if (Object.keys(metadata).length > 0) entry.metadata = metadata;
  // A manifest names a credential `<vault>/<local>`: one made elsewhere under its plain name is renamed by the adoption.
  const named = `${vault}/${local}`;
  return live.display_name === named ? { local, entry } : { local, entry, note: `adopting it sets its display_name to "${named}"` };
}
