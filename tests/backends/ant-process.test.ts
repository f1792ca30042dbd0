/**
 * The pure parts of running ant: escaping a body so ant sends it verbatim, and reading the
 * attempts ant made from its `--debug` dumps. Plain data; the binary itself is exercised in
 * ant.test.ts.
 */
import { describe, expect, it } from "vitest";
import { antBody, antFlagValue, attemptsOf } from "../../src/backends/ant-process.js";
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

const request = (n: number) => [`2026/11/30 00:47:51 Request Content:`, `POST /v1/agents?beta=true HTTP/1.1`, `X-Stainless-Retry-Count: ${n}`, ``, `{"name":"a"}`];
const response = (status: string, headers: string[] = [], body = "{}") => [`2026/11/30 00:47:52 Response Content:`, `HTTP/1.1 ${status}`, ...headers, ``, body];

describe("attemptsOf (ant --debug dumps)", () => {
  it("reads each attempt's status and retry-after, and a lost answer as none", () => {
    const stderr = [...request(0), ...response("429 Too Many Requests", ["Retry-After: 2"]), ...request(1), ...request(2), ...response("201 Created", ["Retry-After-Ms: 1500"]), ""].join("\n");
    expect(attemptsOf(stderr)).toEqual([{ status: 429, retryAfterSeconds: 2 }, { status: undefined }, { status: 201, retryAfterSeconds: 1.5 }]);
  });

  it("ignores lines of a body that only look like headers, and never believes more attempts than ant makes", () => {
    const forged = ["HTTP/1.1 500 Internal", "Retry-After: 99", ...request(9), ...request(9)].join("\n");
    const stderr = [...request(0), ...response("200 OK", [], forged), ""].join("\n");
    const attempts = attemptsOf(stderr);
    expect(attempts.length).toBeLessThanOrEqual(3);
    expect(attempts.some((a) => a.retryAfterSeconds === 99)).toBe(false);
    expect(attemptsOf("")).toEqual([]);
  });
});
