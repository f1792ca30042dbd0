/**
 * The skill kind over plain data: canonical forms, request bodies (every path under the
 * `<name>/` folder the API requires), the security finding naming the changed files, and the
 * rules over plain LoadedManifests (positions come from each manifest's `locate`).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { kindSpec } from "../../src/kinds/index.js";
import { Findings } from "../../src/kinds/findings.js";
import type { RuleSink } from "../../src/kinds/rules.js";
import { uploadDigests } from "../../src/backends/skill-content.js";
import { SKILL_LIMITS, skillPathProblem } from "../../src/kinds/skill/files.js";
import { LISTED_FILES } from "../../src/kinds/skill/security.js";
import type { LiveSkill } from "../../src/kinds/types.js";
import type { LoadedManifest, Position, UploadFile } from "../../src/manifest/types.js";
import { canonicalJson, sortedCopy } from "../../src/normalize/json.js";
import { nullRecord } from "../../src/util/record.js";

const skill = kindSpec("skill");
const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");
const D = { a: sha("a"), b: sha("b"), c: sha("c") };

function live(files?: Record<string, string>): LiveSkill {
  return {
    id: "skill_011",
    type: "skill",
    display_name: "pdf-tools",
    latest_version_id: "skver_2",
    source: { type: "custom" },
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    name: "pdf-tools",
    archived_at: null,
    ...(files ? { files } : {}),
  } as unknown as LiveSkill;
}

describe("skill canonical forms", () => {
  it("desired: the name as display_name and the digests by path, keys sorted", () => {
    const desired = skill.canonicalDesired({ name: "pdf-tools", description: "d", files: { "scripts/x.py": D.b, "SKILL.md": D.a } });
    expect(desired).toEqual({ display_name: "pdf-tools", files: { "SKILL.md": D.a, "scripts/x.py": D.b } });
    expect(Object.keys(desired.files as object)).toEqual(["SKILL.md", "scripts/x.py"]);
    // The description lives in SKILL.md, whose digest already covers it.
    expect(desired).not.toHaveProperty("description");
  });

  it("live: display_name and its files; unknown files are an empty map", () => {
    expect(skill.canonicalLive(live({ "scripts/x.py": D.b, "SKILL.md": D.a }))).toEqual({ display_name: "pdf-tools", files: { "SKILL.md": D.a, "scripts/x.py": D.b } });
    expect(skill.canonicalLive(live())).toEqual({ display_name: "pdf-tools", files: {} });
  });

  it("the same folder in any key order compares equal", () => {
    const a = skill.canonicalDesired({ name: "pdf-tools", files: { "SKILL.md": D.a, "z.txt": D.c } });
    const b = skill.canonicalLive(live({ "z.txt": D.c, "SKILL.md": D.a }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it("records a skill's file digests in its lockfile entry", () => {
    expect(skill.partialList!.lockDetail(live({ "SKILL.md": D.a }))).toEqual({ files: { "SKILL.md": D.a } });
  });
});

describe("skill request bodies", () => {
  const spec = { name: "pdf-tools", description: "d", files: { "scripts/x.py": D.b, "SKILL.md": D.a, "a-b.txt": D.c } };

  it("create: display_name and every file under <name>/, sorted by path", () => {
    expect(skill.createFields(spec)).toEqual({
      display_name: "pdf-tools",
      files: [
        { path: "pdf-tools/SKILL.md", sha256: D.a },
        { path: "pdf-tools/a-b.txt", sha256: D.c },
        { path: "pdf-tools/scripts/x.py", sha256: D.b },
      ],
    });
  });

  it("a new version sends the whole list again, built from the canonical desired form", () => {
    expect(skill.fieldBody("files", skill.canonicalDesired(spec))).toEqual(skill.createFields(spec).files);
    // The planner passes the manifest spec itself: the same list.
    expect(skill.fieldBody("files", spec)).toEqual(skill.createFields(spec).files);
    expect([...skill.wholeFields]).toEqual(["files"]);
  });

  it("the runtime pin is {type: custom, skill_id, version}", () => {
    expect(skill.runtimePin({ id: "skill_011", version: "skver_2" })).toEqual({ type: "custom", skill_id: "skill_011", version: "skver_2" });
  });
});

describe("skill security review", () => {
  const review = (before: Record<string, string> | null, after: Record<string, string>) => {
    const f = new Findings();
    skill.reviewSecurity(f, before === null ? null : { display_name: "s", files: before }, { display_name: "s", files: after });
    return f.list;
  };

  it("a new skill is a broadening finding listing its files", () => {
    const [finding, ...rest] = review(null, { "SKILL.md": D.a, "scripts/run.sh": D.b });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ category: "skill-changed", severity: "broadening", pointer: "/files" });
    expect(finding!.message).toContain("2 file(s)");
    expect(finding!.message).toContain("SKILL.md, scripts/run.sh");
  });

  it("a changed skill names the added, changed and removed files", () => {
    const [finding] = review({ "SKILL.md": D.a, "old.py": D.b, "keep.txt": D.c }, { "SKILL.md": D.b, "new.py": D.a, "keep.txt": D.c });
    expect(finding).toMatchObject({ category: "skill-changed", severity: "broadening" });
    expect(finding!.message).toContain("added new.py; changed SKILL.md; removed old.py");
    expect(finding!.message).not.toContain("keep.txt");
  });

  it("an unchanged skill has no finding", () => {
    expect(review({ "SKILL.md": D.a }, { "SKILL.md": D.a })).toEqual([]);
  });

  it(`lists at most ${LISTED_FILES} files, then "and N more"`, () => {
    const after = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`f${String(i).padStart(2, "0")}.txt`, D.a]));
    const [finding] = review({}, after);
    expect(finding!.message).toContain("f09.txt; and 4 more");
    expect(finding!.message).not.toContain("f10.txt");
  });
});

interface Got {
  file: string;
  line: number;
  column: number;
  code: string;
  severity: string;
  pointer: string;
}

/** A plain skill manifest in `skills/<folder>/SKILL.md`; `name` and `description` sit on lines 2 and 3. */
function manifest(folder: string, spec: Record<string, unknown>, uploads?: UploadFile[]): LoadedManifest {
  const positions: Record<string, Position> = { "/name": { line: 2, column: 1 }, "/description": { line: 3, column: 1 } };
  const files = Object.fromEntries((uploads ?? []).map((u) => [u.path, u.sha256]));
  return {
    kind: "skill",
    name: folder,
    file: `skills/${folder}/SKILL.md`,
    spec: { files, ...spec },
    settings: { previous_names: [], adopt: false, ignore: [] },
    locate: (pointer) => positions[pointer] ?? { line: 1, column: 1 },
    ...(uploads ? { uploads } : {}),
  };
}

