/**
 * Where the CLI reads secrets: the environment, and nowhere else. A plan compares each
 * credential's variables with the digest its live metadata carries and hands the planner only
 * the outcome (SecretStatus), never a value. On a `local: true` target a variable that is not set
 * gets a fixed stand-in (with a notice), so the quick start needs no secrets at all.
 */
import { ConfigError } from "../errors.js";
import { addressOf, KIND_ORDER, kindSpec } from "../kinds/index.js";
import type { SecretStatus } from "../kinds/spec.js";
import type { LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import { isObj } from "../kinds/values.js";
import type { LoadedManifest, ProjectConfig, TargetConfig } from "../manifest/types.js";
import { SECRET_DIGEST_KEY } from "../manifest/types.js";
import { placeholdersIn, secretStatus, type SecretSource } from "../apply/secrets.js";

export interface Secrets {
  source: SecretSource;
  /** What the user should know (a stand-in used on a local target). */
  notices: string[];
}

/** The variables every manifest's secrets come from, by kind and manifest. */
function secretNames(kind: ResourceKind, m: LoadedManifest): string[] {
  return placeholdersIn(kind, kindSpec(kind).createFields(m.spec)).map((p) => p.env);
}

function everyName(manifests: Readonly<Record<ResourceKind, readonly LoadedManifest[]>>): Array<{ name: string; address: string }> {
  return KIND_ORDER.filter((k) => kindSpec(k).secrets).flatMap((k) => manifests[k].flatMap((m) => secretNames(k, m).map((name) => ({ name, address: addressOf(k, m.name) }))));
}

/**
 * The secret source of a target. Refuses a manifest that names a target's API key variable (a
 * pull request could otherwise send the key to any server as a credential).
 */
export function secretsFor(config: ProjectConfig, target: TargetConfig, manifests: Readonly<Record<ResourceKind, readonly LoadedManifest[]>>, env: NodeJS.ProcessEnv): Secrets {
  const keyVars = new Set(Object.values(config.targets).map((t) => t.api_key_env ?? "ANTHROPIC_API_KEY"));
  const used = everyName(manifests);
  const clash = used.find((u) => keyVars.has(u.name));
  if (clash) {
    throw new ConfigError("secret-env-reserved", `${clash.address} reads its secret from ${clash.name}, which holds a target's API key; nothing was sent`, {
      hint: "Give each credential's secret a variable of its own; agentform never sends the API key as a credential.",
    });
  }
  const read = (name: string) => (Object.hasOwn(env, name) && env[name] !== "" ? env[name] : undefined);
  if (target.local !== true) return { source: read, notices: [] };
  const stand = (name: string) => `agentform-local-placeholder-${name}`;
  const unset = [...new Set(used.map((u) => u.name).filter((n) => read(n) === undefined))].sort();
  const notices = unset.length === 0 ? [] : [`${unset.join(", ")} ${unset.length === 1 ? "is" : "are"} not set: the local target gets a placeholder secret instead (set the variable to send the real one)`];
  return { source: (name) => read(name) ?? stand(name), notices };
}

function storedDigest(live: LiveResource): string | undefined {
  const metadata = (live as { metadata?: unknown }).metadata;
  const v = isObj(metadata) ? metadata[SECRET_DIGEST_KEY] : undefined;
  return typeof v === "string" ? v : undefined;
}

/**
 * Each secret-holding manifest's SecretStatus, by address, against the live resource of its name
 * (or a previous name). A resource to be created has none unless a variable is missing.
 */
export async function secretStatuses(manifests: Readonly<Record<ResourceKind, readonly LoadedManifest[]>>, live: LiveSets, source: SecretSource, rotate: boolean): Promise<Record<string, SecretStatus>> {
  const checks: Array<Promise<[string, SecretStatus] | null>> = [];
  for (const kind of KIND_ORDER.filter((k) => kindSpec(k).secrets)) {
    const byName = new Map((live[kind] as LiveResource[]).map((l) => [l.name, l] as const));
    for (const m of manifests[kind]) {
      const names = secretNames(kind, m);
      const address = addressOf(kind, m.name);
      const match = [m.name, ...m.settings.previous_names].map((n) => byName.get(n)).find((l) => l !== undefined);
      if (!match) checks.push(Promise.resolve(names.some((n) => source(n) === undefined) ? [address, "missing"] : null));
      else checks.push(secretStatus(names, source, storedDigest(match), rotate).then((status) => [address, status]));
    }
  }
  return Object.fromEntries((await Promise.all(checks)).filter((c): c is [string, SecretStatus] => c !== null));
}
