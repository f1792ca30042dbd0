/**
 * The committed schemas: the SDK-derived ones must equal what scripts/gen-schemas.ts makes from
 * the installed SDK, and all four must compile under ajv's strict mode.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { createGenerator } from "ts-json-schema-generator";
import { describe, expect, it } from "vitest";
import { generateSchemas, serializeSchema } from "../../scripts/gen-schemas.js";
import { readSchema, schemaDiagnostics } from "../../src/manifest/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const committed = (file: string) => readFileSync(path.join(repo, "schemas", file), "utf8");

describe("schemas", () => {
  it("are up to date with the installed SDK", () => {
    const generated = generateSchemas();
    expect(Object.keys(generated).sort()).toEqual(["agent.schema.json", "deployment.schema.json", "environment.schema.json", "memory_store.schema.json", "vault.schema.json"]);
    for (const [file, content] of Object.entries(generated)) {
      expect(committed(file) === content, `schemas/${file} is stale; run npm run schemas`).toBe(true);
    }
  }, 30_000);

  it("derive from the SDK body params only, plus agentform's additions", () => {
    const agent = readSchema("agent") as { properties: Record<string, unknown>; required: string[]; definitions: Record<string, { anyOf?: Array<{ $ref?: string }> }>; $comment: string };
    expect(Object.keys(agent.properties).sort()).toEqual(["agentform", "description", "execution_identity", "mcp_servers", "metadata", "model", "multiagent", "name", "skills", "system", "tools"]);
    expect(agent.required).toEqual(["model", "name"]);
    expect(agent.$comment).toContain("@anthropic-ai/sdk 1.11.0 AgentCreateParams");
    for (const union of ["BetaManagedAgentsMultiagentRosterEntryParams", "BetaManagedAgentsMultiagentPredefinedAgentParams"]) {
      expect(agent.definitions[union]!.anyOf!.map((b) => b.$ref)).toContain("#/definitions/AgentformAgentRef");
    }
    expect(agent.definitions).not.toHaveProperty("AnthropicBeta");
    const environment = readSchema("environment") as { properties: Record<string, unknown> };
    expect(Object.keys(environment.properties).sort()).toEqual(["agentform", "config", "description", "metadata", "name", "scope"]);
  });

  it("are written deterministically (sorted keys, 2-space indent, trailing newline)", () => {
    for (const file of ["agent", "environment", "project", "lockfile"]) {
      const text = committed(`${file}.schema.json`);
      expect(serializeSchema(JSON.parse(text)), file).toBe(text);
    }
  });

  it("all compile under ajv strict mode", () => {
    const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
    for (const name of ["agent", "environment", "project", "lockfile"] as const) {
      expect(() => ajv.compile(readSchema(name)), name).not.toThrow();
    }
  });

  it("the project schema's targets match TargetConfig in src/manifest/types.ts", () => {
    const generator = createGenerator({ path: path.join(repo, "src/manifest/types.ts"), type: "TargetConfig", skipTypeCheck: true, topRef: false, expose: "none" });
    const fromTypes = Object.keys((generator.createSchema("TargetConfig") as { properties: Record<string, unknown> }).properties).sort();
    const project = readSchema("project") as { definitions: { Target: { properties: Record<string, unknown> } } };
    expect(Object.keys(project.definitions.Target.properties).sort()).toEqual(fromTypes);
  }, 30_000);

  it("the lockfile schema accepts the documented example and rejects a float version", () => {
    const lock = {
      lockfileVersion: 1.1,
      project: "support-bots",
      target: "default",
      origin: { baseUrl: "https://api.anthropic.com", workspaceId: null },
      agents: { triage: { id: "agent_011", version: 7, specDigest: `sha256:${"a".repeat(64)}`, liveDigest: `sha256:${"b".repeat(64)}` } },
      environments: { "python-sandbox": { id: "env_011", specDigest: `sha256:${"c".repeat(64)}`, liveDigest: `sha256:${"d".repeat(64)}` } },
    };
    const ctx = { file: "agentform.lock.json", locate: () => ({ line: 1, column: 1 }) };
    expect(schemaDiagnostics("lockfile", lock, ctx)).toEqual([]);
    const bad = { ...lock, agents: { triage: { ...lock.agents.triage, version: 7.5 } } };
    expect(schemaDiagnostics("lockfile", bad, ctx).map((d) => `${d.path} ${d.code}`)).toEqual(["agents.triage.version AF-SCHEMA-TYPE"]);
  });
});
