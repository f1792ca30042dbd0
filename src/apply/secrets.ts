/**
 * Secrets in request bodies. A body holds a placeholder `{$env: NAME}` where its kind says a
 * secret goes (KindSpec.secrets.bodyPointers, and nowhere else: a placeholder a manifest smuggles
 * into an agent's tool schema stays an inert object). Apply replaces each with the variable's
 * value just before sending, and records in the same request, in the resource's metadata, the
 * slow salted digest of what it sent (src/kinds/credential/secret-digest.ts), so that a later plan
 * can tell whether the variable changed without the secret ever being stored.
 */
import { ConfigError, redactSecrets } from "../errors.js";
import { inertText } from "../render/inert.js";
import { kindSpec } from "../kinds/index.js";
import { digestToStoreAsync, secretMatchesAsync } from "../kinds/credential/secret-digest.js";
import type { SecretStatus } from "../kinds/spec.js";
import type { RequestBody, ResourceKind } from "../kinds/types.js";
import { isObj, type Obj } from "../kinds/values.js";
import { SECRET_DIGEST_KEY } from "../manifest/types.js";
import { pointerSegments } from "../util/pointer.js";

/** Where secrets come from: the environment (or, on a local target, a stand-in for a missing variable). */
export type SecretSource = (name: string) => string | undefined;

/** The placeholders of a body, in the kind's order: the variable each names and where it stands. */
export function placeholdersIn(kind: ResourceKind, body: RequestBody): Array<{ pointer: string; env: string }> {
  const pointers = kindSpec(kind).secrets?.bodyPointers(body) ?? [];
  return pointers.flatMap((pointer) => {
    const v = valueAt(body, pointer);
    return isObj(v) && typeof v.$env === "string" && Object.keys(v).length === 1 ? [{ pointer, env: v.$env }] : [];
  });
}

/** Objects and arrays alike (a deployment's tokens sit in its `resources` list). */
function child(v: unknown, k: string): unknown {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  return pointerSegments(pointer).reduce<unknown>((v, k) => child(v, k), root);
}

function setAt(root: Obj, pointer: string, value: unknown): void {
  const segments = pointerSegments(pointer);
  const parent = segments.slice(0, -1).reduce<unknown>((v, k) => child(v, k), root) as Record<string, unknown>;
  parent[segments[segments.length - 1] as string] = value;
}

/** What the digest is made of: the values, in the kind's order (so plan and apply agree). */
function digestInput(values: readonly string[]): string {
  return JSON.stringify(values);
}

/** The variables a body needs that `source` does not have. */
export function missingSecrets(kind: ResourceKind, body: RequestBody, source: SecretSource): string[] {
  return placeholdersIn(kind, body).filter((p) => source(p.env) === undefined).map((p) => p.env);
}

/**
 * The body with every placeholder replaced by its variable's value and the digest of them all in
 * its metadata (the stored digest kept when the values are unchanged, so its salt stays), plus
 * the values sent (for scrubbing errors). A body without placeholders is returned as it is.
 */
export async function withSecrets(kind: ResourceKind, body: RequestBody, source: SecretSource, storedDigest: string | undefined): Promise<{ body: RequestBody; sent: string[] }> {
  const found = placeholdersIn(kind, body);
  if (found.length === 0) {
    // Every secret-bearing field sent whole without one: the server holds none any more, so the
    // digest of the last ones goes too (or the next plan would still see them as sent).
    const clears = storedDigest !== undefined && kindSpec(kind).secrets?.replacesAll?.(body) === true;
    return clears ? { body: { ...body, metadata: { ...(isObj(body.metadata) ? body.metadata : {}), [SECRET_DIGEST_KEY]: null } }, sent: [] } : { body, sent: [] };
  }
  const out = structuredClone(body) as Obj;
  const sent = found.map(({ pointer, env }) => {
    const value = source(env);
    if (value === undefined) throw missingError([env]);
    setAt(out, pointer, value);
    return value;
  });
  const metadata = isObj(out.metadata) ? out.metadata : {};
  out.metadata = { ...metadata, [SECRET_DIGEST_KEY]: await digestToStoreAsync(digestInput(sent), storedDigest) };
  return { body: out, sent };
}

/**
 * What plan says of a resource's secrets: `names` are the variables its create body names (in
 * order), `stored` the digest in its live metadata (undefined: no live resource or no digest).
 */
export async function secretStatus(names: readonly string[], source: SecretSource, stored: string | undefined, rotate: boolean): Promise<SecretStatus> {
  const values = names.map((n) => source(n));
  if (values.some((v) => v === undefined)) return rotate ? "forced" : "missing";
  if (rotate) return "forced";
  const same = await secretMatchesAsync(digestInput(values as string[]), stored);
  return same === null ? "unrecorded" : same ? "current" : "rotated";
}

/** The error for variables apply needs and does not have (exit 4: nothing was sent). */
export function missingError(names: readonly string[]): ConfigError {
  const list = [...new Set(names)].sort().join(", ");
  return new ConfigError("secret-missing", `apply must send secrets from ${list}, which ${names.length === 1 ? "is" : "are"} not set; nothing was sent`, {
    hint: "Set the variables in the environment apply runs in (a CI secret), or run `agentform plan`: it reports unset secrets as not checked and needs none.",
    details: { variables: [...new Set(names)].sort() },
  });
}

/** A secret shorter than this is not looked for in pieces (a few characters match anything). */
const MIN_PIECE = 12;

/**
 * Every way a sent value can come back in an error as agentform prints it: as sent, JSON-escaped,
 * URL-encoded, with the credential shapes agentform already redacts replaced, and made
 * terminal-safe (control characters escaped); and cut short (a server or agentform truncating a
 * long echo), as the longest leading piece of any spelling.
 */
function scrubber(sent: readonly string[]): (text: string) => string {
  const spellings = [...new Set(sent.flatMap((s) => {
    const redacted = redactSecrets(s);
    return [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s), redacted, inertText(s), inertText(redacted), JSON.stringify(redacted).slice(1, -1)];
  }))].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => {
    // Whole spellings first: a piece of one value must not eat into another value's whole echo.
    let out = spellings.reduce((t, s) => t.split(s).join("[REDACTED]"), text);
    for (const s of spellings) {
      for (let k = Math.min(s.length - 1, 4096); k >= MIN_PIECE; k--) {
        if (!out.includes(s.slice(0, k))) continue;
        out = out.split(s.slice(0, k)).join("[REDACTED]");
        break;
      }
    }
    return out;
  };
}

/**
 * The error with every value sent scrubbed from everything the CLI may print of it (a server may
 * echo a body back into its message, its error type or code, or details): every string field,
 * the stack, and `details`, each value in its raw and its JSON-escaped spelling. The cause (the
 * raw response) is dropped.
 */
export function scrubbed(err: unknown, sent: readonly string[]): unknown {
  if (sent.length === 0 || !(err instanceof Error)) return err;
  const scrub = scrubber(sent);
  const record = err as unknown as Record<string, unknown>;
  for (const key of [...Object.keys(record), "message", "stack", "hint"]) {
    const value = record[key];
    if (typeof value === "string") Object.defineProperty(err, key, { value: scrub(value), configurable: true, writable: true });
    else if (key === "details" && value !== undefined) Object.defineProperty(err, key, { value: JSON.parse(scrub(JSON.stringify(value))) as unknown, configurable: true });
  }
  Object.defineProperty(err, "cause", { value: undefined, configurable: true });
  return err;
}
