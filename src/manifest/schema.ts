/**
 * JSON Schema validation (ajv) and the translation of ajv's errors into diagnostics people can
 * act on. The schemas are the generated files in schemas/; they are read once and compiled once.
 *
 * The SDK's shapes are unions (a tool is one of three toolsets, a tool config one of eight),
 * and ajv with `allErrors` reports every branch's failure. We collapse each `anyOf` to the one
 * branch the user evidently meant (the one whose `type`/`name` matches), or, when none does, to
 * one "unknown type" problem with a did-you-mean.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { AGENT_TOOLS } from "../kinds/agent/canonical.js";
import { KIND_ORDER, KINDS } from "../kinds/index.js";
import type { ResourceKind } from "../kinds/types.js";
import { createRequire } from "node:module";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import { pointerToPath } from "./format.js";
import { pointerSegments } from "./source.js";
import { suggestion } from "./suggest.js";
import type { Diagnostic, Position } from "./types.js";

export type SchemaName = ResourceKind | "project" | "lockfile";

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** The committed schema file, parsed (schemas/ sits two levels above both src/manifest and dist/manifest). */
export function readSchema(name: SchemaName): JsonObject {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), "utf8")) as JsonObject;
}

/**
 * Replace every local `$ref` by the definition it names. Error schema paths then spell out the
 * whole route from the root, which is what lets us tell which `anyOf` branch an error came from.
 * None of our schemas is recursive.
 */
function inlineRefs(schema: JsonObject): JsonObject {
  const definitions = (schema.definitions ?? {}) as JsonObject;
  const walk = (node: unknown, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, stack));
    if (!isObject(node)) return node;
    if (typeof node.$ref === "string" && node.$ref.startsWith("#/definitions/")) {
      const name = node.$ref.slice("#/definitions/".length);
      if (stack.includes(name)) throw new Error(`recursive schema definition ${name}`);
      const { $ref: _ref, ...siblings } = node;
      return { ...(walk(definitions[name], [...stack, name]) as JsonObject), ...(walk(siblings, stack) as JsonObject) };
    }
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) if (key !== "definitions") out[key] = walk(value, stack);
    return out;
  };
  return walk(schema, []) as JsonObject;
}

let models: string[] | undefined;

/** Model ids the installed SDK enumerates (from the generated schemas of the kinds that name a model). */
export function knownModels(): string[] {
  if (!models) {
    const ids = KIND_ORDER.flatMap((kind) => {
      const model = ((readSchema(KINDS[kind].schema).definitions ?? {}) as JsonObject).BetaManagedAgentsModel;
      const branches = isObject(model) && Array.isArray(model.anyOf) ? model.anyOf : [];
      return branches.flatMap((b) => (isObject(b) && Array.isArray(b.enum) ? b.enum.filter((v): v is string => typeof v === "string") : []));
    });
    models = [...new Set(ids)];
  }
  return models;
}

/** Every schema agentform validates with. */
export const SCHEMA_NAMES: readonly SchemaName[] = [...KIND_ORDER.map((k) => KINDS[k].schema), "project", "lockfile"];

/** The one set of ajv options: the build compiles with them too (scripts/gen-validators.mjs). */
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true } as const;

/** A schema as it is compiled: read from schemas/, its local `$ref`s inlined. */
export function compilableSchema(name: SchemaName): JsonObject {
  return inlineRefs(readSchema(name));
}

/** The sha256 of a committed schema file: precompiled validators are used only for the file they were built from. */
export function schemaDigest(name: SchemaName): string {
  return createHash("sha256").update(readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url))).digest("hex");
}

/**
 * Validators compiled at build time (ajv standalone code, dist/manifest/validators.js): compiling
 * the schemas at run time cost most of a small `validate`. Absent when running from source.
 */
interface Precompiled {
  digests: Record<string, string>;
  validators: Record<string, ValidateFunction>;
}
const precompiled: Precompiled | null = await import(new URL("./validators.js", import.meta.url).href).then(
  (m: Precompiled) => m,
  () => null,
);

const validators = new Map<SchemaName, ValidateFunction>();
let ajv: Ajv | undefined;

