/**
 * A skill version's files as agentform compares them: `{ "<path inside the skill's folder>":
 * sha256 hex }`, from either side of the wire. Pure functions over bytes, no network.
 *
 * - `contentDigests` reads the zip the API's content download answers. The zip comes from the
 *   server, so nothing in it is trusted: entry count and unpacked bytes are capped by counting
 *   what is actually read (never the sizes the headers claim, which a zip bomb lies about), and
 *   names that could escape a folder or print as something else (`..`, absolute, backslashes,
 *   control and bidi characters: `skillPathProblem`, the rule validate applies too) are refused
 *   rather than carried into plans and lockfiles.
 * - `uploadDigests` checks an upload body's files (each one's bytes against its sha256) before
 *   anything is sent, and gives the digests the live resource will have once it lands.
 *
 * Both strip the top-level folder (`<name>/`) every path of a skill lives under: the API
 * requires it on upload and returns it in the zip, but the folder is the resource's name, not
 * part of its content.
 */
import { createHash } from "node:crypto";
import { Unzip, UnzipInflate, unzipSync } from "fflate";
import { SafetyError } from "../errors.js";
// One path rule for validate, upload and download: a path validate accepts is never refused here.
import { skillPathProblem } from "../kinds/skill/files.js";
import { nullRecord } from "../util/record.js";
import { BackendError } from "./errors.js";

export interface ContentLimits {
  /** Most entries (files and folders) a version's zip may hold. */
  maxEntries: number;
  /** Most bytes its files may unpack to, all together. */
  maxTotalBytes: number;
}

/** A skill is instructions and a few scripts; far more than either is not a skill we should hash. */
export const CONTENT_LIMITS: Readonly<ContentLimits> = Object.freeze({ maxEntries: 200, maxTotalBytes: 10 * 1024 * 1024 });

/**
 * Compressed bytes handed to the unzipper per step. fflate inflates whatever it is given in one
 * go, and deflate expands at most about 1032:1, so one step holds at most about 4 MiB before the
 * running total is checked again.
 */
const STEP_BYTES = 4096;

/** The files of a skill version's content zip, path (without the top-level folder) → sha256 hex. */
export function contentDigests(zip: Uint8Array, operation: string, limits: ContentLimits = CONTENT_LIMITS): Record<string, string> {
  const files = contentFiles(zip, operation, limits);
  return nullRecord(Object.entries(files).map(([name, bytes]) => [name, createHash("sha256").update(bytes).digest("hex")] as const));
}

/**
 * The files of a skill version's content zip, path (without the top-level folder) → bytes,
 * sorted by path: what import writes into `skills/<name>/`. Checked and bounded as above.
 */
export function contentFiles(zip: Uint8Array, operation: string, limits: ContentLimits = CONTENT_LIMITS): Record<string, Uint8Array> {
  const bad = (what: string) => new BackendError({ operation, problem: "invalid", serverMessage: `the skill content ${what}` });
  // The central directory says what the zip holds; read first, it bounds the entry count before
  // anything is unpacked, and reading it at all tells a zip from other bytes.
  const listed = centralEntries(zip, limits, bad);
  const streamed = streamedFiles(zip, limits, bad);
  const files = new Map<string, Uint8Array>();
  for (const name of listed) {
    if (name.endsWith("/")) continue;
    const bytes = streamed.get(name);
    if (bytes === undefined) throw bad(`lists ${JSON.stringify(name)} in its directory, but holds no such readable entry`);
    files.set(name, bytes);
  }
  for (const name of streamed.keys()) {
    if (!name.endsWith("/") && !files.has(name)) throw bad(`holds an entry ${JSON.stringify(name)} that its directory does not list`);
  }
  if (files.size === 0) throw bad("holds no files");
  checkWritable([...files.keys()], bad);
  return withoutTopFolder([...listed], files, bad);
}

/**
 * Paths a folder on disk can hold, as import writes them: no file that is also another's folder
 * (`x` and `x/y`), and no name longer than file systems take (255 bytes).
 */
