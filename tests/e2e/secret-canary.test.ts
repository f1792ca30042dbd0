/**
 * The promise credentials make: a secret placed in the variable appears in nothing agentform
 * writes or prints. The built CLI runs the whole workflow (validate, every plan format, a saved
 * plan, apply, a rotation, --rotate, lock commands, debug output) in a copy of the example fleet
 * with a canary in GITHUB_MCP_TOKEN and its own temporary folder; then stdout, stderr, every file
 * in the project (lockfile, plan files, .agentform/ with the local control plane's state) and
 * every file in the temporary folder are searched for it. A server that echoes request bodies in
 * its errors is checked too.
 */
import { cp as copy, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliProject } from "../helpers/cli-project.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cli = path.join(repo, "bin", "agentform.js");
const CANARY = "canary-9d4e7f1b2c3a5e6d";

async function everyFile(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await everyFile(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await everyFile(dir)) if ((await readFile(f)).includes(needle)) hits.push(path.relative(dir, f));
  return hits;
}

beforeAll(async () => {
  if (!existsSync(path.join(repo, "dist", "cli", "main.js"))) await execa("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: repo });
});

describe("a canary secret", () => {
  let dir: string;
  let temp: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-canary-"));
    temp = path.join(dir, "..", `${path.basename(dir)}-tmp`);
    await mkdir(temp);
    for (const entry of ["agentform.yaml", "agents", "environments", "skills", "vaults", "memory_stores", "deployments", "schemas"]) {
      await copy(path.join(repo, entry), path.join(dir, entry), { recursive: true });
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(temp, { recursive: true, force: true });
  });

  it("appears in no output, no file of the project and no temporary file, through the whole workflow", async () => {
    const printed: string[] = [];
    const run = async (secret: string, ...args: string[]) => {
      const r = await execa("node", [cli, ...args], { cwd: dir, reject: false, env: { NO_COLOR: "1", GITHUB_MCP_TOKEN: secret, TMPDIR: temp, TMP: temp, TEMP: temp, AGENTFORM_DEBUG: "1", ANTHROPIC_LOG: "debug" }, extendEnv: true });
      printed.push(r.stdout, r.stderr);
      return r;
    };
    const first = `${CANARY}-one`;
    const second = `${CANARY}-two`;
    expect((await run(first, "validate")).exitCode).toBe(0);
    const plan = await run(first, "plan", "--out", "plan.json");
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain("credential.github-tools/github");
    expect((await run(first, "plan", "--format", "json")).stdout).toContain('"$env": "GITHUB_MCP_TOKEN"');
    expect((await run(first, "plan", "--format", "markdown")).exitCode).toBe(0);
    expect((await run(first, "apply", "plan.json")).exitCode).toBe(0);
    expect((await run(first, "apply", "--auto-approve")).stdout).toContain("No changes");
    const rotation = await run(second, "plan", "--format", "markdown", "--out", "rotate.json");
    expect(rotation.stdout).toContain("credential-rotated");
    // Changing the variable plans exactly one credential update and nothing else.
    const saved = JSON.parse(await readFile(path.join(dir, "rotate.json"), "utf8")) as { resources: Array<{ address: string; action: string; changes: Array<{ pointer: string }> }> };
    expect(saved.resources.filter((r) => r.action !== "noop").map((r) => [r.address, r.action, r.changes.map((c) => c.pointer)])).toEqual([["credential.github-tools/github", "update", ["/auth/secret"]]]);
    expect((await run(second, "apply", "rotate.json")).exitCode).toBe(0);
    expect((await run(second, "plan", "--rotate")).stdout).toContain("resent: --rotate");
    expect((await run(second, "apply", "--rotate", "--auto-approve")).exitCode).toBe(0);
    expect((await run(second, "lock", "verify")).exitCode).toBe(0);
    expect((await run(second, "lock", "get", "credential", "github-tools/github")).exitCode).toBe(0);
    expect((await run(second, "lock", "get", "vault", "github-tools")).exitCode).toBe(0);

    expect(printed.filter((t) => t.includes(CANARY))).toEqual([]);
    expect(await filesHolding(dir, CANARY)).toEqual([]);
    expect(await filesHolding(temp, CANARY)).toEqual([]);
    // The check can fail: the files it searched include the state file, the lockfile and plans.
    const searched = (await everyFile(dir)).map((f) => path.relative(dir, f));
    expect(searched).toEqual(expect.arrayContaining(["agentform.lock.json", "plan.json", "rotate.json", path.join(".agentform", "local-default.json")]));
  });
});

describe("a server that echoes request bodies in its errors", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers every list with nothing and every write with a 400 quoting the body it received.
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        if (req.method === "GET") {
          res.end(JSON.stringify({ data: [], next_page: null }));
          return;
        }
        if (req.url?.startsWith("/v1/vaults?") || req.url === "/v1/vaults") {
          res.end(JSON.stringify({ id: "vlt_echo", type: "vault", display_name: "github-tools", metadata: { "agentform.project": "support-bots" }, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", archived_at: null }));
          return;
        }
        // The body back in every field an error has: message, type and error code.
        res.statusCode = 400;
        res.end(JSON.stringify({ type: "error", error: { type: `invalid_${body}`, message: `cannot accept ${body}`, details: { error_code: `code_${body}` } } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("does not get the secret printed back, in any field or spelling", async () => {
    const p = await cliProject({ "vaults/github.yaml": (await readFile(path.join(repo, "vaults", "github-tools.yaml"), "utf8")) });
    try {
      await writeFile(p.config, `project: support-bots\ntargets:\n  default:\n    base_url: ${url}\n    api_key_env: AGENTFORM_TEST_KEY\n`);
      // Quote and backslash: the echo spells them JSON-escaped.
      const secret = `${CANARY}"q\\b`;
      p.env.GITHUB_MCP_TOKEN = secret;
      const r = await p.run("apply", "--auto-approve");
      expect(r.code).toBe(1);
      const printed = r.stdout + r.stderr;
      // The server's message made it through (so the test can see an echo), minus the secret.
      expect(printed).toContain("cannot accept");
      expect(printed).toContain("[REDACTED]");
      expect(printed).not.toContain(CANARY);
      expect(await filesHolding(p.dir, CANARY)).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
