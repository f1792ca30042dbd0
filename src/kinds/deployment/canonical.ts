/**
 * Canonical forms of a deployment (pure), the manifest's and the live one's, in one shape:
 * references as ids (or `ref:<name>` / known after apply), the agent as `{<id>: version}` (so a
 * re-pin is a change at `/agent/<id>`, recognised as following its target), resources with the
 * API's defaults spelled out, the schedule without its read-only run times, and `paused`.
 * Repository tokens are write-only: a resource holding one shows `authorization_token` as sent or
 * being resent, never a value.
 */
import { KNOWN_AFTER_APPLY, SECRET_STATUS_KEY, type DesiredContext, type SecretStatus } from "../spec.js";
import type { ResourceKind } from "../types.js";
import { asArray, canonicalMetadata, isObj, storedSecretDigest, type Obj } from "../values.js";
import { agentRefVersion, refName } from "./refs.js";

/** What the canonical token says: as last sent, or sent again. */
export const TOKEN_AS_SENT = "(as last sent)";
const TOKEN_RESENT: Partial<Record<SecretStatus, string>> = { rotated: "(rotated: the variable changed)", forced: "(resent: --rotate)" };

type IdOf = (kind: ResourceKind, v: unknown) => unknown;

/** A reference's canonical id: the id itself, the resolved id, or `ref:<name>` while unresolved. */
function idResolver(context: DesiredContext | undefined): IdOf {
  return (kind, v) => {
    const name = refName(v);
    if (name === undefined) return v ?? null;
    // A target created in this same plan has no id yet: its name reads better than a marker.
    const r = context?.resolveRef?.({ kind, name });
    return r && r.id !== KNOWN_AFTER_APPLY ? r.id : `ref:${name}`;
  };
}

/** The agent as `{<id>: version}`; `ref:<name>` stands for an agent created in the same plan. */
function desiredAgent(spec: Obj, context: DesiredContext | undefined): Obj {
  const a = spec.agent;
  const name = refName(a);
  if (name === undefined) return isObj(a) && typeof a.id === "string" ? { [a.id]: a.version ?? null } : {};
  const explicit = agentRefVersion(spec);
  const r = context?.resolveRef?.(explicit === undefined ? { kind: "agent", name } : { kind: "agent", name, version: explicit });
  const key = !r || r.id === KNOWN_AFTER_APPLY ? `ref:${name}` : r.id;
  return { [key]: r?.version ?? explicit ?? null };
}

function canonicalResource(r: unknown, idOf: IdOf, token: string | undefined): unknown {
  if (!isObj(r)) return r;
  switch (r.type) {
    case "memory_store":
      return { type: r.type, memory_store_id: refName(r) !== undefined ? idOf("memory_store", r) : (r.memory_store_id ?? null), access: r.access ?? "read_write", instructions: r.instructions ?? null };
    case "github_repository": {
      const out: Obj = { type: r.type, url: r.url ?? null, checkout: r.checkout ?? null, mount_path: r.mount_path ?? null };
      if (token !== undefined && typeof r.authorization_token_env === "string") out.authorization_token = token;
      return out;
    }
    case "file":
      return { type: r.type, file_id: r.file_id ?? null, mount_path: r.mount_path ?? null };
    default:
      return r;
  }
}

/** `user.define_outcome.max_iterations` left out is the API's default, 3. */
function canonicalEvents(v: unknown): unknown[] {
  return asArray(v).map((e) => (isObj(e) && e.type === "user.define_outcome" ? { ...e, max_iterations: e.max_iterations ?? 3 } : e));
}

function canonicalSchedule(v: unknown): Obj | null {
  return isObj(v) ? { type: v.type ?? "cron", expression: v.expression ?? null, timezone: v.timezone ?? null } : null;
}

function shared(src: Obj): Obj {
  return {
    name: src.name ?? null,
    description: typeof src.description === "string" && src.description !== "" ? src.description : null,
    initial_events: canonicalEvents(src.initial_events),
    schedule: canonicalSchedule(src.schedule),
    budget: isObj(src.budget) ? src.budget : null,
    metadata: canonicalMetadata(src.metadata),
  };
}

export function canonicalDeploymentDesired(spec: Obj, context?: DesiredContext): Obj {
  const idOf = idResolver(context);
  const status = spec[SECRET_STATUS_KEY] as SecretStatus | undefined;
  const token = (status && TOKEN_RESENT[status]) ?? TOKEN_AS_SENT;
  return {
    ...shared(spec),
    agent: desiredAgent(spec, context),
    environment_id: idOf("environment", spec.environment_id),
    vault_ids: asArray(spec.vault_ids).map((v) => idOf("vault", v)),
    resources: asArray(spec.resources).map((r) => canonicalResource(r, idOf, token)),
    paused: spec.paused === true,
  };
}

/**
 * The live deployment. With `hint` (the desired form it is compared with): a token the manifest
 * sends shows as sent, and a deployment the server paused for an error reads as the manifest
 * wants it (agentform does not un-pause it; the plan says so, and its digest still shows drift).
 */
export function canonicalDeploymentLive(live: Obj, hint?: Obj): Obj {
  const agent = isObj(live.agent) && typeof live.agent.id === "string" ? { [live.agent.id]: live.agent.version ?? null } : {};
  // Tokens are write-only: what shows they were sent is the digest apply records with them. With
  // none recorded, no resource holds one (a token the manifest adds is a change); with one
  // recorded and none wanted, every repository shows one (removing them all is a change).
  const sent = storedSecretDigest(live) !== undefined;
  const wantsNone = !asArray(hint?.resources).some((r) => isObj(r) && "authorization_token" in r);
  const resources = asArray(live.resources).map((r, i) => {
    const c = canonicalResource(r, (_k, v) => v, undefined);
    const wanted = asArray(hint?.resources)[i];
    if (!isObj(c) || !isObj(wanted) || c.type !== wanted.type) return c;
    const out: Obj = { ...c };
    if (sent && ("authorization_token" in wanted || (wantsNone && c.type === "github_repository"))) out.authorization_token = TOKEN_AS_SENT;
    // A mount path the manifest leaves out is the server's default, whatever it answers.
    if (wanted.mount_path === null && "mount_path" in out) out.mount_path = null;
    return out;
  });
  const pausedByServer = live.status === "paused" && isObj(live.paused_reason) && live.paused_reason.type === "error";
  const paused = pausedByServer && hint?.paused === false ? false : live.status === "paused";
  return { ...shared(live), agent, environment_id: live.environment_id ?? null, vault_ids: asArray(live.vault_ids), resources, paused };
}

/** Why the server paused a deployment, when it did (an error, not a person). */
export function serverPauseReason(live: Obj): string | undefined {
  if (live.status !== "paused" || !isObj(live.paused_reason) || live.paused_reason.type !== "error") return undefined;
  const error = live.paused_reason.error;
  return isObj(error) && typeof error.type === "string" ? error.type : "unknown_error";
}
