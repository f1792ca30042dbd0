/**
 * Skills and skill versions on the local control plane, through the real SDK (GA `client.skills`,
 * plus `client.beta.skills` where only the beta client has the method: the content download),
 * raw HTTP for bodies no SDK sends, and real state files.
 */
import Anthropic, { toFile, type APIError } from "@anthropic-ai/sdk";
import { unzipSync } from "fflate";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentformError } from "../../src/errors.js";
import { startLocalControlPlane, type LocalControlPlane } from "../../src/local/index.js";
import { clientFor, failure, startHarness, type Harness } from "./helpers.js";
import { RawConnection, requestHead, type RawResponse } from "./raw-http.js";

type Files = Record<string, string | Uint8Array>;

/** A SKILL.md; JSON strings are valid YAML double-quoted scalars, so any description survives. */
function skillMd(name: string, description = "Does one thing well.", extra = ""): string {
  return `---\nname: ${name}\ndescription: ${JSON.stringify(description)}\n${extra}---\n\n# ${name}\n\nInstructions.\n`;
}

/** Files as the SDK uploads them, named `<top-dir>/<relative path>`. */
function uploadables(files: Files): Promise<File[]> {
  return Promise.all(Object.entries(files).map(([p, c]) => toFile(typeof c === "string" ? Buffer.from(c, "utf8") : c, p)));
}

/** Bytes no text encoding would survive: every byte value, CRLFs and a boundary-like `\r\n--`. */
const BINARY = new Uint8Array([...Array.from({ length: 256 }, (_, i) => i), 13, 10, 45, 45, 13, 10, 13, 10, 0]);

function basicSkill(name = "my-skill", description?: string): Files {
  return { [`${name}/SKILL.md`]: skillMd(name, description), [`${name}/scripts/run.py`]: "print('hi')\n", [`${name}/assets/blob.bin`]: BINARY };
}

async function createSkill(client: Anthropic, files: Files = basicSkill(), displayName?: string) {
  return client.skills.create({ files: await uploadables(files), ...(displayName === undefined ? {} : { display_name: displayName }) });
}

/** The zip of a version, unpacked: path → bytes. */
async function download(client: Anthropic, skillId: string, versionId: string): Promise<{ entries: Record<string, Uint8Array>; response: Response }> {
  const response = await client.beta.skills.versions.download(versionId, { skill_id: skillId });
  return { entries: unzipSync(new Uint8Array(await response.arrayBuffer())), response };
}

/** The message of the error envelope (APIError.message is the raw body, with quotes escaped). */
function messageOf(err: APIError): string {
  return (err.error as { error?: { message?: string } } | undefined)?.error?.message ?? "";
}

function asBytes(files: Files): Record<string, Uint8Array> {
  return Object.fromEntries(Object.entries(files).map(([p, c]) => [p, typeof c === "string" ? new Uint8Array(Buffer.from(c, "utf8")) : c]));
}

