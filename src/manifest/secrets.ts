/**
 * Secret scanning: credentials pasted into a manifest or agentform.yaml are validation errors,
 * because a committed secret is leaked the moment it is pushed.
 *
 * Two scanners, one finding list:
 * - secretlint's recommended preset (a maintained rule set: provider token formats, private
 *   keys, AWS, database connection strings, basic-auth URLs, …) over each file's raw text,
 *   batched into few calls; findings are mapped back to the field that holds them by offset.
 * - agentform's own shapes over the parsed values (and keys), only for what the preset does not
 *   cover: credentials in URL userinfo and query strings, JWTs, Google API keys, PEM headers
 *   without a full body, bearer tokens, Anthropic and OpenAI keys in any length (the preset
 *   only knows their full current formats), and AWS secret keys under any key name.
 *
 * A finding never carries the whole secret: only a short prefix, for people to find it.
 */
import { lintSource } from "@secretlint/core";
import { secretLintProfiler } from "@secretlint/profiler";
import { creator as recommended } from "@secretlint/secretlint-rule-preset-recommend";
import { CREDENTIAL_SHAPES } from "../errors.js";
import { pointerToPath } from "./format.js";
import { toPointer } from "./source.js";
import { eachInSlices, letThrough } from "../util/slices.js";
import type { Diagnostic, Position } from "./types.js";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A credential found in a value or key by {@link findSecrets}. */
export interface SecretFinding {
  /** Where it is, as path segments from the scanned value's root. */
  at: Array<string | number>;
  /** What it looks like, e.g. "a GitHub token". */
  what: string;
  /** A short prefix and an ellipsis; never the whole secret. */
  preview: string;
  /** The secret is a mapping key, not a value. */
  inKey?: boolean;
  /** The matched text, so other diagnostics quoting it can be scrubbed. Never printed. */
  secret: string;
}

/** A finding on raw text: offsets into the scanned text. */
export interface TextFinding {
  start: number;
  end: number;
  what: string;
  preview: string;
  secret: string;
}

/** At most six characters and never more than a quarter of the secret, then an ellipsis. */
export function preview(secret: string): string {
  return secret.slice(0, Math.min(6, Math.floor(secret.length / 4))) + "…";
}

// ---------------------------------------------------------------------------------------------
// agentform's own shapes (what the preset misses)

interface Shape {
  what: string;
  pattern: RegExp;
}

/** The provider formats output redaction also uses (one copy, in src/errors.ts). */
const VALUE_SHAPES = CREDENTIAL_SHAPES.filter((s) => !s.outputOnly);

