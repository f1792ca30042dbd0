/**
 * What a plan entry says of secrets it could not compare (a credential's, a deployment's
 * repository tokens): one wording for every kind that holds secrets.
 */
import { SECRET_STATUS_KEY, type SecretStatus } from "./spec.js";
import type { PlanAction } from "../plan/types.js";
import type { Obj } from "./values.js";

/** `noun` names the resource ("credential"); `unrecorded` whether "no digest" is worth saying for this kind. */
export function secretNotes(spec: Obj, action: PlanAction, envNames: readonly string[], noun: string, unrecorded: boolean): string[] {
  const names = envNames.join(", ");
  const status = spec[SECRET_STATUS_KEY] as SecretStatus | undefined;
  if (names === "") return [];
  if (status === "missing" && (action === "create" || action === "replace")) return [`${names} not set here: apply needs ${envNames.length > 1 ? "them" : "it"} to create the ${noun}`];
  if (status === "missing") return [`secret not checked: ${names} not set here (plans made without secrets, such as pull requests from forks, cannot compare it); apply needs it only to send it`];
  if (status === "unrecorded" && unrecorded) return [`secret not checked: the live ${noun} carries no digest agentform can check (made or last changed outside agentform); \`--rotate\` resends ${names}`];
  return [];
}
