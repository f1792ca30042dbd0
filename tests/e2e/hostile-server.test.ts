/**
 * A hostile server end to end: `plan` and `apply` run in-process against a small node:http
 * server that passes requests through to the local control plane until told to misbehave on
 * one route: a huge body, a body trickled a byte at a time, a cursor that repeats, HTML with a
 * 200, a connection reset mid-body (and two extras: pages that never end, a create answered
 * with JSON lacking an id, a redirect to another server). Every run must end with a coded error, exit 1, no stack trace, no
 * key in the output, and the committed lockfile byte for byte as it was. Memory is bounded by
 * construction, and checked by what the server managed to send before agentform stopped
 * reading. The limits are shrunk through the environment so each case takes about a second.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { capture } from "../helpers/capture.js";

type Behaviour = "huge" | "slow" | "loop" | "endless" | "html" | "reset" | "no-id" | "redirect";

interface Sabotage {
  method: "GET" | "POST";
  /** Path without the query string. */
  path: string;
  behaviour: Behaviour;
}

const CAP = 1024 * 1024;
/** What the huge answer would send if nobody stopped reading: far beyond anything we allow. */
const HUGE = 1024 * 1024 * 1024;
/**
 * Bytes a server can push before a reader that stopped is noticed: the cap, plus what the two
 * kernels' socket buffers and the HTTP client's stream buffer hold. Far below HUGE.
 */
const SENT_BOUND = CAP + 16 * 1024 * 1024;

