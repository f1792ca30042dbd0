/**
 * `agentform import`: write manifests for the live resources of a workspace that no manifest
 * describes and no other project owns, each marked `agentform: {adopt: true}`, so the first plan
 * of an existing workspace is adoptions with zero field changes (docs/import.md). It reads the
 * workspace with list calls only and writes files only: never anything to the API.
 */
import { antPathOption, backendOption } from "./backend-options.js";
import { access } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { stringify as stringifyYaml } from "yaml";
import { ConfigError, ExitCode } from "../errors.js";
import { addressOf, byKind, KIND_ORDER, KINDS, kindSpec, parentOf } from "../kinds/index.js";
import type { ImportNameOf } from "../kinds/spec.js";
import type { LiveResource, ResourceKind } from "../kinds/types.js";
import { isObj, type Obj } from "../kinds/values.js";
import { lockTable } from "../lock/table.js";
import { parseText } from "../manifest/file.js";
import { checkManifestValues } from "../manifest/load.js";
import { escapeVarText } from "../manifest/vars.js";
import { markdownManifest, prefersMarkdown } from "../manifest/markdown.js";
import { OWNERSHIP_KEY } from "../manifest/types.js";
import { ownerOf } from "../normalize/index.js";
import { inertText } from "../render/inert.js";
import { runAntImport } from "./import-ant.js";
import type { CommandContext } from "./main.js";
import type { FileOp } from "./file-batch.js";
import { writeImport } from "./project-adopt.js";
import { wildcardMatch } from "../util/glob.js";
import { openWorkspace, refresh, reportWarnings, type LiveState, type Workspace } from "./workflow.js";

interface ImportFlags {
  target?: string;
  config?: string;
  backend?: "sdk" | "ant";
  antPath?: string;
  kind?: string;
  name?: string;
  dryRun?: boolean;
  fromAnt?: string;
}

/** The most downloaded file bytes (skills) one import holds before writing them. */
const MAX_HELD_BYTES = 64 * 1024 * 1024;

/** The longest file name import derives from a live name (before the extension). */
export const MAX_IMPORT_FILE_STEM = 80;

/** One live resource import considered: written to `file`, or skipped for `reason`. */
interface Outcome {
  kind: ResourceKind;
  live: LiveResource;
  file?: string;
  manifest?: Obj;
  reason?: string;
  /** Written inside its holder's manifest (a credential in its vault's), at this entry. */
  entry?: string;
  /** What the next plan will show for it beyond the adoption (a credential's display_name). */
  note?: string;
  /** A kind kept as a folder (a skill): `file` is the folder, these its files (path inside it → bytes), as downloaded. */
  files?: Record<string, Uint8Array>;
}

export function registerImport(program: Command, ctx: CommandContext): void {
  program
    .command("import")
    .description("Write manifests (marked for adoption) for live resources no manifest describes and no other project owns.")
    .option("-t, --target <name>", "target from agentform.yaml (default: \"default\")")
    .option("-c, --config <file>", "path to agentform.yaml")
    .addOption(backendOption())
    .addOption(antPathOption())
    .option("--kind <kind>", `only this kind (${Object.keys(KINDS).join(", ")})`)
    .option("--name <glob>", "only live names matching this glob (* and ? wildcards)")
    .option("--dry-run", "print what would be written; write nothing")
    .option("--from-ant <claude-lock.json>", "migrate the `ant apply` repository this lockfile belongs to, in place")
    .addHelpText("after", "\nExit codes: 0 done (skipped resources are listed, not failures), 4 usage or invalid manifests, 1 other errors.")
    .action(async (flags: ImportFlags) => {
      if (flags.fromAnt !== undefined && (flags.kind !== undefined || flags.name !== undefined)) {
        throw new ConfigError("import-from-ant-selection", "import --from-ant migrates the whole repository; --kind and --name do not apply.", { hint: "Run it without --kind and --name." });
      }
      ctx.exitCode = flags.fromAnt !== undefined ? await runAntImport({ ...flags, fromAnt: flags.fromAnt }, ctx) : await runImport(flags, ctx);
    });
}

