/**
 * Shared set-up for the local control plane tests: a server and a real SDK client aimed at it, a
 * temporary state file per test, and the small helpers the resource tests share.
 */
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { startLocalControlPlane, type LocalControlPlane, type LocalServerOptions } from "../../src/local/index.js";
import { rejectionOf } from "../helpers/rejection.js";

export interface Harness {
  cp: LocalControlPlane;
  client: Anthropic;
}

export async function startHarness(options: LocalServerOptions = {}, clientOptions: { maxRetries?: number } = {}): Promise<Harness> {
  const cp = await startLocalControlPlane(options);
  return { cp, client: clientFor(cp, clientOptions.maxRetries ?? 0) };
}

export function clientFor(cp: LocalControlPlane, maxRetries = 0): Anthropic {
  return new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries });
}

/** Await a promise that must reject, and return the error for closer inspection. */
export function failure(p: Promise<unknown>): Promise<APIError> {
  return rejectionOf(p, APIError);
}

export const tick = () => new Promise((r) => setTimeout(r, 5));

/** A request the SDK's types would not allow, sent as is. */
export const loose = <T>(v: unknown) => v as T;

/** The message of the error envelope. */
export function messageOf(err: APIError): string {
  return (err.error as { error?: { message?: string } } | undefined)?.error?.message ?? "";
}

/** Await a promise that must fail with `status` (and, if given, an envelope message matching `message`). */
export async function expectStatus(p: Promise<unknown>, status: number, message?: RegExp): Promise<APIError> {
  const err = await failure(p);
  expect(err.status).toBe(status);
  if (message) expect(messageOf(err)).toMatch(message);
  return err;
}

export async function allPages<T>(page: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of page) out.push(item);
  return out;
}

/**
 * For each test of the enclosing describe: a fresh folder (named from `prefix`) under the system's
 * temporary folder, removed after the test, whose `state.json` path is handed to `set`.
 */
export function useTempStateFile(prefix: string, set: (stateFile: string) => void): void {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
    set(path.join(dir, "state.json"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
}

/**
 * Write `text` as the state file and start a control plane on it, which must refuse it: the error
 * it threw. A control plane that started anyway is closed, and the test fails naming `entry`.
 */
export async function refusedStart(stateFile: string, text: string, entry: string): Promise<AgentformError> {
  await writeFile(stateFile, text);
  const result = await startLocalControlPlane({ stateFile }).catch((e: unknown) => e);
  if (!(result instanceof AgentformError)) {
    await (result as LocalControlPlane).close?.();
    throw new Error(`expected local-state-corrupt at ${entry}`);
  }
  return result;
}
