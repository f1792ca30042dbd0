/**
 * Deployment rules beyond the JSON Schema (pure): the schedule's cron expression and timezone as
 * the API checks them, no repository token written in the manifest or read from the API key's
 * variable, and a first user message to start each run with.
 */
import type { LoadedManifest } from "../../manifest/types.js";
import { reportReservedVariable, reservedSecretVariable } from "../credential/rules.js";
import type { KindRules, RuleContext, RuleSink } from "../rules.js";
import type { ResourceKind } from "../types.js";
import { refName } from "./refs.js";
import { asArray, isObj } from "../values.js";
import { CRON_FIELDS, parseCron, validTimezone } from "./cron.js";

function scheduleRules(m: LoadedManifest, sink: RuleSink): void {
  const s = m.spec.schedule;
  if (!isObj(s)) return;
  if (typeof s.expression === "string") {
    const parsed = parseCron(s.expression);
    if (!parsed.ok) {
      const field = parsed.field === null ? "" : ` (${CRON_FIELDS[parsed.field]})`;
      sink.add(m, ["schedule", "expression"], "AF-DEPLOYMENT-CRON", `${JSON.stringify(s.expression)} is not a schedule the API accepts${field}: ${parsed.message}`, "Write five fields: minute hour day-of-month month day-of-week, with numbers, ranges (a-b), steps (*/n) and lists (a,b); no seconds, L, W, #, ? or @shortcuts.");
    }
  }
  if (typeof s.timezone === "string" && !validTimezone(s.timezone)) {
    sink.add(m, ["schedule", "timezone"], "AF-DEPLOYMENT-TIMEZONE", `${JSON.stringify(s.timezone)} is not an IANA time zone`, "Use a name such as Europe/Paris, America/New_York or UTC.");
  }
}

function tokenRules(m: LoadedManifest, keyVariables: readonly string[], sink: RuleSink): void {
  asArray(m.spec.resources).forEach((r, i) => {
    if (!isObj(r)) return;
    if (r.authorization_token !== undefined) {
      sink.add(m, ["resources", i, "authorization_token"], "AF-CREDENTIAL-LITERAL-SECRET", "authorization_token would put a secret in the repository", "Write `authorization_token_env: NAME` instead, naming the environment variable that holds it, and rotate the token: it is in your git history.");
    }
    const env = r.authorization_token_env;
    if (typeof env === "string" && reservedSecretVariable(env, keyVariables)) reportReservedVariable(m, ["resources", i, "authorization_token_env"], env, sink);
  });
}

/** References by name to resources no manifest of this project describes (agentform would resolve them to whatever live one has the name). */
function unknownRefs(m: LoadedManifest, ctx: RuleContext, sink: RuleSink): void {
  const known = (kind: ResourceKind, name: string) => ctx.manifestNames(kind).includes(name) || ctx.unparsedNames(kind).includes(name);
  const check = (kind: ResourceKind, v: unknown, at: ReadonlyArray<string | number>) => {
    const name = refName(v);
    if (name === undefined || known(kind, name)) return;
    sink.add(m, [...at, "ref"], "AF-REF-UNKNOWN", `no ${kind.replace(/_/g, " ")} manifest is named ${JSON.stringify(name)}`, `A \`ref\` names a ${kind.replace(/_/g, " ")} manifest of this project; to use one this project does not manage, give its id.`);
  };
  check("agent", m.spec.agent, ["agent"]);
  check("environment", m.spec.environment_id, ["environment_id"]);
  asArray(m.spec.vault_ids).forEach((v, i) => check("vault", v, ["vault_ids", i]));
  asArray(m.spec.resources).forEach((r, i) => {
    if (isObj(r) && r.type === "memory_store") check("memory_store", r, ["resources", i]);
  });
}

/** A session mounts at most this many memory stores (each deployment run is one session). */
export const MAX_MEMORY_STORES = 8;

/** Limits the API checks at write time that the schema cannot say: a budget in whole minor units, eight stores. */
function limits(m: LoadedManifest, sink: RuleSink): void {
  const amount = isObj(m.spec.budget) && isObj(m.spec.budget.max_list_cost) ? m.spec.budget.max_list_cost.amount : undefined;
  if (typeof amount === "string" && !/^(0|[1-9][0-9]{0,29})$/.test(amount)) {
    sink.add(m, ["budget", "max_list_cost", "amount"], "AF-DEPLOYMENT-BUDGET", `${JSON.stringify(amount)} is not an amount in minor units`, 'Write the amount as a whole number of cents, without a decimal point or leading zeros: "500" is $5.00.');
  }
  const stores = asArray(m.spec.resources).filter((r) => isObj(r) && r.type === "memory_store").length;
  if (stores > MAX_MEMORY_STORES) {
    sink.add(m, ["resources"], "AF-DEPLOYMENT-MEMORY-STORES", `${stores} memory stores; a session mounts at most ${MAX_MEMORY_STORES}`, "Attach fewer stores, or split the work across deployments.");
  }
}

export const deploymentRules: KindRules = (manifests, ctx, sink) => {
  for (const m of manifests) {
    unknownRefs(m, ctx, sink);
    limits(m, sink);
    scheduleRules(m, sink);
    tokenRules(m, ctx.keyVariables ?? [], sink);
    const events = asArray(m.spec.initial_events);
    if (events.length > 0 && !events.some((e) => isObj(e) && e.type === "user.message")) {
      sink.add(m, ["initial_events"], "AF-DEPLOYMENT-NO-USER-MESSAGE", "no user.message among the initial events: a run has nothing to start from", "Add a `type: user.message` event with the task each run performs.", "warning");
    }
  }
};
