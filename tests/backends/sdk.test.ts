import { describe, expect, it } from "vitest";
import { createSdkBackend } from "../../src/backends/sdk.js";
import { BackendError } from "../../src/backends/errors.js";
import { defineBackendContract } from "./contract.js";

defineBackendContract("sdk", (cp) => createSdkBackend({ baseUrl: cp.baseUrl, apiKey: cp.apiKey }, { timeoutMs: 10_000 }));

describe("sdk backend specifics", () => {
  it("a refused connection is an ambiguous BackendError that names the operation and not the key", async () => {
    const key = "sk-ant-api03-verysecretvalue0123456789";
    const backend = createSdkBackend({ baseUrl: "http://127.0.0.1:9", apiKey: key }, { timeoutMs: 2_000 });
    const err = (await backend.list("agent").catch((e: unknown) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.isAmbiguous).toBe(true);
    expect(err.message).toMatch(/^list agents failed \(no response\)/);
    expect(err.message + (err.hint ?? "")).not.toContain(key);
  });
});
