/**
 * Where the CLI reads secrets: the environment, and nowhere else. A plan compares each
 * credential's variables with the digest its live metadata carries and hands the planner only
 * the outcome (SecretStatus), never a value. On a `local: true` target a variable that is not set
 * gets a fixed stand-in (with a notice), so the quick start needs no secrets at all.
 */
import { addressOf, KIND_ORDER, kindSpec } from "../kinds/index.js";
import type { SecretStatus } from "../kinds/spec.js";
import type { LiveResource, LiveSets, ResourceKind } from "../kinds/types.js";
import { storedSecretDigest } from "../kinds/values.js";
import type { LoadedManifest, TargetConfig } from "../manifest/types.js";
import { placeholdersIn, secretStatus, type SecretSource } from "../apply/secrets.js";
import { lockTable } from "../lock/table.js";
import type { Lockfile } from "../lock/types.js";
import { ownValue } from "../util/record.js";

export interface Secrets {
  /** What apply sends: the environment, or on a local target a stand-in for a variable not set. */
  source: SecretSource;
  /** The environment alone: what plan compares (a stand-in is never taken for a rotation). */
  environment: SecretSource;
  /** Whether `source` stands in for variables that are not set (local targets). */
  standIns: boolean;
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
 * The secret source of a target. (A manifest naming a target's API key variable never gets here:
 * validation refuses it, AF-CREDENTIAL-ENV-RESERVED.)
 */
export function secretsFor(target: TargetConfig, manifests: Readonly<Record<ResourceKind, readonly LoadedManifest[]>>, env: NodeJS.ProcessEnv): Secrets {
  const used = everyName(manifests);
  const read = (name: string) => (Object.hasOwn(env, name) && env[name] !== "" ? env[name] : undefined);
  if (target.local !== true) return { source: read, environment: read, standIns: false, notices: [] };
  const stand = (name: string) => `agentform-local-placeholder-${name}`;
  const unset = [...new Set(used.map((u) => u.name).filter((n) => read(n) === undefined))].sort();
  const notices = unset.length === 0 ? [] : [`${unset.join(", ")} ${unset.length === 1 ? "is" : "are"} not set: the local target gets a placeholder secret instead (set the variable to send the real one)`];
  return { source: (name) => read(name) ?? stand(name), environment: read, standIns: true, notices };
}


/**
 * Each secret-holding manifest's SecretStatus: by `<address>@<id>` against every live resource it
 * may match (its name, a previous name, or the id the lockfile records; the planner decides which
 * it is, within its vault), and by `<address>` for when it matches none (a create).
 */
export async function secretStatuses(manifests: Readonly<Record<ResourceKind, readonly LoadedManifest[]>>, live: LiveSets, lock: Lockfile | null, secrets: Secrets, rotate: boolean): Promise<Record<string, SecretStatus>> {
  const checks: Array<Promise<[string, SecretStatus] | null>> = [];
  for (const kind of KIND_ORDER.filter((k) => kindSpec(k).secrets)) {
    const all = live[kind] as LiveResource[];
    const locked = lock ? lockTable(lock, kind) : {};
    for (const m of manifests[kind]) {
      const names = secretNames(kind, m);
      const address = addressOf(kind, m.name);
      const wanted = new Set([m.name, ...m.settings.previous_names]);
      const lockedId = ownValue(locked, m.name)?.id;
      for (const l of all.filter((x) => wanted.has(x.name) || x.id === lockedId)) {
        checks.push(statusOf(names, secrets, storedSecretDigest(l), rotate).then((status) => [`${address}@${l.id}`, status]));
      }
      // To be created: only a secret apply could not send is worth a note.
      checks.push(Promise.resolve(names.some((n) => secrets.source(n) === undefined) ? [address, "missing"] : null));
    }
  }
  return Object.fromEntries((await Promise.all(checks)).filter((c): c is [string, SecretStatus] => c !== null));
}

/**
 * Compared with the environment alone. On a local target a variable that is not set counts as
 * unchanged while the stand-in is what was sent, and as not checked once a real value was: a
 * variable unset later must not "rotate" the real secret back to the stand-in.
 */
async function statusOf(names: readonly string[], secrets: Secrets, stored: string | undefined, rotate: boolean): Promise<SecretStatus> {
  const status = await secretStatus(names, secrets.environment, stored, rotate);
  if (!secrets.standIns || names.every((n) => secrets.environment(n) !== undefined)) return status;
  // A variable is unset on a local target: only while the stand-in is what was sent may it be
  // sent again (--rotate); a real secret is never replaced by one.
  const standIn = await secretStatus(names, secrets.source, stored, false);
  return standIn === "current" ? (rotate ? "forced" : "current") : "missing";
}
