/**
 * The sdk backend: the ControlPlane over the official @anthropic-ai/sdk client.
 *
 * The SDK's own retries are switched off (`maxRetries: 0` on every call): it would resend a
 * version-conflict 409 twice and blindly retry a create whose response was lost, making a
 * duplicate (API-SEMANTICS §1.6). agentform's retry policy lives in resilient.ts instead, where
 * an ambiguous create is reconciled by listing first.
 */
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { redactSecrets } from "../errors.js";
import { BackendError } from "./errors.js";
import type {
  ConnectionSettings,
  ControlPlane,
  ListOptions,
  LiveAgent,
  LiveOf,
  RequestBody,
  ResourceKind,
} from "./types.js";

/** Page sizes: the API's maximum for agents; environments have no stated maximum. */
const AGENT_PAGE = 100;
const ENVIRONMENT_PAGE = 1000;

export interface SdkBackendOptions {
  /** Per-request timeout; a timed-out request is ambiguous (the server may have committed it). */
  timeoutMs?: number;
}

/** Create the sdk backend for one target. Every failure is raised as a BackendError. */
export function createSdkBackend(settings: ConnectionSettings, options: SdkBackendOptions = {}): ControlPlane {
  const client = new Anthropic({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
    defaultHeaders: settings.workspaceId ? { "anthropic-workspace-id": settings.workspaceId } : undefined,
  });
  const secrets = [settings.apiKey];
  const req = { maxRetries: 0 } as const;

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toBackendError(err, operation, secrets);
    }
  }

  const backend: ControlPlane = {
    backend: "sdk",
    baseUrl: settings.baseUrl,

    async list<K extends ResourceKind>(kind: K, listOptions: ListOptions = {}): Promise<LiveOf<K>[]> {
      const includeArchived = listOptions.includeArchived ?? false;
      return call(`list ${kind}s`, async () => {
        const items: unknown[] = [];
        // The SDK's auto-pagination follows `next_page` until it is null.
        const pages =
          kind === "agent"
            ? client.beta.agents.list({ limit: AGENT_PAGE, include_archived: includeArchived }, req)
            : client.beta.environments.list({ limit: ENVIRONMENT_PAGE, include_archived: includeArchived }, req);
        for await (const item of pages) items.push(item);
        return items as LiveOf<K>[];
      });
    },

    async get<K extends ResourceKind>(kind: K, id: string, getOptions: { version?: number } = {}): Promise<LiveOf<K>> {
      const what = `get ${kind} ${id}${getOptions.version !== undefined ? ` version ${getOptions.version}` : ""}`;
      return call(what, async () => {
        if (kind === "agent") {
          const params = getOptions.version !== undefined ? { version: getOptions.version } : {};
          return (await client.beta.agents.retrieve(id, params, req)) as LiveOf<K>;
        }
        return (await client.beta.environments.retrieve(id, {}, req)) as LiveOf<K>;
      });
    },

    async create<K extends ResourceKind>(kind: K, body: RequestBody): Promise<LiveOf<K>> {
      return call(`create ${kind} ${describeName(body)}`, async () => {
        if (kind === "agent") {
          return (await client.beta.agents.create(body as unknown as Anthropic.Beta.AgentCreateParams, req)) as LiveOf<K>;
        }
        return (await client.beta.environments.create(body as unknown as Anthropic.Beta.EnvironmentCreateParams, req)) as LiveOf<K>;
      });
    },

    async update<K extends ResourceKind>(
      kind: K,
      id: string,
      body: RequestBody,
      updateOptions: { expectedVersion?: number } = {},
    ): Promise<LiveOf<K>> {
      return call(`update ${kind} ${id}`, async () => {
        if (kind === "agent") {
          const params: RequestBody = { ...body };
          delete params.version;
          if (updateOptions.expectedVersion !== undefined) params.version = updateOptions.expectedVersion;
          return (await client.beta.agents.update(id, params as unknown as Anthropic.Beta.AgentUpdateParams, req)) as LiveOf<K>;
        }
        return (await client.beta.environments.update(id, body as unknown as Anthropic.Beta.EnvironmentUpdateParams, req)) as LiveOf<K>;
      });
    },

    async archive<K extends ResourceKind>(kind: K, id: string): Promise<LiveOf<K>> {
      return call(`archive ${kind} ${id}`, async () => {
        if (kind === "agent") return (await client.beta.agents.archive(id, {}, req)) as LiveOf<K>;
        return (await client.beta.environments.archive(id, {}, req)) as LiveOf<K>;
      });
    },

    async delete(_kind: "environment", id: string): Promise<void> {
      // The API answers either {id, type: "environment_deleted"} or 204 (API-SEMANTICS §11 #9).
      await call(`delete environment ${id}`, () => client.beta.environments.delete(id, {}, req));
    },

    async listVersions(agentId: string): Promise<LiveAgent[]> {
      return call(`list versions of agent ${agentId}`, async () => {
        const items: LiveAgent[] = [];
        for await (const item of client.beta.agents.versions.list(agentId, { limit: AGENT_PAGE }, req)) items.push(item);
        // Oldest first, whatever order the server pages in.
        return items.sort((a, b) => a.version - b.version);
      });
    },
  };
  return backend;
}

function describeName(body: RequestBody): string {
  return typeof body.name === "string" ? JSON.stringify(body.name) : "(unnamed)";
}

/** Map anything the SDK throws to a BackendError, keeping status, codes and retry-after. */
export function toBackendError(err: unknown, operation: string, secrets: readonly string[] = []): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof APIError && err.status !== undefined) {
    const headers = err.headers as Headers | undefined;
    return new BackendError({
      status: err.status,
      type: err.type ?? undefined,
      errorCode: err.errorCode ?? undefined,
      requestId: err.requestID ?? headers?.get("request-id") ?? undefined,
      retryAfterSeconds: retryAfterSeconds(headers),
      operation,
      serverMessage: redactSecrets(err.apiMessage ?? statusText(err.status), secrets),
      cause: err,
    });
  }
  // APIConnectionError, timeouts, aborted or unparseable responses: no usable response, so the
  // server may or may not have acted on the request.
  const message = err instanceof Error ? err.message : String(err);
  return new BackendError({
    status: undefined,
    operation,
    serverMessage: redactSecrets(message || "connection failed", secrets),
    cause: err,
  });
}

function statusText(status: number): string {
  return `the server answered ${status}`;
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  if (!headers || typeof headers.get !== "function") return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms) / 1000;
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - Date.now()) / 1000);
}