describe("skills through the SDK", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.cp.close();
  });

  it("create returns the GA Skill shape; retrieve returns the same; display_name defaults to the slug", async () => {
    const skill = await createSkill(h.client);
    expect(skill.id).toMatch(/^skill_011[0-9A-Za-z]{21}$/);
    expect(skill.latest_version_id).toMatch(/^skver_011[0-9A-Za-z]{21}$/);
    expect(skill).toEqual({ id: skill.id, type: "skill", display_name: "my-skill", latest_version_id: skill.latest_version_id, source: { type: "custom" }, created_at: skill.created_at, updated_at: skill.created_at });
    expect(new Date(skill.created_at).toISOString()).toBe(skill.created_at);
    expect(await h.client.skills.retrieve(skill.id)).toEqual(skill);
    const version = await h.client.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id });
    expect(version).toEqual({ id: skill.latest_version_id, type: "skill_version", skill_id: skill.id, name: "my-skill", description: "Does one thing well.", created_at: skill.created_at });
  });

  it("display_name is a label: set at create, not unique", async () => {
    const a = await createSkill(h.client, basicSkill("labelled"), "Quarterly Reports ✓");
    const b = await createSkill(h.client, basicSkill("labelled"), "Quarterly Reports ✓");
    expect(a.display_name).toBe("Quarterly Reports ✓");
    expect(b.display_name).toBe("Quarterly Reports ✓");
    expect(a.id).not.toBe(b.id);
    expect((await h.client.skills.versions.retrieve(b.latest_version_id, { skill_id: b.id })).name).toBe("labelled");
  });

  it("needs no beta header, and accepts one (client.beta.skills)", async () => {
    const res = await fetch(`${h.cp.baseUrl}/v1/skills?limit=1`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(res.status).toBe(200);
    const beta = await h.client.beta.skills.create({ files: await uploadables(basicSkill("beta-made")), betas: ["skills-2025-10-02"] });
    expect(beta.type).toBe("skill");
    expect((await h.client.beta.skills.retrieve(beta.id, { betas: ["skills-2025-10-02"] })).id).toBe(beta.id);
    // The agents API still requires its beta.
    const agents = await fetch(`${h.cp.baseUrl}/v1/agents`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(agents.status).toBe(400);
  });

  it("a new version moves latest_version_id and updated_at; created_at and display_name stay", async () => {
    const skill = await createSkill(h.client, basicSkill("versioned"), "Versioned");
    await new Promise((r) => setTimeout(r, 5));
    const v2 = await h.client.skills.versions.create(skill.id, { files: await uploadables({ "versioned/SKILL.md": skillMd("versioned", "Second take.") }) });
    expect(v2).toMatchObject({ type: "skill_version", skill_id: skill.id, name: "versioned", description: "Second take." });
    expect(v2.id).not.toBe(skill.latest_version_id);
    const after = await h.client.skills.retrieve(skill.id);
    expect(after.latest_version_id).toBe(v2.id);
    expect(after.updated_at).toBe(v2.created_at);
    expect(after.updated_at > skill.updated_at).toBe(true);
    expect(after.created_at).toBe(skill.created_at);
    expect(after.display_name).toBe("Versioned");
    // The first version is still there, unchanged.
    expect((await h.client.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id })).description).toBe("Does one thing well.");
  });

  it("a version whose SKILL.md resolves to another slug is refused, and nothing changes", async () => {
    const skill = await createSkill(h.client, basicSkill("fixed-slug"));
    const err = await failure(h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill("other-slug")) }));
    expect(err.status).toBe(400);
    expect(messageOf(err)).toMatch(/names the skill "other-slug", but .* is "fixed-slug"/);
    expect((await h.client.skills.retrieve(skill.id)).latest_version_id).toBe(skill.latest_version_id);
    expect((await h.client.skills.versions.list(skill.id)).data).toHaveLength(1);
  });

  it("a new version of an unknown skill is 404, even with a bad upload", async () => {
    const err = await failure(h.client.skills.versions.create("skill_011missing", { files: [] }));
    expect(err.status).toBe(404);
    expect(messageOf(err)).toMatch(/skill skill_011missing not found/);
  });

  it("content download is a zip whose entries and bytes equal the upload", async () => {
    const files: Files = { ...basicSkill("zipped"), "zipped/docs/ünïcode name.md": "héllo\r\n", "zipped/empty.txt": "" };
    const skill = await createSkill(h.client, files);
    const { entries, response } = await download(h.client, skill.id, skill.latest_version_id);
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="zipped.zip"');
    expect(Object.keys(entries).sort()).toEqual(Object.keys(files).sort());
    expect(entries).toEqual(asBytes(files));
    // The GA client has no download method; a plain GET works the same.
    const plain = await fetch(`${h.cp.baseUrl}/v1/skills/${skill.id}/versions/${skill.latest_version_id}/content`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(unzipSync(new Uint8Array(await plain.arrayBuffer()))).toEqual(asBytes(files));
  });

  it("each version downloads its own files", async () => {
    const skill = await createSkill(h.client, basicSkill("two-sets"));
    const second: Files = { "two-sets/SKILL.md": skillMd("two-sets", "v2"), "two-sets/new.txt": "new" };
    const v2 = await h.client.skills.versions.create(skill.id, { files: await uploadables(second) });
    expect((await download(h.client, skill.id, v2.id)).entries).toEqual(asBytes(second));
    expect((await download(h.client, skill.id, skill.latest_version_id)).entries).toEqual(asBytes(basicSkill("two-sets")));
  });
});

