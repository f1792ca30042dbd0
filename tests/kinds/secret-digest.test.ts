/** The salted, slow secret digest kept in a credential's metadata (plain data, no API). */
import { describe, expect, it } from "vitest";
import { digestToStore, secretDigest, secretMatches, secretMatchesAsync } from "../../src/kinds/credential/secret-digest.js";

describe("secret digests", () => {
  const canary = "ghp_CANARY_0123456789abcdefghijklmnopqrstuv";

  it("never contains the secret and fits a metadata value", () => {
    const d = secretDigest(canary);
    expect(d).not.toContain(canary);
    expect(d).not.toContain(Buffer.from(canary).toString("base64url"));
    expect(d.length).toBeLessThanOrEqual(512);
    expect(d).toMatch(/^scrypt1\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
  });

  it("is salted: the same secret gives different digests, and equal secrets are not visible as equal", () => {
    expect(secretDigest(canary)).not.toBe(secretDigest(canary));
  });

  it("tells the same secret from another, and keeps the stored digest (same salt) while it is unchanged", () => {
    const stored = secretDigest(canary);
    expect(secretMatches(canary, stored)).toBe(true);
    expect(secretMatches(canary + "x", stored)).toBe(false);
    expect(digestToStore(canary, stored)).toBe(stored);
    const rotated = digestToStore("a-new-token", stored);
    expect(rotated).not.toBe(stored);
    expect(secretMatches("a-new-token", rotated)).toBe(true);
  });

  it("cannot check what is absent or malformed, and refuses digests that ask for too much work", () => {
    const stored = secretDigest(canary);
    const [prefix, , r, p, salt, hash] = stored.split("$");
    expect(secretMatches(canary, undefined)).toBeNull();
    expect(secretMatches(canary, "sha256:abc")).toBeNull();
    expect(secretMatches(canary, `${prefix}$1048576$${r}$${p}$${salt}$${hash}`)).toBeNull();
    // At most four times the work of the default: a larger N, r or p is not even tried.
    expect(secretMatches(canary, `${prefix}$131072$${r}$${p}$${salt}$${hash}`)).toBeNull();
    expect(secretMatches(canary, `${prefix}$32768$16$${p}$${salt}$${hash}`)).toBeNull();
    expect(secretMatches(canary, `${prefix}$32768$${r}$4$${salt}$${hash}`)).toBeNull();
    expect(secretMatches(canary, `${prefix}$65536$${r}$2$${salt}$${hash}`)).toBe(false);
    expect(secretMatches(canary, `${prefix}$1000$${r}$${p}$${salt}$${hash}`)).toBeNull();
    expect(secretMatches(canary, `${prefix}$32768$${r}$${p}$${salt}$short`)).toBeNull();
    expect(secretMatches(canary, `${prefix}$32768$${r}$${p}$${salt}$${hash}$extra`)).toBeNull();
    expect(digestToStore(canary, "garbage")).not.toBe("garbage");
  });

  it("checks off the main thread with the same answers, refusals included", async () => {
    const stored = secretDigest(canary);
    expect(await secretMatchesAsync(canary, stored)).toBe(true);
    expect(await secretMatchesAsync(canary + "x", stored)).toBe(false);
    expect(await secretMatchesAsync(canary, undefined)).toBeNull();
    const [prefix, , r, p, salt, hash] = stored.split("$");
    expect(await secretMatchesAsync(canary, `${prefix}$131072$${r}$${p}$${salt}$${hash}`)).toBeNull();
  });
});
