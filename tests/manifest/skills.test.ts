/**
 * Skills through loadProject over real temporary project folders: each `skills/<name>/` is one
 * manifest (SKILL.md's frontmatter) whose every file is read with its sha256; the rules'
 * diagnostics point at file:line:col in SKILL.md or at the file concerned; links out of the
 * folder are refused, and reading stops at the upload limits.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, symlink, truncate } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { tempProjects } from "../helpers/temp-project.js";
import { SKILL_LIMITS } from "../../src/kinds/skill/files.js";
import { MAX_FOLDER_ENTRIES, readManifestFolder } from "../../src/manifest/folder.js";
import { loadConfig, loadProject, readSchema } from "../../src/manifest/index.js";
import type { Diagnostic, LoadResult } from "../../src/manifest/types.js";
import { serializeSchema } from "../../scripts/gen-schemas.js";
import { buildPlan } from "../../src/plan/index.js";
import { liveSkill, lockfile, planInput } from "../plan/helpers.js";

const project = tempProjects("skills");

async function load(dir: string, paths?: string[]): Promise<LoadResult> {
  return loadProject(await loadConfig({ cwd: dir }), paths ? { paths } : {});
}

const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const skillMd = (name: string, description = "Fill and merge PDF forms.", extra = "") => `---\nname: ${name}\ndescription: ${description}\n${extra}---\n\n# ${name}\n\nRun scripts/fill.py.\n`;
const brief = (d: Diagnostic) => `${d.file}:${d.line}:${d.column} ${d.code}${d.severity === "warning" ? " (warning)" : ""}`;

describe("a valid skill folder", () => {
  it("loads as one manifest named after its folder, with every file's digest and bytes", async () => {
    const md = skillMd("pdf-tools", "Fill and merge PDF forms.", "license: MIT\nallowed-tools: [bash]\n");
    const binary = Buffer.from([0, 1, 2, 255, 13, 10]);
    const dir = await project({
      "skills/pdf-tools/SKILL.md": md,
      "skills/pdf-tools/scripts/fill.py": "print('fill')\n",
      "skills/pdf-tools/.env.example": "MODE=fast\n",
      "skills/pdf-tools/assets/logo.bin": binary,
    });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    const [m, ...rest] = result.manifests.skill;
    expect(rest).toEqual([]);
    expect(m!.name).toBe("pdf-tools");
    expect(m!.file).toBe("skills/pdf-tools/SKILL.md");
    // Hidden files count: they would be uploaded.
    expect(m!.spec).toEqual({
      name: "pdf-tools",
      description: "Fill and merge PDF forms.",
      files: { ".env.example": sha("MODE=fast\n"), "SKILL.md": sha(md), "assets/logo.bin": sha(binary), "scripts/fill.py": sha("print('fill')\n") },
    });
    expect(m!.uploads!.map((u) => u.path)).toEqual([".env.example", "SKILL.md", "assets/logo.bin", "scripts/fill.py"]);
    for (const u of m!.uploads!) expect(u.sha256).toBe(sha(Buffer.from(u.bytes)));
    expect(Buffer.from(m!.uploads!.find((u) => u.path === "assets/logo.bin")!.bytes)).toEqual(binary);
    // Every file is an input of the plan: a changed script makes a saved plan stale.
    expect(result.sources.map((s) => s.file)).toEqual(["agentform.yaml", "skills/pdf-tools/.env.example", "skills/pdf-tools/SKILL.md", "skills/pdf-tools/assets/logo.bin", "skills/pdf-tools/scripts/fill.py"]);
  });

  it("reads the `agentform:` block of the frontmatter as settings, and positions point into SKILL.md", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools", "d", "agentform:\n  adopt: true\n") });
    const [m] = (await load(dir)).manifests.skill;
    expect(m!.settings.adopt).toBe(true);
    expect(m!.spec).not.toHaveProperty("agentform");
    expect(m!.locate("/description")).toEqual({ line: 3, column: 1 });
  });

  it("follows paths.skills in agentform.yaml", async () => {
    const dir = await project({ "agentform.yaml": "project: demo\npaths:\n  skills: bundles\n", "bundles/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/other/SKILL.md": skillMd("other") });
    const result = await load(dir);
    expect(result.manifests.skill.map((m) => m.file)).toEqual(["bundles/pdf-tools/SKILL.md"]);
    expect(result.config.paths.skills).toBe("bundles");
  });

  it("the hand-written schema compiles under ajv strict mode and is written like the others", () => {
    const schema = readSchema("skill");
    expect(() => new Ajv({ strict: true, allErrors: true, allowUnionTypes: true }).compile(schema)).not.toThrow();
    const committed = readFileSync(new URL("../../schemas/skill.schema.json", import.meta.url), "utf8");
    expect(serializeSchema(schema)).toBe(committed);
    expect(Object.keys(schema.properties as object).sort()).toEqual(["agentform", "description", "name"]);
    expect(schema.additionalProperties).toBe(true);
  });
});

describe("skill frontmatter diagnostics, at file:line:col in SKILL.md", () => {
  it.each([
    ["an invalid name", skillMd("PDF"), "skills/PDF/SKILL.md:2:1 AF-SKILL-NAME", "PDF"],
    ["a reserved word", skillMd("claude-pdf"), "skills/claude-pdf/SKILL.md:2:1 AF-SKILL-NAME", "claude-pdf"],
    ["a name that is not the folder's", skillMd("pdf"), "skills/pdf-tools/SKILL.md:2:1 AF-SKILL-NAME-MISMATCH", "pdf-tools"],
    ["a description with a tag", skillMd("pdf-tools", "Use <b>bold</b>"), "skills/pdf-tools/SKILL.md:3:1 AF-SKILL-DESCRIPTION", "pdf-tools"],
    ["a description over 1024 characters", skillMd("pdf-tools", "x".repeat(1025)), "skills/pdf-tools/SKILL.md:3:1 AF-SKILL-DESCRIPTION", "pdf-tools"],
  ])("%s", async (_what, md, expected, folder) => {
    const dir = await project({ [`skills/${folder}/SKILL.md`]: md });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual([expected]);
    expect(result.manifests.skill).toEqual([]);
  });

  it("a missing description is a schema error", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": "---\nname: pdf-tools\n---\nbody\n" });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => `${d.file}:${d.line} ${d.code.startsWith("AF-SCHEMA") ? "AF-SCHEMA" : d.code}`)).toEqual(["skills/pdf-tools/SKILL.md:2 AF-SCHEMA"]);
    expect(result.manifests.skill).toEqual([]);
  });

  it("SKILL.md without frontmatter is AF-MD-FRONTMATTER with a hint about skills", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": "# just markdown\n" });
    const [d] = (await load(dir)).diagnostics;
    expect(brief(d!)).toBe("skills/pdf-tools/SKILL.md:1:1 AF-MD-FRONTMATTER");
    expect(d!.hint).toContain("SKILL.md");
  });

  it("a secret in the SKILL.md body or in a script is reported where it is, and fails the skill", async () => {
    const token = ["gh", "p_", "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8aB3dE5gH7j"].join("");
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools") + `\ntoken ${token}\n`, "skills/pdf-tools/scripts/fill.py": `import os\nTOKEN = "${token}"\n` });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/SKILL.md:10:7 AF-SECRET", "skills/pdf-tools/scripts/fill.py:2:10 AF-SECRET"]);
    expect(JSON.stringify(result.diagnostics)).not.toContain(token);
    expect(result.diagnostics[0]!.path).toBe("");
    expect(result.manifests.skill).toEqual([]);
  });
});

describe("the skill folder", () => {
  it("a folder without SKILL.md is AF-SKILL-NO-MANIFEST; a lower-case skill.md is pointed out", async () => {
    const dir = await project({ "skills/a/notes.md": "x\n", "skills/b/skill.md": skillMd("b") });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/a/SKILL.md:1:1 AF-SKILL-NO-MANIFEST", "skills/b/SKILL.md:1:1 AF-SKILL-NO-MANIFEST"]);
    expect(result.diagnostics[1]!.hint).toContain("Rename skill.md to SKILL.md");
    expect(result.manifests.skill).toEqual([]);
  });

  it("a stray file directly in skills/ is a warning; README.md and hidden files are left alone", async () => {
    const dir = await project({ "skills/notes.txt": "x", "skills/README.md": "# skills\n", "skills/.gitkeep": "", "skills/pdf-tools/SKILL.md": skillMd("pdf-tools") });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/notes.txt:1:1 AF-SKILL-STRAY (warning)"]);
    expect(result.manifests.skill.map((m) => m.name)).toEqual(["pdf-tools"]);
  });

  it("CRLF text files are a warning at the first CRLF; the skill still loads", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/pdf-tools/ref/guide.md": "# Guide\r\nline\r\n" });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/ref/guide.md:1:8 AF-SKILL-CRLF (warning)"]);
    expect(result.diagnostics[0]!.hint).toContain("skills/** text=auto eol=lf");
    expect(result.manifests.skill).toHaveLength(1);
  });

  it("a CRLF SKILL.md still parses (positions included), with the warning", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf").replace(/\n/g, "\r\n") });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/SKILL.md:1:4 AF-SKILL-CRLF (warning)", "skills/pdf-tools/SKILL.md:2:1 AF-SKILL-NAME-MISMATCH"]);
  });

  it("a symbolic link out of the skill folder is refused (even inside the project), and fails the skill", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "shared/key.txt": "k" });
    await symlink(path.join(dir, "shared/key.txt"), path.join(dir, "skills/pdf-tools/key.txt"));
    await symlink("/etc", path.join(dir, "skills/pdf-tools/etc"));
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/etc:1:1 AF-SKILL-SYMLINK", "skills/pdf-tools/key.txt:1:1 AF-SKILL-SYMLINK"]);
    expect(result.manifests.skill).toEqual([]);
  });

  it("a link inside the folder is followed (uploaded under the link's path); a loop or a dangling link is refused", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/pdf-tools/lib/a.py": "a\n" });
    await symlink("lib/a.py", path.join(dir, "skills/pdf-tools/alias.py"));
    const ok = await load(dir);
    expect(ok.diagnostics).toEqual([]);
    expect(ok.manifests.skill[0]!.spec.files).toMatchObject({ "alias.py": sha("a\n"), "lib/a.py": sha("a\n") });
    await symlink("..", path.join(dir, "skills/pdf-tools/lib/up"));
    await symlink("missing.py", path.join(dir, "skills/pdf-tools/gone.py"));
    const bad = await load(dir);
    expect(bad.diagnostics.map(brief)).toEqual(["skills/pdf-tools/gone.py:1:1 AF-SKILL-SYMLINK", "skills/pdf-tools/lib/up:1:1 AF-SKILL-SYMLINK"]);
    expect(bad.diagnostics[1]!.message).toContain("loop");
  });

  it("a FIFO in the folder is refused (never opened, never skipped), and fails the skill", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools") });
    execFileSync("mkfifo", [path.join(dir, "skills/pdf-tools/pipe")]);
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/pipe:1:1 AF-FILE-NOT-REGULAR"]);
    expect(result.manifests.skill).toEqual([]);
  });

  it("a skill folder linked from inside the project is followed; one linked from outside is refused", async () => {
    const outside = await project({ "pdf-tools/SKILL.md": skillMd("pdf-tools") });
    const dir = await project({ "vendor/docs/SKILL.md": skillMd("docs") });
    await mkdir(path.join(dir, "skills"));
    await symlink(path.join(dir, "vendor/docs"), path.join(dir, "skills/docs"));
    await symlink(path.join(outside, "pdf-tools"), path.join(dir, "skills/pdf-tools"));
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools:1:1 AF-PATH-OUTSIDE"]);
    expect(result.manifests.skill.map((m) => m.file)).toEqual(["skills/docs/SKILL.md"]);
  });
});

describe("reading stops at the upload limits", () => {
  it(`more than ${SKILL_LIMITS.files} files: reported at SKILL.md, reading stops at the limit`, async () => {
    const files: Record<string, string> = { "skills/many/SKILL.md": skillMd("many") };
    for (let i = 0; i < SKILL_LIMITS.files + 5; i++) files[`skills/many/data/f${String(i).padStart(3, "0")}.txt`] = "x";
    const dir = await project(files);
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/many/SKILL.md:1:1 AF-SKILL-LIMIT"]);
    expect(result.diagnostics[0]!.message).toContain("reading stopped at data/f199.txt");
    expect(result.manifests.skill).toEqual([]);
    const read = readManifestFolder(path.join(dir, "skills/many"), dir, "SKILL.md");
    expect(read.stopped).toBe(true);
    expect(read.files).toHaveLength(SKILL_LIMITS.files);
    // SKILL.md is read first, so the limit never hides the manifest.
    expect(read.files.map((f) => f.path)).toContain("SKILL.md");
  });

  it("more than 10 MiB: a huge (sparse) file is reported by its size and never read", async () => {
    const dir = await project({ "skills/big/SKILL.md": skillMd("big"), "skills/big/a.txt": "small\n", "skills/big/z.bin": "" });
    // 64 GiB: reading it would exhaust memory long before the test times out.
    await truncate(path.join(dir, "skills/big/z.bin"), 64 * 1024 ** 3);
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/big/SKILL.md:1:1 AF-SKILL-LIMIT"]);
    expect(result.diagnostics[0]!.message).toContain("reading stopped at z.bin");
    const read = readManifestFolder(path.join(dir, "skills/big"), dir, "SKILL.md");
    expect(read.files.map((f) => f.path)).toEqual(["SKILL.md", "a.txt"]);
  });

  it("files just under 10 MiB in all load", async () => {
    const md = skillMd("fits");
    const dir = await project({ "skills/fits/SKILL.md": md, "skills/fits/data.bin": Buffer.alloc(SKILL_LIMITS.totalBytes - Buffer.byteLength(md)) });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.skill).toHaveLength(1);
  });

  it(`more than ${MAX_FOLDER_ENTRIES} files and folders (empty folders too) stop the walk`, async () => {
    const dir = await project({ "skills/deep/SKILL.md": skillMd("deep") });
    await Promise.all(Array.from({ length: MAX_FOLDER_ENTRIES + 1 }, (_, i) => mkdir(path.join(dir, `skills/deep/d${i}`))));
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/deep/SKILL.md:1:1 AF-SKILL-LIMIT"]);
  });
});

describe("validating selected paths", () => {
  it("a skill folder, or a file in it, selects that skill and its files' diagnostics only", async () => {
    const dir = await project({ "skills/a/SKILL.md": skillMd("a"), "skills/a/x.txt": "1\r\n", "skills/b/SKILL.md": skillMd("wrong") });
    for (const given of ["skills/a", "skills/a/x.txt"]) {
      const result = await load(dir, [given]);
      expect(result.diagnostics.map(brief), given).toEqual(["skills/a/x.txt:1:2 AF-SKILL-CRLF (warning)"]);
      expect(result.manifests.skill.map((m) => m.name), given).toEqual(["a"]);
    }
    const all = await load(dir, ["skills"]);
    expect(all.diagnostics.map(brief)).toEqual(["skills/a/x.txt:1:2 AF-SKILL-CRLF (warning)", "skills/b/SKILL.md:2:1 AF-SKILL-NAME-MISMATCH"]);
  });
});

describe("every file of a skill is scanned for secrets, whatever its encoding", () => {
  // Built from parts, so this file itself holds no key.
  const key = ["sk-ant-", "api03-", "Xy7Kp2Lm9Qr4St6Uv8Wx0Yz1Ab3Cd5Ef7Gh9Ij2Kl4Mn6Op8Qr0St2Uv4Wx6Yz8Ab1Cd3Ef5Gh7Ij9Kl1Mn3Op5Qr7St9Uv1Wx3Yz5AbAA"].join("");

  it("a Latin-1 file and a UTF-16 (BOM) PowerShell script are scanned; the key is never printed", async () => {
    const latin1 = Buffer.concat([Buffer.from("# caf"), Buffer.from([0xe9]), Buffer.from(` config\nANTHROPIC_API_KEY=${key}\n`)]);
    // What PowerShell's `>` writes: a UTF-16 LE byte-order mark, then UTF-16 LE with CRLF.
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`# setup\r\n$env:ANTHROPIC_API_KEY = "${key}"\r\n`, "utf16le")]);
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/pdf-tools/config.txt": latin1, "skills/pdf-tools/setup.ps1": utf16 });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/config.txt:2:19 AF-SECRET", "skills/pdf-tools/setup.ps1:2:27 AF-SECRET"]);
    expect(JSON.stringify(result.diagnostics)).not.toContain(key.slice(0, 12));
    expect(result.diagnostics[0]!.message).toContain("(sk-ant…)");
    expect(result.manifests.skill).toEqual([]);
  });

  it("UTF-16 BE with a BOM, binary files, and a SKILL.md that is not UTF-8 are scanned too", async () => {
    const utf16be = Buffer.from(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`KEY=${key}\n`, "utf16le").swap16()]));
    const binary = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff]), Buffer.from(key), Buffer.from([0, 0xfe])]);
    const md = Buffer.concat([Buffer.from(skillMd("pdf-tools")), Buffer.from([0xe9]), Buffer.from(`\n${key}\n`)]);
    const dir = await project({ "skills/pdf-tools/SKILL.md": md, "skills/pdf-tools/be.txt": utf16be, "skills/pdf-tools/logo.png": binary });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/SKILL.md:9:1 AF-FILE-ENCODING", "skills/pdf-tools/SKILL.md:10:1 AF-SECRET", "skills/pdf-tools/be.txt:1:5 AF-SECRET", "skills/pdf-tools/logo.png:1:8 AF-SECRET"]);
    expect(JSON.stringify(result.diagnostics)).not.toContain(key.slice(0, 12));
  });

  it("binary files without secrets (10 MiB of them) load, as before", async () => {
    const md = skillMd("fits");
    const noise = Buffer.alloc(SKILL_LIMITS.totalBytes - Buffer.byteLength(md));
    for (let i = 0, x = 7; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const dir = await project({ "skills/fits/SKILL.md": md, "skills/fits/data.bin": noise });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.skill).toHaveLength(1);
  });
});

describe("what a skill cannot do is refused at validate, not at apply", () => {
  it("previous_names: AF-RENAME-UNSUPPORTED at SKILL.md (skills cannot be renamed)", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools", "d", "agentform:\n  previous_names: [pdf-old]\n") });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual(["skills/pdf-tools/SKILL.md:5:3 AF-RENAME-UNSUPPORTED"]);
    expect(result.diagnostics[0]).toMatchObject({ path: "agentform.previous_names", message: "skills cannot be renamed in place" });
    expect(result.diagnostics[0]!.hint).toBe("Remove previous_names; to rename a skill, create it under the new name and remove the old one (prune deletes it once nothing uses it).");
    expect(result.manifests.skill).toEqual([]);
  });

  it("a bidirectional character in a file name is AF-SKILL-PATH", async () => {
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/pdf-tools/\u202etxt.exe": "x\n", "skills/pdf-tools/b\u2066.md": "y\n" });
    const result = await load(dir);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["AF-SKILL-PATH", "AF-SKILL-PATH"]);
    expect(result.manifests.skill).toEqual([]);
  });

  it("file names that differ only by case or Unicode normalisation are AF-SKILL-PATH-COLLISION", async () => {
    const nfc = "caf\u00e9.txt";
    const nfd = "cafe\u0301.txt";
    const dir = await project({ "skills/pdf-tools/SKILL.md": skillMd("pdf-tools"), "skills/pdf-tools/README.md": "a\n", "skills/pdf-tools/Readme.md": "b\n", [`skills/pdf-tools/${nfc}`]: "c\n", [`skills/pdf-tools/${nfd}`]: "d\n" });
    const result = await load(dir);
    expect(result.diagnostics.map(brief)).toEqual([`skills/pdf-tools/Readme.md:1:1 AF-SKILL-PATH-COLLISION`, `skills/pdf-tools/${nfc}:1:1 AF-SKILL-PATH-COLLISION`]);
    expect(result.diagnostics[0]!.message).toContain('"README.md" and "Readme.md"');
    expect(result.diagnostics[1]!.message).toContain(`${JSON.stringify(nfd)} and ${JSON.stringify(nfc)}`);
    expect(result.manifests.skill).toEqual([]);
  });
});

describe("files named like Object.prototype members", () => {
  it("`__proto__` and `constructor` at the folder's root are loaded, planned and reviewed like any file", async () => {
    const md = skillMd("pdf-tools");
    const dir = await project({ "skills/pdf-tools/SKILL.md": md, "skills/pdf-tools/__proto__": "p\n", "skills/pdf-tools/constructor": "c\n" });
    const result = await load(dir);
    expect(result.diagnostics).toEqual([]);
    const [m] = result.manifests.skill;
    const files = m!.spec.files as Record<string, string>;
    expect(Object.keys(files)).toEqual(["SKILL.md", "__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(files, "__proto__")?.value).toBe(sha("p\n"));
    const plan = buildPlan(planInput({ skills: [m!] }));
    const [entry] = plan.resources;
    expect(entry!.action).toBe("create");
    expect((entry!.request!.body as { files: Array<{ path: string }> }).files.map((f) => f.path)).toEqual(["pdf-tools/SKILL.md", "pdf-tools/__proto__", "pdf-tools/constructor"]);
    expect(entry!.security[0]!.message).toContain("added SKILL.md, __proto__, constructor");
    // Against a live skill that has only SKILL.md: the two files are additions, nothing else changes.
    const live = liveSkill({ name: "pdf-tools", files: { "SKILL.md": sha(md) } });
    const lock = lockfile({ skills: { "pdf-tools": { id: live.id, version: live.latest_version_id, files: { "SKILL.md": sha(md) } } } as never });
    const [update] = buildPlan(planInput({ skills: [m!], liveSkills: [live], lock })).resources;
    expect(update!.action).toBe("update");
    expect(update!.changes.map((c) => `${c.op} ${c.pointer}`)).toEqual(["add /files/__proto__", "add /files/constructor"]);
  });
});
