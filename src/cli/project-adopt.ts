/** agentform.yaml's `adopt:` map, written by the importers (docs/import.md, "Adopting by id"). */
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import type { ResourceKind } from "../kinds/types.js";
import type { ProjectConfig } from "../manifest/types.js";

/**
 * agentform.yaml's `adopt:` entries for resources whose manifest cannot carry the mark (skills),
 * each by id: the file is edited as a document, so its comments and layout stay.
 */
export async function recordProjectAdoptions(config: ProjectConfig, adoptions: ReadonlyArray<{ kind: ResourceKind; name: string; id: string }>): Promise<void> {
  if (adoptions.length === 0) return;
  const file = path.join(config.root, config.file);
  const doc = parseDocument(await readFile(file, "utf8"));
  for (const a of adoptions) doc.setIn(["adopt", `${a.kind}/${a.name}`], a.id);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, doc.toString({ lineWidth: 0 }), { flag: "wx" });
  await rename(temp, file);
}

