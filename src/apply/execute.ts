/**
 * One planned request against the backend, with the kind's concurrency check (pure of
 * scheduling): "version" kinds send the version seen at plan time (the API refuses a stale one);
 * "digest" kinds are re-read and their live digest compared just before the write. Either
 * mismatch is a SafetyError "stale-basis" (exit 3).
 */
import { BackendError } from "../backends/errors.js";
import type { ControlPlane } from "../backends/types.js";
import { OperationalError, SafetyError } from "../errors.js";
import { addressOf, kindSpec, pinOf, versionOf } from "../kinds/index.js";
import type { ResolvedRef } from "../kinds/spec.js";
import type { LiveResource, RequestBody } from "../kinds/types.js";
import { storedSecretDigest } from "../kinds/values.js";
import { scrubbed, withSecrets, type SecretSource } from "./secrets.js";
import { liveDigest } from "../normalize/index.js";
import type { PlannedRequest, PlannedResource } from "../plan/types.js";
import type { LockBook } from "./lockbook.js";
import type { UploadFile } from "../manifest/types.js";
import { createHash } from "node:crypto";

export interface ExecuteContext {
  backend: ControlPlane;
  book: LockBook;
  /** Counts a write that succeeded. */
  countWrite: () => void;
  /** The files of an uploading kind's manifest, by address (ApplyOptions.uploads). */
  uploads: (address: string) => ReadonlyArray<UploadFile> | undefined;
  /** Where secret placeholders are resolved from (ApplyOptions.secrets). */
  secrets: SecretSource;
}

export type Executed = { id: string; version?: number };

export async function executeRequest(entry: PlannedResource, ctx: ExecuteContext): Promise<Executed> {
  const request = checkRequest(entry);
  switch (request.method) {
    case "create":
      return create(entry, request, ctx);
    case "update":
      return update(entry, request, ctx);
    case "replace":
      return replace(entry, request, ctx);
    case "archive":
    case "delete":
      return remove(entry, request.method, ctx);
  }
}

async function create(entry: PlannedResource, request: PlannedRequest, ctx: ExecuteContext): Promise<Executed> {
  const { body, sent } = await withSecrets(entry.kind, withUploads(entry, resolveRefs(entry, request.body ?? {}, ctx.book), ctx), ctx.secrets, undefined);
  const live = await ctx.backend.create(entry.kind, body).catch((err: unknown) => Promise.reject(scrubbed(err, sent)));
  ctx.countWrite();
  return ctx.book.recordWritten(entry, live, digestOf(entry));
}

/**
 * A change no update can make: archive the resource (after the same basis check as any write),
 * then create it anew. Should the create fail, the next plan shows it as a create.
 */
async function replace(entry: PlannedResource, request: PlannedRequest, ctx: ExecuteContext): Promise<Executed> {
  await checkBasis(entry, entry.id as string, ctx.backend);
  await ctx.backend.archive(entry.kind, entry.id as string);
  ctx.countWrite();
  // The old one is gone by agentform's own hand: should the create fail, the lockfile must not
  // keep its id (the next plan would call that drift).
  ctx.book.forget(entry);
  return create(entry, request, ctx);
}

/** A request the executor may send at all; anything else means the plan is corrupt. */
function checkRequest(entry: PlannedResource): PlannedRequest {
  const request = entry.request;
  if (!request) throw invalidEntry(entry, "has no request");
  // A noop must cost nothing; a request on one means the plan is corrupt, so refuse to send it.
  if (entry.action === "noop") throw invalidEntry(entry, "is a noop that carries a request");
  if (request.method === "create") return request;
  if (!entry.id) throw invalidEntry(entry, `is ${request.method === "update" ? "an update" : `a ${request.method}`} without a live id`);
  const spec = kindSpec(entry.kind);
  if (request.method === "delete" && !spec.deletable) throw invalidEntry(entry, "is a delete of a kind that cannot be deleted");
  if (request.method === "replace" && !spec.replaces) throw invalidEntry(entry, "is a replace of a kind whose changes are all made in place");
  if (request.method !== "update") return request;
  if (!request.body || Object.keys(request.body).filter((k) => k !== "version").length === 0) {
    // Would mint a version (or touch the resource) for nothing; the planner must not ask.
    throw invalidEntry(entry, "is an update with an empty body");
  }
  if (spec.concurrency === "version" && request.expectedVersion === undefined) {
    throw invalidEntry(entry, "is an update without the version observed at plan time");
  }
  return request;
}

async function update(entry: PlannedResource, request: PlannedRequest, ctx: ExecuteContext): Promise<Executed> {
  const id = entry.id as string;
  const versioned = kindSpec(entry.kind).concurrency === "version";
  const options = versioned ? { expectedVersion: request.expectedVersion as number } : {};
  const current = versioned ? undefined : await checkBasis(entry, id, ctx.backend);
  const { body, sent } = await withSecrets(entry.kind, withUploads(entry, resolveRefs(entry, request.body ?? {}, ctx.book), ctx), ctx.secrets, storedSecretDigest(current));
  try {
    const live = await ctx.backend.update(entry.kind, id, body, options);
    ctx.countWrite();
    return ctx.book.recordWritten(entry, live, digestOf(entry));
  } catch (err) {
    if (versioned && err instanceof BackendError && err.isVersionConflict) throw staleBasis(entry, err);
    throw scrubbed(err, sent);
  }
}


