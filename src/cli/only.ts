/**
 * `--only <kind>/<name>` on plan and apply: which manifests to plan, as plan addresses. Each
 * value must name a manifest of this project; a credential's name holds its vault
 * (`credential/github-tools/github`), so only the first `/` separates the kind.
 */
import { ConfigError } from "../errors.js";
import { addressOf, KIND_ORDER, KINDS } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import type { LoadResult } from "../manifest/types.js";
import { inertText } from "../render/index.js";

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The addresses `--only` names, each checked against the loaded manifests; undefined when not
 * given. With --prune it is a usage error: a scoped plan prunes nothing, and saying otherwise
 * silently would mislead.
 */
export function onlyAddresses(values: readonly string[] | undefined, load: Pick<LoadResult, "manifests">, prune = false): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  if (prune) {
    throw new ConfigError("only-prune", "--only and --prune cannot be combined: a plan scoped with --only prunes nothing.", {
      hint: "Run the prune as a plan of the whole project (`agentform plan --prune`), or drop --prune.",
    });
  }
  const known = new Set(KIND_ORDER.flatMap((kind) => load.manifests[kind].map((m) => addressOf(kind, m.name))));
  return [...new Set(values.map((v) => addressFor(v, known)))].sort();
}

/**
 * `<kind>/<name>` as the command line writes a resource (`--only`, `state forget`): only the
 * first `/` separates the kind, since a credential's name holds its vault. Undefined when the
 * kind is unknown or either part is empty.
 */
export function kindAndName(value: string): { kind: ResourceKind; name: string } | undefined {
  const slash = value.indexOf("/");
  const kind = value.slice(0, slash);
  const name = value.slice(slash + 1);
  if (slash <= 0 || name === "" || !Object.hasOwn(KINDS, kind)) return undefined;
  return { kind: kind as ResourceKind, name };
}

function addressFor(value: string, known: ReadonlySet<string>): string {
  const parsed = kindAndName(value);
  if (!parsed) {
    throw new ConfigError("only-invalid", `--only takes <kind>/<name>, not "${inertText(value)}".`, {
      hint: `The kind is one of ${Object.keys(KINDS).join(", ")}; e.g. --only agent/triage.`,
    });
  }
  const { kind, name } = parsed;
  const address = addressOf(kind, name);
  if (!known.has(address)) {
    throw new ConfigError("only-unknown", `--only ${inertText(value)}: no ${kind} manifest is named "${inertText(name)}".`, {
      hint: "Name a resource by its manifest name (`agentform validate` lists what loads); nothing was changed.",
    });
  }
  return address;
}
