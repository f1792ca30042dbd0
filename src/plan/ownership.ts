/**
 * Ownership as policy (pure): whether a live resource may be managed, taken over or pruned by
 * this project. Ownership is the `agentform.project` marker on the resource, and for pruning the
 * lockfile inventory too: agentform never touches what another project owns, and never prunes
 * what it did not record.
 */
import { addressOf, kindSpec } from "../kinds/index.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import type { LoadedManifest } from "../manifest/types.js";
import { ownerOf } from "../normalize/index.js";
import type { PlanInput, Refusal } from "./types.js";

/**
 * The ownership policy (pure): a live resource matched by a manifest may be managed when it
 * carries this project's marker; taken over (adopted) when it carries none and adoption was
 * asked for; never when another project owns it.
 */
export function ownershipPolicy(
  kind: ResourceKind,
  manifest: LoadedManifest,
  found: LiveResource,
  input: Pick<PlanInput, "project" | "options">,
  locked: Readonly<Record<string, { id: string }>>,
): { adopt: boolean } | { refusal: Refusal } {
  const addr = addressOf(kind, manifest.name);
  const owner = ownerFor(kind, found, input.project, locked);
  // A renamed project's resources: taken over like unmarked ones, their marker rewritten.
  if (owner !== null && owner === input.options.transferFrom) return { adopt: true };
  if (owner !== null && owner !== input.project) {
    return {
      refusal: {
        address: addr,
        code: "foreign-owner",
        message: `The live ${kind} "${found.name}" (${found.id}) belongs to project "${owner}", not "${input.project}".`,
        hint: `Rename ${manifest.file}'s ${kind}, or remove it from project "${owner}" first; agentform never takes over another project's resources.`,
        ids: [found.id],
      },
    };
  }
  if (owner !== null) return { adopt: false };
  const adoptId = manifest.settings.adoptId;
  if (adoptId !== undefined && adoptId !== found.id) {
    return {
      refusal: {
        address: addr,
        code: "adopt-id-mismatch",
        message: `${manifest.file} adopts ${kind} ${adoptId}, but the live ${kind} named "${found.name}" is ${found.id}.`,
        hint: `Check which resource ${manifest.file} should take over: set its adopt to ${found.id} (or true) to take this one, or rename the manifest.`,
        ids: [found.id],
      },
    };
  }
  if (input.options.adopt || manifest.settings.adopt) return { adopt: true };
  return {
    refusal: {
      address: addr,
      code: "unmanaged-needs-adopt",
      message: `A live ${kind} named "${found.name}" (${found.id}) exists but is not managed by agentform.`,
      hint: `To take it over, add "agentform: { adopt: true }" to ${manifest.file} or run with --adopt; otherwise rename the manifest.${lockfileOwnedNote(kind)}`,
      ids: [found.id],
    },
  };
}

/**
 * `adopt: "<id>"` names a resource to take over; finding none by the manifest's names must not
 * quietly create another one: refused, saying where the id is (under another name) or that it
 * is gone.
 */
export function adoptTargetMissing(kind: ResourceKind, manifest: LoadedManifest, byId: ReadonlyMap<string, LiveResource>): Refusal | undefined {
  const id = manifest.settings.adoptId;
  if (id === undefined) return undefined;
  const live = byId.get(id);
  const where = live ? `is live as "${live.name}", not under the manifest's name` : "is not a live resource of the workspace";
  return {
    address: addressOf(kind, manifest.name),
    code: "adopt-id-mismatch",
    message: `${manifest.file} adopts ${kind} ${id}, which ${where}.`,
    hint: live ? `Add "${live.name}" to agentform.previous_names to take it over and rename it, or remove the adopt id.` : "Remove the adopt id (or set adopt: true) to create the resource anew.",
    ids: [id],
  };
}

/**
 * What --prune does with a lockfile entry that no manifest wants: archive it when it is live and
 * ours; drop the entry (leaving the resource alone) when it is gone or not ours; keep it when
 * another manifest's match claimed the resource (a rename).
 */
export function prunePolicy(
  kind: ResourceKind,
  live: LiveResource | undefined,
  claimed: ReadonlySet<string>,
  project: string,
  transferFrom?: string,
): "archive" | "gone" | "foreign" | "keep" {
  if (!live) return "gone";
  if (claimed.has(live.id)) return "keep";
  // Pruning starts from a lockfile entry, which is the whole ownership record of lockfile-owned kinds.
  if (kindSpec(kind).ownership === "lockfile") return "archive";
  const owner = ownerOf(live);
  // Under a transfer, the renamed project's resources are this project's inventory too.
  return owner === project || (owner !== null && owner === transferFrom) ? "archive" : "foreign";
}

/**
 * The project owning a live resource: its metadata marker, or, for kinds without metadata,
 * this project when its lockfile records the id (under any name) and nobody otherwise.
 */
function ownerFor(kind: ResourceKind, live: LiveResource, project: string, locked: Readonly<Record<string, { id: string }>>): string | null {
  if (kindSpec(kind).ownership === "marker") return ownerOf(live);
  return Object.values(locked).some((e) => e.id === live.id) ? project : null;
}

/**
 * Kinds owned through the lockfile alone cannot be recognised once an apply that created one was
 * interrupted before its lockfile save: say so, since adopting it is then the right answer.
 */
function lockfileOwnedNote(kind: ResourceKind): string {
  if (kindSpec(kind).ownership !== "lockfile") return "";
  return ` A ${kind} has no metadata to mark it, so one created by an apply interrupted before it saved the lockfile looks like this too; adopting it records it, with no write when it matches the manifest.`;
}
