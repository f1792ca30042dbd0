/** Shared set-up for the local control plane tests: a server and a real SDK client aimed at it. */
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { startLocalControlPlane, type LocalControlPlane, type LocalServerOptions } from "../../src/local/index.js";

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
export async function failure(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
  throw new Error("expected the request to fail, but it succeeded");
}
