/**
 * The sdk backend's skills, over real HTTP against the local control plane (and, for what no
 * honest server sends, a small hostile one), with the real SDK; plus the resilience layer's
 * ambiguous skill create, through the local server's fault injection.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import { strToU8, unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "../helpers/rejection.js";
import { AgentformError } from "../../src/errors.js";
import { BackendError } from "../../src/backends/errors.js";
import { withResilience, type RetryInfo } from "../../src/backends/resilient.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import type { ControlPlane } from "../../src/backends/types.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";

type Files = Record<string, string | Uint8Array>;

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = (content: string | Uint8Array) => (typeof content === "string" ? strToU8(content) : content);

function skillMd(name: string, description = "Does one thing well."): string {
  return `---\nname: ${name}\ndescription: ${JSON.stringify(description)}\n---\n\n# ${name}\n`;
}

/** Every byte value, CRLFs and a multipart-boundary look-alike: bytes no text handling survives. */
const BINARY = new Uint8Array([...Array.from({ length: 256 }, (_, i) => i), 13, 10, 45, 45, 13, 10, 0]);

function folder(name: string, description?: string): Files {
  return { "SKILL.md": skillMd(name, description), "scripts/run.py": "print('hi')\n", "assets/blob.bin": BINARY };
}

/** Upload entries as apply hands them to the backend: `<name>/<path>`, digest and bytes. */
function filesOf(name: string, files: Files) {
  return Object.entries(files).map(([rel, content]) => ({ path: `${name}/${rel}`, sha256: sha(bytesOf(content)), bytes: bytesOf(content) }));
}

function digestsOf(files: Files): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([rel, content]) => [rel, sha(bytesOf(content))]));
}

const failure = rejectionOf;

