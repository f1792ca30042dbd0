/**
 * The ant backend with the real `ant` binary against the local control plane over real HTTP:
 * the backend contract, the invocation rules ant's source imposes (`@` escaping, stdin, the
 * environment, caps), and the CLI end to end with `backend: ant`. Without a binary every test that
 * needs one skips, and one line says how many and what to set.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { chmod, cp as copy, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAntBackend, type AntControlPlane } from "../../src/backends/ant.js";
import { locateAnt } from "../../src/backends/ant-locate.js";
import { BackendError } from "../../src/backends/errors.js";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { main } from "../../src/cli/main.js";
import { AgentformError } from "../../src/errors.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { ANT, antSkipLine } from "../helpers/ant.js";
import { capture } from "../helpers/capture.js";
import { rejectionOf } from "../helpers/rejection.js";
import { defineBackendContract } from "./contract.js";

const MODEL = "claude-sonnet-5-5";
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
let registered = 0;
/** A test that needs the binary: skipped, and counted for the skip line, without one. */
const antIt = (title: string, fn: () => Promise<void>, timeout?: number) => {
  registered++;
  (ANT ? it : it.skip)(title, fn, timeout);
};

function antBackend(baseUrl: string, apiKey: string, options: { antPath?: string; timeoutMs?: number; maxResponseBytes?: number; env?: NodeJS.ProcessEnv } = {}): AntControlPlane {
  const settings = { baseUrl, apiKey };
  return createAntBackend(settings, {
    antPath: options.antPath ?? (ANT as string),
    fallback: createSdkBackend(settings),
    timeoutMs: options.timeoutMs,
    limits: options.maxResponseBytes === undefined ? undefined : { maxResponseBytes: options.maxResponseBytes },
    env: options.env ?? process.env,
  });
}

const failure = (p: Promise<unknown>) => rejectionOf(p, AgentformError);

/** A throwaway HTTP server; `handle` answers every request. */
async function server(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const s = createServer(handle);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

defineBackendContract("ant", (cp) => antBackend(cp.baseUrl, cp.apiKey), { skip: !ANT, onRegister: () => registered++ });

describe("ant backend: sending values as they are", () => {
  let cp: LocalControlPlane;
  let dir: string;
  beforeAll(async () => {
    cp = await startLocalControlPlane();
    dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-values-"));
  });
  afterAll(async () => {
    await cp.close();
    await rm(dir, { recursive: true, force: true });
  });
  const sdk = () => new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries: 0 });

  antIt("strings starting with @ reach the server verbatim, even when a file of that name exists", async () => {
    const file = path.join(dir, "prompt.txt");
    await writeFile(file, "THE FILE'S CONTENT");
    const backend = antBackend(cp.baseUrl, cp.apiKey);
    const sent = { system: `@${file}`, description: "@support-team", metadata: { owner: "@platform", path: `@${file}` } };
    const created = await backend.create("agent", { name: "at-values", model: MODEL, ...sent });
    const live = await sdk().beta.agents.retrieve(created.id);
    expect({ system: live.system, description: live.description, metadata: live.metadata }).toEqual(sent);
    const updated = await backend.update("agent", created.id, { system: "@@twice" }, { expectedVersion: 1 });
    expect(updated.system).toBe("@@twice");
    const env = await backend.create("environment", { name: "at-env", description: `@${file}`, config: { type: "cloud" } });
    expect((await sdk().beta.environments.retrieve(env.id)).description).toBe(`@${file}`);
  });

  antIt("a value starting with \\@, and a body key ant would take as the command's id, are refused before anything is sent", async () => {
    const backend = antBackend(cp.baseUrl, cp.apiKey);
    cp.clearRequestLog();
    const escaped = await failure(backend.create("agent", { name: "unsendable", model: MODEL, system: "\\@literal" }));
    expect(escaped.code).toBe("ant-value-unsendable");
    expect(escaped.message).toContain("/system");
    expect(escaped.hint).toMatch(/sdk backend/);
    const keyed = await failure(backend.create("agent", { name: "unsendable", model: MODEL, agent_id: "agent_x" }));
    expect(keyed.code).toBe("ant-value-unsendable");
    expect(cp.requestLog()).toEqual([]);
  });

  antIt("a roster of the newer multiagent type reaches the server whole, and so does removing it", async () => {
    const backend = antBackend(cp.baseUrl, cp.apiKey);
    const helper = await backend.create("agent", { name: "roster-helper", model: MODEL });
    const multiagent = {
      type: "multiagent_20261001",
      advisor: { type: "enabled", model: "claude-opus-5-5" },
      subagents: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [{ type: "agent", id: helper.id, version: 1 }] },
      workflows: { type: "disabled" },
    };
    const lead = await backend.create("agent", { name: "roster-lead", model: MODEL, multiagent });
    expect((await sdk().beta.agents.retrieve(lead.id)).multiagent).toEqual(multiagent);
    const cleared = await backend.update("agent", lead.id, { multiagent: null }, { expectedVersion: 1 });
    expect(cleared.multiagent).toBeNull();
  });
});

