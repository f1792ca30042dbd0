/**
 * An `ant apply` repository converted to agentform manifests, in place (pure but for the two
 * reads it is given): each resource file keeps its path (a `.json` becomes `.yaml`) and its
 * Markdown body; references by path or glob become references by name; data files of `tools`
 * and `mcp_servers` are spliced in; a resource without `name` is named after its file; and each
 * resource the lockfile tracks is marked for adoption by its id, so the first plan takes over
 * exactly what `ant apply` made. Every problem is a diagnostic naming file, line and column; the
 * caller writes nothing when there is one.
 */
import path from "node:path";
import { parseDocument, stringify as stringifyYaml } from "yaml";
import { KINDS, kindSpec } from "../kinds/index.js";
import type { AntResolve, AntTarget } from "../kinds/ant.js";
import type { ResourceKind } from "../kinds/types.js";
import { isObj, type Obj } from "../kinds/values.js";
import { MAX_FILE_BYTES, parseText } from "../manifest/file.js";
import { pointerToPath } from "../manifest/format.js";
import { escapeVarText } from "../manifest/vars.js";
import { wildcardMatch } from "../util/glob.js";
import type { Diagnostic, Position } from "../manifest/types.js";
import type { AntLock, AntLockEntry } from "./lockfile.js";

/** One resource of the repository: a file (with its text), or a folder of a folder kind (a skill). */
export interface AntFile {
  rel: string;
  kind: ResourceKind;
  text?: string;
}

export interface AntIO {
  /** A data file's text (path relative to the project root), why it cannot be read, or undefined when there is none. */
  read(rel: string): { text: string } | { problem: string } | undefined;
  /** The file names in a folder, or undefined when there is no such folder. */
  list(rel: string): string[] | undefined;
}

export interface AntInput {
  files: AntFile[];
  lock: AntLock;
  /** The kinds' folders, relative to the project root: data files may not sit directly in one. */
  kindFolders: ReadonlySet<string>;
  io: AntIO;
  /** Live resources (not archived), `<kind>\0<id>` → name: a tracked id missing here is gone (or is another kind's). */
  liveNames: ReadonlyMap<string, string>;
  /** Files in the kind folders' sub-folders that agentform would read as manifests: each must be a data file spliced in (and removed). */
  subFolderFiles: readonly string[];
}

export interface AntOutput {
  kind: ResourceKind;
  name: string;
  /** The file (or folder) it comes from. */
  from: string;
  /** Where the manifest goes (`from`, or the `.yaml` beside a `.json`). */
  rel: string;
  /** The manifest's text; undefined for a folder kind, left exactly as it is. */
  text?: string;
  /** The id the lockfile tracks it under, taken over on the first apply. */
  id?: string;
  /** The version the lockfile left it at. */
  version?: string;
  /** The live resource's name when it differs (renamed outside ant): the manifest lists it in previous_names. */
  liveName?: string;
  /** The lockfile tracks it, but its id is not live any more: nothing to adopt, the next plan creates it. */
  gone?: string;
}

export interface AntResult {
  outputs: AntOutput[];
  /** Data files spliced into manifests that sat inside a kind folder, where agentform would read them as manifests. */
  removals: string[];
  /** Lockfile entries not carried, with why (a GitHub URL source, a file gone). */
  skipped: Array<{ key: string; id: string; why: string }>;
  diagnostics: Diagnostic[];
}

interface Resource {
  file: AntFile;
  name: string;
  value?: Obj;
  locate: (pointer: string) => Position;
  /** `.md`: the text from the line after the frontmatter, kept as it is. */
  body?: string;
}

const HEADER = "Converted from `ant apply` by `agentform import --from-ant`: review it; the next plan adopts the resource.";
const GLOB = /[*?]/;

/** The most bytes of data files spliced into one manifest, and the most a written manifest may hold: the loader's limit. */
const MAX_MANIFEST_BYTES = MAX_FILE_BYTES;

