/** agentform.yaml's `adopt:` map, written by the importers (docs/import.md, "Adopting by id"). */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import type { ResourceKind } from "../kinds/types.js";
import type { ProjectConfig } from "../manifest/types.js";
import { inertText } from "../render/inert.js";
import { applyFileBatch, type FileOp } from "./file-batch.js";
import type { CommandContext } from "./main.js";

interface ProjectAdoptions {
  /** agentform.yaml rewritten with the entries (as a document, so its comments and layout stay). */
  op?: FileOp;
  /** The entries to add by hand, when agentform.yaml is a symbolic link (never written through). */
  manual?: string[];
}

/** agentform.yaml's `adopt:` entries for resources whose manifest cannot carry the mark (skills), each by id. */
async function projectAdoptions(config: ProjectConfig, adoptions: ReadonlyArray<{ kind: ResourceKind; name: string; id: string }>): Promise<ProjectAdoptions> {
  if (adoptions.length === 0) return {};
  const file = path.join(config.root, config.file);
  const entries = adoptions.map((a) => [`${a.kind}/${a.name}`, a.id] as const);
  if ((await lstat(file)).isSymbolicLink()) return { manual: entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`) };
  const doc = parseDocument(await readFile(file, "utf8"));
  for (const [address, id] of entries) doc.setIn(["adopt", address], id);
  return { op: { rel: config.file, mode: "replace", data: doc.toString({ lineWidth: 0 }) } };
}

/**
 * An importer's files and agentform.yaml's `adopt:` entries, as one change (all or nothing); the
 * entries are printed to add by hand when agentform.yaml is a link it will not write through.
 */
export async function writeImport(config: ProjectConfig, ops: readonly FileOp[], adoptions: ReadonlyArray<{ kind: ResourceKind; name: string; id: string }>, ctx: CommandContext): Promise<void> {
  const project = await projectAdoptions(config, adoptions);
  await applyFileBatch(config.root, project.op ? [...ops, project.op] : ops);
  if (project.manual) ctx.io.stdout.write(`${inertText(config.file)} is a symbolic link, so it was not changed: add under adopt: ${project.manual.map(inertText).join(", ")}\n`);
}