describe("plan and apply against a hostile server", () => {
  let cp: LocalControlPlane;
  let hostile: Server;
  let baseUrl: string;
  let dir: string;
  let sabotage: Sabotage | null = null;
  /** Another server, where the "redirect" behaviour points; nothing may ever reach it. */
  let foreign: Server;
  let foreignUrl: string;
  const foreignSeen: string[] = [];
  let sent = 0;
  let hits = 0;
  const timers = new Set<NodeJS.Timeout>();
  const key = ["sk", "ant", "api03", "hostiletestkey0123456789"].join("-");
  const previousCwd = process.cwd();

  function proxy(req: IncomingMessage, res: ServerResponse): void {
    const port = Number(new URL(cp.baseUrl).port);
    const upstream = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }

  /** Send `total` bytes (or until the client goes away), honouring backpressure. */
  function flood(res: ServerResponse, total: number): void {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"data":[');
    let closed = false;
    res.on("close", () => (closed = true));
    const pump = () => {
      while (!closed && sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!closed) res.end("]}");
    };
    pump();
  }

  function trickle(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("{");
    sent += 1;
    const timer = setInterval(() => {
      if (res.destroyed || res.writableEnded) return void clearInterval(timer);
      res.write(" ");
      sent += 1;
    }, 100);
    timers.add(timer);
    res.on("close", () => clearInterval(timer));
  }

  let cursor = 0;
  function misbehave(behaviour: Behaviour, res: ServerResponse, url: string): void {
    const json = (body: unknown) => {
      const text = JSON.stringify(body);
      sent += text.length;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    };
    switch (behaviour) {
      case "huge":
        return flood(res, HUGE);
      case "slow":
        return trickle(res);
      case "loop":
        return json({ data: [], next_page: "page_again" });
      case "endless":
        return json({ data: [], next_page: `page_${++cursor}` });
      case "no-id":
        return json({ type: "agent", name: "beta", version: 1 });
      case "redirect":
        // A 307 keeps the method and body: followed, the create (and the key) would go there.
        res.writeHead(307, { location: `${foreignUrl}${url}`, "content-type": "application/json" });
        return void res.end("{}");
      case "html": {
        const page = "<!doctype html><html><body>Please sign in</body></html>";
        sent += page.length;
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return void res.end(page);
      }
      case "reset": {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"id":"agent_partial","name":"be');
        sent += 32;
        // Let the partial body reach the client, then cut the connection without ending it.
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
    }
  }

  beforeAll(async () => {
    cp = await startLocalControlPlane();
    hostile = createServer((req, res) => {
      const route = (req.url ?? "").split("?")[0];
      if (sabotage && req.method === sabotage.method && route === sabotage.path) {
        hits++;
        // The request body is not needed; drain it so the client is not held up sending it.
        req.resume();
        misbehave(sabotage.behaviour, res, req.url ?? "/");
        return;
      }
      proxy(req, res);
    });
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    foreign = createServer((req, res) => {
      foreignSeen.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "agent", id: "agent_foreign", name: "beta", version: 1 }));
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as { port: number }).port}`;
    baseUrl = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;

    dir = await mkdtemp(path.join(tmpdir(), "agentform-hostile-"));
    await mkdir(path.join(dir, "agents"));
    await writeFile(path.join(dir, "agentform.yaml"), `project: hostile\ntargets:\n  default:\n    base_url: ${baseUrl}\n    api_key_env: HOSTILE_KEY\n`);
    await writeFile(path.join(dir, "agents", "alpha.yaml"), "name: alpha\nmodel: claude-haiku-5-5\nsystem: First.\n");
    // A clean first apply, so there is a committed lockfile that must survive every case below.
    const first = await run("apply", "--auto-approve");
    expect(first.code, first.stderr).toBe(0);
    await writeFile(path.join(dir, "agents", "beta.yaml"), "name: beta\nmodel: claude-haiku-5-5\nsystem: Second.\n");
  });

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    hostile.closeAllConnections();
    await new Promise((resolve) => hostile.close(resolve));
    foreign.closeAllConnections();
    await new Promise((resolve) => foreign.close(resolve));
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = capture();
    const stderr = capture();
    const env = {
      NO_COLOR: "1",
      HOSTILE_KEY: key,
      AGENTFORM_MAX_RESPONSE_BYTES: String(CAP),
      AGENTFORM_BODY_TIMEOUT_MS: "800",
      AGENTFORM_MAX_PAGES: "25",
      AGENTFORM_MAX_ATTEMPTS: "2",
    };
    process.chdir(dir);
    try {
      const code = await main(["node", "agentform", ...args], { stdout: stdout.stream, stderr: stderr.stream, env });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    } finally {
      process.chdir(previousCwd);
    }
  }

  /** Files in the project (the run lock under .agentform/ aside), to spot partial writes. */
  async function projectFiles(): Promise<string[]> {
    return (await readdir(dir)).filter((f) => f !== ".agentform").sort();
  }

  const LIST_AGENTS = { method: "GET", path: "/v1/agents" } as const;
  const CREATE_AGENT = { method: "POST", path: "/v1/agents" } as const;

  // `hits`: requests the hostile route answered. Cut-off and stalled bodies are retried (twice in
  // all under AGENTFORM_MAX_ATTEMPTS=2); unusable answers are never resent; a list follows its
  // cursor until the repeat (2 pages) or the page limit (25).
  const cases: Array<{ command: "plan" | "apply"; target: typeof LIST_AGENTS | typeof CREATE_AGENT; behaviour: Behaviour; code: string; hits: number }> = [
    { command: "plan", target: LIST_AGENTS, behaviour: "huge", code: "response-too-large", hits: 1 },
    { command: "apply", target: CREATE_AGENT, behaviour: "huge", code: "response-too-large", hits: 1 },
    { command: "plan", target: LIST_AGENTS, behaviour: "slow", code: "response-timeout", hits: 2 },
    { command: "apply", target: CREATE_AGENT, behaviour: "slow", code: "response-timeout", hits: 2 },
    { command: "plan", target: LIST_AGENTS, behaviour: "loop", code: "pagination-loop", hits: 2 },
    { command: "apply", target: LIST_AGENTS, behaviour: "loop", code: "pagination-loop", hits: 2 },
    { command: "plan", target: LIST_AGENTS, behaviour: "endless", code: "pagination-limit", hits: 25 },
    { command: "plan", target: LIST_AGENTS, behaviour: "html", code: "response-not-json", hits: 1 },
    { command: "apply", target: CREATE_AGENT, behaviour: "html", code: "response-not-json", hits: 1 },
    { command: "plan", target: LIST_AGENTS, behaviour: "reset", code: "response-incomplete", hits: 2 },
    { command: "apply", target: CREATE_AGENT, behaviour: "reset", code: "response-incomplete", hits: 2 },
    { command: "apply", target: CREATE_AGENT, behaviour: "no-id", code: "response-invalid", hits: 1 },
    { command: "plan", target: LIST_AGENTS, behaviour: "redirect", code: "response-redirect", hits: 1 },
    { command: "apply", target: CREATE_AGENT, behaviour: "redirect", code: "response-redirect", hits: 1 },
  ];

  for (const c of cases) {
    it(`${c.command} with ${c.behaviour} on ${c.target.method} ${c.target.path} ends with [${c.code}] and an untouched lockfile`, async () => {
      const lockBefore = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
      const filesBefore = await projectFiles();
      sabotage = { ...c.target, behaviour: c.behaviour };
      sent = 0;
      hits = 0;
      cp.clearRequestLog();
      let result: Awaited<ReturnType<typeof run>>;
      try {
        result = c.command === "plan" ? await run("plan") : await run("apply", "--auto-approve");
      } finally {
        sabotage = null;
      }
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(result.stderr).toContain(`[${c.code}]`);
      expect(result.stderr).toMatch(/hint:/);
      expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
      expect(output).not.toContain(key);
      expect(hits).toBe(c.hits);
      expect(sent).toBeLessThan(SENT_BOUND);
      expect(await readFile(path.join(dir, "agentform.lock.json"), "utf8")).toBe(lockBefore);
      expect(await projectFiles()).toEqual(filesBefore);
      // No write reached the real control plane: the hostile answers claimed what never happened.
      expect(cp.requestLog().filter((e) => e.write)).toEqual([]);
      // Nor anything at all the server a redirect named.
      expect(foreignSeen).toEqual([]);
    });
  }

  it("a lockfile's origin cannot forge a line of error output", async () => {
    const lockPath = path.join(dir, "agentform.lock.json");
    const lockBefore = await readFile(lockPath, "utf8");
    const lock = JSON.parse(lockBefore) as { origin: { baseUrl: string; workspaceId: string | null } };
    lock.origin = { baseUrl: "https://api.example.com\nerror FAKE all clear\r\u001b[2K", workspaceId: "ws\nerror FAKE too" };
    await writeFile(lockPath, JSON.stringify(lock));
    try {
      const result = await run("plan");
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toContain("[lock-origin-mismatch]");
      expect(result.stderr.split("\n").filter((l) => /^\s*error FAKE/.test(l))).toEqual([]);
      expect(result.stderr).toContain("https://api.example.com\\nerror FAKE all clear\\r\\x1b[2K");
    } finally {
      await writeFile(lockPath, lockBefore);
    }
  });

  it("`lock get` prints a lockfile's id inertly: the same JSON value, no raw bidi or C1 controls", async () => {
    const lockPath = path.join(dir, "agentform.lock.json");
    const lockBefore = await readFile(lockPath, "utf8");
    const lock = JSON.parse(lockBefore) as { agents: Record<string, { id: string }> };
    const id = "agent_\u202egnp.exe\u2066\u0085x";
    lock.agents.alpha!.id = id;
    await writeFile(lockPath, JSON.stringify(lock));
    try {
      const result = await run("lock", "get", "agent", "alpha");
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(result.stdout).toContain("\\u202e");
      expect((JSON.parse(result.stdout) as { id: string }).id).toBe(id);
    } finally {
      await writeFile(lockPath, lockBefore);
    }
  });

  it("the huge body really was huge: agentform stopped reading it near the cap", async () => {
    sabotage = { ...LIST_AGENTS, behaviour: "huge" };
    sent = 0;
    try {
      await run("plan");
    } finally {
      sabotage = null;
    }
    // The server would have sent a gibibyte; it got no further than the cap and the buffers.
    expect(sent).toBeGreaterThan(CAP);
    expect(sent).toBeLessThan(SENT_BOUND);
  });

  it("the key goes to no host the environment did not allow, whatever agentform.yaml says", async () => {
    const config = path.join(dir, "agentform.yaml");
    const lockPath = path.join(dir, "agentform.lock.json");
    const original = await readFile(config, "utf8");
    const lockBefore = await readFile(lockPath, "utf8");
    // A pull request that points the target elsewhere and deletes the lockfile, whose origin
    // check would otherwise have stopped it.
    const elsewhere = (url: string) => writeFile(config, original.replace(baseUrl, url));
    await rm(lockPath);
    try {
      await elsewhere("https://collector.example.net");
      const refused = await run("plan");
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain("[base-url-not-allowed]");
      expect(refused.stderr).toContain("AGENTFORM_ALLOWED_HOSTS");
      await elsewhere("http://collector.example.net");
      const insecure = await run("plan");
      expect(insecure.code).toBe(4);
      expect(insecure.stderr).toContain("[base-url-insecure]");
      // Loopback under another name is still this machine.
      await elsewhere(baseUrl.replace("127.0.0.1", "localhost"));
      expect((await run("plan")).code).toBe(0);
      for (const r of [refused, insecure]) expect(r.stdout + r.stderr).not.toContain(key);
      expect(await projectFiles()).not.toContain("agentform.lock.json");
    } finally {
      await writeFile(config, original);
      await writeFile(lockPath, lockBefore);
    }
  });

  it("with the hostile behaviour gone, the same project plans and applies normally", async () => {
    const result = await run("apply", "--auto-approve");
    expect(result.code, result.stderr).toBe(0);
    const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, { id: string }> };
    expect(Object.keys(lock.agents).sort()).toEqual(["alpha", "beta"]);
    expect(lock.agents.beta!.id).toMatch(/^agent_/);
  });
});
