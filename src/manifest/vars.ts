/**
 * Per-target values: `${vars.NAME}` in a manifest's string values becomes the selected target's
 * value (agentform.yaml: top-level `vars:`, overridden by `targets.<t>.vars:`). It runs on the
 * parsed value, before the schema and every rule, so what is validated, digested and planned is
 * what the target gets.
 *
 * One left-to-right pass per string, never a regex over the whole text and never a second pass
 * over what was inserted (values are not themselves interpolated), so the work is linear in the
 * input; what references may insert into one manifest is bounded as well.
 */
import { ConfigError } from "../errors.js";
import { editDistance } from "./suggest.js";
import { pointerSegments, toPointer } from "./source.js";
import type { ProjectConfig, VarValue } from "./types.js";
import { setOwn } from "../util/record.js";

/** Characters references may insert into one manifest: as much again as the largest file holds. */
export const MAX_VAR_EXPANSION = 1024 * 1024;

/**
 * What references may insert across one load of the project: the per-manifest limit alone lets
 * thousands of small files each insert a megabyte (gigabytes of memory for a few of input).
 */
export const MAX_PROJECT_VAR_EXPANSION = 64 * 1024 * 1024;

/** Unknown names that get a closest-first hint; past this, hints list names alphabetically (hostile input stays linear). */
const RANKED_NAMES = 100;
/** Defined names ranked by closeness at most; a longer list is shown alphabetically. */
const RANKED_CANDIDATES = 200;
/** Names listed in a hint. */
const LISTED = 20;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const quote = (s: string) => JSON.stringify(s);
const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * The values one load resolves with, and the names of the other targets checked alongside
 * (validate without --target). Remembers what it worked out per name, so a file with many
 * references to one unknown name costs one lookup each.
 */
export class VarScope {
  private readonly lacking = new Map<string, string[]>();
  private readonly explained = new Map<string, { suggestion: string; hint: string }>();
  private readonly sortedNames = new Map<string, string[]>();
  /** Characters inserted so far by every manifest resolved with this scope (one project load). */
  inserted = 0;

  constructor(
    /** The target whose values are used. */
    readonly target: string,
    readonly values: ReadonlyMap<string, VarValue>,
    /** Other targets whose names are checked too (their values are not used). */
    readonly others: ReadonlyArray<{ target: string; names: ReadonlySet<string> }> = [],
  ) {}

  /** The targets (the selected one first) that do not define `name`. */
  lackingTargets(name: string): string[] {
    let out = this.lacking.get(name);
    if (!out) {
      out = [...(this.values.has(name) ? [] : [this.target]), ...this.others.filter((o) => !o.names.has(name)).map((o) => o.target)];
      this.lacking.set(name, out);
    }
    return out;
  }

  /** A did-you-mean for an unknown name, and the hint naming what its first lacking target defines. */
  explain(name: string): { suggestion: string; hint: string } {
    let out = this.explained.get(name);
    if (!out) {
      const target = this.lackingTargets(name)[0] ?? this.target;
      const defined = this.namesOf(target);
      const ranked = this.explained.size < RANKED_NAMES && name.length <= 64 && defined.length <= RANKED_CANDIDATES;
      const ordered = ranked ? closestFirst(name, defined) : defined;
      const near = ranked && ordered.length > 0 && isNear(name, ordered[0]!) ? `; did you mean ${quote(ordered[0]!)}?` : "";
      const listed = ordered.length === 0 ? `No vars are defined for target ${quote(target)}.` : `Defined for target ${quote(target)}: ${listing(ordered)}.`;
      const elsewhere = target === this.target ? "" : " Without --target, validate checks every target's names.";
      out = { suggestion: near, hint: `Define ${short(name)} under \`vars:\` (every target) or \`targets.${target}.vars:\` in agentform.yaml. ${listed}${elsewhere}` };
      this.explained.set(name, out);
    }
    return out;
  }

  private namesOf(target: string): string[] {
    let out = this.sortedNames.get(target);
    if (!out) {
      const names = target === this.target ? [...this.values.keys()] : [...(this.others.find((o) => o.target === target)?.names ?? [])];
      out = names.sort();
      this.sortedNames.set(target, out);
    }
    return out;
  }
}

