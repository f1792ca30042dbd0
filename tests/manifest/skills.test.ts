/**
 * Skills through loadProject over real temporary project folders: each `skills/<name>/` is one
 * manifest (SKILL.md's frontmatter) whose every file is read with its sha256; the rules'
 * diagnostics point at file:line:col in SKILL.md or at the file concerned; links out of the
 * folder are refused, and reading stops at the upload limits.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { SKILL_LIMITS } from "../../src/kinds/skill/files.js";
import { MAX_FOLDER_ENTRIES, readManifestFolder } from "../../src/manifest/folder.js";
import { loadConfig, loadProject, readSchema } from "../../src/manifest/index.js";
import type { Diagnostic, LoadResult } from "../../src/manifest/types.js";
import { serializeSchema } from "../../scripts/gen-schemas.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-skills-"));
  dirs.push(dir);
  for (const [file, content] of Object.entries({ "agentform.yaml": "project: demo\n", ...files })) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

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