export function convertAntRepo(input: AntInput): AntResult {
  const diagnostics: Diagnostic[] = [];
  const resources = input.files.map((f) => parseResource(f, diagnostics));
  const byRel = new Map(resources.map((r) => [r.file.rel, r]));
  const lockByRel = new Map(input.lock.entries.filter((e) => e.rel !== undefined).map((e) => [e.rel as string, e]));
  const edges = new Map<string, string[]>();
  const removals = new Set<string>();
  const outputs: AntOutput[] = [];
  // The entries some file answers to (under its own name, or the one an earlier run converted).
  const answered = new Set<AntLockEntry>();
  for (const r of resources) {
    const entry = lockByRel.get(r.file.rel) ?? earlierEntry(r.file.rel, byRel, lockByRel);
    if (entry) answered.add(entry);
    if (entry && entry.kind !== r.file.kind) {
      diagnostics.push(diag(r, "/", "AF-ANT-KIND-CHANGED", `claude-lock.json tracks ${r.file.rel} as a ${entry.kind} (${entry.id}), but it is now a ${r.file.kind}`, "Move the file back to its kind's folder, or remove its entry from claude-lock.json to create it anew."));
      continue;
    }
    const live = entry === undefined ? undefined : input.liveNames.get(`${entry.kind}\0${entry.id}`);
    const tracked = live === undefined ? undefined : { entry: entry as AntLockEntry, liveName: live };
    if (r.value === undefined) {
      outputs.push(output(r, entry, tracked, undefined));
      continue;
    }
    // Converted by an earlier run: agentform's already, kept as it is (converting it again would
    // escape its escapes a second time). ant's files never have an agentform block (ant would
    // send it to the API); an untracked one is known by its header, whatever its line endings.
    if (Object.hasOwn(r.value, "agentform") || r.file.text?.replace(/\r\n?/g, "\n").includes(`# ${HEADER}\n`)) {
      outputs.push(output(r, entry, tracked, r.file.text));
      continue;
    }
    const resolve = resolverFor(r, { byRel, lock: input.lock, edges, diagnostics });
    const spec = kindSpec(r.file.kind);
    let value = spec.ant?.refs ? spec.ant.refs(r.value, resolve) : r.value;
    value = splice(value, r, input, removals, diagnostics);
    outputs.push(output(r, entry, tracked, manifestText(r, value, tracked)));
  }
  diagnostics.push(...cycles(edges, byRel));
  for (const o of outputs) {
    if (o.text !== undefined && Buffer.byteLength(o.text) > MAX_MANIFEST_BYTES) diagnostics.push(diag(byRel.get(o.from) as Resource, "/", "AF-ANT-TOO-LARGE", `the converted manifest would hold more than ${MAX_MANIFEST_BYTES} bytes`, "A manifest may hold at most 1 MiB: splice fewer or smaller data files."));
  }
  for (const file of input.subFolderFiles.filter((f) => !removals.has(f))) {
    diagnostics.push({ code: "AF-ANT-DATA-UNUSED", severity: "error", file, line: 1, column: 1, path: "", message: "this file sits in a kind folder's sub-folder, where agentform reads every file as a manifest, and no manifest splices it in", hint: "Move it out of the kind folders (or delete it if nothing uses it)." });
  }
  for (const o of outputs) {
    const other = o.rel !== o.from ? byRel.get(o.rel) : undefined;
    if (other) diagnostics.push(diag(other, "/", "AF-ANT-COLLISION", `${o.from} becomes ${o.rel}, which is another resource's file`, `Rename one of ${o.from} and ${o.rel}.`));
  }
  // agentform's loader keeps README.md for a folder's documentation: a resource there cannot move over as it is.
  for (const e of input.lock.entries.filter((x) => x.rel !== undefined && /(^|\/)readme\.md$/i.test(x.rel))) {
    diagnostics.push({ code: "AF-ANT-README", severity: "error", file: e.rel as string, line: 1, column: 1, path: "", message: `claude-lock.json tracks ${e.rel} (${e.id}), but agentform reads README.md in a folder as its documentation, never as a manifest`, hint: "Rename the file (and its key in claude-lock.json), then run the import again." });
  }
  const skipped = input.lock.entries.filter((e) => !answered.has(e)).map((e) => ({ key: e.key, id: e.id, why: e.rel === undefined ? "a GitHub URL source; agentform manages only resources whose files it has (references to it keep its id)" : "its file is gone; the resource stays in the workspace, not managed" }));
  return { outputs, removals: [...removals].sort(), skipped, diagnostics };
}