function checkWritable(paths: readonly string[], bad: (what: string) => BackendError): void {
  const folders = new Set(paths.flatMap((p) => p.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/"))));
  for (const p of paths) {
    if (p.split("/").some((segment) => Buffer.byteLength(segment) > 255)) throw bad(`has an entry whose name is longer than 255 bytes (${JSON.stringify(p.slice(0, 80))}…)`);
    if (folders.has(p)) throw bad(`has ${JSON.stringify(p.slice(0, 200))} both as a file and as a folder`);
  }
}

/** The entry names of the central directory, each checked, at most `maxEntries` of them. */
function centralEntries(zip: Uint8Array, limits: ContentLimits, bad: (what: string) => BackendError): Set<string> {
  const names = new Set<string>();
  try {
    // With a filter that keeps nothing, fflate reads only the directory: no entry is unpacked.
    unzipSync(zip, {
      filter: ({ name }) => {
        if (names.size >= limits.maxEntries) throw bad(`has more than ${limits.maxEntries} entries`);
        const problem = skillPathProblem(name);
        if (problem !== undefined) throw bad(`has an entry ${JSON.stringify(name.slice(0, 200))} that ${problem}`);
        if (names.has(name)) throw bad(`has the entry ${JSON.stringify(name)} twice`);
        names.add(name);
        return false;
      },
    });
  } catch (err) {
    if (err instanceof BackendError) throw err;
    throw bad(`is not a readable zip archive (${messageOf(err)})`);
  }
  return names;
}

/**
 * Each entry's bytes, by local header, unpacked in small steps so that the running total of
 * bytes actually produced stops a bomb early (the total is at most `maxTotalBytes`, so holding
 * them is bounded too).
 */
function streamedFiles(zip: Uint8Array, limits: ContentLimits, bad: (what: string) => BackendError): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const seen = new Set<string>();
  let total = 0;
  let failure: BackendError | undefined;
  const unzip = new Unzip((file) => {
    if (seen.size >= limits.maxEntries) throw (failure ??= bad(`has more than ${limits.maxEntries} entries`));
    if (seen.has(file.name)) throw (failure ??= bad(`has the entry ${JSON.stringify(file.name.slice(0, 200))} twice`));
    seen.add(file.name);
    const chunks: Uint8Array[] = [];
    file.ondata = (err, data, final) => {
      // A limit thrown from here comes back once more as `err` through fflate's own catch.
      if (failure) throw failure;
      if (err) throw (failure = bad(`entry ${JSON.stringify(file.name.slice(0, 200))} does not unpack (${err.message})`));
      total += data.length;
      if (total > limits.maxTotalBytes) throw (failure = bad(`unpacks to more than ${limits.maxTotalBytes} bytes`));
      chunks.push(data);
      if (final) files.set(file.name, Buffer.concat(chunks));
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < zip.length; at += STEP_BYTES) unzip.push(zip.subarray(at, at + STEP_BYTES), at + STEP_BYTES >= zip.length);
  } catch (err) {
    throw failure ?? bad(`is not a readable zip archive (${messageOf(err)})`);
  }
  return files;
}

/** One file of an upload body, its bytes checked against its digest. */
export interface UploadPart {
  /** `<name>/<path inside the folder>`, as the API wants the part's filename. */
  path: string;
  bytes: Uint8Array;
}

/**
 * The parts of an upload body's `files` (`[{path, sha256, bytes}]`) and the digests they give the
 * live resource. Throws before anything is sent when a file has no bytes or its bytes do not
 * match its sha256: what would be uploaded must be what the plan reviewed.
 */
export function uploadDigests(files: unknown, operation: string): { parts: UploadPart[]; digests: Record<string, string> } {
  const refuse = (what: string, hint = "Nothing was sent. Run `agentform plan` again; if this repeats, it is a bug in agentform.") =>
    new SafetyError("upload-invalid", `${operation}: ${what}; nothing was sent`, { hint });
  if (!Array.isArray(files) || files.length === 0) throw refuse("the body has no files to upload");
  const parts: UploadPart[] = [];
  const digests = new Map<string, string>();
  for (const file of files as unknown[]) {
    const { path, sha256, bytes } = (file ?? {}) as { path?: unknown; sha256?: unknown; bytes?: unknown };
    if (typeof path !== "string") throw refuse("a file has no path");
    const problem = skillPathProblem(path);
    if (problem !== undefined || path.endsWith("/")) throw refuse(`the file path ${JSON.stringify(path.slice(0, 200))} ${problem ?? "is a folder"}`);
    if (digests.has(path)) throw refuse(`the file ${JSON.stringify(path)} is listed twice`);
    if (!(bytes instanceof Uint8Array)) throw refuse(`the file ${JSON.stringify(path)} has no bytes to send`);
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== sha256) {
      throw refuse(`the bytes of ${JSON.stringify(path)} do not match its sha256 (${String(sha256).slice(0, 64)}, they hash to ${actual})`, STALE_HINT);
    }
    parts.push({ path, bytes });
    digests.set(path, actual);
  }
  const digestsByPath = withoutTopFolder([...digests.keys()], digests, (what) => refuse(`the upload ${what}`));
  return { parts, digests: digestsByPath };
}

const STALE_HINT = "The files apply would upload are not the ones the plan reviewed. Run `agentform plan`, review the change, and apply again.";

/**
 * Paths relative to the one top-level folder every entry lives under (folder entries, ending in
 * `/`, may be that folder itself). `entries` are every name, `files` the digests of the files.
 */
function withoutTopFolder<V, E extends Error>(entries: string[], files: Map<string, V>, bad: (what: string) => E): Record<string, V> {
  let top: string | undefined;
  for (const name of entries) {
    const segments = name.replace(/\/$/, "").split("/");
    const first = segments[0] as string;
    if (segments.length < 2 && !name.endsWith("/")) throw bad(`has a file ${JSON.stringify(name)} outside a top-level folder`);
    top ??= first;
    if (first !== top) throw bad(`has entries under more than one top-level folder (${JSON.stringify(top)} and ${JSON.stringify(first)})`);
  }
  // Paths are keys: without a prototype, an entry `s/__proto__` is a file like any other.
  const sorted = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return nullRecord(sorted.map(([name, value]) => [name.slice((top as string).length + 1), value] as const));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200);
}