async function runImport(flags: ImportFlags, ctx: CommandContext): Promise<number> {
  const kinds = selectedKinds(flags.kind);
  const match = nameMatcher(flags.name);
  // The lists start while the manifests load: import reads every kind it may write a manifest for.
  const ws = await openWorkspace({ cwd: process.cwd(), configPath: flags.config, target: flags.target, backend: flags.backend, readLive: {} }, { env: ctx.io.env, antPath: flags.antPath });
  try {
    reportWarnings(ws, ctx.io);
    const live = await refresh(ws);
    const outcomes = await planImport(ws, live, kinds, match, flags.kind !== undefined);
    for (const o of outcomes) {
      const address = inertText(addressOf(o.kind, o.live.name));
      if (o.reason !== undefined) ctx.io.stdout.write(`! ${address} (${inertText(o.live.id)}): not imported: ${inertText(o.reason)}\n`);
      else ctx.io.stdout.write(`+ ${address} (${inertText(o.live.id)}) -> ${inertText(o.file as string)}${detailOf(o, ws.config.file)}${flags.dryRun ? " (dry run)" : ""}\n`);
    }
    const written = outcomes.filter((o) => o.reason === undefined && o.entry === undefined);
    if (!flags.dryRun) await writeImported(ws, written, ctx);
    if (flags.kind !== undefined && kindSpec(kinds[0] as ResourceKind).parentKind !== undefined) {
      ctx.io.stdout.write(`${inertText(flags.kind)}s are imported with their ${kindSpec(kinds[0] as ResourceKind).parentKind}: run \`agentform import --kind ${kindSpec(kinds[0] as ResourceKind).parentKind}\`.\n`);
    }
    const skipped = outcomes.filter((o) => o.reason !== undefined).length;
    const verb = flags.dryRun ? "would write" : "wrote";
    ctx.io.stdout.write(`Import: ${verb} ${written.length} manifest(s), skipped ${skipped}.${written.length > 0 && !flags.dryRun ? " Review them, then `agentform plan`: each is an adoption." : ""}\n`);
    return ExitCode.ok;
  } finally {
    await ws.close();
  }
}

/** Every manifest, skill file and agentform.yaml's adopt: entries, as one change (all or nothing). */
async function writeImported(ws: Workspace, written: readonly Outcome[], ctx: CommandContext): Promise<void> {
  const header = "# Written by `agentform import`: review it; the next plan adopts the live resource.\n";
  const ops: FileOp[] = written.flatMap((o): FileOp[] => {
    if (o.files) return Object.entries(o.files).map(([rel, bytes]) => ({ rel: `${o.file as string}/${rel}`, mode: "create", data: bytes }));
    const markdown = (o.file as string).endsWith(".md") ? markdownManifest(o.kind, o.manifest as Obj) : undefined;
    // The comment goes inside the frontmatter, which must open the file.
    const text = markdown !== undefined ? markdown.replace(/^---\n/, `---\n${header}`) : header + stringifyYaml(o.manifest, { lineWidth: 0 });
    return [{ rel: o.file as string, mode: "create", data: text }];
  });
  await writeImport(ws.config, ops, written.filter((o) => o.files !== undefined).map((o) => ({ kind: o.kind, name: o.live.name, id: o.live.id })), ctx);
}

/** What an imported resource's line adds after its file. */
function detailOf(o: Outcome, configFile: string): string {
  if (o.entry !== undefined) return ` (entry ${inertText(o.entry)}; its secret is named by a variable, never read${o.note !== undefined ? `; ${inertText(o.note)}` : ""})`;
  if (o.files !== undefined) return `/ (${Object.keys(o.files).length} file(s) as downloaded; adopted through ${inertText(configFile)}'s adopt:)`;
  return "";
}

function selectedKinds(kind: string | undefined): readonly ResourceKind[] {
  if (kind === undefined) return KIND_ORDER;
  if (!Object.hasOwn(KINDS, kind)) {
    throw new ConfigError("import-unknown-kind", `import --kind takes a kind, not "${inertText(kind)}".`, { hint: `One of ${Object.keys(KINDS).join(", ")}.` });
  }
  return [kind as ResourceKind];
}

/** A `--name` glob (`*` any run of characters, `?` one) as a test on live names; all names when absent. */
export function nameMatcher(glob: string | undefined): (name: string) => boolean {
  if (glob === undefined) return () => true;
  return (name) => wildcardMatch(glob, name);
}

