/**
 * The local control plane's HTTP edge under hostile input, over real sockets: foreign Host
 * headers, malformed request targets, bodies that are too large or never finish, keys that
 * almost match. Each answer must be the API error envelope, never a crash, hang or reset.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keyMatches } from "../../src/local/http-guard.js";
import { startHarness, type Harness } from "./helpers.js";
import { RawConnection, rawRequest, requestHead } from "./raw-http.js";

let h: Harness | null = null;
let conns: RawConnection[] = [];
async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}
function connect(): RawConnection {
  const conn = new RawConnection((h as Harness).cp.baseUrl);
  conns.push(conn);
  return conn;
}
afterEach(async () => {
  for (const c of conns) c.close();
  conns = [];
  await h?.cp.close();
  h = null;
});

const BETA = "managed-agents-2026-04-01";

describe("Host header (DNS rebinding)", () => {
  it("answers 127.0.0.1, localhost and [::1] with any port, and refuses other names with 421 and the envelope", async () => {
    const { cp } = await harness();
    for (const host of ["127.0.0.1", "localhost:9", "LOCALHOST", "[::1]:4000", new URL(cp.baseUrl).host]) {
      const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /_local/health HTTP/1.1", { host }));
      expect(res.status, host).toBe(200);
    }
    for (const host of ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.", "0.0.0.0", "[::1]x"]) {
      const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /_local/health HTTP/1.1", { host }));
      expect(res.status, host).toBe(421);
      expect(res.body.type).toBe("error");
      expect(res.body.error?.type).toBe("invalid_request_error");
      expect(res.body.error?.message).toContain("loopback");
      expect(res.headers["request-id"]).toBe(res.body.request_id);
    }
  });

  it("refuses a foreign Host on /v1 even with a valid key, before anything is written", async () => {
    const { cp, client } = await harness();
    const body = JSON.stringify({ name: "rebound", model: "claude-opus-4-8" });
    const res = await rawRequest(
      cp.baseUrl,
      requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { host: "attacker.example:8080", "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-type": "application/json", "content-length": String(body.length) }) + body,
    );
    expect(res.status).toBe(421);
    expect((await client.beta.agents.list()).data).toEqual([]);
  });
});

describe("request targets", () => {
  it("answers 400 for a malformed percent-escape in the path, not 500", async () => {
    const { cp } = await harness();
    for (const path of ["/v1/agents/%zz", "/v1/agents/agent_%E0%A4%A", "/v1/environments/%"]) {
      const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, `GET ${path} HTTP/1.1`, { "x-api-key": cp.apiKey, "anthropic-beta": BETA }));
      expect(res.status, path).toBe(400);
      expect(res.body.error?.type).toBe("invalid_request_error");
      expect(res.body.error?.message).toContain("percent-escape");
    }
  });

  it("answers 400 for a malformed percent-escape in the query, even in a parameter it ignores", async () => {
    const { cp } = await harness();
    const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /v1/agents?note=%zz HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA }));
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain("query");
    const ok = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /v1/agents?note=a%20b+c HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA }));
    expect(ok.status).toBe(200);
  });

  it("survives a target that is not a parsable URL (it used to throw in the request listener)", async () => {
    const { cp, client } = await harness();
    const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET //[ HTTP/1.1"));
    expect(res.status).toBe(404);
    const absolute = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET http://[/v1/agents HTTP/1.1"));
    expect(absolute.status).toBe(400);
    expect((await client.beta.agents.list()).data).toEqual([]);
  });
});

describe("authentication before the body", () => {
  it("answers a request without a key at once, without waiting for its body", async () => {
    const { cp } = await harness();
    const conn = connect();
    await conn.write(requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { "anthropic-beta": BETA, "content-type": "application/json", "content-length": "1000" }) + '{"name":');
    const res = await conn.response();
    expect(res.status).toBe(401);
    expect(res.body.error?.type).toBe("authentication_error");
    expect(res.headers.connection).toBe("close");
  });

  it("a slow unauthenticated body holds no environment slot", async () => {
    const { cp, client } = await harness({ faults: { environmentConcurrency: 1 } });
    const conn = connect();
    await conn.write(requestHead(cp.baseUrl, "POST /v1/environments HTTP/1.1", { "x-api-key": "", "anthropic-beta": BETA, "content-length": "1000" }) + "{");
    expect((await conn.response()).status).toBe(401);
    // The refused connection is still open and still sending; the one slot is free.
    await conn.write('"name":');
    const env = await client.beta.environments.create({ name: "not-blocked" });
    expect(env.name).toBe("not-blocked");
  });

  it("a slow authenticated body holds no environment slot either: the slot is taken once the body is in", async () => {
    const { cp, client } = await harness({ faults: { environmentConcurrency: 1 } });
    const conn = connect();
    const body = JSON.stringify({ name: "slow" });
    await conn.write(
      requestHead(cp.baseUrl, "POST /v1/environments HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-type": "application/json", "content-length": String(body.length), expect: "100-continue" }),
    );
    // Node answers 100 Continue only after handing the request to the handler, which then waits for the body.
    await conn.waitFor("HTTP/1.1 100 Continue");
    await conn.write(body.slice(0, 3));
    expect((await client.beta.environments.create({ name: "fast" })).name).toBe("fast");
    await conn.write(body.slice(3));
    const res = await conn.response();
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("slow");
  });
});

describe("Expect: 100-continue", () => {
  const body = JSON.stringify({ name: "invited", model: "claude-opus-4-8" });
  const head = (baseUrl: string, headers: Record<string, string>, path = "/v1/agents") =>
    requestHead(baseUrl, `POST ${path} HTTP/1.1`, { "content-type": "application/json", "content-length": String(body.length), expect: "100-continue", ...headers });

  it("invites no body before the Host, key, beta header and declared size were checked", async () => {
    const { cp, client } = await harness({ maxBodyBytes: 1024, apiKey: "local-test-key" });
    const good = { "x-api-key": cp.apiKey, "anthropic-beta": BETA };
    const refused: Array<[string, Record<string, string>, number, string?]> = [
      ["foreign Host", { ...good, host: "attacker.example" }, 421],
      ["no key", { "anthropic-beta": BETA }, 401],
      ["wrong key", { ...good, "x-api-key": `${cp.apiKey}x` }, 401],
      ["no beta header", { "x-api-key": cp.apiKey }, 400],
      ["declared too large", { ...good, "content-length": "2048" }, 413],
      ["admin path, declared too large", { "content-length": "2048" }, 413, "/_local/faults"],
    ];
    for (const [what, headers, status, path] of refused) {
      const conn = connect();
      // Only the head: a client that waits for the invitation sends nothing more.
      await conn.write(head(cp.baseUrl, headers, path));
      const res = await conn.response();
      expect(res.status, what).toBe(status);
      expect(res.headers.connection, what).toBe("close");
      expect(conn.text().startsWith("HTTP/1.1 100"), what).toBe(false);
      expect(conn.text(), what).not.toContain("100 Continue");
    }
    expect((await client.beta.agents.list()).data).toEqual([]);
  });

  it("invites the body of a request that passes, which then succeeds", async () => {
    const { cp, client } = await harness();
    const conn = connect();
    await conn.write(head(cp.baseUrl, { "x-api-key": cp.apiKey, "anthropic-beta": BETA }));
    await conn.waitFor("HTTP/1.1 100 Continue");
    await conn.write(body);
    expect((await conn.response()).status).toBe(200);
    expect((await client.beta.agents.list()).data.map((a) => a.name)).toEqual(["invited"]);
  });
});

describe("request bodies", () => {
  it("answers 413 with the envelope to a body that grows past the limit, and the client reads it without a reset", async () => {
    const { cp, client } = await harness({ maxBodyBytes: 64 * 1024 });
    const conn = connect();
    // Chunked: the server cannot know the size in advance, so it must notice mid-stream.
    await conn.write(requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "transfer-encoding": "chunked" }));
    await conn.writeChunked(4 * 1024 * 1024);
    conn.socket.end();
    const res = await conn.response();
    await conn.closed;
    expect(res.status).toBe(413);
    expect(res.body.error?.type).toBe("request_too_large");
    expect(res.headers.connection).toBe("close");
    expect(conn.error).toBeNull();
    expect((await client.beta.agents.list()).data).toEqual([]);
  });

  it("a client that keeps sending a body already refused by its Content-Length still reads the 413, without a reset", async () => {
    const { cp } = await harness({ maxBodyBytes: 64 * 1024 });
    const conn = connect();
    const size = 4 * 1024 * 1024;
    await conn.write(requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-length": String(size) }));
    await conn.writeBody(size);
    conn.socket.end();
    const res = await conn.response();
    await conn.closed;
    expect(res.status).toBe(413);
    expect(conn.error).toBeNull();
  });

  it("answers 413 at once when Content-Length already says the body is too large", async () => {
    const { cp } = await harness();
    const conn = connect();
    await conn.write(requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-length": String(64 * 1024 * 1024) }));
    const res = await conn.response();
    expect(res.status).toBe(413);
    expect(res.body.error?.message).toContain(String(32 * 1024 * 1024));
  });

  it("answers 408 with the envelope when the body stops arriving", async () => {
    const { cp, client } = await harness({ bodyTimeoutMs: 200 });
    const conn = connect();
    await conn.write(requestHead(cp.baseUrl, "POST /v1/agents HTTP/1.1", { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-length": "100" }) + '{"name":"x"');
    const res = await conn.response();
    expect(res.status).toBe(408);
    expect(res.body.error?.type).toBe("timeout_error");
    expect(cp.requestLog().map((e) => e.status)).toEqual([408]);
    expect((await client.beta.agents.list()).data).toEqual([]);
  });

  it("admin paths have the same body limit", async () => {
    const { cp } = await harness({ maxBodyBytes: 1024 });
    const conn = connect();
    await conn.write(requestHead(cp.baseUrl, "PUT /_local/faults HTTP/1.1", { "content-length": "4096" }));
    expect((await conn.response()).status).toBe(413);
  });
});

describe("API keys", () => {
  it("keyMatches accepts only the exact key, whatever the lengths", () => {
    expect(keyMatches("the-key", "the-key")).toBe(true);
    expect(keyMatches("the-kez", "the-key")).toBe(false);
    expect(keyMatches("the-ke", "the-key")).toBe(false);
    expect(keyMatches("the-key-and-more", "the-key")).toBe(false);
    expect(keyMatches("", "the-key")).toBe(false);
    expect(keyMatches("clé", "clé")).toBe(true);
  });

  it("a configured key: a prefix, an extension or a one-character change of it gets 401", async () => {
    const { cp } = await harness({ apiKey: "local-secret-1" });
    for (const key of ["local-secret-", "local-secret-12", "local-secret-2"]) {
      const res = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /v1/agents HTTP/1.1", { "x-api-key": key, "anthropic-beta": BETA }));
      expect(res.status, key).toBe(401);
      expect(JSON.stringify(res.body)).not.toContain("local-secret-1");
    }
    const ok = await rawRequest(cp.baseUrl, requestHead(cp.baseUrl, "GET /v1/agents HTTP/1.1", { authorization: "Bearer local-secret-1", "anthropic-beta": BETA }));
    expect(ok.status).toBe(200);
  });
});

describe("JSON bodies", () => {
  it("a body nested absurdly deep gets 400, not a 500 from a stack overflow", async () => {
    const { cp, client } = await harness();
    const depth = 50_000;
    const schema = '{"type":"object","properties":{"x":'.repeat(depth) + '{"type":"object"}' + "}}".repeat(depth);
    const body = `{"name":"deep","model":"claude-opus-4-8","tools":[{"type":"custom","name":"t","description":"d","input_schema":${schema}}]}`;
    const res = await fetch(`${cp.baseUrl}/v1/agents`, { method: "POST", headers: { "x-api-key": cp.apiKey, "anthropic-beta": BETA, "content-type": "application/json" }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("nested");
    // Ordinary nesting (a schema a few levels deep) is still accepted.
    const ok = await client.beta.agents.create({
      name: "ok",
      model: "claude-opus-4-8",
      tools: [{ type: "custom", name: "t", description: "d", input_schema: { type: "object", properties: { a: { type: "object", properties: { b: { type: "array", items: { type: "string" } } } } } } }],
    });
    expect(ok.tools).toHaveLength(1);
  });
});
