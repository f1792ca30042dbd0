/**
 * contentFiles (what `agentform import` writes into skills/<name>/) over zips made with fflate:
 * a zip whose entries a folder on disk cannot hold is refused before anything is written: a path
 * that is both a file and a folder (`s/x` and `s/x/y`), and a name segment longer than the 255
 * bytes file systems take (counted in bytes, not characters). Zips a folder can hold still pass.
 */
import { strToU8, zipSync, type Zippable } from "fflate";
import { describe, expect, it } from "vitest";
import { BackendError } from "../../src/backends/errors.js";
import { contentFiles } from "../../src/backends/skill-content.js";

const OP = "read the files of skill skill_x version skver_x";
const SKILL_MD = strToU8("---\nname: s\ndescription: A skill.\n---\nBody.\n");

function zipOf(entries: Record<string, string | Uint8Array>): Uint8Array {
  const z: Zippable = {};
  for (const [name, data] of Object.entries(entries)) z[name] = typeof data === "string" ? strToU8(data) : data;
  return zipSync(z);
}

function refusal(zip: Uint8Array): BackendError {
  try {
    contentFiles(zip, OP);
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError);
    const e = err as BackendError;
    expect(e.code).toBe("response-invalid");
    expect(e.message).toContain(OP);
    return e;
  }
  throw new Error("expected the content to be refused");
}

describe("contentFiles refuses what a folder cannot hold", () => {
  it("a path that is both a file and a folder (s/x and s/x/y), in either order", () => {
    const e = refusal(zipOf({ "s/SKILL.md": SKILL_MD, "s/x": "file\n", "s/x/y": "inside\n" }));
    expect(e.message).toMatch(/both as a file and as a folder/);
    expect(e.message).toContain("x");
    const reversed = refusal(zipOf({ "s/x/y": "inside\n", "s/SKILL.md": SKILL_MD, "s/x": "file\n" }));
    expect(reversed.message).toMatch(/both as a file and as a folder/);
    // Deeper: a file that is the folder of a file two levels down.
    expect(refusal(zipOf({ "s/SKILL.md": SKILL_MD, "s/a/b": "file\n", "s/a/b/c/d.txt": "deep\n" })).message).toMatch(/both as a file and as a folder/);
  });

  it("a name segment longer than 255 bytes, counted in bytes", () => {
    const ascii = refusal(zipOf({ "s/SKILL.md": SKILL_MD, [`s/${"a".repeat(256)}.md`]: "long\n" }));
    expect(ascii.message).toMatch(/longer than 255 bytes/);
    // 128 characters, 256 bytes in UTF-8.
    const accented = refusal(zipOf({ "s/SKILL.md": SKILL_MD, [`s/${"é".repeat(128)}`]: "long\n" }));
    expect(accented.message).toMatch(/longer than 255 bytes/);
    // A long folder name counts too, not only the file's.
    const folder = refusal(zipOf({ "s/SKILL.md": SKILL_MD, [`s/${"d".repeat(300)}/x.txt`]: "long\n" }));
    expect(folder.message).toMatch(/longer than 255 bytes/);
  });

  it("keeps zips a folder can hold: nested files, names of exactly 255 bytes", () => {
    const files = contentFiles(zipOf({ "s/SKILL.md": SKILL_MD, "s/x/y": "inside\n", "s/x/z/w.txt": "deeper\n", "s/xy": "sibling\n", [`s/${"a".repeat(255)}`]: "max\n", [`s/${"é".repeat(127)}a`]: "max\n" }), OP);
    expect(Object.keys(files).sort()).toEqual(["SKILL.md", "a".repeat(255), "x/y", "x/z/w.txt", "xy", `${"é".repeat(127)}a`].sort());
    expect(new TextDecoder().decode(files["x/y"])).toBe("inside\n");
  });
});
