/**
 * `agentform init [--dir D] [--project P] [--force]`: scaffold a fleet repository. Writes
 * agentform.yaml (a local `default` target and a placeholder `production`), one example manifest
 * per folder the templates hold, an empty folder (with .gitkeep) for every other kind, the plan
 * and apply workflows, and editor schema settings; appends to .gitignore and .gitattributes;
 * creates package.json only when there is none. The scaffold's files come from the package's
 * templates/ folder, found next to this module (so it works from an installed tarball too).
 * Never overwrites without --force: the files in the way are listed and nothing is written.
 */
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { AgentformError, ConfigError, ExitCode, OperationalError } from "../errors.js";
import { KIND_ORDER, kindSpec } from "../kinds/index.js";
import { inertText } from "../render/inert.js";
import { AGENTFORM_VERSION } from "../version.js";
import type { CommandContext } from "./main.js";
import { paintFor } from "./output.js";

interface InitFlags {
  dir?: string;
  project?: string;
  force?: boolean;
}

/** One line of the report: a path and what init did with it. */
interface Outcome {
  path: string;
  what: string;
}

/** The package's templates/ folder: two levels up from src/cli/ and from dist/cli/ alike. */
const TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));
const PROJECT_TOKEN = "__PROJECT__";
const PROJECT_NAME = /^[a-z0-9-]{1,40}$/;
/** Where editors find the schemas once agentform is installed, relative to the project root. */
const SCHEMAS = "node_modules/agentform/schemas";
const TAG = `v${AGENTFORM_VERSION}`;
const SETTINGS = ".vscode/settings.json";
const INSTALL = `npm install --save-dev github:<owner>/agentform#${TAG}`;

/** Lines init makes sure .gitignore has, with the comment written above each when it is added. */
const GITIGNORE: ReadonlyArray<{ line: string; comment: string }> = [
  { line: ".agentform/", comment: "agentform: local control plane state and apply run locks" },
  { line: "node_modules/", comment: "npm packages (agentform among them)" },
  { line: "/agentform.lock.json", comment: "the local default target's lockfile: its ids exist only in .agentform/ on one machine" },
];

export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command("init")
    .description("Scaffold a fleet repository: agentform.yaml, example manifests, CI workflows, editor schema settings.")
    .option("-d, --dir <folder>", "the folder to scaffold (default: the current folder; created when missing)")
    .option("-p, --project <name>", "the project name, [a-z0-9-] and 1–40 characters (default: the folder's name, made to fit)")
    .option("--force", "overwrite the files init writes (agentform.yaml, examples, workflows) where they exist")
    .addHelpText(
      "after",
      `
Writes agentform.yaml (a "default" target on the embedded local control plane and a
"production" placeholder), agents/ and environments/ with one example each, the other manifest
folders empty, .github/workflows/agentform-plan.yml and agentform-apply.yml, and
.vscode/settings.json (merged into an existing one). Appends to .gitignore and .gitattributes,
and writes package.json only when there is none. See docs/init.md.

Exit codes: 0 scaffolded, 4 files in the way (without --force) or an invalid --project,
1 a file could not be written.`,
    )
    .action(async (flags: InitFlags) => {
      ctx.exitCode = await runInit(flags, ctx);
    });
}

async function runInit(flags: InitFlags, ctx: CommandContext): Promise<number> {
  const dir = path.resolve(process.cwd(), flags.dir ?? ".");
  await checkFolder(dir);
  const project = projectName(dir, flags.project);
  const files = await scaffoldFiles(project);
  const existing = await inTheWay(dir, files.map((f) => f.rel), flags.force === true);
  await refuseLinks(dir, files.map((f) => f.rel));
  let written: { done: Outcome[]; listsAgentform: boolean };
  try {
    written = await writeScaffold(dir, project, files, existing);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== "string" || err instanceof AgentformError) throw err;
    const where = (err as NodeJS.ErrnoException).path;
    throw new OperationalError("init-write-failed", `cannot write the scaffold in ${inertText(dir)}: ${code}${where ? ` (${inertText(where)})` : ""}`, {
      hint: "Check that the folder and its subfolders are writable, then run agentform init again (add --force: the files written so far now exist).",
    });
  }
  report(ctx, dir, project, written.done, written.listsAgentform);
  return ExitCode.ok;
}

