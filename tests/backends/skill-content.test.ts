/**
 * skill-content.ts over real zips made with fflate, friendly and hostile: bombs (also ones whose
 * headers understate their size), too many entries, path traversal, duplicate and mismatched
 * entries, non-zip bytes; and the upload side's digest check.
 */
import { createHash } from "node:crypto";
import { strToU8, zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { BackendError } from "../../src/backends/errors.js";
import { contentDigests, uploadDigests } from "../../src/backends/skill-content.js";
import { skillPathProblem } from "../../src/kinds/skill/files.js";

const OP = "read the files of skill skill_x version skver_x";
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Incompressible bytes, so an entry spans many of the unzipper's steps. */
function noise(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function refusal(zip: Uint8Array, limits?: { maxEntries: number; maxTotalBytes: number }): BackendError {
  try {
    contentDigests(zip, OP, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError);
    const e = err as BackendError;
    expect(e.code).toBe("response-invalid");
    expect(e.isRetryable).toBe(false);
    expect(e.message).toContain(OP);
    return e;
  }
  throw new Error("expected the content to be refused");
}

/** Byte offsets of every local (PK\3\4) and central (PK\1\2) header. */
function headers(zip: Uint8Array): { local: number[]; central: number[] } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const local: number[] = [];
  const central: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) local.push(i);
    if (sig === 0x02014b50) central.push(i);
  }
  return { local, central };
}

/** Overwrite the declared uncompressed size of every entry, in both headers. */
function claimSize(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const { local, central } = headers(out);
  for (const at of local) view.setUint32(at + 22, size, true);
  for (const at of central) view.setUint32(at + 24, size, true);
  return out;
}

/** Replace one entry name by another of the same length, in the local headers, the central ones, or both. */
function rename(zip: Uint8Array, from: string, to: string, where: "local" | "central" | "both"): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const { local, central } = headers(out);
  const spots = [...(where !== "central" ? local.map((at) => [at, 26, 30] as const) : []), ...(where !== "local" ? central.map((at) => [at, 28, 46] as const) : [])];
  for (const [at, lengthAt, nameAt] of spots) {
    const start = at + nameAt;
    const name = new TextDecoder().decode(out.subarray(start, start + view.getUint16(at + lengthAt, true)));
    if (name === from) out.set(new TextEncoder().encode(to), start);
  }
  return out;
}

const file = (path: string, text: string) => ({ path, sha256: sha(strToU8(text)), bytes: strToU8(text) });

function refused(files: unknown): AgentformError {
  try {
    uploadDigests(files, 'create skill "s"');
  } catch (err) {
    expect(err).toBeInstanceOf(AgentformError);
    expect(err).not.toBeInstanceOf(BackendError);
    expect((err as AgentformError).code).toBe("upload-invalid");
    expect((err as AgentformError).exitCode).toBe(3);
    expect((err as AgentformError).message).toMatch(/^create skill "s": .*; nothing was sent$/);
    return err as AgentformError;
  }
  throw new Error("expected the upload to be refused");
}