describe("ant backend: the process", () => {
  antIt("a page cursor starting with @ is sent as it is, never read as a file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-cursor-"));
    const secretFile = path.join(dir, "secret.txt");
    await writeFile(secretFile, "do-not-send");
    const pages: string[] = [];
    const agent = { id: "agent_011cursor", type: "agent", name: "a", version: 1, model: { id: MODEL }, metadata: {}, created_at: "2026-01-01T00:00:00Z", archived_at: null };
    const s = await server((req, res) => {
      const page = new URL(req.url ?? "/", "http://x").searchParams.get("page");
      pages.push(page ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(page === null ? { data: [agent], next_page: `@${secretFile}` } : { data: [], next_page: null }));
    });
    try {
      expect(await antBackend(s.url, "k").list("agent")).toHaveLength(1);
      expect(pages).toEqual(["", `@${secretFile}`]);
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  antIt("ant never holds the key (a run token stands in for it); nothing else is inherited; stdin is the body's file, removed after", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-shim-"));
    const bodies = await mkdtemp(path.join(tmpdir(), "agentform-ant-bodies-"));
    const shim = path.join(dir, "ant");
    // A recording wrapper around the real binary: argv, environment and what stdin is, then ant.
    await writeFile(shim, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nenv > "${dir}/env"\nreadlink /proc/self/fd/0 > "${dir}/stdin"\nexec "${ANT}" "$@"\n`);
    await chmod(shim, 0o755);
    const cp = await startLocalControlPlane();
    const previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = bodies;
    try {
      const backend = antBackend(cp.baseUrl, cp.apiKey, { antPath: shim, env: { ...process.env, AGENTFORM_TEST_CANARY: "inherited", HTTPS_PROXY: "http://127.0.0.1:9" } });
      await backend.create("agent", { name: "shimmed", model: MODEL });
      const argv = (await readFile(path.join(dir, "argv"), "utf8")).split("\n");
      const env = await readFile(path.join(dir, "env"), "utf8");
      expect(argv.slice(2, 6)).toEqual(["--format", "jsonl", "--format-error", "json"]);
      expect(argv[0]).toBe("--base-url");
      expect(argv[1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(`${argv.join(" ")}\n${env}`).not.toContain(cp.apiKey);
      expect(env).toMatch(/^ANTHROPIC_API_KEY=agentform-run-[0-9a-f]{48}$/m);
      expect(env).toContain("FORCE_COLOR=0\n");
      expect(env).not.toMatch(/AGENTFORM_TEST_CANARY|HTTPS_PROXY/);
      if (process.platform === "linux") expect((await readFile(path.join(dir, "stdin"), "utf8")).trim()).toMatch(/agentform-ant-[^/]+\/body\.json$/);
      expect(await readdir(bodies)).toEqual([]);
      // A run token is good for its run only: the relay refuses it afterwards.
      const token = /^ANTHROPIC_API_KEY=(.*)$/m.exec(env)?.[1] as string;
      const reuse = await fetch(`${argv[1]}/v1/agents?limit=1`, { headers: { "x-api-key": token } });
      expect(reuse.status).toBe(401);
      // Closing the backend (the target) stops the relay: nothing listens there any more.
      await backend.close();
      await expect(fetch(`${argv[1]}/v1/agents?limit=1`, { headers: { "x-api-key": token } })).rejects.toThrow();
    } finally {
      if (previousTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmp;
      await cp.close();
      await rm(dir, { recursive: true, force: true });
      await rm(bodies, { recursive: true, force: true });
    }
  });

  antIt("a redirect is never followed: the other host gets nothing, and the answer is refused", async () => {
    const seen: string[] = [];
    const other = await server((req, res) => {
      seen.push(String(req.headers["x-api-key"]));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [], next_page: null }));
    });
    const s = await server((req, res) => {
      res.writeHead(302, { location: `${other.url.replace("127.0.0.1", "localhost")}${req.url}` });
      res.end();
    });
    try {
      const err = (await failure(antBackend(s.url, "the-real-key").list("agent"))) as BackendError;
      expect(err.code).toBe("response-redirect");
      expect(seen).toEqual([]);
    } finally {
      await s.close();
      await other.close();
    }
  });

  antIt("ant resends nothing on its own, whatever the server says: one request per call", async () => {
    let posts = 0;
    const agent = { id: "agent_011once", type: "agent", name: "once", version: 1, model: { id: MODEL }, metadata: {}, created_at: "2026-01-01T00:00:00Z", archived_at: null };
    const s = await server((req, res) => {
      if (req.method === "POST") posts++;
      // Both would make ant's client send the request again.
      res.writeHead(req.url?.includes("conflict") ? 409 : 200, { "content-type": "application/json", "x-should-retry": "true" });
      res.end(JSON.stringify(req.url?.includes("conflict") ? { type: "error", error: { type: "invalid_request_error", message: "version" } } : agent));
    });
    try {
      await antBackend(s.url, "k").create("agent", { name: "once", model: MODEL });
      expect(posts).toBe(1);
      const conflict = (await failure(antBackend(s.url, "k").update("agent", "agent_011conflict", { system: "x" }, { expectedVersion: 1 }))) as BackendError;
      expect([conflict.status, posts]).toEqual([409, 2]);
    } finally {
      await s.close();
    }
  });

  antIt("a value ant itself cannot parse is refused, not retried as a network failure", async () => {
    const cp = await startLocalControlPlane();
    try {
      cp.clearRequestLog();
      const err = await failure(antBackend(cp.baseUrl, cp.apiKey).create("agent", { name: "surrogate", model: MODEL, system: "x\ud800y" }));
      expect([err.code, err.exitCode]).toEqual(["ant-refused", 3]);
      expect(err.message).toMatch(/before sending it: .*surrogate.*; nothing was sent/);
      expect(err.message).not.toContain("x\ud800y");
      expect(cp.requestLog()).toEqual([]);
    } finally {
      await cp.close();
    }
  });

  antIt("a call that does not finish is stopped at the timeout, and counts as unanswered", async () => {
    const s = await server(() => undefined);
    try {
      const err = (await failure(antBackend(s.url, "k", { timeoutMs: 1_500 }).get("agent", "agent_011hang"))) as BackendError;
      expect(err).toBeInstanceOf(BackendError);
      expect(err.isAmbiguous).toBe(true);
      expect(err.message).toMatch(/no answer within 1500 ms/);
    } finally {
      await s.close();
    }
  });

  antIt("an answer larger than the cap is refused, and one that is not JSON is not taken for an answer", async () => {
    const s = await server((req, res) => {
      if (req.url?.includes("big")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "agent_011big", padding: "x".repeat(200_000) }));
        return;
      }
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>bad gateway</html>");
    });
    try {
      const big = (await failure(antBackend(s.url, "k", { maxResponseBytes: 50_000 }).get("agent", "agent_011big"))) as BackendError;
      expect(big.code).toBe("response-too-large");
      const html = (await failure(antBackend(s.url, "k").get("agent", "agent_011html"))) as BackendError;
      expect(html).toBeInstanceOf(BackendError);
      expect(html.status === undefined || html.status === 502).toBe(true);
      expect(html.message).not.toContain("<html>");
    } finally {
      await s.close();
    }
  }, 20_000);
});

describe("ant backend: what it cannot send, known before anything runs", () => {
  // No binary needed: the check builds ant's request and runs nothing.
  const backend = () => antBackend("http://127.0.0.1:9", "unused-key", { antPath: "/nonexistent/ant" });

  it("names the value ant cannot pass on, for the kinds ant writes, and nothing else", () => {
    const err = backend().unsendable("agent", { name: "a", model: MODEL, metadata: { note: "\\@literal" } });
    expect(err?.code).toBe("ant-value-unsendable");
    expect(err?.message).toContain("/metadata/note");
    expect(err?.hint).toContain("backend: sdk");
    expect(backend().unsendable("environment", { name: "e", environment_id: "env_x" })?.code).toBe("ant-value-unsendable");
    // `@` alone is escaped and sent; vaults go through the SDK, which sends anything.
    expect(backend().unsendable("agent", { name: "a", model: MODEL, system: "@file-looking", multiagent: { type: "coordinator", agents: [] } })).toBeUndefined();
    expect(backend().unsendable("vault", { display_name: "\\@v" })).toBeUndefined();
  });
});

describe("agentform with backend: ant", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function exampleProject(backend: "sdk" | "ant"): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), `agentform-ant-example-${backend}-`));
    dirs.push(dir);
    for (const entry of ["agentform.yaml", "agents", "environments", "skills", "vaults", "memory_stores", "deployments", "schemas"]) {
      await copy(path.join(repo, entry), path.join(dir, entry), { recursive: true });
    }
    const config = await readFile(path.join(dir, "agentform.yaml"), "utf8");
    await writeFile(path.join(dir, "agentform.yaml"), config.replace("    local: true\n", `    local: true\n    backend: ${backend}\n`));
    return dir;
  }

  async function run(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = capture();
    const err = capture();
    const code = await main(["node", "agentform", ...args, "--config", path.join(dir, "agentform.yaml")], {
      stdout: out.stream,
      stderr: err.stream,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", AGENTFORM_ANT: ANT, ...env },
    });
    return { code, stdout: out.text(), stderr: err.text() };
  }

  /** Plan JSON with what differs between two workspaces by nature masked: ids, digests, times. */
  const masked = (json: string) =>
    json
      .replace(/\b[a-z]+_0[0-9A-Za-z]{10,}\b/g, "<id>")
      .replace(/sha256:[0-9a-f]{64}/g, "<digest>")
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>");

  antIt("creates the example fleet, re-plans empty with no version moved, and says which kinds went through ant", async () => {
    const dir = await exampleProject("ant");
    const first = await run(dir, ["apply", "--auto-approve"]);
    expect(first.stdout).toMatch(/Plan: 12 to create/);
    expect(first.code).toBe(0);
    const note = /^note: target "default" uses ant 1\.\d+\.\d+ \(.+\) for agents and environments; (.+) go through the SDK$/m.exec(first.stderr);
    expect(note?.[1]?.split(/, | and /).sort()).toEqual(["credentials", "deployments", "memory stores", "skills", "vaults"]);
    expect(first.stderr.match(/^note: /gm)).toHaveLength(1);
    const lock = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
    const state = await readFile(path.join(dir, ".agentform", "local-default.json"), "utf8");
    const again = await run(dir, ["plan", "--detailed-exitcode"]);
    expect(again.stdout).toMatch(/No changes/);
    expect(again.code).toBe(0);
    expect(await readFile(path.join(dir, "agentform.lock.json"), "utf8")).toBe(lock);
    expect(await readFile(path.join(dir, ".agentform", "local-default.json"), "utf8")).toBe(state);
  }, 120_000);

  antIt("the plan JSON through ant is the SDK's, apart from ids, digests and times, before and after an edit", async () => {
    const [viaSdk, viaAnt] = [await exampleProject("sdk"), await exampleProject("ant")];
    const plans = async (): Promise<[string, string]> => [masked((await run(viaSdk, ["plan", "--format", "json"])).stdout), masked((await run(viaAnt, ["plan", "--format", "json"])).stdout)];
    const [sdkFirst, antFirst] = await plans();
    expect(antFirst).toBe(sdkFirst);
    expect(JSON.parse(antFirst).resources.length).toBe(12);
    for (const dir of [viaSdk, viaAnt]) {
      expect((await run(dir, ["apply", "--auto-approve"])).code).toBe(0);
      const triage = path.join(dir, "agents", "triage.yaml");
      await writeFile(triage, (await readFile(triage, "utf8")).replace("You are the first responder", "@You are the first responder"));
    }
    const [sdkEdit, antEdit] = await plans();
    expect(antEdit).toBe(sdkEdit);
    expect(antEdit).toContain("@You are the first responder");
  }, 180_000);

  antIt("a value ant cannot send is refused by plan and by apply before any write, where the SDK would send it", async () => {
    const cp = await startLocalControlPlane();
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-unsendable-"));
    dirs.push(dir);
    const config = (backend: string) => `project: unsendable\ntargets:\n  default:\n    base_url: ${cp.baseUrl}\n    api_key_env: ANT_TEST_KEY\n    backend: ${backend}\n`;
    await writeFile(path.join(dir, "agentform.yaml"), config("ant"));
    await mkdir(path.join(dir, "agents"));
    await writeFile(path.join(dir, "agents", "fine.yaml"), `name: fine\nmodel: ${MODEL}\n`);
    await writeFile(path.join(dir, "agents", "escaped.yaml"), `name: escaped\nmodel: ${MODEL}\nsystem: '\\@not a file'\n`);
    try {
      const env = { ANT_TEST_KEY: cp.apiKey };
      const plan = await run(dir, ["plan"], env);
      expect(plan.code).toBe(3);
      expect(plan.stdout + plan.stderr).toContain("ant-value-unsendable");
      expect(plan.stdout + plan.stderr).toContain("agent.escaped");
      cp.clearRequestLog();
      const apply = await run(dir, ["apply", "--auto-approve"], env);
      expect(apply.code).toBe(3);
      expect(cp.requestLog().filter((r) => r.write)).toEqual([]);
      // The same manifests through the SDK: nothing to refuse.
      await writeFile(path.join(dir, "agentform.yaml"), config("sdk"));
      expect((await run(dir, ["plan", "--detailed-exitcode"], env)).code).toBe(2);
    } finally {
      await cp.close();
    }
  }, 60_000);

  antIt("a create or update whose connection drops after commit leaves no duplicate and no failure, and 429s are paced and reported", async () => {
    const cp = await startLocalControlPlane();
    const dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-drop-"));
    dirs.push(dir);
    await writeFile(path.join(dir, "agentform.yaml"), `project: drops\ntargets:\n  default:\n    base_url: ${cp.baseUrl}\n    api_key_env: ANT_TEST_KEY\n    backend: ant\n`);
    await mkdir(path.join(dir, "agents"));
    await writeFile(path.join(dir, "agents", "one.yaml"), `name: one\nmodel: ${MODEL}\n`);
    await writeFile(path.join(dir, "agents", "two.yaml"), `name: two\nmodel: ${MODEL}\n`);
    try {
      cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }, { on: "write", nth: 2, fault: { status: 429, retryAfterSeconds: 1 } }] });
      const applied = await run(dir, ["apply", "--auto-approve"], { ANT_TEST_KEY: cp.apiKey });
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/paced: 1 rate-limit answer absorbed/);
      const sdk = new Anthropic({ apiKey: cp.apiKey, baseURL: cp.baseUrl, maxRetries: 0 });
      const live = (await sdk.beta.agents.list({ limit: 100 })).data;
      expect(live.map((a) => a.name).sort()).toEqual(["one", "two"]);
      const lock = JSON.parse(await readFile(path.join(dir, "agentform.lock.json"), "utf8")) as { agents: Record<string, { id: string; version: number }> };
      expect(Object.values(lock.agents).map((a) => a.id).sort()).toEqual(live.map((a) => a.id).sort());
      // An update whose answer is lost after it landed: found landed, not called a conflict.
      await writeFile(path.join(dir, "agents", "one.yaml"), `name: one\nmodel: ${MODEL}\nsystem: edited\n`);
      cp.setFaults({ script: [{ on: "write", nth: 1, fault: { dropAfterCommit: true } }] });
      const updated = await run(dir, ["apply", "--auto-approve"], { ANT_TEST_KEY: cp.apiKey });
      expect(updated.code).toBe(0);
      const one = (await sdk.beta.agents.list({ limit: 100 })).data.find((a) => a.name === "one");
      expect([one?.system, one?.version]).toEqual(["edited", 2]);
      const again = await run(dir, ["plan", "--detailed-exitcode"], { ANT_TEST_KEY: cp.apiKey });
      expect(again.code).toBe(0);
    } finally {
      await cp.close();
    }
  }, 60_000);
});

// Collected last, once every test above is registered (describe bodies run in order), so the
// skip line has the count; these tests need no binary.
describe("locating ant", () => {
  if (!ANT) console.log(antSkipLine(registered));
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-ant-locate-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const script = async (name: string, says: string) => {
    const file = path.join(dir, name, "ant");
    await mkdir(path.join(dir, name), { recursive: true });
    await writeFile(file, `#!/bin/sh\necho '${says}'\n`);
    await chmod(file, 0o755);
    return file;
  };

  it("refuses Apache Ant, an old ant, a missing one, and skips relative PATH entries", async () => {
    const apache = await script("apache", "Apache Ant(TM) version 1.10.14 compiled on August 16 2023");
    expect((await failure(locateAnt(apache, {}))).code).toBe("ant-not-anthropic");
    const old = await script("old", "ant version 1.19.3");
    expect((await failure(locateAnt(old, {}))).code).toBe("ant-too-old");
    const missing = await failure(locateAnt(undefined, { PATH: path.join(dir, "nowhere") }));
    expect([missing.code, missing.exitCode]).toEqual(["ant-not-found", 4]);
    expect(missing.hint).toMatch(/go install github\.com\/anthropics\/anthropic-cli\/cmd\/ant/);
    // A relative entry would resolve inside the repository being planned.
    await script("relative", "ant version 1.20.0");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await failure(locateAnt(undefined, { PATH: "relative" }))).code).toBe("ant-not-found");
    } finally {
      process.chdir(cwd);
    }
  });

  it("takes --ant-path before AGENTFORM_ANT before PATH", async () => {
    const first = await script("first", "ant version 1.20.0");
    const second = await script("second", "ant version 1.21.0");
    const third = await script("third", "ant version 1.30.1");
    expect(await locateAnt(first, { AGENTFORM_ANT: second, PATH: path.dirname(third) })).toEqual({ path: first, version: "1.20.0", source: "--ant-path" });
    expect(await locateAnt(undefined, { AGENTFORM_ANT: second, PATH: path.dirname(third) })).toEqual({ path: second, version: "1.21.0", source: "AGENTFORM_ANT" });
    expect(await locateAnt(undefined, { PATH: `${path.join(dir, "nowhere")}:${path.dirname(third)}` })).toEqual({ path: third, version: "1.30.1", source: "PATH" });
  });
});