/** Everything init writes, in order; the report's lines. */
async function writeScaffold(dir: string, project: string, files: Array<{ rel: string; text: string }>, existing: string[]): Promise<{ done: Outcome[]; listsAgentform: boolean }> {
  const done: Outcome[] = [];
  for (const file of files) {
    const abs = path.join(dir, file.rel);
    await mkdir(path.dirname(abs), { recursive: true });
    // Replace a link itself, never the file it points to.
    if (existing.includes(file.rel)) await rm(abs, { force: true });
    await writeFile(abs, file.text);
    done.push({ path: file.rel, what: existing.includes(file.rel) ? "overwritten" : "created" });
  }
  done.push(...(await keepFolders(dir)));
  done.push(await appendLines(dir, ".gitignore", GITIGNORE));
  const attributes = gitattributes();
  if (attributes.length > 0) done.push(await appendLines(dir, ".gitattributes", attributes));
  const pkg = await packageJson(dir, project);
  done.push(pkg.outcome, await editorSettings(dir));
  return { done, listsAgentform: pkg.listsAgentform };
}

/** The folder must be a folder, or not exist yet (it is created). */
async function checkFolder(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (st === undefined || st.isDirectory() || (st.isSymbolicLink() && (await readdir(dir).then(() => true, () => false)))) return;
  throw new ConfigError("init-not-a-folder", `${inertText(dir)} exists and is not a folder`, { hint: "Pass --dir <folder> naming a folder (it is created when missing)." });
}

/**
 * The project name: --project as given (checked), else the folder's name turned into
 * [a-z0-9-] (lower case, every other run of characters one "-", at most 40 characters).
 */
function projectName(dir: string, given: string | undefined): string {
  if (given !== undefined) {
    if (PROJECT_NAME.test(given)) return given;
    const suggestion = nameFromFolder(given);
    throw new ConfigError("init-project-name", `--project ${JSON.stringify(inertText(given))} is not a valid project name: it must be 1–40 characters of a-z, 0-9 and -`, {
      hint: suggestion ? `Use --project ${suggestion}.` : "Pass --project with lower-case letters, digits and dashes, e.g. --project support-bots.",
    });
  }
  const derived = nameFromFolder(path.basename(dir));
  if (derived !== undefined) return derived;
  throw new ConfigError("init-project-name", `cannot make a project name from the folder name ${JSON.stringify(inertText(path.basename(dir)))}`, {
    hint: "Pass --project <name>: lower-case letters, digits and dashes, at most 40 characters.",
  });
}

/** A folder name made into a project name; undefined when nothing usable is left. */
export function nameFromFolder(name: string): string | undefined {
  const ascii = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const slug = ascii.replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 40).replace(/-+$/, "");
  return slug === "" ? undefined : slug;
}

/** Every file of the scaffold (relative path, text): templates/project/ as is, and the workflows. */
async function scaffoldFiles(project: string): Promise<Array<{ rel: string; text: string }>> {
  const tree = await templateTree(path.join(TEMPLATES, "project"), "");
  const workflows = await templateTree(path.join(TEMPLATES, "workflows"), "");
  return [
    ...tree.map((f) => ({ rel: f.rel, text: f.text.split(PROJECT_TOKEN).join(project) })),
    ...workflows.map((f) => ({ rel: `.github/workflows/${f.rel}`, text: f.text })),
  ];
}

