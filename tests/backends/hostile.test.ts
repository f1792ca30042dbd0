/**
 * The sdk backend and the resilience policy against a tiny hostile node:http server: what a
 * server sends is bounded (size, time, content type), shape-checked, and never resent when
 * resending would only repeat it. The end-to-end version (plan, apply, lockfile) is
 * tests/e2e/hostile-server.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackendError } from "../../src/backends/errors.js";
import { withResilience } from "../../src/backends/resilient.js";
import { createSdkBackend, type SdkBackendOptions } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const AGENT = {
  type: "agent",
  id: "agent_011",
  name: "triage",
  version: 1,
  model: { id: "claude-sonnet-5-5" },
  metadata: { "agentform.project": "support-bots" },
  created_at: "2026-01-01T00:00:00Z",
};

describe("sdk backend against a hostile server", () => {
  let server: Server;
  let handler: Handler;
  let seen: Array<{ method: string; url: string }>;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "" });
      req.resume();
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const backend = (limits: SdkBackendOptions["limits"] = {}) => createSdkBackend({ baseUrl, apiKey: "test-key" }, { timeoutMs: 10_000, limits });
  const resilient = (limits: SdkBackendOptions["limits"] = {}): ControlPlane =>
    withResilience(backend(limits), { project: "support-bots", sleep: async () => {}, maxAttempts: 6 });
  const failure = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as BackendError;

  it("refuses a declared content-length over the cap without waiting for the body", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(1024 * 1024 * 1024) });
      res.write("{");
      // ...and nothing more: reading would stall until the body timeout.
    };
    const err = await failure(backend({ maxResponseBytes: 4096, bodyTimeoutMs: 60_000 }).list("agent"));
    expect(err).toBeInstanceOf(BackendError);
    expect(err.code).toBe("response-too-large");
    expect(err.message).toMatch(/^list agents failed \(unusable response\): the 200 response body is larger than 4096 bytes/);
  });

  it("caps error bodies too, and still reports a plain error status as the API error it is", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>Bad gateway</html>");
    };
    const gateway = await failure(backend().get("agent", "agent_011"));
    // A proxy's HTML 502 is an HTTP error, retryable like any 5xx: not a "not JSON" refusal.
    expect(gateway.status).toBe(502);
    expect(gateway.isRetryable).toBe(true);
    handler = (_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: "x".repeat(10_000) } }));
    };
    const huge = await failure(backend({ maxResponseBytes: 4096 }).get("agent", "agent_011"));
    expect(huge.code).toBe("response-too-large");
    expect(huge.isRetryable).toBe(false);
  });

  it("accepts JSON media types with parameters or a +json suffix, and a 204 without a body", async () => {
    handler = (req, res) => {
      if (req.method === "DELETE") return void res.writeHead(204).end();
      res.writeHead(200, { "content-type": "application/vnd.anthropic+json; charset=utf-8" });
      res.end(JSON.stringify(AGENT));
    };
    expect((await backend().get("agent", "agent_011")).id).toBe("agent_011");
    await expect(backend().delete("environment", "env_1")).resolves.toBeUndefined();
  });

  it("stops a list whose cursor comes back after other pages, and one that never ends", async () => {
    const cycle = ["page_a", "page_b", "page_a"];
    handler = (req, res) => {
      const page = new URL(req.url ?? "", baseUrl).searchParams.get("page");
      const index = page === null ? 0 : cycle.indexOf(page) + 1;
      json(res, { data: [], next_page: cycle[index % cycle.length] });
    };
    const loop = await failure(backend().list("agent"));
    expect(loop.code).toBe("pagination-loop");
    expect(seen).toHaveLength(3);

    seen = [];
    let n = 0;
    handler = (_req, res) => json(res, { data: [], next_page: `page_${++n}` });
    const endless = await failure(backend({ maxPages: 5 }).listVersions("agent_011"));
    expect(endless.code).toBe("pagination-limit");
    expect(seen).toHaveLength(5);
  });

  it("does not take a page without a data array for an empty workspace", async () => {
    handler = (_req, res) => json(res, {});
    expect((await failure(backend().list("environment"))).code).toBe("response-invalid");
    handler = (_req, res) => json(res, { data: Array.from({ length: 101 }, (_, i) => ({ ...AGENT, id: `agent_${i}` })), next_page: null });
    expect((await failure(backend().list("agent"))).code).toBe("response-invalid");
    handler = (_req, res) => json(res, { data: [{ ...AGENT, id: undefined }], next_page: null });
    expect((await failure(backend().list("agent"))).message).toMatch(/has no id/);
  });

  it("refuses a resource whose id is not the one asked for, or that is not JSON at all", async () => {
    handler = (_req, res) => json(res, { ...AGENT, id: "agent_other" });
    expect((await failure(backend().update("agent", "agent_011", { description: "x" }, { expectedVersion: 1 }))).code).toBe("response-invalid");
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{not json");
    };
    expect((await failure(backend().get("agent", "agent_011"))).code).toBe("response-invalid");
  });

  it("refuses a live resource nested deeper than any real one (it would overflow the canonical forms)", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ...AGENT, system: null }).replace('"system":null', `"system":${"[".repeat(20_000)}${"]".repeat(20_000)}`));
    };
    const error = await failure(backend().get("agent", "agent_011"));
    expect(error.code).toBe("response-invalid");
    expect(error.message).toMatch(/nests values more than 256 levels deep/);
  });

  it("never repeats the key, even when the server reflects it into what ends up in the message", async () => {
    const key = ["sk", "ant", "api03", "reflectedkey0123456789"].join("-");
    handler = (req, res) => {
      const credential = String(req.headers["x-api-key"] ?? req.headers.authorization).replace(/^Bearer /, "");
      res.writeHead(200, { "content-type": `text/${credential}` });
      res.end("no");
    };
    const err = await failure(createSdkBackend({ baseUrl, apiKey: key }).list("agent"));
    expect(err.code).toBe("response-not-json");
    expect(err.message + (err.hint ?? "")).not.toContain(key);
    expect(err.message).toContain("[REDACTED]");
  });

  it("never resends a create answered with an unusable body: one create, one list-and-match, then the error", async () => {
    handler = (req, res) => {
      if (req.method === "POST") {
        res.writeHead(200, { "content-type": "text/html" });
        return void res.end("<html>Sign in</html>");
      }
      json(res, { data: [], next_page: null });
    };
    const err = await failure(resilient().create("agent", { name: "triage", model: "claude-sonnet-5-5" }));
    expect(err.code).toBe("response-not-json");
    expect(seen.map((s) => s.method)).toEqual(["POST", "GET"]);
  });

  it("recognises the create it made when the answer was unusable but the list shows it", async () => {
    handler = (req, res) => {
      if (req.method === "POST") return json(res, { type: "agent", name: "triage" });
      json(res, { data: [AGENT], next_page: null });
    };
    const created = await resilient().create("agent", { name: "triage", model: "claude-sonnet-5-5" });
    expect(created.id).toBe("agent_011");
    expect(seen.map((s) => s.method)).toEqual(["POST", "GET"]);
  });

  it("retries a body cut off mid-way like a lost response, within maxAttempts", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":[');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const err = await failure(withResilience(backend(), { project: "support-bots", sleep: async () => {}, maxAttempts: 3 }).list("agent"));
    expect(err.code).toBe("response-incomplete");
    expect(err.isAmbiguous).toBe(true);
    expect(seen).toHaveLength(3);
  });
});