/** What an earlier run turned into `.yaml`: a `.json`, or a `.md` of a kind without a Markdown form. */
const EARLIER_EXTENSIONS = [".json", ".md"];

/** The entry of a file an earlier run converted to this `.yaml` (the lockfile still names the original), unless the original is still there. */
function earlierEntry(rel: string, byRel: ReadonlyMap<string, Resource>, lockByRel: ReadonlyMap<string, AntLockEntry>): AntLockEntry | undefined {
  if (!rel.endsWith(".yaml")) return undefined;
  const stem = rel.slice(0, -".yaml".length);
  // Extensions in any case: `upper.JSON` became `upper.yaml`.
  const original = [...lockByRel.keys()].find((k) => k.startsWith(stem) && EARLIER_EXTENSIONS.includes(k.slice(stem.length).toLowerCase()) && !byRel.has(k));
  return original === undefined ? undefined : lockByRel.get(original);
}

/** A tracked resource that is live: its lockfile entry and its live name. */
interface Tracked {
  entry: AntLockEntry;
  liveName: string;
}

/** Where a resource's manifest goes: its own file, or the `.yaml` beside a `.json` (and a `.md` of a kind without a Markdown form). */
function outputRel(file: AntFile): string {
  const markdownless = kindSpec(file.kind).markdownBody === undefined;
  return file.text === undefined ? file.rel : file.rel.replace(markdownless ? /\.(json|md)$/i : /\.json$/i, ".yaml");
}

function output(r: Resource, entry: AntLockEntry | undefined, tracked: Tracked | undefined, text: string | undefined): AntOutput {
  const rel = outputRel(r.file);
  const out: AntOutput = { kind: r.file.kind, name: r.name, from: r.file.rel, rel, ...(text !== undefined ? { text } : {}) };
  if (entry && !tracked) return { ...out, gone: entry.id };
  if (!tracked) return out;
  return { ...out, id: tracked.entry.id, ...(tracked.entry.version !== undefined ? { version: tracked.entry.version } : {}), ...(tracked.liveName !== r.name ? { liveName: tracked.liveName } : {}) };
}

function diag(r: Resource, pointer: string, code: string, message: string, hint: string): Diagnostic {
  const pos = r.locate(pointer);
  return { code, severity: "error", file: r.file.rel, line: pos.line, column: pos.column, path: pointer === "/" ? "" : pointerToPath(pointer), message, hint };
}

