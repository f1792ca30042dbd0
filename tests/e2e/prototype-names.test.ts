/**
 * Resource names are free text: "__proto__", "constructor" and "toString" must work like any
 * other name through validate, plan, apply, the lockfile, lock get and lock verify (name-keyed
 * tables are prototype-free, lookups see own properties only).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadLock } from "../../src/lock/runtime.js";
import { cliProject, type CliProject } from "../helpers/cli-project.js";

const NAMES = ["__proto__", "constructor", "toString"];

describe("names that collide with Object.prototype", () => {
  let p: CliProject;
  let dir: string;
  const run = (...args: string[]) => p.run(...args);

  beforeEach(async () => {
    const files: Record<string, string> = {};
    for (const [i, name] of NAMES.entries()) {
      files[`agents/a${i}.yaml`] = `name: "${name}"\nmodel: claude-sonnet-5-5\nsystem: Agent ${i}.\n`;
      files[`environments/e${i}.yaml`] = `name: "${name}"\nconfig:\n  type: cloud\n`;
    }
    // A coordinator whose roster references them by name.
    files["agents/lead.yaml"] = `name: lead\nmodel: claude-sonnet-5-5\nmultiagent:\n  type: coordinator\n  agents:\n${NAMES.map((n) => `    - { type: agent, ref: "${n}" }`).join("\n")}\n`;
    p = await cliProject(files);
    dir = p.dir;
  });
  afterEach(() => p.close());

  it("apply creates them, records them, and the next plan is empty", async () => {
    expect((await run("validate")).code).toBe(0);
    const first = await run("apply", "--auto-approve");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const text = await readFile(path.join(dir, "agentform.lock.json"), "utf8");
    const raw = JSON.parse(text) as { agents: Record<string, unknown>; environments: Record<string, unknown> };
    expect(Object.keys(raw.agents).sort()).toEqual([...NAMES, "lead"].sort());
    expect(Object.keys(raw.environments).sort()).toEqual([...NAMES].sort());

    p.cp.clearRequestLog();
    const again = await run("plan", "--detailed-exitcode");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("No changes. Live resources match the manifests.\n");
    expect((await run("lock", "verify")).code).toBe(0);

    for (const name of NAMES) {
      const pin = await run("lock", "get", "agent", name);
      expect(pin.code).toBe(0);
      expect(JSON.parse(pin.stdout)).toMatchObject({ type: "agent", version: 1 });
    }
    const lock = loadLock(path.join(dir, "agentform.lock.json"));
    for (const name of NAMES) expect(lock.environmentId(name)).toMatch(/^env_/);
  });
});
