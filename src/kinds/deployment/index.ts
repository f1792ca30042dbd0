/**
 * The deployment kind: an agent run on a schedule (or on demand) with an environment, vaults and
 * memory stores, all named by reference. The API resolves its agent to a concrete version and
 * never follows later ones, so a deployment whose manifest follows its agent (`agent: {ref}`) is
 * re-pinned whenever the agent gets a new version, in the same apply. Owned through its metadata
 * marker, unversioned (digest-checked before each write); archive is terminal and there is no
 * delete. `paused` is reconciled with pause and unpause, but a deployment the server paused for
 * an error is reported, never un-paused by agentform.
 */
import { deploymentAnt } from "./ant.js";
import type { KindSpec } from "../spec.js";
import { isObj, minimalManifest, storedSecretDigest, type Obj } from "../values.js";
import { secretNotes } from "../secret-notes.js";
import { deploymentCreateFields, deploymentFieldBody, resolveDeploymentRefs, tokenEnvNames, tokenPointers } from "./body.js";
import { canonicalDeploymentDesired, canonicalDeploymentLive, serverPauseReason } from "./canonical.js";
import { deploymentReferenceIds, deploymentReferences, deploymentNamedRefs } from "./refs.js";
import { deploymentRules } from "./rules.js";
import { deploymentFindings } from "./security.js";
import { pointerSegments } from "../../util/pointer.js";

/** The variable an imported deployment's repository tokens are read from, until the user names their own. */
const IMPORTED_TOKEN_ENV = "REPOSITORY_TOKEN";

const CREATE_FIELDS = ["name", "description", "agent", "environment_id", "initial_events", "schedule", "resources", "vault_ids", "budget", "metadata", "paused"];

export const deploymentKind: KindSpec<"deployment"> = {
  kind: "deployment",
  schema: "deployment",
  maxNameLength: 255,
  nameField: "name",
  folder: "deployments",
  layout: "file",
  extensions: [".yaml", ".yml", ".md"],
  // Markdown: the body is the task each run starts with, the usual deployment's one user message.
  markdownBody: { field: "initial_events", textPath: ["0", "content", "0", "text"], what: "the opening user message", fromBody: openingEvents, toBody: openingText },
  looksLike: (value, markdown) => !markdown && "initial_events" in value,
  ownership: "marker",
  referencedFrom: "Nothing",
  concurrency: "digest",
  limitedInFlight: false,
  emptyMetadataDeletes: false,
  lockKey: "deployments",
  lockVersion: "none",
  pinOf: () => undefined,
  uploads: false,
  renamable: true,
  removal: "archive",
  removalNote: "archiving a deployment is terminal: it never runs again and can no longer be changed",
  deletable: false,
  versionOf: () => undefined,
  runtimePin: (entry) => ({ id: entry.id }),
  updateImpact: "in-place",
  wholeFields: new Set(["resources", "vault_ids", "initial_events", "schedule", "budget"]),
  secrets: { bodyPointers: tokenPointers, replacesAll: (body) => Array.isArray(body.resources) },
  // Tokens without a recorded digest are sent anyway (nothing shows they were), so only an unset variable is worth a note.
  notes: (spec, action) => secretNotes(spec, action, tokenEnvNames(spec), "deployment", false),
  shapeProblem: (raw) => {
    const a = raw.agent;
    if (!isObj(a) || typeof a.id !== "string" || !Number.isSafeInteger(a.version)) return "has no agent {id, version}";
    for (const f of ["resources", "vault_ids", "initial_events"]) if (!Array.isArray(raw[f])) return `has ${f} that is not a list`;
    if (raw.schedule !== null && raw.schedule !== undefined && (!isObj(raw.schedule) || typeof raw.schedule.expression !== "string")) return "has a schedule that is neither null nor a cron schedule";
    if (raw.status !== "active" && raw.status !== "paused") return `has status ${JSON.stringify(String(raw.status).slice(0, 40))}, neither active nor paused`;
    return undefined;
  },
  serverDrift: (live) => {
    const reason = serverPauseReason(live as unknown as Obj);
    return reason === undefined ? undefined : `paused by the server (${reason}); agentform does not un-pause it: fix the cause, then un-pause it in the Console`;
  },
  canonicalDesired: (spec, context) => canonicalDeploymentDesired(spec, context),
  canonicalLive: (live, hint) => canonicalDeploymentLive(live as unknown as Obj, hint),
  resolveRefs: resolveDeploymentRefs,
  createFields: deploymentCreateFields,
  fieldBody: deploymentFieldBody,
  reviewSecurity: deploymentFindings,
  references: deploymentReferences,
  liveReferenceIds: (live) => deploymentReferenceIds(live as unknown as Obj),
  // `/agent/<id>`: the agent's version, followed unless the manifest pins one.
  followedRefKey: (pointer) => {
    const s = pointerSegments(pointer);
    return s.length === 2 && s[0] === "agent" ? (s[1] as string) : null;
  },
  rules: deploymentRules,
  namedRefs: (manifest, nameOf) => deploymentNamedRefs(manifest, nameOf),
  ant: deploymentAnt,
  toManifest: (live) => {
    // As a manifest writes them: `paused` from the status, the schedule without its run times,
    // and, when tokens were sent (the digest says so, not which ones), every repository reading
    // one from a variable to name: secrets cannot be read back.
    const sent = storedSecretDigest(live) !== undefined;
    const resources = live.resources.map((r) => (sent && r.type === "github_repository" ? { ...r, authorization_token_env: IMPORTED_TOKEN_ENV } : r));
    const raw: Obj = { ...(live as unknown as Obj), resources, paused: live.status === "paused", schedule: live.schedule ? { type: live.schedule.type, expression: live.schedule.expression, timezone: live.schedule.timezone } : null };
    const target = canonicalDeploymentLive(live as unknown as Obj, canonicalDeploymentDesired(raw));
    return minimalManifest(raw, CREATE_FIELDS, (spec) => canonicalDeploymentDesired(spec), target);
  },
};

/** A `.md` deployment's `initial_events`: its body as the one user message each session starts with. */
function openingEvents(text: string): Obj[] {
  return [{ type: "user.message", content: [{ type: "text", text }] }];
}

/**
 * The body of `initial_events` that {@link openingEvents} gives back exactly: one user.message
 * holding one text block and nothing else. Anything more (other events, other blocks, other keys)
 * has no Markdown form.
 */
function openingText(events: unknown): string | undefined {
  if (!Array.isArray(events) || events.length !== 1) return undefined;
  const event: unknown = events[0];
  if (!isObj(event) || Object.keys(event).length !== 2 || event.type !== "user.message" || !Array.isArray(event.content) || event.content.length !== 1) return undefined;
  const block: unknown = event.content[0];
  if (!isObj(block) || Object.keys(block).length !== 2 || block.type !== "text" || typeof block.text !== "string") return undefined;
  return block.text;
}