const OWN_SHAPES: Shape[] = [
  // Provider formats are the shapes output redaction uses (CREDENTIAL_SHAPES, tried first).
  // The preset wants a body of at least 100 characters; a header alone is already a key paste.
  { what: "a private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
];

/**
 * The value shapes also run over each file's raw text, so comments are covered (the preset's
 * Node 20 line, 11.x, has no GitLab or Stripe rule). A secret found both ways in one field is
 * reported once.
 */
function textShapeFindings(text: string): TextFinding[] {
  const out: TextFinding[] = [];
  // One pass rules out most texts (every manifest is scanned) before the shapes run one by one.
  if (!ANY_REDACTED_SHAPE.test(text)) return out;
  for (const shape of VALUE_SHAPES) {
    for (const m of text.matchAll(shape.pattern)) {
      out.push({ start: m.index, end: m.index + m[0].length, what: shape.what, preview: preview(m[0]), secret: m[0] });
    }
  }
  return out;
}
/** One pass that rules most strings out before the shapes run one by one. */
const ANY_SHAPE = /sk-|AIza|eyJ|PRIVATE KEY|Bearer|:\/\//;
const AWS_SECRET = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/;

// The scheme is bounded: unbounded, a long run like "a.a.a.…" with no "://" is rescanned from
// every start position (quadratic).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s"'<>`]+/gi;
const SENSITIVE_PARAM = /^(?:(?:[a-z0-9]+[-_])*(?:token|key|secret|sig|signature|password|passwd|pwd)|apikey|x-amz-security-token)$/i;
/** `${VAR}`, `<token>`, `{{ secret }}`, `xxxx`, `****`: documentation, not a credential. */
const PLACEHOLDER = /^(?:\$|<|\{|%7B|%24|\*+$|x+$|X+$|\.\.\.)/;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Credentials in a URL's userinfo (`user:password@`, or a long token as the user) or in its query or fragment. */
function urlCredential(url: string): Omit<SecretFinding, "at"> | undefined {
  const rest = url.slice(url.indexOf("://") + 3);
  const authority = rest.split(/[/?#]/, 1)[0]!;
  const at = authority.lastIndexOf("@");
  if (at > 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    const password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : "";
    const tokenUser = colon < 0 && /^[A-Za-z0-9_.~-]{20,}$/.test(userinfo);
    if ((password !== "" && !PLACEHOLDER.test(password)) || tokenUser) {
      return { what: "a URL with credentials in it", preview: preview(userinfo + "@"), secret: userinfo + "@" };
    }
  }
  for (const part of rest.split(/[?#&;]/).slice(1)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq);
    const value = decode(part.slice(eq + 1));
    if (SENSITIVE_PARAM.test(name) && value.length >= 8 && !PLACEHOLDER.test(value)) {
      return { what: `a URL with a credential in its ${JSON.stringify(name)} parameter`, preview: `${name}=…`, secret: part.slice(eq + 1) };
    }
  }
  return undefined;
}

/** The shapes output redaction uses, tried on parsed values (escapes decoded), one pass first. */
const REDACTED_SHAPES = VALUE_SHAPES.map((s) => ({ what: s.what, pattern: new RegExp(s.pattern.source) }));
const ANY_REDACTED_SHAPE = new RegExp(VALUE_SHAPES.map((s) => `(?:${s.pattern.source})`).join("|"));

/** The first credential in one string, by agentform's own shapes. */
function ownShape(text: string, key: string | undefined): Omit<SecretFinding, "at"> | undefined {
  if (ANY_REDACTED_SHAPE.test(text)) {
    for (const shape of REDACTED_SHAPES) {
      const match = shape.pattern.exec(text);
      if (match) return { what: shape.what, preview: preview(match[0]), secret: match[0] };
    }
  }
  if (ANY_SHAPE.test(text)) {
    for (const shape of OWN_SHAPES) {
      const match = shape.pattern.exec(text);
      if (match) return { what: shape.what, preview: preview(match[0]), secret: match[0] };
    }
    if (text.includes("://")) {
      for (const url of text.match(URL_IN_TEXT) ?? []) {
        const found = urlCredential(url);
        if (found) return found;
      }
    }
  }
  // An AWS secret key has no prefix; only the field's name gives it away.
  const aws = key !== undefined && /aws|secret/i.test(key) ? AWS_SECRET.exec(text) : null;
  return aws ? { what: "an AWS secret access key", preview: preview(aws[0]), secret: aws[0] } : undefined;
}

/** A path from the scanned value's root, as links to the parent's: made into an array only for a finding. */
interface PathLink {
  parent: PathLink | null;
  segment: string | number;
}

function pathOf(at: ReadonlyArray<string | number>, link: PathLink | null): Array<string | number> {
  const segments: Array<string | number> = [];
  for (let l = link; l !== null; l = l.parent) segments.push(l.segment);
  return [...at, ...segments.reverse()];
}

/** Every string (and mapping key) inside `value` shaped like a credential, by agentform's own shapes. Pure. */
export function findSecrets(value: unknown, at: Array<string | number> = []): SecretFinding[] {
  const out: SecretFinding[] = [];
  // An explicit stack: values are depth-checked on load, but this is exported for any value. It
  // runs over every string of every manifest, so no path is copied unless something is found.
  const nodes: unknown[] = [value];
  const links: Array<PathLink | null> = [null];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const link = links.pop() as PathLink | null;
    if (typeof node === "string") {
      const found = ownShape(node, String((link === null ? at[at.length - 1] : link.segment) ?? ""));
      if (found) out.push({ at: pathOf(at, link), ...found });
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        nodes.push(node[i]);
        links.push({ parent: link, segment: i });
      }
    } else if (isObject(node)) {
      const keys = Object.keys(node);
      for (let j = keys.length - 1; j >= 0; j--) {
        const k = keys[j] as string;
        const child: PathLink = { parent: link, segment: k };
        // A token pasted as a key (e.g. a metadata key) leaks just the same.
        const inKey = ownShape(k, undefined);
        if (inKey) out.push({ at: pathOf(at, child), ...inKey, inKey: true });
        nodes.push(node[k]);
        links.push(child);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// secretlint's recommended preset, over raw text

// The profiler records a performance mark (and keeps an entry) for every rule and file, which
// would grow without bound over thousands of manifests; this line of secretlint has no switch
// for it, so its one recording method is replaced by a no-op.
(secretLintProfiler as unknown as { mark: (marker: unknown) => void }).mark = () => undefined;

const CONFIG = {
  rules: [
    {
      id: "@secretlint/secretlint-rule-preset-recommend",
      rule: recommended,
      rules: [
        // `secretlint-disable` comments would be a second, undocumented allow list, and would
        // leak from one file into the next in a batch; agentform.allow_secret_pattern is the one.
        { id: "@secretlint/secretlint-rule-filter-comments", disabled: true },
        // AWS access key ids (AKIA…/ASIA…) are off in the preset by default.
        { id: "@secretlint/secretlint-rule-aws", options: { enableIDScanRule: true } },
      ],
    },
  ],
};

const RULE_WHAT: Record<string, string> = {
  anthropic: "an Anthropic API key",
  openai: "an OpenAI API key",
  github: "a GitHub token",
  gitlab: "a GitLab token",
  slack: "a Slack token",
  aws: "an AWS credential",
  npm: "an npm token",
  stripe: "a Stripe key",
  privatekey: "a private key",
  basicauth: "a URL with credentials in it",
  "database-connection-string": "a database connection string with a password",
  gcp: "a GCP service account key",
};

function ruleWhat(ruleId: string): string {
  const short = ruleId.replace(/^@secretlint\/secretlint-rule-/, "");
  return Object.hasOwn(RULE_WHAT, short) ? RULE_WHAT[short]! : `a credential (secretlint rule ${short})`;
}

/**
 * One lintSource call costs about 50 µs whatever its size, so files are scanned in batches of
 * this many characters; not larger: a batch holds the event loop (about 1 ms), and a plan's
 * lists page while the manifests load; and a batch's text (and what secretlint makes of it)
 * stays below V8's large-object size, so it is collected young instead of piling up until the
 * next full collection.
 */
const BATCH_CHARS = 48 * 1024;
const FIELD_PREFIX = /^[\w.-]*["']?\s*(?::|=>|=)\s*["']?/;
/** Between two files of a batch: every rule's match stops at a blank line. */
const SEPARATOR = "\n\n";

async function lintBatch(texts: readonly string[], indexes: number[], out: TextFinding[][]): Promise<void> {
  const starts: number[] = [];
  let content = "";
  for (const i of indexes) {
    starts.push(content.length);
    content += texts[i]! + SEPARATOR;
  }
  const result = await lintSource({ source: { filePath: "manifests.yaml", content, ext: ".yaml", contentType: "text" }, options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true } });
  for (const message of result.messages) {
    const [start, end] = message.range;
    let k = starts.length - 1;
    while (k > 0 && starts[k]! > start) k--;
    const fileIndex = indexes[k]!;
    const base = starts[k]!;
    const stop = Math.min(end, base + texts[fileIndex]!.length);
    // Some rules' ranges start at the field's name (`aws_secret_access_key: …`): that is not the secret.
    const secret = content.slice(start, stop).replace(FIELD_PREFIX, "");
    out[fileIndex]!.push({ start: start - base, end: stop - base, what: ruleWhat(message.ruleId), preview: preview(secret), secret });
  }
}

/** Scan each text with secretlint's recommended preset (and the value shapes); findings per text, offsets into it. */
export async function scanTexts(texts: readonly string[]): Promise<TextFinding[][]> {
  const out: TextFinding[][] = texts.map(() => []);
  let batch: number[] = [];
  let size = 0;
  for (let i = 0; i < texts.length; i++) {
    if (texts[i] === "") continue;
    if (size > 0 && size + texts[i]!.length > BATCH_CHARS) {
      await lintBatch(texts, batch, out);
      await letThrough();
      batch = [];
      size = 0;
    }
    batch.push(i);
    size += texts[i]!.length + SEPARATOR.length;
  }
  if (batch.length > 0) await lintBatch(texts, batch, out);
  await eachInSlices(texts, (text, i) => out[i]!.push(...textShapeFindings(text)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// findings → diagnostics

/** One file's view for turning findings into diagnostics. */
export interface SecretScanInput {
  file: string;
  /** The parsed document, when the file parsed. */
  value?: unknown;
  /** Raw-text findings for this file (from {@link scanTexts}). */
  textFindings: readonly TextFinding[];
  /** Text offset → the field there (undefined segments: a comment, or a file that did not parse). */
  spot(offset: number): { segments?: string[]; inKey: boolean; position: Position };
  locate(pointer: string): Position;
  /** JSON pointers exempted by agentform.allow_secret_pattern; undefined where the file has no such setting (agentform.yaml). */
  allow?: readonly string[];
}

interface Located {
  pointer: string | undefined;
  inKey: boolean;
  position: Position;
  what: string;
  preview: string;
  secret: string;
}

function locatedFindings(input: SecretScanInput): Located[] {
  const out: Located[] = [];
  for (const f of input.textFindings) {
    // The end of the match names the field, not its start: some rules' ranges start at the
    // field's name. Outside any field (a comment), the start is where people should look.
    const spot = input.spot(Math.max(f.start, f.end - 1));
    const position = spot.segments ? spot.position : input.spot(f.start).position;
    out.push({ pointer: spot.segments && toPointer(spot.segments), inKey: spot.inKey, position, what: f.what, preview: f.preview, secret: f.secret });
  }
  for (const f of input.value === undefined ? [] : findSecrets(input.value)) {
    const pointer = toPointer(f.at);
    out.push({ pointer, inKey: f.inKey === true, position: input.locate(pointer), what: f.what, preview: f.preview, secret: f.secret });
  }
  return out;
}

function secretHint(f: Located, allowable: boolean): string {
  if (f.pointer === undefined) return "Remove it from the file (comments are committed too), and rotate it: it is already in your git history.";
  const store = "Store it in a vault credential (attached to sessions via vault_ids) instead, and rotate it: it is already in your git history.";
  return allowable && !f.inKey ? `${store} If it is not a secret, add ${JSON.stringify(f.pointer)} to agentform.allow_secret_pattern.` : store;
}

/**
 * AF-SECRET errors for one file (one per field), less the fields its allow list exempts, plus
 * an AF-SECRET-ALLOW-UNUSED warning for each allow entry that exempted nothing. `secrets` are
 * the matched texts, for scrubbing other diagnostics that quote them.
 */
export function secretDiagnostics(input: SecretScanInput, hint?: string): { diagnostics: Diagnostic[]; secrets: string[] } {
  const diagnostics: Diagnostic[] = [];
  const secrets: string[] = [];
  const allowed = new Set(input.allow ?? []);
  const used = new Set<string>();
  const seen = new Set<string>();
  for (const f of locatedFindings(input)) {
    secrets.push(f.secret);
    if (f.pointer !== undefined && !f.inKey && allowed.has(f.pointer)) {
      used.add(f.pointer);
      continue;
    }
    const id = `${f.pointer ?? `${f.position.line}:${f.position.column}`}|${f.inKey}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const where = f.inKey ? "key" : f.pointer !== undefined ? "value" : "text";
    // A key's own path would print the key, which is the secret: name its mapping instead.
    const path = f.pointer === undefined ? "" : pointerToPath(f.inKey ? f.pointer.slice(0, f.pointer.lastIndexOf("/")) : f.pointer);
    const message = `this ${where} looks like ${f.what} (${f.preview}); secrets must not be committed`;
    diagnostics.push({ code: "AF-SECRET", severity: "error", file: input.file, line: f.position.line, column: f.position.column, path, message, hint: hint ?? secretHint(f, input.allow !== undefined) });
  }
  (input.allow ?? []).forEach((pointer, i) => {
    // An entry that is not a pointer at all is already a schema error.
    if (used.has(pointer) || !pointer.startsWith("/")) return;
    const pos = input.locate(`/agentform/allow_secret_pattern/${i}`);
    diagnostics.push({ code: "AF-SECRET-ALLOW-UNUSED", severity: "warning", file: input.file, line: pos.line, column: pos.column, path: `agentform.allow_secret_pattern[${i}]`, message: `nothing at ${JSON.stringify(pointer)} looks like a secret, so this entry exempts nothing`, hint: "Remove the entry: an exemption that is not needed would hide a real secret pasted there later." });
  });
  return { diagnostics, secrets };
}

/**
 * Replace every quotation of a found secret (whole, or cut short after at least 8 characters,
 * as messages shorten long values) by its preview. Other diagnostics may quote the same value:
 * an unknown key, a bad domain.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    const head = secret.slice(0, 8);
    let from = out.indexOf(head);
    while (from >= 0) {
      let n = 8;
      while (n < secret.length && out[from + n] === secret[n]) n++;
      const replacement = preview(secret);
      out = out.slice(0, from) + replacement + out.slice(from + n);
      from = out.indexOf(head, from + replacement.length);
    }
  }
  return out;
}

/** {@link scrubSecrets} over a diagnostic's path, message and hint. */
export function scrubDiagnostic(d: Diagnostic, secrets: readonly string[]): Diagnostic {
  if (secrets.length === 0) return d;
  return { ...d, path: scrubSecrets(d.path, secrets), message: scrubSecrets(d.message, secrets), ...(d.hint === undefined ? {} : { hint: scrubSecrets(d.hint, secrets) }) };
}