async function remove(entry: PlannedResource, method: "archive" | "delete", ctx: ExecuteContext): Promise<Executed> {
  const id = entry.id as string;
  if (kindSpec(entry.kind).concurrency === "version") await checkVersionBasis(entry, id, ctx.backend);
  else await checkBasis(entry, id, ctx.backend);
  let version: number | undefined;
  if (method === "archive") version = versionOf(entry.kind, await ctx.backend.archive(entry.kind, id));
  else await ctx.backend.delete(entry.kind, id);
  ctx.countWrite();
  ctx.book.forget(entry);
  return { id, ...(version !== undefined ? { version } : {}) };
}

/**
 * The check before a write to a kind without an optimistic lock: "digest" kinds must still have
 * the digest the plan saw; "pin" kinds (skills) the version a reference pins (a new version is
 * the only change they have).
 */
async function checkBasis(entry: PlannedResource, id: string, backend: ControlPlane): Promise<LiveResource | undefined> {
  if (!entry.basis) return undefined;
  const live = await backend.get(entry.kind, id);
  const same = kindSpec(entry.kind).concurrency === "pin" ? String(pinOf(entry.kind, live)) === entry.basis.pin : liveDigest(entry.kind, live) === entry.basis.liveDigest;
  if (!same) throw staleBasis(entry);
  return live;
}

/**
 * For kinds that upload files: the manifest's bytes in place of each `{path, sha256}` of the
 * body, each checked against the digest the plan recorded (a file edited since plan is refused).
 */
function withUploads(entry: PlannedResource, body: RequestBody, ctx: ExecuteContext): RequestBody {
  if (!kindSpec(entry.kind).uploads || !Array.isArray(body.files)) return body;
  const read = new Map((ctx.uploads(entry.address) ?? []).map((f) => [f.path, f] as const));
  const files = body.files.map((f: { path: string; sha256: string }) => {
    // The body's paths carry the resource's folder name as a prefix; the manifest's are relative to it.
    const local = read.get(f.path.slice(f.path.indexOf("/") + 1));
    if (!local || local.sha256 !== f.sha256 || sha256(local.bytes) !== f.sha256) throw staleFile(entry, f.path);
    return { path: f.path, sha256: f.sha256, bytes: local.bytes };
  });
  return { ...body, files };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function staleFile(entry: PlannedResource, file: string): SafetyError {
  return new SafetyError("stale-basis", `${entry.address}: ${file} changed since plan (or is missing); run plan again`, {
    hint: "The files apply would upload are not the ones the plan reviewed. Run `agentform plan`, review the change, and apply again.",
    details: { address: entry.address, file },
  });
}

async function checkVersionBasis(entry: PlannedResource, id: string, backend: ControlPlane): Promise<void> {
  if (entry.basis?.version === undefined) return;
  const live = await backend.get(entry.kind, id);
  if (versionOf(entry.kind, live) !== entry.basis.version) throw staleBasis(entry);
}

/**
 * By-name references the planner left for targets that change in this same apply resolve to the
 * id and version those targets have now (the kind's own reference rule, the one copy of it).
 */
function resolveRefs(entry: PlannedResource, body: RequestBody, book: LockBook): RequestBody {
  return kindSpec(entry.kind).resolveRefs(body, ({ kind, name, version: explicit }): ResolvedRef => {
    const pin = book.pins.get(addressOf(kind, name));
    if (!pin) {
      throw new OperationalError("unresolved-reference", `${entry.address} refers to "${name}", which has no id yet.`, {
        hint: `Make sure "${name}" has a manifest and applied successfully, then run \`agentform plan\` again.`,
      });
    }
    const version = explicit ?? pin.version;
    return version === undefined ? { id: pin.id } : { id: pin.id, version };
  });
}

function digestOf(entry: PlannedResource): string {
  if (entry.specDigest === null) throw invalidEntry(entry, "has no specDigest to record");
  return entry.specDigest;
}

function staleBasis(entry: PlannedResource, cause?: unknown): SafetyError {
  return new SafetyError("stale-basis", `${entry.address} changed since plan; run plan again`, {
    hint: "Someone (or another apply) changed it after the plan was made. Run `agentform plan`, review the new changes, and apply again.",
    cause,
    details: { address: entry.address, id: entry.id },
  });
}

function invalidEntry(entry: PlannedResource, what: string): OperationalError {
  return new OperationalError("invalid-plan-entry", `${entry.address} ${what}.`, {
    hint: "This plan was not produced by this version of agentform, or it is a bug; run `agentform plan` again.",
  });
}

