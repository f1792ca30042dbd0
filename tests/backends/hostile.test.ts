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
import { reportError } from "../../src/cli/output.js";
import { capture } from "../helpers/capture.js";

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
    const endless = await failure(backend({ maxPages: 5 }).listVersions("agent", "agent_011"));
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

  it("bounds the bytes of one list call across its pages, without retrying; each call has its own budget", async () => {
    const filler = "x".repeat(10_000);
    let n = 0;
    // Every page is small (far under maxResponseBytes) but the list never ends.
    handler = (_req, res) => json(res, { data: [{ ...AGENT, id: `agent_${++n}`, description: filler }], next_page: `page_${n}` });
    const err = await failure(resilient({ maxListBytes: 50_000 }).list("agent"));
    expect(err.code).toBe("list-too-large");
    expect(err.isRetryable).toBe(false);
    expect(err.message).toMatch(/more than 50000 bytes/);
    expect(err.hint).toContain("AGENTFORM_MAX_LIST_BYTES");
    // About five pages fit in the budget; the sixth crosses it. One list, not retried.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeLessThanOrEqual(6);

    // Three pages of about 10 KB: under the budget each time, however many lists the client makes.
    handler = (req, res) => {
      const page = Number(new URL(req.url ?? "", baseUrl).searchParams.get("page") ?? "0");
      json(res, { data: [{ ...AGENT, id: `agent_${page}`, description: filler }], next_page: page < 2 ? String(page + 1) : null });
    };
    const client = backend({ maxListBytes: 50_000 });
    for (let i = 0; i < 3; i++) expect(await client.list("agent")).toHaveLength(3);
  });

  it("never follows a redirect: the other host receives nothing, and the error is coded", async () => {
    const elsewhere: string[] = [];
    const other = createServer((req, res) => {
      elsewhere.push(`${req.method} ${req.url} ${String(req.headers["x-api-key"])}`);
      req.resume();
      json(res, { ...AGENT, id: "agent_foreign" });
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    try {
      for (const status of [301, 302, 303, 307, 308]) {
        handler = (req, res) => {
          res.writeHead(status, { location: `${otherUrl}${req.url ?? "/"}`, "content-type": "application/json" });
          res.end("{}");
        };
        const err = await failure(resilient().create("agent", { name: "triage", model: "claude-sonnet-5-5" }));
        expect(err.code, String(status)).toBe("response-redirect");
        expect(err.message).toContain(`answered ${status}`);
        expect(err.hint).toMatch(/never followed/);
        expect((await failure(backend().list("agent"))).code).toBe("response-redirect");
      }
      expect(elsewhere).toEqual([]);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("a server's message cannot forge a line of error output", async () => {
    handler = (_req, res) =>
      json(res, { type: "error", error: { type: "invalid_request_error", message: "bad request\nerror forged line\r\u001b[2Kerror also forged" } }, 400);
    const err = await failure(backend().update("agent", "agent_011", { description: "x" }, { expectedVersion: 1 }));
    expect(err.code).toBe("api.invalid_request_error");
    const stderr = capture();
    reportError(err, { stdout: capture().stream, stderr: stderr.stream, env: { NO_COLOR: "1" } });
    const lines = stderr.text().split("\n");
    expect(lines.filter((l) => l.startsWith("error"))).toHaveLength(1);
    expect(lines.some((l) => /^\s*error (forged|also)/.test(l))).toBe(false);
    expect(stderr.text()).toContain("bad request\\nerror forged line\\r\\x1b[2Kerror also forged");
    expect(stderr.text()).not.toMatch(/[\r\u001b]/);
  });

  it("refuses ids that are not letters, digits, _ and -: they would reach the lockfile and the terminal", async () => {
    for (const id of ["agent_011\nerror forged", "agent_\u202eevil", "agent 011", "../agent_011", "a".repeat(129)]) {
      handler = (_req, res) => json(res, { data: [{ ...AGENT, id }], next_page: null });
      const err = await failure(backend().list("agent"));
      expect(err.code, JSON.stringify(id)).toBe("response-invalid");
      expect(err.message).toMatch(/has an id that is not/);
      expect(err.message).not.toMatch(/[\n\u202e]/);
      handler = (_req, res) => json(res, { ...AGENT, id });
      expect((await failure(backend().create("agent", { name: "triage", model: "m" }))).code).toBe("response-invalid");
    }
    // The ids the API and the local control plane make pass.
    for (const id of ["agent_011CZkYpogX7uDKUyvBTophP", "env_011CZkYpogX7uDKUyvBTophP", "agent-1"]) {
      handler = (_req, res) => json(res, { data: [{ ...AGENT, id }], next_page: null });
      expect((await backend().list("agent"))[0]?.id).toBe(id);
    }
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