function validator(name: SchemaName): ValidateFunction {
  let fn = validators.get(name);
  if (!fn) {
    const built = precompiled?.validators[name];
    if (built && precompiled?.digests[name] === schemaDigest(name)) fn = built;
    else {
      // ajv's compiler is loaded only when a schema is compiled here (from source, or a schema
      // edited since the build): the built validators need none of it, and it is sizeable.
      ajv ??= new (createRequire(import.meta.url)("ajv") as { Ajv: typeof Ajv }).Ajv(AJV_OPTIONS);
      fn = ajv.compile(compilableSchema(name));
    }
    validators.set(name, fn);
  }
  return fn;
}

/** The value a JSON pointer names inside `root`, or undefined. */
export function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of pointerSegments(pointer)) {
    // Own properties only: "/constructor" or "/__proto__" must not find Object.prototype's.
    if (Array.isArray(node)) node = /^\d+$/.test(segment) ? node[Number(segment)] : undefined;
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

interface Issue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  parentSchema?: JsonObject;
  message?: string;
  /** For synthetic one-of problems: the values or types that would have been accepted. */
  expected?: string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isDirectChild(parent: string, child: string): string | undefined {
  if (!child.startsWith(parent + "/")) return undefined;
  const rest = child.slice(parent.length + 1);
  return rest.includes("/") ? undefined : rest;
}

const allowedOf = (e: Issue): string[] => {
  if (e.keyword === "const") return [String(e.params.allowedValue)];
  if (e.keyword === "enum") return (e.params.allowedValues as unknown[]).filter((v) => v !== null).map(String);
  return [];
};

/** Roster and predefined_agents entries, where `{type: agent}` takes a `ref` or an `id`. */
const ROSTER_ENTRY = /^\/multiagent\/(agents|(subagents|workflows)\/predefined_agents)\/\d+$/;

/** Reduce ajv's per-branch noise to the problems in the branch the author meant. */
function collapseUnions(errors: ErrorObject[]): Issue[] {
  const issues: Issue[] = errors.map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    params: e.params as Record<string, unknown>,
    parentSchema: e.parentSchema as JsonObject | undefined,
    ...(e.message === undefined ? {} : { message: e.message }),
  }));
  const dropped = new Set<Issue>();
  const synthetic: Issue[] = [];
  const unions = issues.filter((e) => e.keyword === "anyOf").sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (dropped.has(union)) continue;
    dropped.add(union);
    const prefix = union.schemaPath + "/";
    const at = union.instancePath;
    const branches = new Map<number, Issue[]>();
    for (const e of issues) {
      if (e === union || dropped.has(e) || !e.schemaPath.startsWith(prefix)) continue;
      if (e.instancePath !== at && !e.instancePath.startsWith(at + "/")) continue;
      const index = Number(e.schemaPath.slice(prefix.length).split("/")[0]);
      branches.set(index, [...(branches.get(index) ?? []), e]);
    }
    // A branch is ruled out when the value is the wrong kind of thing for it, or its
    // discriminating property (type, or name for tool configs) has another value.
    // Only the branch's own property constant discriminates; a constant deeper down (a nested
    // union under the same key) is an ordinary error inside a plausible branch.
    const ownConstant = new RegExp(`^${escapeRegExp(prefix)}\\d+/properties/[^/]+/(const|enum)$`);
    const isDiscriminator = (e: Issue) => (e.keyword === "const" || e.keyword === "enum") && isDirectChild(at, e.instancePath) !== undefined && ownConstant.test(e.schemaPath);
    const ruledOut = (errs: Issue[]) => errs.some((e) => (e.instancePath === at && ["type", "const", "enum"].includes(e.keyword)) || isDiscriminator(e));
    const candidates = [...branches.entries()].filter(([, errs]) => !ruledOut(errs));
    const all = [...branches.values()].flat();
    if (candidates.length > 0) {
      const count = (errs: Issue[]) => errs.filter((e) => e.keyword !== "anyOf").length;
      candidates.sort((a, b) => count(a[1]) - count(b[1]) || a[0] - b[0]);
      const keep = new Set(candidates[0]![1]);
      for (const e of all) if (!keep.has(e)) dropped.add(e);
      continue;
    }
    for (const e of all) dropped.add(e);
    const discriminators = all.filter(isDiscriminator);
    if (discriminators.length > 0) {
      const key = discriminators[0]!.instancePath;
      const expected = [...new Set(discriminators.filter((e) => e.instancePath === key).flatMap(allowedOf))];
      synthetic.push({ instancePath: key, schemaPath: union.schemaPath, keyword: "x-one-of-const", params: {}, expected });
    } else {
      const expected = new Set<string>();
      for (const e of all) {
        if (e.instancePath !== at) continue;
        if (e.keyword === "type") for (const t of String(e.params.type).split(",")) expected.add(t);
        else for (const v of allowedOf(e)) expected.add(JSON.stringify(v));
      }
      // "a string" already covers every string constant (model ids are an open enum).
      const list = expected.has("string") ? [...expected].filter((t) => !t.startsWith('"')) : [...expected];
      synthetic.push({ instancePath: at, schemaPath: union.schemaPath, keyword: "x-one-of-type", params: {}, expected: list });
    }
  }
  // A bad key is reported once, at the key (propertyNames), not again as the pattern it failed.
  const keyPattern = (e: Issue) => e.keyword === "pattern" && e.schemaPath.includes("/propertyNames/");
  return [...issues.filter((e) => !dropped.has(e) && !keyPattern(e)), ...synthetic];
}