/** A resource file parsed: its frontmatter or document, its Markdown body, its name (the file's when it has none). */
function parseResource(file: AntFile, diagnostics: Diagnostic[]): Resource {
  const stem = path.posix.basename(file.rel).replace(/\.(md|ya?ml|json)$/i, "");
  const none: Resource = { file, name: stem, locate: () => ({ line: 1, column: 1 }) };
  if (file.text === undefined) return none;
  const spec = kindSpec(file.kind);
  const markdown = file.rel.toLowerCase().endsWith(".md");
  const parsed = parseText(file.text, file.rel, markdown);
  if ("code" in parsed) {
    diagnostics.push(parsed);
    return none;
  }
  if (parsed.parsed.diagnostics.length > 0 || !isObj(parsed.parsed.value)) {
    diagnostics.push(...(parsed.parsed.diagnostics.length > 0 ? parsed.parsed.diagnostics : [{ code: "AF-ANT-NOT-MAPPING", severity: "error" as const, file: file.rel, line: 1, column: 1, path: "", message: "the file is not a mapping of fields", hint: "A resource file holds one resource's fields." }]));
    return none;
  }
  const value = parsed.parsed.value;
  const named = value[spec.nameField];
  const r: Resource = { file, name: typeof named === "string" ? named : stem, value: named === undefined ? { [spec.nameField]: stem, ...value } : value, locate: parsed.parsed.locate };
  if (markdown) {
    const field = spec.markdownBody?.field;
    const bodyText = parsed.body?.text ?? "";
    if (field === undefined && bodyText !== "") diagnostics.push(diag(r, "/", "AF-ANT-BODY", `a ${file.kind} takes no Markdown body`, "Move the text into a field of the frontmatter."));
    if (field !== undefined && bodyText !== "" && Object.hasOwn(value, field)) {
      diagnostics.push(diag(r, `/${field}`, "AF-ANT-BODY-CONFLICT", `\`${field}\` is set in the frontmatter and by the Markdown body`, `Keep one: remove \`${field}:\` from the frontmatter, or the body.`));
    }
    r.body = parsed.body === undefined ? "" : file.text.slice(parsed.body.start);
  }
  return r;
}

interface ResolveContext {
  byRel: ReadonlyMap<string, Resource>;
  lock: AntLock;
  edges: Map<string, string[]>;
  diagnostics: Diagnostic[];
}

/** The reference resolver for one file: paths and globs relative to it, `{path, version}` objects, GitHub URLs through the lockfile. */
function resolverFor(from: Resource, ctx: ResolveContext): AntResolve {
  return (raw, kind, pointer, idField) => {
    const ref = referenceOf(raw, from, pointer, idField, ctx.diagnostics);
    if (ref === undefined || ref === null) return ref === null ? [] : undefined;
    const fail = (code: string, message: string, hint: string): AntTarget[] => {
      ctx.diagnostics.push(diag(from, pointer, code, message, hint));
      return [];
    };
    if (ref.to.startsWith("https://")) {
      const entry = ctx.lock.entries.find((e) => e.key === ref.to);
      if (!entry) return fail("AF-ANT-URL-UNKNOWN", `${ref.to} is not in claude-lock.json, so its id is unknown`, "Run `ant apply` once more to record it, or reference the resource by id.");
      return [{ id: entry.id, extra: ref.extra }];
    }
    const rel = path.posix.normalize(path.posix.join(path.posix.dirname(from.file.rel), ref.to)).replace(/\/$/, "");
    if (rel === ".." || rel.startsWith("../")) return fail("AF-ANT-REF-OUTSIDE", `${ref.to} leads outside the project`, "Reference resources of this repository only.");
    const targets = GLOB.test(rel) ? [...ctx.byRel.values()].filter((r) => globMatch(rel, r.file.rel)).sort((a, b) => (a.file.rel < b.file.rel ? -1 : 1)) : [ctx.byRel.get(rel) ?? ctx.byRel.get(path.posix.dirname(rel))].filter((r): r is Resource => r !== undefined && (r.file.rel === rel || r.file.text === undefined));
    if (targets.length === 0 && !GLOB.test(rel)) return fail("AF-ANT-REF-MISSING", `${ref.to} names no resource of this repository (${rel})`, "Check the path: it is relative to this file.");
    const out: AntTarget[] = [];
    for (const t of targets) {
      if (t.file.kind !== kind) return fail("AF-ANT-REF-KIND", `${ref.to} is a ${t.file.kind}, but this reference takes a ${kind}`, `Point it at a ${kind} (in ${KINDS[kind].folder}/).`);
      if (t === from) return fail("AF-ANT-REF-SELF", `${ref.to} is this file itself`, "A resource cannot reference itself.");
      ctx.edges.set(from.file.rel, [...(ctx.edges.get(from.file.rel) ?? []), t.file.rel]);
      out.push({ name: t.name, latest: ref.latest, extra: ref.extra });
    }
    return out;
  };
}