async function templateTree(dir: string, rel: string): Promise<Array<{ rel: string; text: string }>> {
  let entries;
  try {
    entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  } catch (err) {
    throw new ConfigError("init-templates-missing", `agentform's templates are missing (${inertText(path.join(dir, rel))}: ${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      hint: "Reinstall agentform: its package ships a templates/ folder next to dist/.",
    });
  }
  const out: Array<{ rel: string; text: string }> = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await templateTree(dir, child)));
    else out.push({ rel: child, text: await readFile(path.join(dir, child), "utf8") });
  }
  return out;
}

/**
 * The scaffold's paths that already exist (anything there, a dangling link included). Without
 * --force any of them stops init before it writes anything; a folder in the way stops it always.
 */
async function inTheWay(dir: string, rels: string[], force: boolean): Promise<string[]> {
  const existing: string[] = [];
  const folders: string[] = [];
  for (const rel of rels) {
    const st = await lstat(path.join(dir, rel)).catch(() => undefined);
    if (st?.isDirectory()) folders.push(rel);
    else if (st !== undefined) existing.push(rel);
  }
  if (folders.length > 0) {
    throw new ConfigError("init-exists", `init writes files where ${inertText(dir)} has ${folders.length === 1 ? "this folder" : "these folders"}:\n${folders.map((f) => `  ${f}/\n`).join("")}Nothing was written.`, {
      hint: "Move the folders out of the way (--force overwrites files, never folders), then run agentform init again.",
    });
  }
  const blocked = await notFolders(dir, [...rels, ...keptFolders().map((f) => `${f}/.gitkeep`), SETTINGS]);
  if (blocked.length > 0) {
    throw new ConfigError("init-exists", `init needs folders where ${inertText(dir)} has ${blocked.length === 1 ? "this file" : "these files"}:\n${blocked.map((f) => `  ${f}\n`).join("")}Nothing was written.`, {
      hint: "Move the files out of the way (--force overwrites files init writes, never one where it needs a folder), then run agentform init again.",
    });
  }
  if (existing.length > 0 && !force) {
    throw new ConfigError("init-exists", `init would overwrite ${existing.length === 1 ? "this file" : "these files"} in ${inertText(dir)}:\n${existing.map((f) => `  ${f}\n`).join("")}Nothing was written.`, {
      hint: "Run agentform init --force to overwrite them with the scaffold's (.gitignore and .gitattributes are only appended to; package.json and .vscode/settings.json are never overwritten), or move them away first.",
    });
  }
  return existing;
}

/**
 * init writes only inside its folder: a symbolic link on the way (a folder, or a file it appends
 * to or merges into) could send a write anywhere, so it is refused. A scaffold file that is
 * itself a link is replaced, never written through (--force).
 */
async function refuseLinks(dir: string, scaffold: string[]): Promise<void> {
  const touched = [...scaffold, ...keptFolders().map((f) => `${f}/.gitkeep`), ".gitignore", ".gitattributes", "package.json", SETTINGS];
  const paths = new Set(touched.flatMap((rel) => {
    const parts = rel.split("/");
    const upTo = scaffold.includes(rel) ? parts.length - 1 : parts.length;
    return parts.slice(0, upTo).map((_, i) => parts.slice(0, i + 1).join("/"));
  }));
  const links: string[] = [];
  for (const rel of [...paths].sort()) if ((await lstat(path.join(dir, rel)).catch(() => undefined))?.isSymbolicLink()) links.push(rel);
  if (links.length === 0) return;
  throw new ConfigError("init-symlink", `init would write through ${links.length === 1 ? "this symbolic link" : "these symbolic links"} in ${inertText(dir)}:\n${links.map((l) => `  ${inertText(l)}\n`).join("")}Nothing was written.`, {
    hint: "init writes only inside its folder: replace the links with real folders or files, then run agentform init again.",
  });
}

/** The folders above the files init writes that exist as something other than a folder (a file named `agents`). */
async function notFolders(dir: string, rels: string[]): Promise<string[]> {
  const parents = new Set(rels.flatMap((rel) => rel.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
  const blocked: string[] = [];
  for (const parent of [...parents].sort()) {
    const st = await stat(path.join(dir, parent)).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? undefined : null));
    if (st === null || (st !== undefined && !st.isDirectory())) blocked.push(parent);
  }
  return blocked;
}

/** Every kind's folder (kinds written inside another kind's manifests have none). */
function keptFolders(): string[] {
  return [...new Set(KIND_ORDER.filter((kind) => kindSpec(kind).parentKind === undefined).map((kind) => kindSpec(kind).folder))];
}

/** An empty folder (kept in git by .gitkeep) for every kind whose folder the templates left out. */
async function keepFolders(dir: string): Promise<Outcome[]> {
  const done: Outcome[] = [];
  for (const folder of keptFolders()) {
    const abs = path.join(dir, folder);
    const entries = await readdir(abs).catch(() => undefined);
    if (entries !== undefined && entries.length > 0) continue;
    await mkdir(abs, { recursive: true });
    await writeFile(path.join(abs, ".gitkeep"), "");
    done.push({ path: `${folder}/.gitkeep`, what: "created" });
  }
  return done;
}

/** .gitattributes lines: the bytes of uploaded kinds' folders (skills) are digested, so pin LF. */
function gitattributes(): Array<{ line: string; comment: string }> {
  const folders = new Set(KIND_ORDER.filter((kind) => kindSpec(kind).uploads).map((kind) => kindSpec(kind).folder));
  return [...folders].map((folder) => ({ line: `${folder}/** text=auto eol=lf`, comment: "agentform uploads these files as committed: the same bytes on every OS" }));
}

/** A line's meaning for duplicates: `node_modules`, `/node_modules/` and `node_modules/` are one entry. */
function sameLine(line: string): string {
  return line.trim().replace(/^\//, "").replace(/\/$/, "");
}

/** Append the lines a file lacks (creating it when missing); never rewrites what is there. */
async function appendLines(dir: string, rel: string, lines: ReadonlyArray<{ line: string; comment: string }>): Promise<Outcome> {
  const abs = path.join(dir, rel);
  const before = await readFile(abs, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  const have = new Set((before ?? "").split(/\r?\n/).map(sameLine));
  const missing = lines.filter((l) => !have.has(sameLine(l.line)));
  if (missing.length === 0) return { path: rel, what: "left alone (already has agentform's lines)" };
  const block = missing.map((l) => `# ${l.comment}\n${l.line}\n`).join("");
  const separator = before === undefined || before === "" ? "" : before.endsWith("\n") ? "\n" : "\n\n";
  await writeFile(abs, (before ?? "") + separator + block);
  const added = `(${missing.map((l) => l.line).join(", ")})`;
  return { path: rel, what: before === undefined ? `created ${added}` : `appended to ${added}` };
}

/** package.json with agentform as a dev dependency when there is none; an existing one is never touched. */
async function packageJson(dir: string, project: string): Promise<{ outcome: Outcome; listsAgentform: boolean }> {
  const rel = "package.json";
  const text = await readFile(path.join(dir, rel), "utf8").catch(() => undefined);
  if (text === undefined) {
    const pkg = { name: project, private: true, devDependencies: { agentform: `^${AGENTFORM_VERSION}` } };
    await writeFile(path.join(dir, rel), `${JSON.stringify(pkg, null, 2)}\n`);
    return { outcome: { path: rel, what: `created (agentform ^${AGENTFORM_VERSION} as a dev dependency: point it at a git tag or a tarball, see next steps)` }, listsAgentform: false };
  }
  let lists = false;
  try {
    const pkg = JSON.parse(text) as { dependencies?: Record<string, unknown>; devDependencies?: Record<string, unknown> };
    lists = Object.hasOwn(pkg.devDependencies ?? {}, "agentform") || Object.hasOwn(pkg.dependencies ?? {}, "agentform");
  } catch {
    // Not JSON: left alone all the same; the next steps say how to add agentform.
  }
  return { outcome: { path: rel, what: lists ? "left alone (it lists agentform already)" : `left alone (add agentform: ${INSTALL})` }, listsAgentform: lists };
}

/** `yaml.schemas` for the YAML language server: each schema in the installed package, by folder glob. */
function yamlSchemas(): Record<string, string[]> {
  const schemas: Record<string, string[]> = { [`./${SCHEMAS}/project.schema.json`]: ["agentform.yaml"] };
  for (const kind of KIND_ORDER) {
    const spec = kindSpec(kind);
    // Kinds written inside another kind's files, and folder manifests (Markdown), have no YAML file of their own.
    if (spec.parentKind !== undefined || spec.layout === "folder") continue;
    const globs = spec.extensions.filter((ext) => ext === ".yaml" || ext === ".yml").map((ext) => `${spec.folder}/**/*${ext}`);
    if (globs.length > 0) schemas[`./${SCHEMAS}/${spec.schema}.schema.json`] = globs;
  }
  return schemas;
}

/** .vscode/settings.json: created, or `yaml.schemas` merged into an existing one that is plain JSON. */
async function editorSettings(dir: string): Promise<Outcome> {
  const rel = SETTINGS;
  const abs = path.join(dir, rel);
  const wanted = yamlSchemas();
  const text = await readFile(abs, "utf8").catch(() => undefined);
  if (text === undefined) {
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, `${JSON.stringify({ "yaml.schemas": wanted }, null, 2)}\n`);
    return { path: rel, what: "created (yaml.schemas: the manifest folders' schemas)" };
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch {
    return { path: rel, what: "left alone: not plain JSON (comments or trailing commas?); add yaml.schemas by hand (docs/init.md)" };
  }
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isMap(settings) || (settings["yaml.schemas"] !== undefined && !isMap(settings["yaml.schemas"]))) {
    return { path: rel, what: "left alone: it is not a settings object with a yaml.schemas map; add yaml.schemas by hand (docs/init.md)" };
  }
  const merged = { ...settings, "yaml.schemas": { ...(settings["yaml.schemas"] as Record<string, unknown> | undefined), ...wanted } };
  if (JSON.stringify(merged) === JSON.stringify(settings)) return { path: rel, what: "left alone (it maps the schemas already)" };
  await writeFile(abs, `${JSON.stringify(merged, null, 2)}\n`);
  return { path: rel, what: "updated (yaml.schemas merged in)" };
}

function report(ctx: CommandContext, dir: string, project: string, done: Outcome[], listsAgentform: boolean): void {
  const out = ctx.io.stdout;
  const paint = paintFor(out, ctx.io.env);
  out.write(`${paint.green("✓")} scaffolded project ${JSON.stringify(project)} in ${inertText(dir)}\n`);
  for (const d of done) out.write(`  ${d.path}: ${d.what}\n`);
  const install = listsAgentform
    ? ["npm install"]
    : [
        INSTALL,
        `(or from a packed tarball: npm install --save-dev ./agentform-${AGENTFORM_VERSION}.tgz). A plain npm install`,
        `would look for agentform ^${AGENTFORM_VERSION} on the npm registry, where it is not published.`,
      ];
  const steps = [
    install,
    ["npx agentform apply --auto-approve", "creates the example agent and environment on the local control plane (no API key)"],
    [`In .github/workflows/agentform-plan.yml and agentform-apply.yml, replace your-org/agentform@${TAG}`, '(marked "fill in") with <owner>/<repo>@<ref> of the agentform Action.'],
    ["Add the repository secret ANTHROPIC_API_KEY (Settings > Secrets and variables > Actions); set", "production's workspace_id in agentform.yaml if the key reaches more than one workspace."],
  ];
  out.write(`\nNext steps:\n`);
  steps.forEach((lines, i) => out.write(lines.map((l, j) => (j === 0 ? `  ${i + 1}. ${l}\n` : `     ${l}\n`)).join("")));
}
