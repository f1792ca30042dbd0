/**
 * One planned request against the backend, with the kind's concurrency check (pure of
 * scheduling): "version" kinds send the version seen at plan time (the API refuses a stale one);
 * "digest" kinds are re-read and their live digest compared just before the write. Either
 * mismatch is a SafetyError "stale-basis" (exit 3).
 */
import { BackendError } from "../backends/errors.js";
import type { ControlPlane } from "../backends/types.js";
import { OperationalError, SafetyError } from "../errors.js";
import { kindSpec, versionOf } from "../kinds/index.js";
import type { ResolvedRef } from "../kinds/spec.js";
import type { RequestBody } from "../kinds/types.js";
import { liveDigest } from "../normalize/index.js";
import type { PlannedRequest, PlannedResource } from "../plan/types.js";
import { pinKey, type LockBook } from "./lockbook.js";

export interface ExecuteContext {
  backend: ControlPlane;
  book: LockBook;
  /** Counts a write that succeeded. */
  countWrite: () => void;
}

export type Executed = { id: string; version?: number };

export async function executeRequest(entry: PlannedResource, ctx: ExecuteContext): Promise<Executed> {
  const request = checkRequest(entry);
  switch (request.method) {
    case "create":
      return create(entry, request, ctx);
    case "update":
      return update(entry, request, ctx);
    case "archive":
    case "delete":
      return remove(entry, request.method, ctx);
  }
}

async function create(entry: PlannedResource, request: PlannedRequest, ctx: ExecuteContext): Promise<Executed> {
  const body = resolveRefs(entry, request.body ?? {}, ctx.book);
  const live = await ctx.backend.create(entry.kind, body);
  ctx.countWrite();
  return ctx.book.recordWritten(entry, live, digestOf(entry));
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
  const body = resolveRefs(entry, request.body ?? {}, ctx.book);
  const versioned = kindSpec(entry.kind).concurrency === "version";
  const options = versioned ? { expectedVersion: request.expectedVersion as number } : {};
  if (!versioned) await checkDigestBasis(entry, id, ctx.backend);
  try {
    const live = await ctx.backend.update(entry.kind, id, body, options);
    ctx.countWrite();
    return ctx.book.recordWritten(entry, live, digestOf(entry));
  } catch (err) {
    if (versioned && err instanceof BackendError && err.isVersionConflict) throw staleBasis(entry, err);
    throw err;
  }
}

async function remove(entry: PlannedResource, method: "archive" | "delete", ctx: ExecuteContext): Promise<Executed> {
  const id = entry.id as string;
  if (kindSpec(entry.kind).concurrency === "version") await checkVersionBasis(entry, id, ctx.backend);
  else await checkDigestBasis(entry, id, ctx.backend);
  let version: number | undefined;
  if (method === "archive") version = versionOf(entry.kind, await ctx.backend.archive(entry.kind, id));
  else await ctx.backend.delete(entry.kind, id);
  ctx.countWrite();
  ctx.book.forget(entry);
  return { id, ...(version !== undefined ? { version } : {}) };
}

async function checkDigestBasis(entry: PlannedResource, id: string, backend: ControlPlane): Promise<void> {
  if (!entry.basis) return;
  const live = await backend.get(entry.kind, id);
  if (liveDigest(entry.kind, live) !== entry.basis.liveDigest) throw staleBasis(entry);
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
    const pin = book.pins.get(pinKey(kind, name));
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