const upload = (path: string, content: string | Uint8Array): UploadFile => {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return { path, bytes, sha256: sha(bytes) };
};

function rules(...manifests: LoadedManifest[]): Got[] {
  const out: Got[] = [];
  const sink: RuleSink = {
    add: (m, segments, code, _message, hint, severity = "error") => {
      expect(hint).not.toBe("");
      const pointer = segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
      const pos = m.locate(pointer);
      out.push({ file: m.file, line: pos.line, column: pos.column, code, severity, pointer });
    },
  };
  skill.rules(manifests, { unparsedNames: () => [], manifestNames: () => [], manifestsOf: () => [] }, sink);
  return out;
}

const ok = { name: "pdf-tools", description: "Fill and merge PDF forms." };

describe("skill rules", () => {
  it("a valid skill has no diagnostics", () => {
    expect(rules(manifest("pdf-tools", ok, [upload("SKILL.md", "---\nname: pdf-tools\n---\n"), upload("scripts/x.py", "print(1)\n")]))).toEqual([]);
  });

  it.each([
    ["Upper case", "PDF-Tools"],
    ["an underscore", "pdf_tools"],
    ["65 characters", "a".repeat(65)],
    ["the reserved word claude", "claude-pdf"],
    ["the reserved word anthropic", "anthropic-pdf"],
  ])("AF-SKILL-NAME: a name with %s, at the frontmatter's name", (_what, name) => {
    expect(rules(manifest(name, { ...ok, name }))).toEqual([{ file: `skills/${name}/SKILL.md`, line: 2, column: 1, code: "AF-SKILL-NAME", severity: "error", pointer: "/name" }]);
  });

  it("AF-SKILL-NAME-MISMATCH: the name must equal the folder's", () => {
    expect(rules(manifest("pdf", ok)).map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual(["skills/pdf/SKILL.md:2:1 AF-SKILL-NAME-MISMATCH"]);
  });

  it.each([
    ["empty", "  "],
    ["over 1024 characters", "x".repeat(SKILL_LIMITS.descriptionLength + 1)],
    ["an XML-like tag", "Use <b>bold</b> forms"],
    ["a tag with attributes", 'see <a href="x">'],
  ])("AF-SKILL-DESCRIPTION: %s", (_what, description) => {
    expect(rules(manifest("pdf-tools", { ...ok, description }))).toEqual([{ file: "skills/pdf-tools/SKILL.md", line: 3, column: 1, code: "AF-SKILL-DESCRIPTION", severity: "error", pointer: "/description" }]);
  });

  it("a lone < or > in the description is fine, and exactly 1024 characters too", () => {
    expect(rules(manifest("pdf-tools", { ...ok, description: "a < b and c > d" }), manifest("pdf-tools", { ...ok, description: "x".repeat(1024) }))).toEqual([]);
  });

  it("AF-SKILL-LIMIT: more than 200 files", () => {
    const files = Array.from({ length: SKILL_LIMITS.files + 1 }, (_, i) => upload(`f${i}.txt`, "x"));
    expect(rules(manifest("pdf-tools", ok, files)).map((d) => `${d.code} ${d.pointer}`)).toEqual(["AF-SKILL-LIMIT /files"]);
    expect(rules(manifest("pdf-tools", ok, files.slice(1)))).toEqual([]);
  });

  it("AF-SKILL-LIMIT: more than 10 MiB in all", () => {
    const half = new Uint8Array(SKILL_LIMITS.totalBytes / 2);
    expect(rules(manifest("pdf-tools", ok, [upload("a.bin", half), upload("b.bin", half)]))).toEqual([]);
    expect(rules(manifest("pdf-tools", ok, [upload("a.bin", half), upload("b.bin", half), upload("c.bin", "x")])).map((d) => d.code)).toEqual(["AF-SKILL-LIMIT"]);
  });

  it("AF-SKILL-LIMIT at the file itself: an uploaded path over 1024 characters (the <name>/ prefix counts)", () => {
    const rel = `${"d/".repeat(507)}ab`; // 1016 characters; "pdf-tools/" makes 1026
    expect(rules(manifest("pdf-tools", ok, [upload(rel, "x")]))).toEqual([{ file: `skills/pdf-tools/${rel}`, line: 1, column: 1, code: "AF-SKILL-LIMIT", severity: "error", pointer: `/files/${rel.replace(/\//g, "~1")}` }]);
    expect(rules(manifest("p", { ...ok, name: "p" }, [upload(rel, "x")]))).toEqual([]);
  });

  it("AF-SKILL-PATH: a backslash or a control character in a path", () => {
    const got = rules(manifest("pdf-tools", ok, [upload("a\\b.txt", "x"), upload("tab\there.txt", "x")]));
    expect(got.map((d) => `${d.file} ${d.code}`)).toEqual(["skills/pdf-tools/a\\b.txt AF-SKILL-PATH", "skills/pdf-tools/tab\there.txt AF-SKILL-PATH"]);
  });

  it("AF-SKILL-CRLF: a warning at the first CRLF of a text file; binary files are left alone", () => {
    const got = rules(manifest("pdf-tools", ok, [upload("notes.md", "one\ntwo\r\nthree\r\n"), upload("img.bin", new Uint8Array([0, 13, 10, 255])), upload("lf.txt", "a\nb\n")]));
    expect(got).toEqual([{ file: "skills/pdf-tools/notes.md", line: 2, column: 4, code: "AF-SKILL-CRLF", severity: "warning", pointer: "/files/notes.md" }]);
  });

  it("the CRLF hint names the configured skills folder and keeps binary files intact (text=auto)", () => {
    let hint = "";
    const sink: RuleSink = { add: (_m, _s, _c, _msg, h) => void (hint = h) };
    const m = { ...manifest("pdf-tools", ok, [upload("a.txt", "x\r\n")]), file: "bundles/skills/pdf-tools/SKILL.md" };
    skill.rules([m], { unparsedNames: () => [], manifestNames: () => [], manifestsOf: () => [] }, sink);
    expect(hint).toContain("`bundles/skills/** text=auto eol=lf`");
  });
});

describe("one path rule for validate, upload and download", () => {
  const odd = [
    "ok/file.txt",
    "ünïcode name.md",
    "tab\there.txt",
    "a\\b.txt",
    "\u202etxt.exe",
    "x\u2066y.md",
    "x\u2069y.md",
    "x\u202ay.md",
    "line\u2028sep.md",
    "nel\u0085.md",
    "del\u007f.md",
    "zero\u200dwidth.md",
  ];

  it.each(odd)("%j: AF-SKILL-PATH exactly when apply would refuse to upload it", (rel) => {
    const atValidate = rules(manifest("pdf-tools", ok, [upload(rel, "x")])).some((d) => d.code === "AF-SKILL-PATH");
    let atApply = false;
    try {
      uploadDigests([{ path: `pdf-tools/${rel}`, sha256: sha("x"), bytes: new TextEncoder().encode("x") }], "create skill");
    } catch {
      atApply = true;
    }
    expect(atValidate).toBe(atApply);
    expect(atValidate).toBe(skillPathProblem(`pdf-tools/${rel}`) !== undefined);
  });

  it("bidirectional characters are refused at validate (they passed it, then failed at apply)", () => {
    expect(rules(manifest("pdf-tools", ok, [upload("\u202etxt.exe", "x"), upload("b\u2066.md", "y")])).map((d) => d.code)).toEqual(["AF-SKILL-PATH", "AF-SKILL-PATH"]);
  });
});

describe("AF-SKILL-PATH-COLLISION", () => {
  const codes = (...paths: string[]) => rules(manifest("pdf-tools", ok, paths.map((p) => upload(p, p)))).map((d) => `${d.file} ${d.code}`);

  it("names differing only by case, one error naming both", () => {
    let message = "";
    const sink: RuleSink = { add: (_m, _s, code, msg) => void (code === "AF-SKILL-PATH-COLLISION" && (message = msg)) };
    skill.rules([manifest("pdf-tools", ok, [upload("README.md", "a"), upload("Readme.md", "b")])], { unparsedNames: () => [], manifestNames: () => [], manifestsOf: () => [] }, sink);
    expect(codes("README.md", "Readme.md")).toEqual(["skills/pdf-tools/Readme.md AF-SKILL-PATH-COLLISION"]);
    expect(message).toContain('"README.md" and "Readme.md"');
  });

  it("NFC and NFD spellings of one name, and folders that collide", () => {
    expect(codes("caf\u00e9.txt", "cafe\u0301.txt")).toEqual(["skills/pdf-tools/caf\u00e9.txt AF-SKILL-PATH-COLLISION"]);
    expect(codes("Docs/a.md", "docs/b.md")).toEqual(["skills/pdf-tools/docs/b.md AF-SKILL-PATH-COLLISION"]);
    expect(codes("CAF\u00c9.txt", "cafe\u0301.txt")).toHaveLength(1);
  });

  it("distinct names, and one folder spelled one way, are fine", () => {
    expect(codes("README.md", "README.txt", "docs/a.md", "docs/b.md", "caf\u00e9.txt", "cafe.txt")).toEqual([]);
  });
});

describe("files named like Object.prototype members", () => {
  /** As the loader and JSON.parse make them: `__proto__` an own key, not the prototype. */
  const files = JSON.parse(`{"__proto__": "${D.a}", "constructor": "${D.b}", "SKILL.md": "${D.c}"}`) as Record<string, string>;

  it("are kept by the canonical form, the request body and the security review", () => {
    const desired = skill.canonicalDesired({ name: "s", files });
    expect(Object.keys(desired.files as object)).toEqual(["SKILL.md", "__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(desired.files, "__proto__")?.value).toBe(D.a);
    expect(canonicalJson(desired)).toBe(`{"display_name":"s","files":{"SKILL.md":"${D.c}","__proto__":"${D.a}","constructor":"${D.b}"}}`);
    expect(skill.createFields({ name: "s", files }).files).toEqual([
      { path: "s/SKILL.md", sha256: D.c },
      { path: "s/__proto__", sha256: D.a },
      { path: "s/constructor", sha256: D.b },
    ]);
    const f = new Findings();
    skill.reviewSecurity(f, null, desired);
    expect(f.list[0]!.message).toContain("added SKILL.md, __proto__, constructor");
  });

  it("an inherited `constructor` is no file: a plain {} has none", () => {
    expect(skill.canonicalDesired({ name: "s", files: {} })).toEqual({ display_name: "s", files: {} });
    expect(Object.keys(skill.canonicalLive(live({ "SKILL.md": D.a })).files as object)).toEqual(["SKILL.md"]);
  });

  it("canonical JSON and sorted copies keep `__proto__` keys of prototype-free records", () => {
    const record = nullRecord([["__proto__", "x"], ["constructor", "y"]]);
    expect(canonicalJson({ files: record })).toBe('{"files":{"__proto__":"x","constructor":"y"}}');
    const copy = sortedCopy({ files: record });
    expect(Object.keys(copy.files)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(copy.files, "__proto__")?.value).toBe("x");
  });
});
