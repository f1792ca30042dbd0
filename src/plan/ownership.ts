/**
 * Ownership as policy (pure): whether a live resource may be managed, taken over or pruned by
 * this project. Ownership is the `agentform.project` marker on the resource, and for pruning the
 * lockfile inventory too: agentform never touches what another project owns, and never prunes
 * what it did not record.
 */
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import type { LoadedManifest } from "../manifest/types.js";
import { ownerOf } from "../normalize/index.js";
import type { PlanInput, Refusal } from "./types.js";

/**
 * The ownership policy (pure): a live resource matched by a manifest may be managed when it
 * carries this project's marker; taken over (adopted) when it carries none and adoption was
 * asked for; never when another project owns it.
 */
export function ownershipPolicy(kind: ResourceKind, manifest: LoadedManifest, found: LiveResource, input: Pick<PlanInput, "project" | "options">): { adopt: boolean } | { refusal: Refusal } {
  const addr = `${kind}.${manifest.name}`;
  const owner = ownerOf(found);
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
  if (input.options.adopt || manifest.settings.adopt) return { adopt: true };
  return {
    refusal: {
      address: addr,
      code: "unmanaged-needs-adopt",
      message: `A live ${kind} named "${found.name}" (${found.id}) exists but is not managed by agentform.`,
      hint: `To take it over, add "agentform: { adopt: true }" to ${manifest.file} or run with --adopt; otherwise rename the manifest.`,
      ids: [found.id],
    },
  };
}

/**
 * What --prune does with a lockfile entry that no manifest wants: archive it when it is live and
 * ours; drop the entry (leaving the resource alone) when it is gone or not ours; keep it when
 * another manifest's match claimed the resource (a rename).
 */
export function prunePolicy(live: LiveResource | undefined, claimed: ReadonlySet<string>, project: string): "archive" | "gone" | "foreign" | "keep" {
  if (!live) return "gone";
  if (claimed.has(live.id)) return "keep";
  return ownerOf(live) === project ? "archive" : "foreign";
}