function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

function describeTypes(types: string[]): string {
  const words: Record<string, string> = { object: "a mapping", array: "a list", string: "a string", number: "a number", integer: "an integer", boolean: "true or false", null: "null" };
  const parts = types.map((t) => words[t] ?? t);
  return parts.length <= 1 ? (parts[0] ?? "something else") : `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`;
}

const PATTERN_TEXT: Record<string, string> = {
  "^(/([^~]|~[01])*)+$": "must be a JSON pointer into the API body, like /description or /tools/0",
  "^[a-z0-9-]{1,40}$": "must be 1 to 40 characters of a-z, 0-9 and -",
  "^[A-Za-z_][A-Za-z0-9_]*$": "must be letters, digits and _, not starting with a digit",
  "^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$": "must be 1 to 40 letters, digits, _ and -, starting with a letter or digit",
};

export interface SchemaContext {
  file: string;
  locate(pointer: string): Position;
}

/** Validate `value` against one of agentform's schemas; every problem becomes a diagnostic. */
export function schemaDiagnostics(name: SchemaName, value: unknown, ctx: SchemaContext): Diagnostic[] {
  const validate = validator(name);
  if (validate(value)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const issue of collapseUnions(validate.errors ?? [])) {
    const d = toDiagnostic(name, issue, value, ctx);
    const key = `${d.line}:${d.column}:${d.code}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/** The two synthetic "none of the union's branches" problems ({@link collapseUnions}) as text. */
function oneOfText(issue: Issue, value: unknown, root: unknown, pointer: string): { code: string; message: string; hint: string | undefined } {
  const expected = issue.expected ?? [];
  if (issue.keyword === "x-one-of-const") {
    const toolMatch = /^\/tools\/(\d+)\/configs\/\d+\/name$/.exec(pointer);
    const toolset = toolMatch ? valueAt(root, `/tools/${toolMatch[1]}/type`) : undefined;
    if (toolMatch && toolset === "agent_toolset_20260401") {
      return { code: "AF-TOOL-UNKNOWN", message: `${JSON.stringify(value)} is not a tool of agent_toolset_20260401${typeof value === "string" ? suggestion(value, AGENT_TOOLS) : ""}`, hint: `The agent toolset has: ${AGENT_TOOLS.join(", ")}.` };
    }
    const field = pointerSegments(pointer).pop() ?? "value";
    return { code: "AF-SCHEMA-ENUM", message: `unknown ${field} ${JSON.stringify(value)}${typeof value === "string" ? suggestion(value, expected) : ""}`, hint: `Expected one of: ${expected.join(", ")}.` };
  }
  const constants = expected.filter((t) => t.startsWith('"')).map((t) => JSON.parse(t) as string);
  if (typeof value === "string" && constants.length > 0) {
    // A string where a fixed word was expected (effort: huge): name the words, not the types.
    const others = expected.filter((t) => !t.startsWith('"'));
    return { code: "AF-SCHEMA-ENUM", message: `${describeValue(value)} is not allowed here; expected ${constants.map((c) => JSON.stringify(c)).join(", ")}${others.length > 0 ? ` (or ${describeTypes(others)})` : ""}${suggestion(value, constants)}`, hint: undefined };
  }
  return { code: "AF-SCHEMA-TYPE", message: `must be ${describeTypes(expected)}, not ${describeValue(value)}`, hint: undefined };
}

function toDiagnostic(name: SchemaName, issue: Issue, root: unknown, ctx: SchemaContext): Diagnostic {
  let pointer = issue.instancePath;
  let code = "AF-SCHEMA";
  let message = issue.message ?? "is invalid";
  let hint: string | undefined;
  const value = valueAt(root, pointer);
  const where = name === "project" ? "agentform.yaml" : `${name} manifests`;
  switch (issue.keyword) {
    case "required": {
      const missing = String(issue.params.missingProperty);
      code = "AF-SCHEMA-REQUIRED";
      if (ROSTER_ENTRY.test(pointer) && (missing === "id" || missing === "ref")) {
        message = "an agent entry needs `ref` (the name of an agent manifest) or `id`";
        hint = "Write `{type: agent, ref: <agent name>}`; agentform resolves it to the agent's id and version.";
        break;
      }
      message = `missing required key ${JSON.stringify(missing)}`;
      hint = `Add \`${missing}:\` here.`;
      break;
    }
    case "additionalProperties": {
      const key = String(issue.params.additionalProperty);
      const allowed = Object.keys((issue.parentSchema?.properties ?? {}) as JsonObject);
      const parent = valueAt(root, pointer);
      pointer = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (/\/networking$/.test(issue.instancePath) && isObject(parent) && parent.type === "unrestricted" && /^allow/.test(key)) {
        code = "AF-NETWORK-FLAGS";
        message = `${JSON.stringify(key)} only applies to limited networking; unrestricted networking already allows everything`;
        hint = "Remove it, or switch to `type: limited` to restrict egress to an allow-list.";
        break;
      }
      code = "AF-SCHEMA-UNKNOWN-KEY";
      if (ROSTER_ENTRY.test(issue.instancePath) && isObject(parent) && "ref" in parent && "id" in parent) {
        message = "an agent entry has both `ref` and `id`; use one";
        hint = "Keep `ref: <agent name>` and let agentform resolve the id, or keep `id` and drop `ref`.";
        break;
      }
      message = `unknown key ${JSON.stringify(key)}${suggestion(key, allowed)}`;
      hint =
        issue.instancePath === ""
          ? `Top-level keys of ${where}: ${allowed.join(", ")}.${name === "project" ? "" : " Reconciler settings go under `agentform:`."}`
          : `Allowed keys here: ${allowed.join(", ")}.`;
      break;
    }
    case "type":
      code = "AF-SCHEMA-TYPE";
      message = `must be ${describeTypes(String(issue.params.type).split(","))}, not ${describeValue(value)}`;
      break;
    case "const":
    case "enum": {
      const expected = allowedOf(issue);
      code = "AF-SCHEMA-ENUM";
      message = `${describeValue(value)} is not allowed here; expected ${expected.map((v) => JSON.stringify(v)).join(" or ")}${typeof value === "string" ? suggestion(value, expected) : ""}`;
      if (expected.length === 0) message = `${describeValue(value)} is not allowed here`;
      break;
    }
    case "x-one-of-const":
    case "x-one-of-type":
      ({ code, message, hint } = oneOfText(issue, value, root, pointer));
      break;
    case "pattern":
      message = PATTERN_TEXT[String(issue.params.pattern)] ?? `must match the pattern ${String(issue.params.pattern)}`;
      break;
    case "propertyNames": {
      const key = String(issue.params.propertyName);
      const pattern = String((issue.parentSchema?.propertyNames as JsonObject | undefined)?.pattern);
      pointer = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      message = `the key ${JSON.stringify(key)} ${PATTERN_TEXT[pattern] ?? `must match the pattern ${pattern}`}`;
      break;
    }
    default:
      break;
  }
  const pos = ctx.locate(pointer);
  const diagnostic: Diagnostic = { code, severity: "error", file: ctx.file, line: pos.line, column: pos.column, path: pointerToPath(pointer), message };
  diagnostic.hint = hint ?? `See docs/manifests.md for the ${name === "project" ? "agentform.yaml" : name} format (schema: schemas/${name}.schema.json).`;
  return diagnostic;
}