/**
 * What a value says as a reference: a `./`/`../` path (or glob) or an https URL, alone or as
 * `{path, version: latest, …extra}`; undefined when it is none (an inline id, an object without
 * `path`: passed through as written); null when it is a malformed one (reported).
 */
function referenceOf(raw: unknown, from: Resource, pointer: string, idField: string | undefined, diagnostics: Diagnostic[]): { to: string; latest: boolean; extra: Obj } | undefined | null {
  const isRef = (s: string) => s.startsWith("./") || s.startsWith("../") || s.startsWith("https://");
  if (typeof raw === "string") return isRef(raw) ? { to: raw, latest: false, extra: {} } : undefined;
  if (!isObj(raw) || !Object.hasOwn(raw, "path")) return undefined;
  const { path: to, version, ...extra } = raw;
  const bad = (at: string, code: string, message: string, hint: string) => {
    diagnostics.push(diag(from, at, code, message, hint));
    return null;
  };
  if (typeof to !== "string" || !isRef(to)) return bad(`${pointer}/path`, "AF-ANT-REF-PATH", "`path` must be a ./ or ../ path (or an https:// URL)", "Write the path relative to this file.");
  if (version !== undefined && version !== "latest") return bad(`${pointer}/version`, "AF-ANT-REF-VERSION", `a reference's version can only be \`latest\` (got ${JSON.stringify(version)})`, "References pin the version the referenced resource is at; `latest` opts out of pinning.");
  if (idField !== undefined && Object.hasOwn(extra, idField)) return bad(`${pointer}/${idField}`, "AF-ANT-REF-OVERRIDE", `\`${idField}\` is what \`path\` resolves to; it cannot be set beside it`, `Remove \`${idField}\` or \`path\`.`);
  return { to, latest: version === "latest", extra };
}

/** A glob over paths (`*` and `?` within one segment, `[…]` sets), matched segment by segment. */
function globMatch(glob: string, rel: string): boolean {
  const g = glob.split("/");
  const p = rel.split("/");
  return g.length === p.length && g.every((seg, i) => wildcardMatch(seg, p[i] as string));
}

/** Cycles of path references, each reported once on its first file as `a -> b -> a`. */
function cycles(edges: ReadonlyMap<string, string[]>, byRel: ReadonlyMap<string, Resource>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, trail: string[]): void => {
    state.set(node, "open");
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === "open") {
        const loop = [...trail.slice(trail.indexOf(next)), node, next].filter((n, i, a) => i === 0 || n !== a[i - 1]);
        const r = byRel.get(next) as Resource;
        out.push(diag(r, "/", "AF-ANT-REF-CYCLE", `references form a cycle: ${loop.join(" -> ")}`, "Break the cycle: a resource cannot (indirectly) reference itself."));
      } else if (state.get(next) === undefined) visit(next, [...trail, node]);
    }
    state.set(node, "done");
  };
  for (const node of [...edges.keys()].sort()) if (state.get(node) === undefined) visit(node, []);
  return out;
}

/** `tools`/`mcp_servers` entries that name data files (paths or globs): their items, spliced where the entry stood. */
function splice(value: Obj, r: Resource, input: AntInput, removals: Set<string>, diagnostics: Diagnostic[]): Obj {
  const fields = kindSpec(r.file.kind).ant?.splices ?? [];
  const out = { ...value };
  // Shared by every entry of the manifest: the same file named a hundred times counts a hundred times.
  const budget = { bytes: 0 };
  for (const field of fields) {
    const list = out[field];
    if (!Array.isArray(list)) continue;
    out[field] = list.flatMap((e, i) => (typeof e === "string" && (e.startsWith("./") || e.startsWith("../")) ? dataItems(e, `/${field}/${i}`, { r, input, removals, diagnostics, budget }) : [e]));
  }
  return out;
}

interface SpliceContext {
  r: Resource;
  input: AntInput;
  removals: Set<string>;
  diagnostics: Diagnostic[];
  budget: { bytes: number };
}