describe("contentDigests", () => {
  it("gives each file's sha256 by its path inside the top-level folder; folder entries are skipped", () => {
    const big = noise(300_000);
    const files = { "SKILL.md": strToU8("---\nname: s\n---\n"), "scripts/run.py": strToU8("print(1)\n"), "assets/big.bin": big, "empty.txt": new Uint8Array(0) };
    // Nested objects make folder entries too: "s/", "s/scripts/", "s/assets/".
    const zip = zipSync({ s: { "SKILL.md": files["SKILL.md"], scripts: { "run.py": files["scripts/run.py"] }, assets: { "big.bin": big }, "empty.txt": files["empty.txt"] } }, { level: 6 });
    expect(headers(zip).central.length).toBe(7);
    const digests = contentDigests(zip, OP);
    expect(digests).toEqual(Object.fromEntries(Object.entries(files).map(([p, b]) => [p, sha(b)])));
    // Stored (level 0) entries read the same.
    const flat = Object.fromEntries(Object.entries(files).map(([p, b]) => [`s/${p}`, b]));
    expect(contentDigests(zipSync(flat, { level: 0 }), OP)).toEqual(digests);
  });

  it("stops a zip bomb by the bytes it actually unpacks", () => {
    // 64 MiB of zeros packs into about 64 KiB.
    const bomb = zipSync({ s: { "SKILL.md": strToU8("x"), "bomb.bin": new Uint8Array(64 * 1024 * 1024) } }, { level: 9 });
    expect(bomb.length).toBeLessThan(200_000);
    expect(refusal(bomb).message).toMatch(/unpacks to more than 10485760 bytes/);
  });

  it("never trusts the sizes in the headers: a bomb that claims to be small is stopped, and a false size changes no digest", () => {
    const bomb = claimSize(zipSync({ s: { "a.bin": new Uint8Array(20 * 1024 * 1024) } }), 10);
    expect(refusal(bomb).message).toMatch(/unpacks to more than/);
    const content = noise(50_000);
    for (const claimed of [1, 0xfffffff0]) {
      expect(contentDigests(claimSize(zipSync({ s: { "a.bin": content } }), claimed), OP)).toEqual({ "a.bin": sha(content) });
    }
  });

  it("counts every entry's bytes towards one total", () => {
    const many: Zippable = { s: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}.bin`, new Uint8Array(200 * 1024)])) };
    expect(refusal(zipSync(many)).message).toMatch(/unpacks to more than/);
    expect(Object.keys(contentDigests(zipSync(many), OP, { maxEntries: 200, maxTotalBytes: 60 * 200 * 1024 }))).toHaveLength(60);
  });

  it("refuses more than 200 entries, folders included", () => {
    // Flat names, as the local control plane zips them: no folder entries.
    const files = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`s/f${i}.txt`, strToU8(String(i))]));
    expect(Object.keys(contentDigests(zipSync(files), OP))).toHaveLength(200);
    expect(refusal(zipSync({ ...files, "s/one-more.txt": strToU8("x") })).message).toMatch(/more than 200 entries/);
    // Nested: the folder entry "s/" is the 201st.
    const nested = Object.fromEntries(Object.entries(files).map(([p, b]) => [p.slice(2), b]));
    expect(refusal(zipSync({ s: nested })).message).toMatch(/more than 200 entries/);
    expect(refusal(zipSync({ s: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`d${i}`, {}])) })).message).toMatch(/more than 200 entries/);
  });

  it.each([
    ["s/../../etc/passwd", /climbs out of its folder/],
    ["s/a/../../../x", /climbs out of its folder/],
    ["/etc/passwd", /absolute path/],
    ["C:/Windows/x", /absolute path/],
    ["s\\..\\evil", /backslash/],
    ["s/evil\u0000.txt", /control/],
    ["s/\u202etxt.exe", /bidirectional/],
    ["s//double", /empty or '\.' segment/],
    ["s/./here", /empty or '\.' segment/],
  ])("refuses the entry %j", (name, why) => {
    const zip = zipSync({ [name]: strToU8("x"), "s/SKILL.md": strToU8("ok") } as Zippable);
    expect(refusal(zip).message).toMatch(why);
  });

  it("refuses an entry listed twice, and local entries that differ from the central directory", () => {
    const zip = zipSync({ s: { "a.txt": strToU8("first"), "b.txt": strToU8("second") } });
    expect(refusal(rename(zip, "s/b.txt", "s/a.txt", "both")).message).toMatch(/"s\/a.txt" twice/);
    expect(refusal(rename(zip, "s/b.txt", "s/c.txt", "local")).message).toMatch(/does not list|no such readable entry/);
    expect(refusal(rename(zip, "s/b.txt", "s/c.txt", "central")).message).toMatch(/does not list|no such readable entry/);
  });

  it("refuses files outside one top-level folder", () => {
    expect(refusal(zipSync({ "SKILL.md": strToU8("x") })).message).toMatch(/outside a top-level folder/);
    expect(refusal(zipSync({ a: { "SKILL.md": strToU8("x") }, b: { "SKILL.md": strToU8("y") } })).message).toMatch(/more than one top-level folder/);
  });

  it("refuses bytes that are not a whole zip: nothing, JSON, HTML, noise, a cut-off zip, an empty zip", () => {
    const zip = zipSync({ s: { "a.bin": noise(20_000) } });
    const samples = [new Uint8Array(0), strToU8('{"type":"skill"}'), strToU8("<html>login</html>"), noise(100_000), zip.subarray(0, zip.length - 30), zip.subarray(0, 5_000)];
    for (const bytes of samples) expect(refusal(bytes).message).toMatch(/not a readable zip|no such readable entry|does not unpack/);
    expect(refusal(zipSync({})).message).toMatch(/holds no files/);
  });

  it("refuses an entry whose compressed data is corrupt", () => {
    const zip = zipSync({ s: { "a.txt": strToU8("hello hello hello hello hello hello") } }, { level: 9 });
    const dataAt = headers(zip).local[0]! + 30 + "s/a.txt".length;
    const broken = zip.slice();
    broken.fill(0xff, dataAt, dataAt + 4);
    expect(() => contentDigests(broken, OP)).toThrow(BackendError);
  });
});

describe("skillPathProblem (the rule validate applies too)", () => {
  it("accepts ordinary paths and folder entries", () => {
    for (const p of ["s/SKILL.md", "s/", "s/a/b/c.txt", "s/ünïcode name.md", "s/.hidden", "s/..dots", "s/__proto__"]) expect(skillPathProblem(p)).toBeUndefined();
  });

  it("refuses bidirectional characters in an upload, as in a download", () => {
    for (const c of ["\u202a", "\u202e", "\u2066", "\u2069"]) expect(refused([file(`s/x${c}.txt`, "a")]).message).toMatch(/bidirectional/);
  });
});

describe("files named like Object.prototype members", () => {
  const names = ["__proto__", "constructor", "hasOwnProperty", "toString"];

  it("are digested from a zip like any file", () => {
    const zip = zipSync(Object.fromEntries([["s/SKILL.md", strToU8("m")], ...names.map((n) => [`s/${n}`, strToU8(n)])]) as Zippable);
    const digests = contentDigests(zip, OP);
    expect(Object.keys(digests)).toEqual(["SKILL.md", ...names]);
    for (const n of names) expect(Object.getOwnPropertyDescriptor(digests, n)?.value).toBe(sha(strToU8(n)));
  });

  it("are uploaded, and their digests kept", () => {
    const { parts, digests } = uploadDigests([file("s/SKILL.md", "m"), ...names.map((n) => file(`s/${n}`, n))], "create skill");
    expect(parts.map((p) => p.path)).toEqual(["s/SKILL.md", ...names.map((n) => `s/${n}`)]);
    expect(Object.keys(digests)).toEqual(["SKILL.md", ...names]);
    expect(Object.getOwnPropertyDescriptor(digests, "__proto__")?.value).toBe(sha(strToU8("__proto__")));
  });
});

describe("uploadDigests", () => {

  it("keeps the parts' paths (with the folder) and gives the digests without it", () => {
    const { parts, digests } = uploadDigests([file("s/SKILL.md", "a"), file("s/x/y.txt", "b")], "create skill");
    expect(parts.map((p) => p.path)).toEqual(["s/SKILL.md", "s/x/y.txt"]);
    expect(digests).toEqual({ "SKILL.md": sha(strToU8("a")), "x/y.txt": sha(strToU8("b")) });
  });

  it("refuses bytes that do not match their sha256, and files without bytes", () => {
    expect(refused([{ ...file("s/SKILL.md", "a"), bytes: strToU8("b") }]).message).toMatch(/do not match its sha256/);
    expect(refused([{ path: "s/SKILL.md", sha256: sha(strToU8("a")) }]).message).toMatch(/has no bytes/);
  });

  it("refuses unsafe, duplicate, folder-less and missing paths, and an empty upload", () => {
    expect(refused([file("s/../x", "a")]).message).toMatch(/climbs out/);
    expect(refused([file("s/a", "a"), file("s/a", "a")]).message).toMatch(/listed twice/);
    expect(refused([file("SKILL.md", "a")]).message).toMatch(/outside a top-level folder/);
    expect(refused([file("a/SKILL.md", "a"), file("b/x", "b")]).message).toMatch(/more than one top-level folder/);
    expect(refused([file("s/", "a")]).message).toMatch(/is a folder/);
    expect(refused([{ sha256: "x", bytes: new Uint8Array() }]).message).toMatch(/has no path/);
    expect(refused([]).message).toMatch(/no files/);
    expect(refused(undefined).message).toMatch(/no files/);
  });
});