describe("sdk backend: skills on the local control plane", () => {
  let cp: LocalControlPlane;
  let backend: ControlPlane;
  let client: Anthropic;
  let counter = 0;
  const unique = (base: string) => `${base}-${++counter}`;

  beforeAll(async () => {
    cp = await startLocalControlPlane();
    backend = createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }, { timeoutMs: 10_000 });
    client = new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries: 0 });
  });
  afterAll(async () => {
    await cp.close();
  });
  beforeEach(() => {
    cp.resetFaults();
    cp.clearRequestLog();
  });

  it("create returns the live skill: its name, no archive, the latest version and the uploaded files' digests", async () => {
    const name = unique("created");
    const live = await backend.create("skill", { display_name: `Label ${name}`, files: filesOf(name, folder(name)) });
    expect(live).toMatchObject({ type: "skill", name: `Label ${name}`, display_name: `Label ${name}`, archived_at: null, source: { type: "custom" } });
    expect(live.id).toMatch(/^skill_011/);
    expect(live.latest_version_id).toMatch(/^skver_011/);
    expect(live.files).toEqual(digestsOf(folder(name)));
    // One request: the digests come from the bytes sent, not from a download.
    expect(cp.requestLog().map((e) => `${e.method} ${e.path}`)).toEqual(["POST /v1/skills"]);
    // The server received every part under the `<name>/` folder, byte for byte.
    const content = await client.beta.skills.versions.download(live.latest_version_id, { skill_id: live.id });
    const entries = unzipSync(new Uint8Array(await content.arrayBuffer()));
    expect(entries).toEqual(Object.fromEntries(Object.entries(folder(name)).map(([rel, c]) => [`${name}/${rel}`, bytesOf(c)])));
  });

  it("create without a display_name: the server names it after the SKILL.md slug", async () => {
    const name = unique("slug");
    const live = await backend.create("skill", { files: filesOf(name, folder(name)) });
    expect(live.name).toBe(name);
    expect(live.display_name).toBe(name);
  });

  it("list pages the workspace's custom skills, 100 at a time, as live skills without files", async () => {
    const name = unique("listed");
    const live = await backend.create("skill", { display_name: name, files: filesOf(name, folder(name)) });
    cp.clearRequestLog();
    const listed = await backend.list("skill");
    const found = listed.find((s) => s.id === live.id);
    expect(found).toMatchObject({ name, display_name: name, archived_at: null, latest_version_id: live.latest_version_id });
    expect(found?.files).toBeUndefined();
    const query = new URLSearchParams(cp.requestLog()[0]!.query);
    expect([query.get("limit"), query.get("source")]).toEqual(["100", "custom"]);
  });

  it("list follows every page", async () => {
    const fresh = await startLocalControlPlane();
    try {
      const b = createSdkBackend({ baseUrl: fresh.baseUrl, apiKey: fresh.apiKey });
      const c = new Anthropic({ apiKey: fresh.apiKey, baseURL: fresh.baseUrl, maxRetries: 0 });
      const made: string[] = [];
      for (let i = 0; i < 205; i++) {
        const name = `paged-${i}`;
        const files = await Promise.all(filesOf(name, { "SKILL.md": skillMd(name) }).map((f) => Anthropic.toFile(f.bytes, f.path)));
        made.push((await c.skills.create({ files })).id);
      }
      fresh.clearRequestLog();
      expect((await b.list("skill")).map((s) => s.id)).toEqual(made);
      expect(fresh.requestLog()).toHaveLength(3);
    } finally {
      await fresh.close();
    }
  });

  it("get reads the latest version's files from its content: the digests of what was uploaded", async () => {
    const name = unique("got");
    const live = await backend.create("skill", { files: filesOf(name, folder(name)) });
    cp.clearRequestLog();
    const got = await backend.get("skill", live.id);
    expect(got).toEqual(live);
    expect(cp.requestLog().map((e) => `${e.method} ${e.path}`)).toEqual([
      `GET /v1/skills/${live.id}`,
      `GET /v1/skills/${live.id}/versions/${live.latest_version_id}/content`,
    ]);
  });

  it("update uploads a new version: latest_version_id moves and the files are the new ones", async () => {
    const name = unique("updated");
    const live = await backend.create("skill", { display_name: "Updated", files: filesOf(name, folder(name)) });
    const next: Files = { "SKILL.md": skillMd(name, "Second take."), "scripts/run.py": "print('bye')\n", "new.txt": "" };
    cp.clearRequestLog();
    const updated = await backend.update("skill", live.id, { files: filesOf(name, next) });
    expect(updated.latest_version_id).not.toBe(live.latest_version_id);
    expect(updated).toMatchObject({ id: live.id, name: "Updated", created_at: live.created_at });
    expect(updated.files).toEqual(digestsOf(next));
    expect(cp.requestLog().map((e) => `${e.method} ${e.path}`)).toEqual([`POST /v1/skills/${live.id}/versions`, `GET /v1/skills/${live.id}`]);
    expect(await backend.get("skill", live.id)).toEqual(updated);
    expect((await client.skills.versions.list(live.id)).data.map((v) => v.id)).toEqual([live.latest_version_id, updated.latest_version_id]);
  });

  it("update refuses what the API cannot change (display_name, anything but files) before sending", async () => {
    const name = unique("fixed");
    const live = await backend.create("skill", { files: filesOf(name, folder(name)) });
    cp.clearRequestLog();
    // agentform's own refusal, not the server's: no BackendError, no "HTTP 400" in the message.
    const renamed = await failure(backend.update("skill", live.id, { display_name: "New", files: filesOf(name, folder(name)) }), AgentformError);
    expect(renamed).not.toBeInstanceOf(BackendError);
    expect(renamed.code).toBe("skill-rename-unsupported");
    expect(renamed.message).toMatch(/agentform refused the request before sending it: the body changes display_name, but a skill cannot be renamed.*; nothing was sent$/);
    expect(renamed.message).not.toMatch(/HTTP|400/);
    expect(renamed.hint).toMatch(/previous_names/);
    const marked = await failure(backend.create("skill", { files: filesOf(name, folder(name)), metadata: { a: "b" } }), AgentformError);
    expect(marked).not.toBeInstanceOf(BackendError);
    expect([marked.code, marked.exitCode]).toEqual(["upload-invalid", 3]);
    expect(marked.message).toMatch(/agentform refused the request before sending it: the body has "metadata", but this request takes only display_name and files; nothing was sent$/);
    const untyped = await failure(backend.create("skill", { display_name: 7, files: filesOf(name, folder(name)) }), AgentformError);
    expect([untyped.code, untyped instanceof BackendError]).toEqual(["upload-invalid", false]);
    expect(cp.requestLog()).toEqual([]);
  });

  it("files named `__proto__` and `constructor` at the root are uploaded, and read back from the content", async () => {
    const name = unique("proto");
    const files: Files = { ...folder(name), constructor: "c\n" };
    // A literal `__proto__:` would set the prototype: define it as the own key a folder walk gives.
    Object.defineProperty(files, "__proto__", { value: "p\n", enumerable: true, writable: true, configurable: true });
    expect(Object.keys(files)).toContain("__proto__");
    const live = await backend.create("skill", { files: filesOf(name, files) });
    expect(Object.keys(live.files!).sort()).toEqual(["SKILL.md", "__proto__", "assets/blob.bin", "constructor", "scripts/run.py"]);
    expect(Object.getOwnPropertyDescriptor(live.files, "__proto__")?.value).toBe(sha(strToU8("p\n")));
    const got = await backend.get("skill", live.id);
    expect(got.files).toEqual(live.files);
    expect(Object.getOwnPropertyDescriptor(got.files, "__proto__")?.value).toBe(sha(strToU8("p\n")));
    // The server holds both files: its own zip lists them.
    const zip = unzipSync(new Uint8Array(await (await client.beta.skills.versions.download(live.latest_version_id, { skill_id: live.id })).arrayBuffer()));
    expect(Object.keys(zip).sort()).toEqual([`${name}/SKILL.md`, `${name}/__proto__`, `${name}/assets/blob.bin`, `${name}/constructor`, `${name}/scripts/run.py`]);
  });

  it("refuses an upload whose bytes do not match their sha256, or have none, before any request", async () => {
    const name = unique("tampered");
    const files = filesOf(name, folder(name));
    const tampered = files.map((f) => (f.path.endsWith("run.py") ? { ...f, bytes: strToU8("import os; os.system('rm -rf /')\n") } : f));
    const err = await failure(backend.create("skill", { files: tampered }), AgentformError);
    expect(err).not.toBeInstanceOf(BackendError);
    expect(err.code).toBe("upload-invalid");
    expect(err.message).toMatch(new RegExp(`"${name}/scripts/run.py" do not match its sha256`));
    const planned = files.map(({ path, sha256 }) => ({ path, sha256 }));
    expect((await failure(backend.create("skill", { files: planned }), AgentformError)).message).toMatch(/has no bytes to send/);
    const existing = await createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }).create("skill", { files });
    cp.clearRequestLog();
    expect((await failure(backend.update("skill", existing.id, { files: tampered }), AgentformError)).code).toBe("upload-invalid");
    // Nothing at all reached the server, not even a read.
    expect(cp.requestLog()).toEqual([]);
  });

  it("a version the server refuses (another slug) is its 400, and changes nothing", async () => {
    const name = unique("slugged");
    const live = await backend.create("skill", { files: filesOf(name, folder(name)) });
    const other = unique("other");
    const err = await failure(backend.update("skill", live.id, { files: filesOf(other, folder(other)) }), BackendError);
    expect(err.status).toBe(400);
    expect((await backend.get("skill", live.id)).latest_version_id).toBe(live.latest_version_id);
  });

  it("delete removes the skill and every version; archive and listVersions are refused", async () => {
    const name = unique("deleted");
    const live = await backend.create("skill", { files: filesOf(name, folder(name)) });
    await backend.update("skill", live.id, { files: filesOf(name, folder(name, "v2")) });
    const archived = await failure(backend.archive("skill", live.id), BackendError);
    expect([archived.status, archived.isRetryable]).toEqual([400, false]);
    expect((await failure(backend.listVersions("skill", live.id), BackendError)).status).toBe(400);
    await backend.delete("skill", live.id);
    expect((await failure(backend.get("skill", live.id), BackendError)).isNotFound).toBe(true);
    expect((await backend.list("skill")).some((s) => s.id === live.id)).toBe(false);
  });
});

