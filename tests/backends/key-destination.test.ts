/**
 * Where the API key may go (src/cli/key-destination.ts) and the limits read from the
 * environment (src/cli/target.ts): pure functions, tested with plain data.
 */
import { describe, expect, it } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { checkKeyDestination, parseAllowedHosts } from "../../src/cli/key-destination.js";
import { settingsFromEnv } from "../../src/cli/target.js";

const SOURCE = "targets.production.base_url in agentform.yaml";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AgentformError);
    expect((err as AgentformError).exitCode).toBe(4);
    expect((err as AgentformError).hint).toBeTruthy();
    return (err as AgentformError).code;
  }
}

const check = (url: string, allowed?: string) => codeOf(() => checkKeyDestination(url, SOURCE, allowed === undefined ? {} : { AGENTFORM_ALLOWED_HOSTS: allowed }));

describe("checkKeyDestination", () => {
  it("allows the official host over https and loopback over http or https", () => {
    for (const url of ["https://api.anthropic.com", "https://api.anthropic.com/", "http://127.0.0.1:8080", "http://127.1:9", "https://localhost:8443/x", "http://[::1]:3000"]) {
      expect(check(url), url).toBeUndefined();
    }
  });

  it("refuses any other host unless AGENTFORM_ALLOWED_HOSTS lists it", () => {
    expect(check("https://gateway.example.com")).toBe("base-url-not-allowed");
    expect(check("https://api.anthropic.com.evil.example")).toBe("base-url-not-allowed");
    expect(check("https://api.anthropic.com:8443")).toBe("base-url-not-allowed");
    expect(check("https://gateway.example.com/v1", "gateway.example.com")).toBeUndefined();
    expect(check("https://GATEWAY.example.com:8443", " other.example ,gateway.example.com")).toBeUndefined();
    expect(check("https://evil.gateway.example.com", "gateway.example.com")).toBe("base-url-not-allowed");
  });

  it("matches a port only when the entry names one", () => {
    expect(check("https://gateway.example.com:8443", "gateway.example.com:8443")).toBeUndefined();
    expect(check("https://gateway.example.com", "gateway.example.com:443")).toBeUndefined();
    expect(check("https://gateway.example.com:9443", "gateway.example.com:8443")).toBe("base-url-not-allowed");
    expect(check("https://[2001:db8::1]:8443", "[2001:db8::1]")).toBeUndefined();
  });

  it("refuses plain http to anything but loopback, even when listed", () => {
    expect(check("http://gateway.example.com", "gateway.example.com")).toBe("base-url-insecure");
    expect(check("http://api.anthropic.com")).toBe("base-url-insecure");
    expect(check("http://10.0.0.5:8080", "10.0.0.5")).toBe("base-url-insecure");
  });

  it("refuses URLs that are not plain http(s) base URLs, without echoing them", () => {
    const secretish = "https://user:hunter2secret@gateway.example.com";
    let message = "";
    try {
      checkKeyDestination(secretish, SOURCE, { AGENTFORM_ALLOWED_HOSTS: "gateway.example.com" });
    } catch (err) {
      message = (err as Error).message + ((err as AgentformError).hint ?? "");
      expect((err as AgentformError).code).toBe("base-url-invalid");
    }
    expect(message).toContain(SOURCE);
    expect(message).not.toContain("hunter2secret");
    expect(check("not a url")).toBe("base-url-invalid");
    expect(check("ftp://api.anthropic.com")).toBe("base-url-invalid");
    expect(check("https://api.anthropic.com/?key=1")).toBe("base-url-invalid");
  });

  it("refuses malformed AGENTFORM_ALLOWED_HOSTS entries instead of ignoring them", () => {
    for (const bad of ["https://gateway.example.com", "*.example.com", "gateway.example.com/v1", "user@gateway.example.com", "gateway.example.com:99999", "::1"]) {
      expect(codeOf(() => parseAllowedHosts(bad)), bad).toBe("allowed-hosts-invalid");
    }
    expect(parseAllowedHosts(" , ")).toEqual([]);
  });
});

describe("settingsFromEnv", () => {
  it("reads the response limits and retry attempts, leaving unset ones to their defaults", () => {
    expect(settingsFromEnv({})).toEqual({
      limits: { maxResponseBytes: undefined, bodyTimeoutMs: undefined, maxPages: undefined, maxListBytes: undefined },
      maxAttempts: undefined,
    });
    expect(
      settingsFromEnv({
        AGENTFORM_MAX_RESPONSE_BYTES: "2048",
        AGENTFORM_BODY_TIMEOUT_MS: "1500",
        AGENTFORM_MAX_PAGES: "7",
        AGENTFORM_MAX_LIST_BYTES: "65536",
        AGENTFORM_MAX_ATTEMPTS: "2",
      }),
    ).toEqual({ limits: { maxResponseBytes: 2048, bodyTimeoutMs: 1500, maxPages: 7, maxListBytes: 65536 }, maxAttempts: 2 });
  });

  it("refuses values that are not whole numbers in range (a timer past 2^31 ms would fire at once)", () => {
    for (const [name, value] of [
      ["AGENTFORM_MAX_RESPONSE_BYTES", "16MiB"],
      ["AGENTFORM_MAX_RESPONSE_BYTES", "0"],
      ["AGENTFORM_BODY_TIMEOUT_MS", "3000000000"],
      ["AGENTFORM_MAX_PAGES", "-1"],
      ["AGENTFORM_MAX_LIST_BYTES", "100"],
      ["AGENTFORM_MAX_ATTEMPTS", "1.5"],
      ["AGENTFORM_MAX_ATTEMPTS", "1000"],
    ] as const) {
      expect(codeOf(() => settingsFromEnv({ [name]: value })), `${name}=${value}`).toBe("env-setting-invalid");
    }
  });
});