describe("skill lists", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.cp.close();
  });

  it("pages skills in creation order with next_page, and auto-paginates through the SDK", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createSkill(h.client, basicSkill(`list-${i}`))).id);
    const first = await h.client.skills.list({ limit: 2 });
    expect(first.data.map((s) => s.id)).toEqual(ids.slice(0, 2));
    expect(first.next_page).toEqual(expect.any(String));
    const second = await h.client.skills.list({ limit: 2, page: first.next_page });
    expect(second.data.map((s) => s.id)).toEqual(ids.slice(2, 4));
    const last = await h.client.skills.list({ limit: 2, page: second.next_page });
    expect(last.data.map((s) => s.id)).toEqual(ids.slice(4));
    expect(last.next_page).toBeNull();
    const all: string[] = [];
    for await (const s of h.client.skills.list({ limit: 2 })) all.push(s.id);
    expect(all).toEqual(ids);
  });

  it("filters by source (only custom skills exist here) and checks limit, source and cursors", async () => {
    const skill = await createSkill(h.client);
    expect((await h.client.skills.list({ source: "custom" })).data.map((s) => s.id)).toEqual([skill.id]);
    expect((await h.client.skills.list({ source: "anthropic" })).data).toEqual([]);
    expect((await h.client.skills.list({ source: null })).data).toHaveLength(1);
    expect(messageOf(await failure(h.client.skills.list({ source: "bogus" })))).toMatch(/source: must be one of/);
    expect((await failure(h.client.skills.list({ limit: 0 }))).status).toBe(400);
    expect(messageOf(await failure(h.client.skills.list({ limit: 101 })))).toMatch(/between 1 and 100/);
    await h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill()) });
    const versionsPage = await h.client.skills.versions.list(skill.id, { limit: 1 });
    expect(versionsPage.next_page).not.toBeNull();
    expect(messageOf(await failure(h.client.skills.list({ page: versionsPage.next_page })))).toMatch(/invalid page cursor/);
  });

  it("lists, gets and deletes versions; latest_version_id follows; the last version cannot be deleted", async () => {
    const skill = await createSkill(h.client);
    const v1 = skill.latest_version_id;
    const v2 = (await h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill("my-skill", "two")) })).id;
    const v3 = (await h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill("my-skill", "three")) })).id;
    const page1 = await h.client.skills.versions.list(skill.id, { limit: 2 });
    expect(page1.data.map((v) => v.id)).toEqual([v1, v2]);
    const page2 = await h.client.skills.versions.list(skill.id, { limit: 2, page: page1.next_page });
    expect(page2.data.map((v) => v.description)).toEqual(["three"]);
    expect(page2.next_page).toBeNull();
    expect(messageOf(await failure(h.client.skills.versions.list(skill.id, { limit: 1001 })))).toMatch(/between 1 and 1000/);

    const before = await h.client.skills.retrieve(skill.id);
    await new Promise((r) => setTimeout(r, 5));
    expect(await h.client.skills.versions.delete(v2, { skill_id: skill.id })).toEqual({ id: v2, type: "skill_version_deleted" });
    // Deleting a version (even not the latest) is a change to the skill: updated_at moves.
    expect((await h.client.skills.retrieve(skill.id)).updated_at > before.updated_at).toBe(true);
    expect((await failure(h.client.skills.versions.retrieve(v2, { skill_id: skill.id }))).status).toBe(404);
    expect((await failure(h.client.skills.versions.delete(v2, { skill_id: skill.id }))).status).toBe(404);
    expect((await h.client.skills.versions.list(skill.id)).data.map((v) => v.id)).toEqual([v1, v3]);
    expect((await h.client.skills.retrieve(skill.id)).latest_version_id).toBe(v3);
    await h.client.skills.versions.delete(v3, { skill_id: skill.id });
    expect((await h.client.skills.retrieve(skill.id)).latest_version_id).toBe(v1);
    const last = await failure(h.client.skills.versions.delete(v1, { skill_id: skill.id }));
    expect(last.status).toBe(400);
    expect(messageOf(last)).toMatch(/only version .* delete the skill instead/);
    expect((await h.client.skills.versions.retrieve(v1, { skill_id: skill.id })).id).toBe(v1);
  });

  it("a version is found only under its own skill", async () => {
    const a = await createSkill(h.client, basicSkill("owner-a"));
    const b = await createSkill(h.client, basicSkill("owner-b"));
    expect((await failure(h.client.skills.versions.retrieve(a.latest_version_id, { skill_id: b.id }))).status).toBe(404);
    expect((await failure(h.client.beta.skills.versions.download(a.latest_version_id, { skill_id: b.id }))).status).toBe(404);
    expect((await failure(h.client.skills.versions.delete(a.latest_version_id, { skill_id: b.id }))).status).toBe(404);
  });

  it("deleting a skill deletes its versions and removes it from the list", async () => {
    const keep = await createSkill(h.client, basicSkill("keeper"));
    const skill = await createSkill(h.client);
    const v2 = await h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill()) });
    expect(await h.client.skills.delete(skill.id)).toEqual({ id: skill.id, type: "skill_deleted" });
    expect((await failure(h.client.skills.retrieve(skill.id))).status).toBe(404);
    expect((await failure(h.client.skills.versions.retrieve(v2.id, { skill_id: skill.id }))).status).toBe(404);
    expect((await failure(h.client.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id }))).status).toBe(404);
    expect((await failure(h.client.skills.versions.list(skill.id))).status).toBe(404);
    expect((await failure(h.client.beta.skills.versions.download(v2.id, { skill_id: skill.id }))).status).toBe(404);
    expect((await failure(h.client.skills.delete(skill.id))).status).toBe(404);
    expect((await h.client.skills.list()).data.map((s) => s.id)).toEqual([keep.id]);
  });

  it("unknown methods and deeper paths under /v1/skills are 404", async () => {
    const skill = await createSkill(h.client);
    const post = await fetch(`${h.cp.baseUrl}/v1/skills/${skill.id}`, { method: "POST", headers: { "x-api-key": h.cp.apiKey } });
    expect(post.status).toBe(404);
    const deep = await fetch(`${h.cp.baseUrl}/v1/skills/${skill.id}/versions/${skill.latest_version_id}/content/x`, { headers: { "x-api-key": h.cp.apiKey } });
    expect(deep.status).toBe(404);
    const archive = await fetch(`${h.cp.baseUrl}/v1/skills/${skill.id}/archive`, { method: "POST", headers: { "x-api-key": h.cp.apiKey } });
    expect(archive.status).toBe(404);
  });

  it("faults and the request log cover skill requests like any other", async () => {
    h.cp.setFaults({ script: [{ on: "write", nth: 1, fault: { status: 529 } }] });
    const err = await failure(createSkill(h.client));
    expect(err.status).toBe(529);
    expect((await h.client.skills.list()).data).toEqual([]);
    const log = h.cp.requestLog();
    expect(log.map((e) => [e.method, e.path, e.status, e.write])).toEqual([
      ["POST", "/v1/skills", 529, true],
      ["GET", "/v1/skills", 200, false],
    ]);
    expect(log[0]?.fault).toBeDefined();
  });
});