/**
 * A file name stem from a live name: lower case, every character outside `[a-z0-9._-]` a `-`,
 * no leading dots (so never `.` or `..`), at most MAX_IMPORT_FILE_STEM characters; "" when
 * nothing is left (the resource is then skipped, never named by guess).
 */
export function safeFileStem(name: string): string {
  const mapped = [...name.toLowerCase()].map((c) => (/^[a-z0-9._-]$/.test(c) ? c : "-")).join("");
  return mapped.replace(/^\.+/, "").slice(0, MAX_IMPORT_FILE_STEM).replace(/\.+$/, "");
}

/**
 * Kinds without an ownership marker (skills): another project's cannot be told from an unmanaged
 * one (its lockfile is elsewhere), so import takes them only when asked for by kind.
 */
function unmarked(kind: ResourceKind, explicit: boolean): string | undefined {
  if (explicit || kindSpec(kind).ownership === "marker") return undefined;
  return `a ${kind} carries no ownership marker, so import cannot tell whether another project manages it; if none does, run \`agentform import --kind ${kind}\``;
}

/** Whether a live resource is left to others: archived, another project's, or this project's lockfile's under another name. */
function notOurs(ws: Workspace, kind: ResourceKind, live: LiveResource): string | undefined {
  const owner = ownerOf(live);
  if (kindSpec(kind).ownership === "marker" && owner !== null && owner !== ws.config.project) return `project "${inertText(owner)}" owns it`;
  const locked = ws.lock ? Object.entries(lockTable(ws.lock, kind)).find(([, e]) => e.id === live.id) : undefined;
  if (locked && locked[0] !== live.name) return `this project's lockfile records it as "${inertText(locked[0])}"`;
  return undefined;
}

/** Names (current and previous) the manifests of a kind describe. */
function describedNames(ws: Workspace, kind: ResourceKind): Set<string> {
  return new Set(ws.load.manifests[kind].flatMap((m) => [m.name, ...m.settings.previous_names]));
}

/**
 * What import does with each live resource of the selected kinds that no manifest describes:
 * the candidates first (skips for ownership, duplicates, kinds not supported), then their files
 * (skips for collisions), then the names references use, the manifests, and what they hold.
 */
async function planImport(ws: Workspace, live: LiveState, kinds: readonly ResourceKind[], match: (n: string) => boolean, explicit: boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const kind of kinds) {
    // Kinds inside another (credentials) are imported with their holder, into its manifest.
    if (kindSpec(kind).parentKind) continue;
    const described = describedNames(ws, kind);
    const all = live[kind] as LiveResource[];
    const counts = new Map<string, number>();
    for (const l of all) counts.set(l.name, (counts.get(l.name) ?? 0) + 1);
    for (const l of all) {
      if (described.has(l.name) || !match(l.name)) continue;
      const reason = unmarked(kind, explicit) ?? notOurs(ws, kind, l) ?? ((counts.get(l.name) ?? 0) > 1 ? `${counts.get(l.name)} live ${kind}s share this name; rename all but one first` : undefined);
      outcomes.push(reason === undefined ? { kind, live: l } : { kind, live: l, reason });
    }
  }
  // Files first: a resource skipped for a collision has no manifest, so nothing may name it by ref.
  await assignFiles(ws, outcomes);
  let held = 0;
  for (const o of outcomes) {
    if (o.reason !== undefined || kindSpec(o.kind).layout !== "folder") continue;
    // Each download is bounded; so is what import holds of them all before writing.
    if (held > MAX_HELD_BYTES) o.reason = `import holds at most ${MAX_HELD_BYTES / 1024 / 1024} MiB of downloaded files per run; import the rest with --name`;
    else held += await downloadFolder(ws, o);
  }
  return settledManifests(ws, live, outcomes);
}

/**
 * The manifests, checked as `validate` will check them; a resource whose manifest would fail
 * (a live value agentform refuses, such as a control character in a name or a 16th metadata key
 * leaving no room for the marker) is skipped with the problem as its reason, and the others are
 * made again (a reference to it keeps its id). Each round skips at least one, so this ends.
 */
