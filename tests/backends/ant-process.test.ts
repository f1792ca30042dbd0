/**
 * The pure part of running ant: escaping a body so ant sends it verbatim. Plain data; the binary
 * itself is exercised in ant.test.ts.
 */
import { describe, expect, it } from "vitest";
import { antBody, antFlagValue, runAnt } from "../../src/backends/ant-process.js";
import { AgentformError } from "../../src/errors.js";

const RESERVED = ["id", "anthropic-beta", "agent_id"];

describe("antBody", () => {
  it("escapes every string value starting with @, at any depth, and nothing else", () => {
    const body = { name: "@n", system: "plain @ inside", tools: [{ description: "@t", n: 1 }], metadata: { "@key": "@v", k: "" }, flag: true, none: null };
    expect(antBody(body, RESERVED, "op")).toEqual({ name: "\\@n", system: "plain @ inside", tools: [{ description: "\\@t", n: 1 }], metadata: { "@key": "\\@v", k: "" }, flag: true, none: null });
    // The caller's body is left as it was.
    expect(body.name).toBe("@n");
  });

  it("refuses a value starting with \\@ (ant cannot send it) and keys ant takes as parameters, naming where", () => {
    const refused = (body: Record<string, unknown>) => {
      try {
        antBody(body, RESERVED, "create agent \"x\"");
      } catch (err) {
        expect(err).toBeInstanceOf(AgentformError);
        return err as AgentformError;
      }
      throw new Error("expected a refusal");
    };
    const nested = refused({ tools: [{ description: "\\@x" }] });
    expect([nested.code, nested.exitCode]).toEqual(["ant-value-unsendable", 3]);
    expect(nested.message).toContain("/tools/0/description");
    expect(refused({ agent_id: "agent_x" }).message).toContain('"agent_id"');
    expect(refused({ id: "agent_x" }).message).toContain('"id"');
    expect(antFlagValue("@cursor", "op")).toBe("\\@cursor");
  });
});

describe("runAnt", () => {
  it("refuses a NUL character on ant's command line before starting anything, as an unsendable value", async () => {
    let relayStarted = false;
    const settings = {
      antPath: "/nonexistent/ant",
      relay: () => {
        relayStarted = true;
        throw new Error("no relay expected");
      },
      workspaceId: "wrkspc_\u0000x",
      timeoutMs: 1_000,
      maxResponseBytes: 1_000,
      env: {},
    };
    const err = await runAnt(settings, { operation: "list agents", args: ["beta:agents", "list"], format: "raw" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentformError);
    expect([(err as AgentformError).code, (err as AgentformError).exitCode]).toEqual(["ant-value-unsendable", 3]);
    expect((err as AgentformError).message).toMatch(/NUL/);
    expect(relayStarted).toBe(false);
  });
});
