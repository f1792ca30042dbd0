import { describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { BackendError } from "../../src/backends/errors.js";
import { defineBackendContract } from "./contract.js";

defineBackendContract("sdk", (cp) => createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }, { timeoutMs: 10_000 }));

describe("sdk backend specifics", () => {
  it("a refused connection is an ambiguous BackendError that names the operation and not the key", async () => {
    // A fake key, assembled so no credential-shaped literal sits in the repository.
    const key = ["sk", "ant", "api03", "verysecretvalue0123456789"].join("-");
    const backend = createSdkBackend({ baseUrl: "http://127.0.0.1:9", apiKey: key }, { timeoutMs: 2_000 });
    const err = (await backend.list("agent").catch((e: unknown) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.isAmbiguous).toBe(true);
    expect(err.message).toMatch(/^list agents failed \(no response\)/);
    expect(err.message + (err.hint ?? "")).not.toContain(key);
  });
});

describe("sdk backend on the wire", () => {
  it("sends the workspace header and the beta header, and never retries on its own", async () => {
    const { createServer } = await import("node:http");
    const seen: Array<{ method: string; url: string; headers: Record<string, unknown> }> = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
      if (req.url?.startsWith("/v1/agents?")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [], next_page: null }));
        return;
      }
      res.writeHead(500, { "content-type": "application/json", "request-id": "req_test" });
      res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: "boom" } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const backend = createSdkBackend({ baseUrl: `http://127.0.0.1:${port}`, apiKey: "test-key", workspaceId: "wrkspc_123" });
      expect(await backend.list("agent")).toEqual([]);
      expect(seen[0]!.headers["anthropic-workspace-id"]).toBe("wrkspc_123");
      expect(String(seen[0]!.headers["anthropic-beta"])).toContain("managed-agents-2026-04-01");
      expect(new URLSearchParams(seen[0]!.url.split("?")[1]).get("limit")).toBe("100");
      const err = (await backend.create("agent", { name: "x", model: "m" }).catch((e: unknown) => e)) as BackendError;
      expect(err.status).toBe(500);
      expect(err.requestId).toBe("req_test");
      expect(err.message).toContain("boom");
      expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