describe("upload validation", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.cp.close();
  });

  async function refused(files: Files | File[], expected: RegExp, status = 400, displayName?: string): Promise<APIError> {
    const list = Array.isArray(files) ? files : await uploadables(files);
    const err = await failure(h.client.skills.create({ files: list, ...(displayName === undefined ? {} : { display_name: displayName }) }));
    expect(err.status).toBe(status);
    expect((err.error as { error: { type: string } }).error.type).toBe(status === 413 ? "request_too_large" : "invalid_request_error");
    expect(messageOf(err)).toMatch(expected);
    return err;
  }

  const md = skillMd("my-skill");

  it("refuses an upload without files", async () => {
    await refused([], /at least one file is required/);
  });

  it("refuses files under several top-level directories, or none", async () => {
    await refused({ "my-skill/SKILL.md": md, "other/x.txt": "x" }, /one top-level directory/);
    await refused({ "SKILL.md": md }, /not inside a top-level directory/);
  });

  it("refuses an upload without SKILL.md at the root of the directory", async () => {
    await refused({ "my-skill/README.md": "x" }, /no SKILL.md at the root/);
    await refused({ "my-skill/docs/SKILL.md": md }, /no SKILL.md at the root/);
    await refused({ "my-skill/skill.md": md }, /no SKILL.md at the root/);
  });

  it("refuses unsafe or malformed paths", async () => {
    await refused({ "my-skill/SKILL.md": md, "my-skill/../escape.txt": "x" }, /\.\. segment/);
    await refused({ "my-skill/SKILL.md": md, "my-skill/./x.txt": "x" }, /\. or \.\. segment/);
    await refused({ "/my-skill/SKILL.md": md }, /is absolute/);
    await refused({ "my-skill/SKILL.md": md, "my-skill\\x.txt": "x" }, /backslash/);
    await refused({ "my-skill/SKILL.md": md, "my-skill//x.txt": "x" }, /empty segment/);
    await refused({ "my-skill/SKILL.md": md, "my-skill/dir/": "x" }, /empty segment/);
    await refused({ "my-skill/SKILL.md": md, [`my-skill/${"a".repeat(1100)}`]: "x" }, /longer than 1024/);
    const twice = await uploadables({ "my-skill/SKILL.md": md });
    await refused([...twice, ...(await uploadables({ "my-skill/SKILL.md": md }))], /sent more than once/);
  });

  it("refuses a SKILL.md without valid frontmatter", async () => {
    await refused({ "my-skill/SKILL.md": "# no frontmatter\n" }, /must start with YAML frontmatter/);
    await refused({ "my-skill/SKILL.md": "---\nname: my-skill\ndescription: x\n" }, /must start with YAML frontmatter/);
    await refused({ "my-skill/SKILL.md": "---\nname: my-skill\nname: my-skill\ndescription: x\n---\n" }, /not valid YAML/);
    await refused({ "my-skill/SKILL.md": "---\n- a list\n---\n" }, /must be a YAML mapping/);
    await refused({ "my-skill/SKILL.md": Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe]) }, /not valid UTF-8/);
    await refused({ "my-skill/SKILL.md": `---\nname: my-skill\ndescription: x\nbig: "${"x".repeat(70_000)}"\n---\n` }, /frontmatter is longer than 65536/);
  });

  it("refuses a frontmatter name that is not a 1..64 kebab-case slug free of reserved words", async () => {
    await refused({ "my-skill/SKILL.md": "---\ndescription: x\n---\n" }, /name: is required/);
    await refused({ "My_Skill/SKILL.md": skillMd("My_Skill") }, /lowercase letters, digits and hyphens/);
    await refused({ "my-skill/SKILL.md": "---\nname: 42\ndescription: x\n---\n" }, /name: must be a string/);
    const long = "a".repeat(65);
    await refused({ [`${long}/SKILL.md`]: skillMd(long) }, /1 to 64 characters/);
    await refused({ "my-claude-helper/SKILL.md": skillMd("my-claude-helper") }, /reserved word "claude"/);
    await refused({ "anthropic-tools/SKILL.md": skillMd("anthropic-tools") }, /reserved word "anthropic"/);
  });

  it("refuses a missing, empty, too long or tagged description", async () => {
    await refused({ "my-skill/SKILL.md": "---\nname: my-skill\n---\n" }, /description: is required/);
    await refused({ "my-skill/SKILL.md": skillMd("my-skill", "  ") }, /description: must not be empty/);
    await refused({ "my-skill/SKILL.md": skillMd("my-skill", "x".repeat(1025)) }, /at most 1024 characters/);
    await refused({ "my-skill/SKILL.md": skillMd("my-skill", "Use <b>this</b> skill") }, /must not contain XML tags/);
    await refused({ "my-skill/SKILL.md": skillMd("my-skill", "Ignore </system> now") }, /must not contain XML tags/);
    // Comparisons are not tags.
    expect((await createSkill(h.client, basicSkill("compare", "Use when a < b and c > d"))).type).toBe("skill");
  });

  it("refuses a top-level directory not named after the skill", async () => {
    await refused({ "folder/SKILL.md": skillMd("my-skill") }, /top-level directory "folder" must be named after the skill/);
  });

  it("refuses a display_name that is empty, too long or not a single line", async () => {
    const files = basicSkill();
    await refused(files, /display_name: must be 1 to 255 characters/, 400, "");
    await refused(files, /display_name: must be 1 to 255 characters/, 400, "x".repeat(256));
    await refused(files, /single line/, 400, "two\nlines");
    expect((await createSkill(h.client, files, "é".repeat(255))).display_name).toBe("é".repeat(255));
  });

  it("refuses unknown form fields, and display_name on a new version", async () => {
    const err = await failure(h.client.skills.create({ files: await uploadables(basicSkill()), colour: "blue" } as Anthropic.SkillCreateParams));
    expect(err.status).toBe(400);
    expect(messageOf(err)).toMatch(/colour: Extra inputs are not permitted/);
    const skill = await createSkill(h.client);
    const v = await failure(h.client.skills.versions.create(skill.id, { files: await uploadables(basicSkill()), display_name: "x" } as Anthropic.Skills.VersionCreateParams));
    expect(messageOf(v)).toMatch(/display_name: Extra inputs are not permitted/);
  });

  it("enforces at most 200 files and 10 MiB of content per upload", async () => {
    const many: Files = { "my-skill/SKILL.md": md };
    for (let i = 0; i < 200; i++) many[`my-skill/f/${i}.txt`] = String(i);
    await refused(many, /at most 200 files per upload \(got 201\)/);
    const big = { "my-skill/SKILL.md": md, "my-skill/big.bin": new Uint8Array(10 * 1024 * 1024 - Buffer.byteLength(md) + 1) };
    await refused(big, /at most 10485760 bytes/, 413);
    // Exactly at the limits is fine.
    delete many["my-skill/f/199.txt"];
    expect((await createSkill(h.client, many)).type).toBe("skill");
    const atLimit = { "my-skill/SKILL.md": md, "my-skill/big.bin": new Uint8Array(10 * 1024 * 1024 - Buffer.byteLength(md)) };
    const skill = await createSkill(h.client, atLimit);
    expect((await download(h.client, skill.id, skill.latest_version_id)).entries["my-skill/big.bin"]?.length).toBe(10 * 1024 * 1024 - Buffer.byteLength(md));
  });

  it("applies every rule to new versions too", async () => {
    const skill = await createSkill(h.client);
    const err = await failure(h.client.skills.versions.create(skill.id, { files: await uploadables({ "my-skill/SKILL.md": md, "my-skill/../x": "x" }) }));
    expect(messageOf(err)).toMatch(/\.\. segment/);
    const noMd = await failure(h.client.skills.versions.create(skill.id, { files: await uploadables({ "my-skill/a.txt": "x" }) }));
    expect(messageOf(noMd)).toMatch(/no SKILL.md/);
    expect((await h.client.skills.versions.list(skill.id)).data).toHaveLength(1);
  });
});

