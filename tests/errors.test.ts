/** Errors redact anything shaped like a credential, whatever module raised them. */
import { describe, expect, it } from "vitest";
import { ConfigError, redactSecrets } from "../src/errors.js";

// Assembled at runtime: no credential-shaped literal in the repository.
const fake = (prefix: string, body: string) => prefix + body;
const SAMPLES: Array<[string, string]> = [
  ["Anthropic", fake("sk-ant-", "api03-" + "a1B2".repeat(8))],
  ["OpenAI project", fake("sk-proj-", "Zx9".repeat(10))],
  ["Stripe live", fake("sk_live_", "51Hx".repeat(6))],
  ["npm", fake("npm_", "a1b2c3".repeat(6))],
  ["GitLab", fake("glpat-", "Xy7-".repeat(6))],
  ["Google", fake("AIza", "Sy" + "b3C4".repeat(8) + "d5e")],
  ["JWT", fake("eyJ", "hbGciOiJIUzI1NiJ9") + "." + fake("eyJ", "zdWIiOiIxMjM0In0") + ".c2lnbmF0dXJl"],
  ["GitHub", fake("ghp_", "Ab12".repeat(9))],
  ["AWS key id", fake("AKIA", "ABCDEFGH23456789")],
];

describe("redactSecrets", () => {
  it.each(SAMPLES)("removes a %s credential from messages and hints", (_what, secret) => {
    const error = new ConfigError("x", `bad value ${secret} in agents/a.yaml`, { hint: `remove ${secret}` });
    expect(error.message).not.toContain(secret);
    expect(error.hint).not.toContain(secret);
    expect(error.message).toContain("[REDACTED]");
    expect(error.message).toContain("agents/a.yaml");
  });

  it("drops the password of a URL but keeps the URL readable", () => {
    const password = fake("hunter", "2-" + "q".repeat(10));
    expect(redactSecrets(`cannot reach https://deploy:${password}@gateway.example.com/v1`)).toBe("cannot reach https://deploy:[REDACTED]@gateway.example.com/v1");
  });

  it("leaves ordinary text alone", () => {
    const text = "agent.triage: the lockfile records version 3 (sha256:abc) at https://api.anthropic.com/v1/agents";
    expect(redactSecrets(text)).toBe(text);
  });
});