/** A server that answers skills however a test says; unknown paths get a 404. `paths` is what it was asked. */
async function hostileServer(routes: Record<string, (res: ServerResponse, req: IncomingMessage) => void>) {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push((req.url ?? "").split("?")[0]!);
    const route = routes[(req.url ?? "").split("?")[0]!];
    if (route) return route(res, req);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "no" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { baseUrl: `http://127.0.0.1:${port}`, paths, close: () => new Promise((resolve) => server.close(resolve)) };
}

const SKILL = { id: "skill_011hostile", type: "skill", display_name: "h", latest_version_id: "skver_011hostile", source: { type: "custom" }, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" };
const CONTENT = `/v1/skills/${SKILL.id}/versions/${SKILL.latest_version_id}/content`;

function json(body: unknown) {
  return (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}

function zip(bytes: Uint8Array, type = "application/zip") {
  return (res: ServerResponse) => {
    res.writeHead(200, { "content-type": type });
    res.end(bytes);
  };
}

describe("sdk backend: what a skill response must look like", () => {
  async function getFrom(routes: Record<string, (res: ServerResponse) => void>, limits?: { maxResponseBytes: number }) {
    const server = await hostileServer({ [`/v1/skills/${SKILL.id}`]: json(SKILL), ...routes });
    try {
      return await createSdkBackend({ baseUrl: server.baseUrl, apiKey: "test-key" }, { timeoutMs: 5_000, limits }).get("skill", SKILL.id);
    } finally {
      await server.close();
    }
  }

  it("reads a well-formed answer (also labelled application/octet-stream)", async () => {
    const content = zipSync({ h: { "SKILL.md": strToU8("x") } });
    expect((await getFrom({ [CONTENT]: zip(content, "application/octet-stream") })).files).toEqual({ "SKILL.md": sha(strToU8("x")) });
  });

  it("the download carries the same credentials and workspace header as every call, and no beta header", async () => {
    const seen: IncomingMessage["headers"][] = [];
    const content = zipSync({ h: { "SKILL.md": strToU8("x") } });
    const server = await hostileServer({
      [`/v1/skills/${SKILL.id}`]: (res, req) => (seen.push(req.headers), json(SKILL)(res)),
      [CONTENT]: (res, req) => (seen.push(req.headers), zip(content)(res)),
    });
    try {
      await createSdkBackend({ baseUrl: server.baseUrl, apiKey: "test-key", workspaceId: "wrkspc_123" }).get("skill", SKILL.id);
      const pick = (h: IncomingMessage["headers"]) => [h["x-api-key"] ?? h.authorization, h["anthropic-workspace-id"], h["anthropic-beta"]];
      expect(seen.map(pick)).toEqual([
        [expect.stringContaining("test-key"), "wrkspc_123", undefined],
        [expect.stringContaining("test-key"), "wrkspc_123", undefined],
      ]);
    } finally {
      await server.close();
    }
  });

  it.each([
    ["a zip bomb", zipSync({ h: { "bomb.bin": new Uint8Array(32 * 1024 * 1024) } }, { level: 9 }), /unpacks to more than/],
    ["path traversal", zipSync({ "h/../../../home/x/.bashrc": strToU8("evil") }), /climbs out of its folder/],
    ["non-zip bytes", strToU8("PK but not really a zip at all"), /not a readable zip/],
  ])("refuses content with %s", async (_what, bytes, why) => {
    const err = await failure(getFrom({ [CONTENT]: zip(bytes) }), BackendError);
    expect(err.code).toBe("response-invalid");
    expect(err.message).toMatch(why);
  });

  it("bounds the download like any response: size, media type, redirects", async () => {
    const big = zipSync({ h: { "a.bin": new Uint8Array(200_000).map((_, i) => (i * 7919) % 251) } }, { level: 0 });
    expect((await failure(getFrom({ [CONTENT]: zip(big) }, { maxResponseBytes: 100_000 }), BackendError)).code).toBe("response-too-large");
    expect((await failure(getFrom({ [CONTENT]: zip(strToU8("<html>sign in</html>"), "text/html") }), BackendError)).code).toBe("response-not-json");
    const redirect = (res: ServerResponse) => {
      res.writeHead(302, { location: "http://169.254.169.254/latest" });
      res.end();
    };
    expect((await failure(getFrom({ [CONTENT]: redirect }), BackendError)).code).toBe("response-redirect");
  });

  it("refuses a skill without a display_name or a usable latest_version_id, before downloading anything", async () => {
    for (const broken of [{ ...SKILL, display_name: undefined }, { ...SKILL, latest_version_id: "../../v1/agents" }, { ...SKILL, latest_version_id: null }]) {
      const server = await hostileServer({ [`/v1/skills/${SKILL.id}`]: json(broken), [CONTENT]: zip(zipSync({ h: { "SKILL.md": strToU8("x") } })) });
      try {
        const err = await failure(createSdkBackend({ baseUrl: server.baseUrl, apiKey: "k" }).get("skill", SKILL.id), BackendError);
        expect(err.code).toBe("response-invalid");
        expect(err.message).toMatch(/has no name|has no valid latest version/);
        expect(server.paths).toEqual([`/v1/skills/${SKILL.id}`]);
      } finally {
        await server.close();
      }
    }
  });
});

describe("resilience: an ambiguous skill create is reported, never adopted or resent", () => {
  let cp: LocalControlPlane;
  let retries: RetryInfo[];
  let counter = 0;
  const unique = (base: string) => `${base}-${++counter}`;
  const writes = () => cp.requestLog().filter((e) => e.write);
  const make = () =>
    withResilience(createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }), {
      project: "support-bots",
      sleep: async () => undefined,
      random: () => 0,
      onRetry: (info) => retries.push(info),
    });

  beforeAll(async () => {
    cp = await startLocalControlPlane();
  });
  afterAll(async () => {
    await cp.close();
  });
  beforeEach(() => {
    cp.resetFaults();
    cp.clearRequestLog();
    retries = [];
  });

  it("a create committed but answered by a dropped connection: the error names the skill's id, and nothing is uploaded twice", async () => {
    const name = unique("dropped");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const err = await failure(make().create("skill", { display_name: name, files: filesOf(name, folder(name)) }), AgentformError);
    expect(err.code).toBe("create-unconfirmed");
    expect(err.exitCode).toBe(3);
    const same = (await make().list("skill")).filter((s) => s.name === name);
    expect(same).toHaveLength(1);
    expect(err.message).toContain(`a skill named "${name}" now exists (id ${same[0]!.id}); agentform cannot tell whether it created it`);
    expect(err.hint).toMatch(/delete duplicates, then run `agentform plan`.*adopt it with `agentform: \{adopt: true\}`/);
    expect(writes()).toHaveLength(1);
  });

  it("a same-named skill that is not ours is not adopted: its id is reported", async () => {
    const name = unique("foreign");
    const theirs = await createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }).create("skill", { display_name: name, files: filesOf(name, folder(name)) });
    cp.clearRequestLog();
    // Our create never reaches the handler; the list then shows only someone else's skill.
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropBeforeCommit: true } }] });
    const err = await failure(make().create("skill", { display_name: name, files: filesOf(name, folder(name)) }), AgentformError);
    expect(err.code).toBe("create-unconfirmed");
    expect(err.message).toContain(`(id ${theirs.id})`);
    expect(writes()).toHaveLength(1);
  });

  it("a create refused before it did anything (a 5xx, then no such skill listed) is sent again, once", async () => {
    const name = unique("unavailable");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 503 } }] });
    const live = await make().create("skill", { display_name: name, files: filesOf(name, folder(name)) });
    expect(live.files).toEqual(digestsOf(folder(name)));
    expect(writes().map((e) => e.status)).toEqual([503, 200]);
    // The second attempt followed a list that showed no skill of that name.
    expect(cp.requestLog().map((e) => e.method)).toEqual(["POST", "GET", "POST"]);
    expect((await make().list("skill")).filter((s) => s.name === name)).toHaveLength(1);
  });

  it("a 429 is retried without looking (nothing was done)", async () => {
    const name = unique("limited");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 429, retryAfterSeconds: 1 } }] });
    await make().create("skill", { display_name: name, files: filesOf(name, folder(name)) });
    expect(cp.requestLog().map((e) => `${e.method} ${e.status}`)).toEqual(["POST 429", "POST 200"]);
    expect(retries.map((r) => r.reason)).toEqual([expect.stringMatching(/429/)]);
  });

  it("a create without a display_name cannot be looked for: reported, not resent", async () => {
    const name = unique("unnamed");
    cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
    const err = await failure(make().create("skill", { files: filesOf(name, folder(name)) }), AgentformError);
    expect(err.code).toBe("create-unconfirmed");
    expect(err.message).toMatch(/gave the skill no name/);
    expect(writes()).toHaveLength(1);
  });

  it("an upload refused for its bytes is not retried", async () => {
    const name = unique("bad-bytes");
    const files = filesOf(name, folder(name)).map((f) => ({ ...f, sha256: "0".repeat(64) }));
    expect((await failure(make().create("skill", { display_name: name, files }), AgentformError)).code).toBe("upload-invalid");
    expect(cp.requestLog()).toEqual([]);
    expect(retries).toEqual([]);
  });
});

describe("sdk backend: a create answer must describe what was asked for", () => {
  it("refuses a skill created under another display_name, and a latest version that is a number", async () => {
    const server = await hostileServer({ "/v1/skills": json({ ...SKILL, display_name: "other" }), [`/v1/skills/${SKILL.id}`]: json({ ...SKILL, latest_version_id: 12345 }) });
    try {
      const backend = createSdkBackend({ baseUrl: server.baseUrl, apiKey: "test-key" }, { timeoutMs: 5_000 });
      const bytes = strToU8("---\nname: h\ndescription: d\n---\n");
      const created = await failure(backend.create("skill", { display_name: "h", files: [{ path: "h/SKILL.md", sha256: sha(bytes), bytes }] }), BackendError);
      expect(created.code).toBe("response-invalid");
      expect(created.message).toContain('named "other", not "h"');
      const numeric = await failure(backend.get("skill", SKILL.id), BackendError);
      expect(numeric.message).toContain("has no valid latest version");
      expect(server.paths.filter((p) => p.includes("/content"))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

