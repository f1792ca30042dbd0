/**
 * Security review of a deployment change (pure), on canonical forms: a schedule added or firing
 * more often (fires per 30 days, averaged over a fixed period so a plan reads the same tomorrow),
 * a budget raised or removed, a deployment un-paused, a vault or memory store attached. Each
 * widens what runs unattended, with what access, at what cost.
 */
import { Findings, obj } from "../findings.js";
import { asArray, isObj, type Obj } from "../values.js";
import { firesInReferencePeriod, firesPer30Days, parseCron } from "./cron.js";

/** Runs over the fixed reference period (exact), and per 30 days (rounded, for messages). */
function fires(schedule: unknown): { exact: number; per30: number } {
  const parsed = isObj(schedule) && typeof schedule.expression === "string" ? parseCron(schedule.expression) : null;
  return parsed?.ok ? { exact: firesInReferencePeriod(parsed.cron), per30: firesPer30Days(parsed.cron) } : { exact: 0, per30: 0 };
}

function schedule(f: Findings, before: Obj | null, after: Obj): void {
  if (!isObj(after.schedule)) return;
  const now = fires(after.schedule);
  const was = before && isObj(before.schedule) ? fires(before.schedule) : null;
  const what = `${String(after.schedule.expression)} (${String(after.schedule.timezone)}): about ${now.per30} runs per 30 days`;
  if (was === null) f.add("schedule-added", "broadening", "/schedule", `runs on a schedule: ${what}`);
  // Compared exactly: a rare schedule run twice as often rounds to the same per-30-days figure.
  else if (now.exact > was.exact) f.add("schedule-more-frequent", "broadening", "/schedule", `runs more often: ${what}, was about ${was.per30} (${now.exact} runs in the reference years, was ${was.exact})`);
}

/** The budget's amount in minor units, or null for none (no limit). */
function amount(budget: unknown): bigint | null {
  const a = obj(obj(budget).max_list_cost).amount;
  return typeof a === "string" && /^[0-9]{1,30}$/.test(a) ? BigInt(a) : null;
}

function budget(f: Findings, before: Obj | null, after: Obj): void {
  if (before === null) return;
  const was = amount(before.budget);
  const now = amount(after.budget);
  if (was !== null && now === null) f.add("budget-raised", "broadening", "/budget", "budget removed: runs are no longer limited in cost");
  else if (was !== null && now !== null && now > was) f.add("budget-raised", "broadening", "/budget", `budget raised from ${was} to ${now} (minor units)`);
}

/** A referenced resource for messages: its id, or its name while it is created in the same plan. */
function shown(v: unknown): string {
  return typeof v === "string" && v.startsWith("ref:") ? `"${v.slice(4)}"` : String(v);
}

function attached(f: Findings, before: Obj | null, after: Obj): void {
  const had = new Set(asArray(before?.vault_ids));
  for (const v of asArray(after.vault_ids)) if (!had.has(v)) f.add("vault-attached", "broadening", "/vault_ids", `vault ${shown(v)} attached: its credentials go with every run`);
  const stores = (d: Obj | null) => asArray(d?.resources).filter((r): r is Obj => isObj(r) && r.type === "memory_store");
  const hadStores = new Map(stores(before).map((r) => [r.memory_store_id, r.access] as const));
  for (const r of stores(after)) {
    const was = hadStores.get(r.memory_store_id);
    if (was === undefined || (was === "read_only" && r.access === "read_write")) {
      f.add("memory-store-attached", "broadening", "/resources", `memory store ${shown(r.memory_store_id)} attached (${String(r.access)})`);
    }
  }
}

export function deploymentFindings(f: Findings, before: Obj | null, after: Obj): void {
  schedule(f, before, after);
  budget(f, before, after);
  if (before?.paused === true && after.paused === false) f.add("deployment-unpaused", "broadening", "/paused", "un-paused: it runs again from its next scheduled time");
  attached(f, before, after);
}
