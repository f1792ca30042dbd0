/**
 * The state file: written atomically after commits, read back by the next server, guarded by a
 * lock file against a second server.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { startLocalControlPlane } from "../../src/local/index.js";
import { clientFor } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "agentform-local-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("persistence", () => {
  it("a second server on the same file sees the first one's agents, versions and environments", async () => {
    const stateFile = path.join(dir, "nested", "state.json");
    const first = await startLocalControlPlane({ stateFile });
    const c1 = clientFor(first);
    const agent = await c1.beta.agents.create({ name: "kept", model: "claude-opus-4-8" });
    await c1.beta.agents.update(agent.id, { system: "second version" });
    const env = await c1.beta.environments.create({ name: "env" });
    await first.close();
    expect(await readdir(path.dirname(stateFile))).toEqual(["state.json"]);

    const second = await startLocalControlPlane({ stateFile });
    try {
      const c2 = clientFor(second);
      const back = await c2.beta.agents.retrieve(agent.id);
      expect(back.version).toBe(2);
      expect(back.system).toBe("second version");
      expect((await c2.beta.agents.retrieve(agent.id, { version: 1 })).system).toBeNull();
      expect((await c2.beta.environments.retrieve(env.id)).name).toBe("env");
      // Name uniqueness survives the restart too.
      const dup = await c2.beta.environments.create({ name: "env" }).then(
        () => 200,
        (e: { status: number }) => e.status,
      );
      expect(dup).toBe(409);
    } finally {
      await second.close();
    }
  });

  it("the file is written shortly after a commit, not only on close, and not at all for reads or no-ops", async () => {
    const stateFile = path.join(dir, "state.json");
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const client = clientFor(cp);
      const agent = await client.beta.agents.create({ name: "soon", model: "claude-opus-4-8" });
      await new Promise((r) => setTimeout(r, 200));
      const written = await readFile(stateFile, "utf8");
      expect(written).toContain(agent.id);
      await client.beta.agents.list();
      await client.beta.agents.update(agent.id, { name: "soon" });
      await new Promise((r) => setTimeout(r, 200));
      expect(await readFile(stateFile, "utf8")).toBe(written);
    } finally {
      await cp.close();
    }
  });

  it("refuses a state file whose lock is held by a live process, and frees it on close", async () => {
    const stateFile = path.join(dir, "state.json");
    const first = await startLocalControlPlane({ stateFile });
    const err = await startLocalControlPlane({ stateFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentformError);
    expect((err as AgentformError).code).toBe("local-state-locked");
    expect((err as AgentformError).message).toContain(stateFile);
    expect((err as AgentformError).hint).toContain(String(process.pid));
    await first.close();
    const again = await startLocalControlPlane({ stateFile });
    await again.close();
  });

  it("takes over a lock left by a dead process, and rejects a corrupt state file clearly", async () => {
    const stateFile = path.join(dir, "state.json");
    await writeFile(`${stateFile}.lock`, "2147483646\n");
    const cp = await startLocalControlPlane({ stateFile });
    await cp.close();
    await writeFile(stateFile, "{not json");
    const err = await startLocalControlPlane({ stateFile }).catch((e: unknown) => e);
    expect((err as AgentformError).code).toBe("local-state-corrupt");
    // A refused start leaves no lock behind.
    expect(await readdir(dir)).toEqual(["state.json"]);
  });

  it("removes the temporary files of writers killed before their rename, and nothing else", async () => {
    const stateFile = path.join(dir, "state.json");
    await writeFile(path.join(dir, ".state.json.4242.tmp"), "{half a state");
    await writeFile(path.join(dir, ".state.json.notes.tmp"), "not ours");
    await writeFile(path.join(dir, ".other.json.4242.tmp"), "another state file's");
    const cp = await startLocalControlPlane({ stateFile });
    await cp.close();
    expect((await readdir(dir)).sort()).toEqual([".other.json.4242.tmp", ".state.json.notes.tmp"]);
  });

  it("refuses, with its own code, a state file whose folder is a file (was an internal error)", async () => {
    await writeFile(path.join(dir, ".agentform"), "a file where the folder goes\n");
    const stateFile = path.join(dir, ".agentform", "local-default.json");
    const err = await startLocalControlPlane({ stateFile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentformError);
    expect((err as AgentformError).code).toBe("local-state-unwritable");
    expect((err as AgentformError).message).toContain(stateFile);
    expect((err as AgentformError).hint).toContain("state_file");
  });
});
