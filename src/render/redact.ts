/**
 * Credentials in plan values (pure). Manifests are scanned for secrets, but live values are
 * not: a prompt or a metadata value edited in the Console may hold a key, and a pull-request
 * author who changes that field would see it, whole, in the plan comment. Every value a plan
 * shows (field changes, request bodies, drift and pinned-version details) is passed through the
 * same redaction errors use, before any renderer sees it.
 */
import { CREDENTIAL_SHAPES, redactSecrets } from "../errors.js";
import type { FieldChange, Plan, PlannedResource } from "../plan/types.js";
import { MAX_RENDER_DEPTH } from "./inert.js";

/** One pass that rules most strings out before the shapes run one by one. */
const ANY_SHAPE = new RegExp(CREDENTIAL_SHAPES.map((s) => `(?:${s.pattern.source})`).join("|"));

/**
 * The value with every credential-shaped substring of every string replaced by [REDACTED].
 * Below MAX_RENDER_DEPTH nothing is printed (renderers cut there), so nothing is walked.
 */
function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return ANY_SHAPE.test(value) ? redactSecrets(value) : value;
  if (value === null || typeof value !== "object" || depth >= MAX_RENDER_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) out[redactValue(k) as string] = redactValue(v, depth + 1);
  return out;
}

function redactChanges(list: FieldChange[]): FieldChange[] {
  return list.map((c) => ({
    ...c,
    ...("before" in c ? { before: redactValue(c.before) } : {}),
    ...("after" in c ? { after: redactValue(c.after) } : {}),
  }));
}

function redactResource(r: PlannedResource): PlannedResource {
  // Most entries of a large plan show no value at all: they stay as they are, not copied.
  if (r.changes.length === 0 && r.ignored.length === 0 && !r.request?.body && !r.drift?.changes && !r.lockOnly?.pinned?.changes) return r;
  const out: PlannedResource = { ...r, changes: redactChanges(r.changes), ignored: redactChanges(r.ignored) };
  if (r.request?.body) out.request = { ...r.request, body: redactValue(r.request.body) as Record<string, unknown> };
  if (r.drift?.changes) out.drift = { ...r.drift, changes: redactChanges(r.drift.changes) };
  const pinned = r.lockOnly?.pinned;
  if (r.lockOnly && pinned?.changes) out.lockOnly = { ...r.lockOnly, pinned: { ...pinned, changes: redactChanges(pinned.changes) } };
  return out;
}

/** The plan as every renderer shows it: values redacted of credentials. */
export function redactPlanValues(plan: Plan): Plan {
  return { ...plan, resources: plan.resources.map(redactResource) };
}