const fold = (s: string) => s.toLowerCase().replace(/_/g, "");

function closestFirst(name: string, defined: readonly string[]): string[] {
  // A defined name can be very long, and measuring is quadratic in its length: names longer
  // than any unknown one ranked (64) are listed after the others, unmeasured.
  const folded = fold(name);
  const far = Number.MAX_SAFE_INTEGER;
  const distance = new Map(defined.map((d) => [d, d.length > 64 ? far : editDistance(folded, fold(d))]));
  return [...defined].sort((a, b) => distance.get(a)! - distance.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** Close enough to be a typo: within a third of the name's length (1 to 3 edits), as didYouMean has it. */
function isNear(name: string, candidate: string): boolean {
  if (Math.abs(fold(candidate).length - fold(name).length) > 3) return false;
  return editDistance(fold(name), fold(candidate)) <= Math.min(3, Math.max(1, Math.floor(name.length / 3)));
}

function listing(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).map(short).join(", ");
  return names.length > LISTED ? `${shown} and ${names.length - LISTED} more` : shown;
}

/** `target "dev"`, `targets "dev" and "prod"`. */
function targetWords(targets: readonly string[]): string {
  const shown = targets.slice(0, 5).map(quote);
  if (targets.length > 5) shown.push(`${targets.length - 5} more`);
  const list = shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
  return `${targets.length === 1 ? "target" : "targets"} ${list}`;
}

// ---------------------------------------------------------------------------------------------
// which target, which values

/** The target a load resolves with when none is named: "default", else the first declared (the only one, usually). */
export function defaultTarget(config: Pick<ProjectConfig, "targets">): string {
  const names = Object.keys(config.targets);
  return names.includes("default") ? "default" : (names[0] ?? "default");
}

/** One target's values: the top-level `vars:`, overridden by the target's own. */
export function targetVars(config: Pick<ProjectConfig, "targets" | "vars">, target: string): Map<string, VarValue> {
  const settings = Object.hasOwn(config.targets, target) ? config.targets[target] : undefined;
  return new Map([...Object.entries(config.vars ?? {}), ...Object.entries(settings?.vars ?? {})]);
}

/**
 * The scope a load resolves with: `target`'s values (the default target when undefined), and,
 * with `everyTarget`, every other declared target's names checked too.
 */
export function varScope(config: Pick<ProjectConfig, "targets" | "vars" | "file">, target: string | undefined, everyTarget = false): VarScope {
  const chosen = target ?? defaultTarget(config);
  const declared = Object.keys(config.targets);
  if (target !== undefined && !declared.includes(target)) {
    throw new ConfigError("target-unknown", `Target "${target}" is not declared in ${config.file}.`, { hint: `Declared targets: ${declared.join(", ") || "(none)"}.` });
  }
  const others = everyTarget ? declared.filter((t) => t !== chosen).map((t) => ({ target: t, names: new Set(targetVars(config, t).keys()) })) : [];
  return new VarScope(chosen, targetVars(config, chosen), others);
}

// ---------------------------------------------------------------------------------------------
// interpolation

/** A problem found while interpolating: where (a JSON pointer into the value), and what. */
export interface VarProblem {
  pointer: string;
  code: "AF-VAR-UNKNOWN" | "AF-VAR-SYNTAX" | "AF-VAR-TOO-LARGE";
  message: string;
  hint: string;
}

export interface Interpolation {
  /** The value with every resolvable string replaced (a new tree where anything changed; the input is never modified). */
  value: unknown;
  problems: VarProblem[];
  /** Pointers of strings left as written (an unknown name, a malformed reference): any schema error there only repeats the problem. */
  unresolved: string[];
  /** References would have inserted more than the budget: interpolation stopped, the value is incomplete. */
  overflow: boolean;
  /** Strings that were exactly one reference to a number or boolean, now that value: pointer → the var's name. */
  typed: Map<string, string>;
}

export interface InterpolateOptions {
  /** JSON pointers left alone with everything under them (the `agentform:` settings blocks). */
  skip?: ReadonlySet<string>;
  /** Characters references may insert in all; default MAX_VAR_EXPANSION. */
  budget?: number;
}

interface Walk {
  scope: VarScope;
  skip: ReadonlySet<string>;
  /** The last segment of each skipped pointer: only keys among them need their pointer built. */
  skipKeys: ReadonlySet<string>;
  /** Where the walk is: one stack, pushed and popped, so unchanged nodes cost no allocation. */
  path: Array<string | number>;
  budget: number;
  inserted: number;
  overflow: boolean;
  problems: VarProblem[];
  unresolved: string[];
  typed: Map<string, string>;
}

/** Replace `${vars.NAME}` in every string value of `value` (never in keys) with the scope's values. */
export function interpolate(value: unknown, scope: VarScope, options: InterpolateOptions = {}): Interpolation {
  const skip = options.skip ?? new Set<string>();
  const skipKeys = new Set([...skip].map((p) => pointerSegments(p).pop() ?? ""));
  const budget = Math.min(options.budget ?? MAX_VAR_EXPANSION, Math.max(0, MAX_PROJECT_VAR_EXPANSION - scope.inserted));
  const w: Walk = { scope, skip, skipKeys, path: [], budget, inserted: 0, overflow: false, problems: [], unresolved: [], typed: new Map() };
  const out = walkNode(value, w);
  scope.inserted += Math.min(w.inserted, budget);
  return { value: out, problems: w.problems, unresolved: w.unresolved, overflow: w.overflow, typed: w.typed };
}

function walkNode(node: unknown, w: Walk): unknown {
  if (w.overflow) return node;
  // Most strings hold no reference: one indexOf and they are returned as they are.
  if (typeof node === "string") return node.includes("${") ? resolveString(node, w) : node;
  if (Array.isArray(node)) {
    let copy: unknown[] | undefined;
    node.forEach((item, i) => {
      w.path.push(i);
      const after = walkNode(item, w);
      w.path.pop();
      if (after !== item) (copy ??= [...node])[i] = after;
    });
    return copy ?? node;
  }
  if (!isObject(node)) return node;
  let copy: Obj | undefined;
  for (const key of Object.keys(node)) {
    w.path.push(key);
    const skipped = w.skipKeys.has(key) && w.skip.has(toPointer(w.path));
    const before = node[key];
    const after = skipped ? before : walkNode(before, w);
    w.path.pop();
    // Keys are names from the file: "__proto__" must stay a key, not become a prototype.
    if (after !== before) setOwn((copy ??= { ...node }), key, after);
  }
  return copy ?? node;
}

/** What one string's scan found. */
interface StringScan {
  parts: string[];
  /** Names some checked target lacks, each once, in order of appearance. */
  unknown: string[];
  /** The first malformed reference, as written (cut short), and how many there are. */
  syntax: string | undefined;
  syntaxCount: number;
  /** The string is exactly one reference: its name (the value keeps its type). */
  whole: string | undefined;
}

const DOLLAR = 36;
const CLOSE = 125;
const isNameChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * One pass over the string. `$${` is a literal `${`; `${vars.NAME}` a reference; any other
 * `${…}` is someone else's syntax (a shell snippet in a prompt) and stays as written. Each
 * character is looked at a bounded number of times, whatever the input.
 */
function scanString(text: string, w: Walk): StringScan {
  const scan: StringScan = { parts: [], unknown: [], syntax: undefined, syntaxCount: 0, whole: undefined };
  const seen = new Set<string>();
  let p = 0;
  for (let i = text.indexOf("${"); i >= 0 && !w.overflow; i = text.indexOf("${", p)) {
    if (i > p && text.charCodeAt(i - 1) === DOLLAR) {
      scan.parts.push(text.slice(p, i - 1), "${");
      p = i + 2;
      continue;
    }
    if (!text.startsWith("vars.", i + 2)) {
      scan.parts.push(text.slice(p, i + 2));
      p = i + 2;
      continue;
    }
    let k = i + 7;
    while (k < text.length && isNameChar(text.charCodeAt(k))) k++;
    const name = text.slice(i + 7, k);
    if (text.charCodeAt(k) !== CLOSE || name === "" || isDigit(name.charCodeAt(0))) {
      scan.syntax ??= text.slice(i, Math.min(k + 1, i + 48));
      scan.syntaxCount++;
      p = k;
      continue;
    }
    if (w.scope.lackingTargets(name).length > 0 && !seen.has(name)) {
      seen.add(name);
      scan.unknown.push(name);
    }
    const value = w.scope.values.get(name);
    if (value !== undefined) insert(scan, text.slice(p, i), String(value), w);
    if (i === 0 && k === text.length - 1) scan.whole = name;
    p = k + 1;
  }
  scan.parts.push(text.slice(p));
  return scan;
}

/** Text before a reference, then its value, within the budget. */
function insert(scan: StringScan, before: string, value: string, w: Walk): void {
  w.inserted += value.length;
  if (w.inserted > w.budget) {
    w.overflow = true;
    return;
  }
  scan.parts.push(before, value);
}

function resolveString(text: string, w: Walk): unknown {
  const scan = scanString(text, w);
  const pointer = toPointer(w.path);
  if (w.overflow) {
    w.problems.push({
      pointer,
      code: "AF-VAR-TOO-LARGE",
      message:
        w.scope.inserted + w.budget >= MAX_PROJECT_VAR_EXPANSION && w.budget < MAX_VAR_EXPANSION
          ? `the values referenced across the project add up to more than ${MAX_PROJECT_VAR_EXPANSION} characters; interpolation stopped here`
          : `the values referenced in this manifest add up to more than ${w.budget} characters; interpolation stopped here`,
      hint: "Each reference inserts its whole value (values are not shared): reference long values less often, or keep long text in the manifest itself.",
    });
    return text;
  }
  if (scan.unknown.length > 0) w.problems.push({ pointer, code: "AF-VAR-UNKNOWN", ...unknownText(scan.unknown, w.scope) });
  if (scan.syntax !== undefined) {
    const more = scan.syntaxCount > 1 ? ` (and ${scan.syntaxCount - 1} more)` : "";
    w.problems.push({
      pointer,
      code: "AF-VAR-SYNTAX",
      message: `malformed reference ${quote(scan.syntax)}${more}: a reference is \`\${vars.NAME}\`, NAME being letters, digits and _ (not starting with a digit)`,
      hint: "Fix the name and close the reference with `}`; to write the text `${` itself, write `$${`.",
    });
  }
  const resolvable = scan.syntax === undefined && !scan.unknown.some((n) => !w.scope.values.has(n));
  if (!resolvable) {
    w.unresolved.push(pointer);
    return text;
  }
  // `version: ${vars.TRIAGE_VERSION}` is the number, not its digits as text.
  if (scan.whole !== undefined) {
    const value = w.scope.values.get(scan.whole);
    if (typeof value !== "string") w.typed.set(pointer, scan.whole);
    return value;
  }
  return scan.parts.join("");
}

function unknownText(names: readonly string[], scope: VarScope): { message: string; hint: string } {
  const shown = names.slice(0, 3).map((n) => `vars.${short(n)} is not defined for ${targetWords(scope.lackingTargets(n))}`);
  const more = names.length > 3 ? `; and ${names.length - 3} more names` : "";
  const { suggestion, hint } = scope.explain(names[0]!);
  return { message: `${shown.join("; ")}${more}${suggestion}`, hint };
}

/**
 * Pointers of string values holding what looks like a reference (skills: uploaded as written,
 * escapes included, so a reference there is almost certainly a mistake worth a warning).
 */
export function varMentions(value: unknown, segments: Array<string | number> = [], out: string[] = []): string[] {
  if (typeof value === "string") {
    if (value.includes("${vars.")) out.push(toPointer(segments));
  } else if (Array.isArray(value)) value.forEach((item, i) => varMentions(item, [...segments, i], out));
  else if (isObject(value)) for (const key of Object.keys(value)) varMentions(value[key], [...segments, key], out);
  return out;
}

/**
 * A value written into a manifest from elsewhere (a live resource, another tool's files) whose
 * strings must mean exactly themselves: every `${` becomes `$${`, which interpolation turns back
 * into `${`. Keys are never interpolated, so they are left alone.
 */
export function escapeVarText(value: unknown): unknown {
  // A function, not a replacement string: in one, `$$` stands for a single `$`.
  if (typeof value === "string") return value.replaceAll("${", () => "$${");
  if (Array.isArray(value)) return value.map(escapeVarText);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeVarText(v)]));
  return value;
}
