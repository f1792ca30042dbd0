import { describe, expect, it } from "vitest";
import type { LiveAgent, LiveEnvironment } from "../../src/backends/types.js";
import type { Lockfile } from "../../src/lock/types.js";
import { verifyLock } from "../../src/lock/verify.js";
import { liveDigest, specDigest } from "../../src/normalize/index.js";
import { manifest } from "../apply/fleet.js";
import { emptyByKind, emptyLockTables } from "../plan/helpers.js";

function liveAgent(id: string, name: string, version: number, extra: Partial<LiveAgent> = {}): LiveAgent {
  return {
    id, type: "agent", name, version, description: null, system: "be helpful", model: { id: "claude-sonnet-5-5", effort: { type: "high" }, speed: "standard" },
    tools: [], mcp_servers: [], skills: [], multiagent: null, execution_identity: { type: "service_account" },
    metadata: { "agentform.project": "support-bots" }, created_at: "2026-11-01T00:00:00Z", updated_at: "2026-11-01T00:00:00Z", archived_at: null,
    ...extra,
  } as unknown as LiveAgent;
}

function liveEnv(id: string, name: string, extra: Partial<LiveEnvironment> = {}): LiveEnvironment {
  return {
    id, type: "environment", name, description: null, config: { type: "cloud", networking: { type: "unrestricted" }, packages: { apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] } },
    metadata: { "agentform.project": "support-bots" }, created_at: "2026-11-01T00:00:00Z", updated_at: "2026-11-01T00:00:00Z", archived_at: null,
    ...extra,
  } as unknown as LiveEnvironment;
}

function setup() {
  const agents = [manifest("agent", "triage", { model: "claude-sonnet-5-5", system: "be helpful" })];
  const environments = [manifest("environment", "sandbox", { config: { type: "cloud" } })];
  const triage = liveAgent("agent_1", "triage", 3);
  const sandbox = liveEnv("env_1", "sandbox");
  const lock: Lockfile = {
    lockfileVersion: 1.1, project: "support-bots", target: "default", origin: { baseUrl: "http://x", workspaceId: null },
    ...emptyLockTables(),
    agents: { triage: { id: "agent_1", version: 3, specDigest: specDigest(agents[0]!), liveDigest: liveDigest("agent", triage) } },
    environments: { sandbox: { id: "env_1", specDigest: specDigest(environments[0]!), liveDigest: liveDigest("environment", sandbox) } },
  };
  return { agents, environments, triage, sandbox, lock };
}

describe("verifyLock", () => {
  it("finds nothing when lockfile, manifests and live agree", () => {
    const s = setup();
    expect(verifyLock({ lock: s.lock, manifests: { ...emptyByKind(), agent: s.agents, environment: s.environments }, live: { ...emptyByKind(), agent: [s.triage], environment: [s.sandbox] }, versionsExist: { "agent.triage": true } })).toEqual([]);
  });

  it("reports a missing id, an archived resource and a missing version as errors", () => {
    const s = setup();
    const findings = verifyLock({
      lock: s.lock, manifests: { ...emptyByKind(), agent: s.agents, environment: s.environments },
      live: { ...emptyByKind(), agent: [], environment: [liveEnv("env_1", "sandbox", { archived_at: "2026-11-02T00:00:00Z" })] },
      versionsExist: { "agent.triage": false },
    });
    expect(findings.map((f) => [f.severity, f.code, f.address])).toEqual([
      ["error", "lock-id-missing", "agent.triage"],
      ["error", "lock-archived", "environment.sandbox"],
    ]);
    const versionMissing = verifyLock({ lock: s.lock, manifests: { ...emptyByKind(), agent: s.agents, environment: s.environments }, live: { ...emptyByKind(), agent: [s.triage], environment: [s.sandbox] }, versionsExist: { "agent.triage": false } });
    expect(versionMissing.map((f) => f.code)).toEqual(["lock-version-missing"]);
    expect(versionMissing[0]!.message).toContain("version 3 of agent_1");
  });

  it("warns about live changes made outside agentform", () => {
    const s = setup();
    const findings = verifyLock({
      lock: s.lock, manifests: { ...emptyByKind(), agent: s.agents, environment: s.environments },
      live: { ...emptyByKind(), agent: [liveAgent("agent_1", "triage", 4, { system: "edited in the console" } as Partial<LiveAgent>)], environment: [liveEnv("env_1", "sandbox", { description: "edited" })] },
      versionsExist: { "agent.triage": true },
    });
    expect(findings.map((f) => [f.severity, f.code])).toEqual([
      ["warning", "live-version-moved"],
      ["warning", "live-drift"],
    ]);
  });

  it("reports manifests that changed since apply, were never applied, or were removed", () => {
    const s = setup();
    const edited = [manifest("agent", "triage", { model: "claude-opus-5-5", system: "be helpful" }), manifest("agent", "billing", { model: "claude-haiku-5-5" })];
    const findings = verifyLock({ lock: s.lock, manifests: { ...emptyByKind(), agent: edited, environment: [] }, live: { ...emptyByKind(), agent: [s.triage], environment: [s.sandbox] }, versionsExist: { "agent.triage": true } });
    expect(findings.map((f) => [f.severity, f.code, f.address])).toEqual([
      ["error", "lock-entry-missing", "agent.billing"],
      ["error", "lock-spec-stale", "agent.triage"],
      ["warning", "lock-orphan", "environment.sandbox"],
    ]);
    for (const f of findings) expect(f.hint.length).toBeGreaterThan(10);
  });

  it("reports a locked resource that lost this project's marker or its name", () => {
    const s = setup();
    const foreign = liveAgent("agent_1", "triage-renamed", 3, { metadata: { "agentform.project": "someone-else" } } as Partial<LiveAgent>);
    const findings = verifyLock({ lock: s.lock, manifests: { ...emptyByKind(), agent: s.agents, environment: s.environments }, live: { ...emptyByKind(), agent: [foreign], environment: [s.sandbox] }, versionsExist: { "agent.triage": true } });
    expect(findings.filter((f) => f.severity === "error").map((f) => f.code)).toEqual(["lock-foreign-owner", "lock-name-mismatch"]);
  });
});