describe("malformed multipart over raw HTTP", () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ bodyTimeoutMs: 500, maxBodyBytes: 1024 * 1024 });
  });
  afterAll(async () => {
    await cp.close();
  });

  /** POST raw bytes; fails (instead of hanging the suite) if no answer comes within 3 s. */
  async function post(contentType: string | null, body: Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
    const conn = new RawConnection(cp.baseUrl);
    const all: Record<string, string> = { "x-api-key": cp.apiKey, "content-length": String(body.length), ...headers };
    if (contentType !== null) all["content-type"] = contentType;
    try {
      await conn.write(Buffer.concat([Buffer.from(requestHead(cp.baseUrl, "POST /v1/skills HTTP/1.1", all), "latin1"), body]));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the server did not answer within 3 s")), 3_000);
      });
      return await Promise.race([conn.response(), deadline]).finally(() => clearTimeout(timer));
    } finally {
      conn.close();
    }
  }

  const B = "XyZboundary42";
  const CT = `multipart/form-data; boundary=${B}`;
  const part = (disposition: string, data: string) => `--${B}\r\nContent-Disposition: ${disposition}\r\n\r\n${data}\r\n`;
  const good = part('form-data; name="files[]"; filename="raw-skill/SKILL.md"', skillMd("raw-skill")) + `--${B}--\r\n`;

  async function expect400(contentType: string | null, body: string | Buffer, pattern: RegExp): Promise<void> {
    const res = await post(contentType, typeof body === "string" ? Buffer.from(body, "utf8") : body);
    expect(res.status).toBe(400);
    expect(res.body.error?.type).toBe("invalid_request_error");
    expect(res.body.error?.message).toMatch(pattern);
  }

  it("a well-formed hand-written body is accepted (so the refusals below are about the defects)", async () => {
    const res = await post(CT, Buffer.from(good));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe("skill");
    const quoted = await post(`Multipart/Form-Data; boundary="${B}"`, Buffer.from(good.slice(0, -2)));
    expect(quoted.status).toBe(200);
  });

  it("refuses a missing or wrong Content-Type and a missing or invalid boundary", async () => {
    await expect400(null, good, /no Content-Type was sent/);
    await expect400("application/json", good, /multipart\/form-data body, not "application\/json"/);
    await expect400("multipart/form-data", good, /has no boundary/);
    await expect400(`multipart/form-data; boundary=${"b".repeat(71)}`, good, /1 to 70 characters/);
    await expect400(`multipart/form-data; boundary=${B}; boundary=${B}`, good, /repeats the parameter boundary/);
    await expect400(`multipart/form-data; boundary`, good, /cannot parse the parameters/);
  });

  it("refuses bodies that are truncated, prefixed, or trail data", async () => {
    await expect400(CT, "", /does not start with the boundary/);
    await expect400(CT, `preamble\r\n${good}`, /does not start with the boundary/);
    await expect400(CT, good.slice(0, good.length - `\r\n--${B}--\r\n`.length), /not closed by a boundary/);
    await expect400(CT, `${good}epilogue`, /unexpected data after the closing boundary/);
    await expect400(CT, good.replace(`--${B}--`, `--${B}xx`), /not followed by CRLF or --/);
  });

  it("refuses malformed part headers", async () => {
    await expect400(CT, `--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--\r\n`, /no Content-Disposition/);
    await expect400(CT, `--${B}\r\nContent-Disposition: form-data; name="files[]"; filename="a/SKILL.md"\r\nx\r\n--${B}--\r\n`, /no blank line/);
    await expect400(CT, `--${B}\r\nno colon here\r\n\r\nx\r\n--${B}--\r\n`, /not `Name: value`/);
    await expect400(CT, part("attachment; name=\"files[]\"", "x") + `--${B}--\r\n`, /not form-data/);
    await expect400(CT, part('form-data; filename="a/SKILL.md"', "x") + `--${B}--\r\n`, /has no name/);
    await expect400(CT, part("form-data; name=\"files[]\"; filename*=UTF-8''a%2FSKILL.md", "x") + `--${B}--\r\n`, /filename\* and name\* are not supported/);
    await expect400(CT, part('form-data; name="files[]"; name="x"', "x") + `--${B}--\r\n`, /repeats the parameter name/);
    const twice = `--${B}\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\nx\r\n--${B}--\r\n`;
    await expect400(CT, twice, /repeats the content-disposition header/);
    const latin1 = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="files[]"; filename="a/\xff"`, "latin1"), Buffer.from(`\r\n\r\nx\r\n--${B}--\r\n`)]);
    await expect400(CT, latin1, /headers are not valid UTF-8/);
    await expect400(CT, `--${B}\r\nContent-Disposition: form-data; name="x"\r\n${"X-Pad: y\r\n".repeat(2000)}\r\nx\r\n--${B}--\r\n`, /headers exceed 16384 bytes/);
  });

  it("refuses a file part without a filename and a field sent as a file", async () => {
    await expect400(CT, part('form-data; name="files[]"', "x") + `--${B}--\r\n`, /every file part needs a filename/);
    await expect400(CT, good.replace(`--${B}--`, part('form-data; name="display_name"; filename="x"', "label") + `--${B}--`), /display_name: must be a plain form field/);
  });

  it("refuses more parts than an upload may hold", async () => {
    await expect400(CT, part('form-data; name="files[]"; filename="a/b"', "").repeat(203) + `--${B}--\r\n`, /more than 202 parts/);
  });

  it("never hangs: an unfinished body is a 408, an oversized one a 413, and each is logged", async () => {
    cp.clearRequestLog();
    const slow = await post(CT, Buffer.from(good), { "content-length": String(good.length + 100) });
    expect(slow.status).toBe(408);
    const huge = await post(CT, Buffer.alloc(0), { "content-length": String(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(cp.requestLog().map((e) => e.status)).toEqual([408, 413]);
  });
});

describe("skills in the state file", () => {
  let dir: string;
  let stateFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentform-local-skills-"));
    stateFile = path.join(dir, "state.json");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A state file with two skills (one with two versions, one version deleted) and a deleted skill. */
  async function writeState(): Promise<{ kept: Anthropic.Skills.Skill; v2: Anthropic.Skills.SkillVersion; second: Anthropic.Skills.Skill; files: Files }> {
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      const files = { ...basicSkill("persisted", "first"), "persisted/nested/deep/file.bin": BINARY };
      const kept = await createSkill(c, files, "Persisted");
      const v2 = await c.skills.versions.create(kept.id, { files: await uploadables(basicSkill("persisted", "second")) });
      const v3 = await c.skills.versions.create(kept.id, { files: await uploadables(basicSkill("persisted", "third")) });
      await c.skills.versions.delete(v3.id, { skill_id: kept.id });
      const second = await createSkill(c, basicSkill("second-skill"));
      const gone = await createSkill(c, basicSkill("gone"));
      await c.skills.delete(gone.id);
      return { kept: await c.skills.retrieve(kept.id), v2, second, files };
    } finally {
      await cp.close();
    }
  }

  it("skills, versions and file bytes survive a restart; deleted ones stay deleted", async () => {
    const { kept, v2, second, files } = await writeState();
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      expect(await c.skills.retrieve(kept.id)).toEqual(kept);
      expect(kept.latest_version_id).toBe(v2.id);
      expect((await c.skills.list()).data.map((s) => s.id)).toEqual([kept.id, second.id]);
      const versions = (await c.skills.versions.list(kept.id)).data;
      expect(versions.map((v) => v.description)).toEqual(["first", "second"]);
      expect((await download(c, kept.id, versions[0]!.id)).entries).toEqual(asBytes(files));
      // The slug rule survives too.
      expect((await failure(c.skills.versions.create(kept.id, { files: await uploadables(basicSkill("renamed")) }))).status).toBe(400);
    } finally {
      await cp.close();
    }
  });

  it("stores file bytes as base64, and writes no skills key when there are none", async () => {
    await writeFile(stateFile, JSON.stringify({ format: "agentform-local-state", formatVersion: 1, agents: [], environments: [] }));
    const cp = await startLocalControlPlane({ stateFile });
    try {
      const c = clientFor(cp);
      expect((await c.skills.list()).data).toEqual([]);
      await c.beta.environments.create({ name: "no-skills" });
    } finally {
      await cp.close();
    }
    expect(Object.keys(JSON.parse(await readFile(stateFile, "utf8")) as object)).toEqual(["format", "formatVersion", "agents", "environments"]);
    const { kept } = await writeState();
    const state = JSON.parse(await readFile(stateFile, "utf8")) as { skills: Array<{ id: string; versions: Array<{ files: Array<{ path: string; data: string }> }> }> };
    expect(state.skills.map((s) => s.id)).toContain(kept.id);
    const bin = state.skills[0]!.versions[0]!.files.find((f) => f.path === "persisted/assets/blob.bin");
    expect(bin?.data).toBe(Buffer.from(BINARY).toString("base64"));
  });

  /** Any `any`: the tests reach into the file to break one field. */
  type Json = Record<string, any>;

  async function expectRefused(edit: (state: Json) => void, entry: string, detail: RegExp): Promise<void> {
    const state = JSON.parse(await readFile(stateFile, "utf8")) as Json;
    edit(state);
    const text = JSON.stringify(state);
    await writeFile(stateFile, text);
    const err = await startLocalControlPlane({ stateFile }).then(
      async (cp) => {
        await cp.close();
        return new Error("the server started on a hostile state file");
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentformError);
    const e = err as AgentformError;
    expect(e.code).toBe("local-state-corrupt");
    expect(e.message).toContain(stateFile);
    expect(e.message).toContain(`${entry}:`);
    expect(e.message).toMatch(detail);
    expect(e.details).toEqual({ file: stateFile, entry });
    expect(await readFile(stateFile, "utf8")).toBe(text);
  }

  it("refuses a hostile skill record with a clear error naming the entry, and leaves the file alone", async () => {
    await writeState();
    const original = await readFile(stateFile, "utf8");
    // Files are stored in upload order; the cases below rely on it.
    const stored = JSON.parse(original) as Json;
    expect((stored.skills[0].versions[0].files as Json[]).map((f) => f.path)).toEqual(["persisted/SKILL.md", "persisted/scripts/run.py", "persisted/assets/blob.bin", "persisted/nested/deep/file.bin"]);
    const restore = () => writeFile(stateFile, original);
    const skillMdOf = (s: Json) => (s.skills[0].versions[0].files as Json[]).find((f) => f.path === "persisted/SKILL.md") as Json;
    const cases: Array<[(s: Json) => void, string, RegExp]> = [
      [(s) => (s.skills = {}), "skills", /is not a list/],
      [(s) => (s.skills[0] = "x"), "skills[0]", /not an object/],
      [(s) => (s.skills[0].extra = 1), "skills[0]", /unexpected key "extra"/],
      [(s) => delete s.skills[1].display_name, "skills[1]", /missing key "display_name"/],
      [(s) => (s.skills[0].id = "agent_011x"), "skills[0].id", /not a skill id/],
      [(s) => (s.skills[1].id = s.skills[0].id), "skills[1].id", /more than once/],
      [(s) => (s.skills[1].versions[0].id = s.skills[0].versions[0].id), "skills[1].versions[0].id", /more than once/],
      [(s) => (s.skills[0].updated_at = "today"), "skills[0].updated_at", /timestamp/],
      [(s) => (s.skills[0].display_name = "two\nlines"), "skills[0].display_name", /single line/],
      [(s) => (s.skills[0].versions = []), "skills[0].versions", /non-empty/],
      [(s) => (s.skills[0].versions[0].files[1].path = "persisted/../../etc/passwd"), "skills[0].versions[0].files", /\.\. segment/],
      [(s) => (s.skills[0].versions[0].files[1].data = "not base64!"), "skills[0].versions[0].files[1].data", /base64/],
      [(s) => (s.skills[0].versions[0].files[1].data = "QQ"), "skills[0].versions[0].files[1].data", /base64/],
      [(s) => (s.skills[0].versions[0].files = s.skills[0].versions[0].files.filter((f: Json) => f.path !== "persisted/SKILL.md")), "skills[0].versions[0].files", /no SKILL.md/],
      [(s) => (skillMdOf(s).data = Buffer.from(skillMd("persisted-claude")).toString("base64")), "skills[0].versions[0].files", /reserved word "claude"/],
      [(s) => (s.skills[0].name = "other"), "skills[0].versions[0].files", /names the skill "persisted", not "other"/],
      [(s) => (s.skills[0].versions[1].description = "forged"), "skills[0].versions[1].description", /not the description/],
      [(s) => Object.defineProperty(s.skills[0].versions[0].files[0], "__proto__", { value: { polluted: true }, enumerable: true }), "skills[0].versions[0].files[0]", /unexpected key "__proto__"/],
    ];
    for (const [edit, entry, detail] of cases) {
      await expectRefused(edit, entry, detail);
      await restore();
    }
    // The untouched file still loads: the refusals above were about the edits.
    const cp = await startLocalControlPlane({ stateFile });
    await cp.close();
  });
});