function settledManifests(ws: Workspace, live: LiveState, outcomes: Outcome[]): Outcome[] {
  for (;;) {
    const nameOf = importNames(ws, live, outcomes);
    for (const o of outcomes) {
      delete o.manifest;
      if (o.reason !== undefined || o.files !== undefined) continue;
      o.manifest = importedManifest(o.kind, o.live, nameOf);
      // A long or multi-line prompt (or description) reads better as the Markdown body.
      o.file = (o.file as string).replace(/\.md$/, ".yaml");
      // (Never as README.md: the loader reads that as the folder's documentation.)
      if (prefersMarkdown(o.kind, o.manifest) && !/\/readme\.yaml$/i.test(o.file)) o.file = o.file.replace(/\.yaml$/, ".md");
    }
    const all = outcomes.flatMap((o) => [o, ...nestedOutcomes(ws, live, o)]);
    const written = outcomes.filter((o) => o.manifest !== undefined);
    const folders = byKind((k) => outcomes.filter((o) => o.kind === k && o.reason === undefined && o.files !== undefined).map((o) => o.live.name));
    const problems = checkManifestValues(ws.config, ws.load.manifests, written.map((o) => ({ kind: o.kind, file: o.file as string, value: o.manifest as Obj })), folders);
    if (problems.length === 0) return all;
    for (const o of written) {
      const d = problems.find((p) => p.file === o.file);
      if (d) o.reason = `agentform cannot manage it as it is (${d.path !== "" ? `${d.path}: ` : ""}${d.message} [${d.code}]); change it in the Console or by hand first`;
    }
  }
}

/**
 * The resources inside an imported holder (a vault's credentials), written into its manifest
 * (`credentials:`): each as its kind's `fromLive` makes it, or skipped with the reason.
 */
function nestedOutcomes(ws: Workspace, live: LiveState, holder: Outcome): Outcome[] {
  const nested = kindSpec(holder.kind).nested;
  if (holder.reason !== undefined || !nested?.fromLive || !holder.manifest) return [];
  const children = (live[nested.kind] as LiveResource[]).filter((c) => parentOf(nested.kind, c) === holder.live.id);
  const made = children.map((c) => ({ c, r: notOurs(ws, nested.kind, c) ?? nested.fromLive?.(c as unknown as Obj, holder.live.name) }));
  const locals = made.map(({ r }) => (typeof r === "object" && "local" in r ? r.local : undefined));
  const entries: Obj = {};
  const out = made.map(({ c, r }): Outcome => {
    if (r === undefined) return { kind: nested.kind, live: c, reason: "it cannot be written into its holder's manifest" };
    if (typeof r === "string") return { kind: nested.kind, live: c, reason: r };
    if ("reason" in r) return { kind: nested.kind, live: c, reason: r.reason };
    if (locals.filter((l) => l === r.local).length > 1) return { kind: nested.kind, live: c, reason: `${locals.filter((l) => l === r.local).length} live ${nested.kind}s in it share this name; rename all but one first` };
    entries[r.local] = r.entry;
    return { kind: nested.kind, live: c, file: holder.file as string, entry: r.local, ...(r.note !== undefined ? { note: r.note } : {}) };
  });
  if (Object.keys(entries).length > 0) {
    const { agentform, ...rest } = holder.manifest;
    holder.manifest = { ...rest, credentials: entries, agentform };
  }
  return out;
}

/**
 * A folder kind's files (a skill's latest version), downloaded as they are: its manifest file is
 * part of what is uploaded, so it cannot carry the adoption mark (agentform.yaml's `adopt:` does).
 * Skipped when its manifest would name it otherwise than its folder.
 */
async function downloadFolder(ws: Workspace, o: Outcome): Promise<number> {
  const spec = kindSpec(o.kind);
  const files = await ws.target.backend.files(o.kind, o.live);
  const manifestFile = spec.manifestFile ?? "";
  const bytes = files[manifestFile];
  const parsed = bytes === undefined ? undefined : parseText(new TextDecoder().decode(bytes), manifestFile, true);
  const named = parsed !== undefined && !("code" in parsed) && isObj(parsed.parsed.value) ? parsed.parsed.value[spec.nameField] : undefined;
  if (named !== o.live.name) {
    o.reason = `its ${manifestFile} ${named === undefined ? "has no readable name" : `names it "${inertText(String(named))}"`}, but agentform names a ${o.kind} by its folder, "${inertText(o.live.name)}"; write it by hand`;
    return 0;
  }
  o.files = files;
  return Object.values(files).reduce((n, b) => n + b.length, 0);
}

