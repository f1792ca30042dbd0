import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AGENTFORM_VERSION } from "../../src/version.js";

describe("version", () => {
  it("matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(AGENTFORM_VERSION).toBe(pkg.version);
  });
});
