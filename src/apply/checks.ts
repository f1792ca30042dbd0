/**
 * The two list calls around an apply's creates. Names are not unique for every kind, and the
 * API has no conditional create, so these narrow (they cannot close) the window in which two
 * applies create the same name.
 */
import type { ControlPlane } from "../backends/types.js";
import { SafetyError, type AgentformError } from "../errors.js";
import { inParent, KINDS, parentOf } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import { lockTable } from "../lock/table.js";
import type { Lockfile } from "../lock/types.js";
import type { Plan, PlannedResource } from "../plan/types.js";
import { groupByName } from "../util/group.js";
import { ownValue } from "../util/record.js";

type Failure = { address: string; error: AgentformError };

/** The planned creates, by kind, in registry order; kinds without creates are left out. */
function createsByKind(plan: Plan, keep: (r: PlannedResource) => boolean): Array<[ResourceKind, PlannedResource[]]> {
  return (Object.keys(KINDS) as ResourceKind[])
    .map((kind) => [kind, plan.resources.filter((r) => r.kind === kind && r.request?.method === "create" && keep(r))] as [ResourceKind, PlannedResource[]])
    .filter(([, creates]) => creates.length > 0);
}

/**
 * A create planned against a workspace where the name was free would make a duplicate if the
 * name got taken since (a second apply, a colleague, the Console) while the plan waited for
 * review or confirmation. One list call per kind with creates, just before writing.
 */
export async function namesTakenSincePlan(plan: Plan, backend: ControlPlane): Promise<Map<string, SafetyError>> {
  const taken = new Map<string, SafetyError>();
  for (const [kind, creates] of createsByKind(plan, () => true)) {
    const all = await backend.list(kind);
    for (const entry of creates) {
      // A kind inside another collides only inside the parent the create goes to.
      const id = groupByName(inParent(kind, all, parentOf(kind, entry.request?.body))).get(entry.name)?.[0]?.id;
      if (id === undefined) continue;
      taken.set(
        entry.address,
        new SafetyError("stale-basis", `${entry.address} changed since plan: a live ${kind} named "${entry.name}" (${id}) now exists, so creating it would make a duplicate; run plan again.`, {
          hint: "Another apply (or someone in the Console) created it after this plan was made; `agentform plan` will match it by name.",
        }),
      );
    }
  }
  return taken;
}

/**
 * After the creates, one more list call per kind shows whether another apply created the same
 * names at the same moment. That cannot be prevented across machines, so it is reported at once,
 * with the ids, instead of surfacing as a refused plan later.
 */
export async function duplicatesCreated(plan: Plan, backend: ControlPlane, lock: Lockfile, failed: readonly Failure[]): Promise<Failure[]> {
  const found: Failure[] = [];
  for (const [kind, created] of createsByKind(plan, (r) => !failed.some((f) => f.address === r.address))) {
    const all = await backend.list(kind);
    for (const entry of created) {
      const ours = ownValue(lockTable(lock, kind), entry.name)?.id;
      // Inside the parent the one this run created is in (a credential's vault).
      const mine = all.find((l) => l.id === ours);
      const ids = (groupByName(inParent(kind, all, parentOf(kind, mine))).get(entry.name) ?? []).map((l) => l.id);
      if (ids.length < 2) continue;
      found.push({
        address: entry.address,
        error: new SafetyError(
          "duplicate-created",
          `${ids.length} live ${kind}s are now named "${entry.name}" (${[...ids].sort().join(", ")}): another apply created it at the same time as this one.`,
          {
            hint: `This run recorded ${ours ?? "none of them"} in the lockfile; archive the other one(s), then plan again. Run the applies of one target one at a time (e.g. one CI concurrency group).`,
          },
        ),
      });
    }
  }
  return found;
}