/** How references name a live resource: by the manifest describing it (existing or being written), with its latest version. */
function importNames(ws: Workspace, live: LiveState, outcomes: readonly Outcome[]): ImportNameOf {
  const names = new Map<string, { name: string; latest?: number | string }>();
  const add = (kind: ResourceKind, l: LiveResource, name: string) => {
    const latest = (kindSpec(kind).pinOf as (live: LiveResource) => number | string | undefined)(l);
    names.set(`${kind}\0${l.id}`, latest === undefined ? { name } : { name, latest });
  };
  for (const kind of KIND_ORDER) {
    for (const m of ws.load.manifests[kind]) {
      const l = (live[kind] as LiveResource[]).find((x) => x.name === m.name) ?? (live[kind] as LiveResource[]).find((x) => m.settings.previous_names.includes(x.name));
      if (l) add(kind, l, m.name);
    }
  }
  for (const o of outcomes) if (o.reason === undefined) add(o.kind, o.live, o.live.name);
  return (kind, id) => names.get(`${kind}\0${id}`);
}

/** The manifest: the kind's `toManifest`, references by name, no ownership marker, marked for adoption. */
function importedManifest(kind: ResourceKind, live: LiveResource, nameOf: ImportNameOf): Obj {
  const spec = kindSpec(kind) as { toManifest(l: LiveResource): Obj; namedRefs?(m: Obj, n: ImportNameOf): Obj };
  let manifest = spec.toManifest(live);
  if (spec.namedRefs) manifest = spec.namedRefs(manifest, nameOf);
  const metadata = manifest.metadata;
  if (metadata !== null && typeof metadata === "object" && !Array.isArray(metadata) && OWNERSHIP_KEY in metadata) {
    const { [OWNERSHIP_KEY]: _marker, ...rest } = metadata as Obj;
    manifest = { ...manifest, metadata: rest };
    if (Object.keys(rest).length === 0) delete manifest.metadata;
  }
  // Text from the live resource means itself: a `${` in a prompt is not a reference to a var.
  return { ...(escapeVarText(manifest) as Obj), agentform: { adopt: true } };
}

/** Each manifest's file, relative to the project root; a collision (two resources, or a file that exists) skips every resource involved. */
async function assignFiles(ws: Workspace, outcomes: Outcome[]): Promise<void> {
  const byFile = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    if (o.reason !== undefined) continue;
    const stem = safeFileStem(o.live.name);
    if (stem === "") {
      o.reason = "its name has no character a file name can use; write its manifest by hand";
      continue;
    }
    const layout = kindSpec(o.kind).layout;
    // A folder is the resource's name itself: a name that must change to be a folder cannot be one.
    if (layout === "folder" && stem !== o.live.name) {
      o.reason = `its name is not a folder name (it would have to be "${inertText(stem)}"); write its folder by hand`;
      continue;
    }
    const folder = ws.config.paths[kindSpec(o.kind).folder] ?? kindSpec(o.kind).folder;
    o.file = path.posix.join(folder.split(path.sep).join("/"), layout === "folder" ? stem : `${stem}.yaml`);
    byFile.set(o.file, [...(byFile.get(o.file) ?? []), o]);
  }
  for (const [file, group] of byFile) {
    // The same name as Markdown (`.md`, which a long prompt is written as) is the same resource.
    const markdown = kindSpec(group[0]!.kind).markdownBody !== undefined ? [file.replace(/\.yaml$/, ".md")] : [];
    const found = await Promise.all([file, ...markdown].map((f) => access(path.join(ws.config.root, f)).then(() => f, () => undefined)));
    const existing = found.find((f) => f !== undefined);
    if (existing === undefined && group.length === 1) continue;
    const others = group.length > 1 ? `${group.map((g) => `"${inertText(g.live.name)}"`).join(", ")} all map to ${inertText(file)}` : `${inertText(existing as string)} already exists`;
    for (const o of group) o.reason = `file name collision: ${others}; write its manifest by hand`;
  }
}