function dataItems(ref: string, pointer: string, { r, input, removals, diagnostics, budget }: SpliceContext): unknown[] {
  const fail = (code: string, message: string, hint: string) => {
    diagnostics.push(diag(r, pointer, code, message, hint));
    return [];
  };
  const rel = path.posix.normalize(path.posix.join(path.posix.dirname(r.file.rel), ref));
  if (rel === ".." || rel.startsWith("../")) return fail("AF-ANT-REF-OUTSIDE", `${ref} leads outside the project`, "Keep data files inside the repository.");
  const dir = path.posix.dirname(rel);
  if (GLOB.test(dir)) return fail("AF-ANT-REF-PATH", `${ref} has a wildcard in a folder name; data file globs match file names only`, "Name the folder, and use * or ? in the file name.");
  const files = GLOB.test(rel) ? (input.io.list(dir) ?? []).map((n) => (dir === "." ? n : `${dir}/${n}`)).filter((f) => globMatch(rel, f)).sort() : [rel];
  const items: unknown[] = [];
  for (const file of files) {
    if (input.kindFolders.has(path.posix.dirname(file))) return fail("AF-ANT-DATA-IN-KIND-FOLDER", `the data file ${file} sits directly in a kind folder, where it would be read as a resource`, "Move it into a sub-folder (e.g. agents/shared/) or outside the kind folders.");
    const read = input.io.read(file);
    if (read === undefined) return fail("AF-ANT-REF-MISSING", `${ref} names no data file (${file})`, "Check the path: it is relative to this file.");
    if ("problem" in read) return fail("AF-ANT-DATA-INVALID", `the data file ${file} cannot be read: ${read.problem}`, "A data file is a small YAML or JSON file inside the repository, reached without symbolic links.");
    budget.bytes += read.text.length;
    if (budget.bytes > MAX_MANIFEST_BYTES) return fail("AF-ANT-DATA-TOO-LARGE", `the data files spliced into ${r.file.rel} exceed ${MAX_MANIFEST_BYTES} bytes together`, "A manifest may hold at most 1 MiB: splice fewer or smaller data files.");
    const data = parseData(read.text);
    if (data === null || typeof data !== "object") return fail("AF-ANT-DATA-INVALID", `the data file ${file} is not a YAML or JSON list or object`, "A data file holds a list of entries, or one entry.");
    items.push(...(Array.isArray(data) ? data : [data]));
    if ([...input.kindFolders].some((k) => file.startsWith(`${k}/`))) removals.add(file);
  }
  return items;
}

/** A data file's YAML or JSON value (one document, unique keys, aliases bounded by the parser), or undefined. */
function parseData(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: false });
  return doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 });
}

/** The manifest's text: frontmatter and the body as it was (`.md`), or YAML; marked for adoption of the tracked id. */
function manifestText(r: Resource, value: Obj, tracked: Tracked | undefined): string {
  const spec = kindSpec(r.file.kind);
  const { agentform, ...rest } = value;
  const settings: Obj = isObj(agentform) ? { ...agentform } : {};
  if (tracked && spec.ownership === "marker") settings.adopt = tracked.entry.id;
  // Renamed outside ant: the adoption finds it under its live name and renames it back.
  const earlier = Array.isArray(settings.previous_names) ? settings.previous_names : [];
  if (tracked && tracked.liveName !== r.name && !earlier.includes(tracked.liveName)) settings.previous_names = [...earlier, tracked.liveName];
  // Text from ant's files means itself: a `${` in a prompt is not a reference to a var.
  const escaped = escapeVarText(rest) as Obj;
  const manifest = Object.keys(settings).length > 0 ? { ...escaped, agentform: settings } : escaped;
  const yaml = `# ${HEADER}\n${stringifyYaml(manifest, { lineWidth: 0 })}`;
  // The body starts with the line break that ended the closing fence. A kind without a Markdown
  // form has no body (an error otherwise) and is written as YAML.
  if (r.body === undefined || spec.markdownBody === undefined) return yaml;
  return `---\n${yaml}---${r.body === "" ? "\n" : (escapeVarText(r.body) as string)}`;
}
