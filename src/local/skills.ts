/**
 * Skills and skill versions of the local control plane (the GA `/v1/skills` shape). A skill is a
 * fixed slug (`name`, from the first upload's SKILL.md) plus versions, each an immutable set of
 * files. File bytes are kept as base64 so the state file can hold them as they are and a content
 * download works after a restart. Like environments, deleted records stay in the ordered arrays
 * as holes, so outstanding list cursors keep their meaning.
 */
import { zipSync } from "fflate";
import { badRequest, notFound } from "./api-error.js";
import { decodeCursor, live, pageOf, scopedList, type Page } from "./paging.js";
import type { ResolvedSkillFiles } from "./skill-config.js";
import { RecordStore } from "./records.js";
import { newId, type Obj } from "./util.js";

export interface SkillFileRecord {
  path: string;
  /** The file's bytes, base64. */
  data: string;
}

export interface SkillVersionRecord {
  id: string;
  created_at: string;
  description: string;
  files: SkillFileRecord[];
  deleted?: boolean;
}

export interface SkillRecord {
  id: string;
  created_at: string;
  updated_at: string;
  display_name: string;
  /** The slug: fixed by the first upload, every later upload must match it. */
  name: string;
  versions: SkillVersionRecord[];
  deleted?: boolean;
}

/** Page sizes of the skill lists: the real limits are not documented; these are this server's choice. */
export const SKILL_LIST_DEFAULT_LIMIT = 20;
export const SKILL_LIST_MAX_LIMIT = 100;
export const SKILL_VERSION_LIST_DEFAULT_LIMIT = 20;
export const SKILL_VERSION_LIST_MAX_LIMIT = 1000;

/** `source` values the SDK's SkillSource names; only `custom` skills exist here. */
export const SKILL_SOURCES = ["custom", "anthropic", "anthropic_example", "plugin"] as const;
export type SkillSourceType = (typeof SKILL_SOURCES)[number];

/** A version's content as a zip download. */
export interface SkillArchive {
  filename: string;
  bytes: Uint8Array;
}

/** The skills of one control plane. `commit` is called after every change (persistence hooks in there). */
export class SkillStore extends RecordStore<SkillRecord> {
  constructor(commit: () => void, now: () => Date) {
    super("skill", commit, now);
  }

  /** Whether a skill exists (a deployment run checks the custom skills its agent names). */
  exists(id: string): boolean {
    return this.records.find(id) !== undefined;
  }

  private version(record: SkillRecord, versionId: string): SkillVersionRecord {
    const v = record.versions.find((x) => x.id === versionId && live(x));
    if (!v) throw notFound(`skill ${record.id} has no version ${versionId}`);
    return v;
  }

  /** The newest live version; a skill always keeps at least one (see deleteVersion). */
  private latest(record: SkillRecord): SkillVersionRecord {
    for (let i = record.versions.length - 1; i >= 0; i--) {
      const v = record.versions[i] as SkillVersionRecord;
      if (live(v)) return v;
    }
    throw new Error(`skill ${record.id} has no versions`);
  }

  protected view(r: SkillRecord): Obj {
    return {
      id: r.id,
      type: "skill",
      display_name: r.display_name,
      latest_version_id: this.latest(r).id,
      source: { type: "custom" },
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }

  private versionView(r: SkillRecord, v: SkillVersionRecord): Obj {
    return { id: v.id, type: "skill_version", skill_id: r.id, name: r.name, description: v.description, created_at: v.created_at };
  }

  private newVersion(upload: ResolvedSkillFiles, at: string): SkillVersionRecord {
    const files = upload.files.map((f) => ({ path: f.path, data: f.data.toString("base64") }));
    return { id: newId("skver"), created_at: at, description: upload.description, files };
  }

  /** `display_name` defaults to the frontmatter name; it is a label, not unique. */
  create(upload: ResolvedSkillFiles, displayName: string | null): Obj {
    const at = this.now().toISOString();
    const record: SkillRecord = { id: newId("skill"), created_at: at, updated_at: at, display_name: displayName ?? upload.name, name: upload.name, versions: [this.newVersion(upload, at)] };
    return this.insert(record);
  }

  /** Only custom skills exist here, so any other `source` filter gives an empty list. */
  list(limit: number, page: string | null, source: SkillSourceType | null): Page {
    const start = decodeCursor("skills", page);
    return pageOf(this.records.all, start, limit, (r) => live(r) && (source === null || source === "custom"), (r) => this.view(r), "skills");
  }

  /** Deletes the skill and, with it, every version. */
  delete(id: string): Obj {
    const record = this.records.get(id);
    this.records.delete(record);
    this.commit();
    return { id, type: "skill_deleted" };
  }

  /** A new version becomes the latest; its SKILL.md must resolve to the skill's slug. */
  createVersion(id: string, upload: ResolvedSkillFiles): Obj {
    const record = this.records.get(id);
    if (upload.name !== record.name) {
      throw badRequest(`files: SKILL.md names the skill ${JSON.stringify(upload.name)}, but skill ${id} is ${JSON.stringify(record.name)}; the name of a skill cannot change`);
    }
    const at = this.now().toISOString();
    const v = this.newVersion(upload, at);
    record.versions.push(v);
    record.updated_at = at;
    this.commit();
    return this.versionView(record, v);
  }

  getVersion(id: string, versionId: string): Obj {
    const record = this.records.get(id);
    return this.versionView(record, this.version(record, versionId));
  }

  /** Oldest first, like agent versions (the real order is not documented). */
  listVersions(id: string, limit: number, page: string | null): Page {
    const record = this.records.get(id);
    const list = scopedList("skill_versions", id);
    return pageOf(record.versions, decodeCursor(list, page), limit, live, (v) => this.versionView(record, v), list);
  }

  /**
   * Refuses to delete the last version: the SDK documents that a skill always holds one
   * (`latest_version_id` is "always set"), so the skill itself is what to delete.
   */
  deleteVersion(id: string, versionId: string): Obj {
    const record = this.records.get(id);
    const v = this.version(record, versionId);
    if (record.versions.filter(live).length === 1) {
      throw badRequest(`version ${versionId} is the only version of skill ${id}; a skill keeps at least one version, so delete the skill instead`);
    }
    v.deleted = true;
    record.updated_at = this.now().toISOString();
    this.commit();
    return { id: versionId, type: "skill_version_deleted" };
  }

  /** The version's files as a zip, entries named as uploaded, timestamped with the version's creation. */
  archive(id: string, versionId: string): SkillArchive {
    const record = this.records.get(id);
    const v = this.version(record, versionId);
    const mtime = new Date(v.created_at);
    // No prototype: an uploaded path is used as a key.
    const entries: Record<string, [Uint8Array, { mtime: Date }]> = Object.create(null) as Record<string, [Uint8Array, { mtime: Date }]>;
    for (const f of v.files) entries[f.path] = [Buffer.from(f.data, "base64"), { mtime }];
    return { filename: `${record.name}.zip`, bytes: zipSync(entries, { level: 6 }) };
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Live skills with their live versions, as plain data. */
  snapshot(): SkillRecord[] {
    return this.records.all.filter(live).map((r) => ({ ...r, versions: r.versions.filter(live) }));
  }

  /** Replace the skills with checked records (see state-check.ts). */
  load(records: readonly SkillRecord[]): void {
    this.records.load(records.map((r) => ({ ...r, versions: r.versions.map((v) => ({ ...v, files: v.files.map((f) => ({ ...f })) })) })));
  }
}
