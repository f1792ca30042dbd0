/**
 * What agentform knows about a skill's files (pure, no imports): the limits an upload must stay
 * within, which paths it may hold, and how its bytes read as text. The rules check them
 * (src/kinds/skill/rules.ts); the loader stops reading a folder at the limits and scans every
 * file for secrets (src/manifest/folder.ts), so a folder that holds gigabytes is reported, never
 * read whole; the backend applies the same path rule to uploads and downloads
 * (src/backends/skill-content.ts).
 */

/**
 * The API's limits on one upload. The real API documents none for file count and size; these
 * are the local control plane's choices (docs/local-control-plane.md, "Skills"), so what
 * validates here uploads there.
 */
export const SKILL_LIMITS = {
  /** Files per upload. */
  files: 200,
  /** Bytes of file content per upload, all files together (10 MiB). */
  totalBytes: 10 * 1024 * 1024,
  /** Characters of an uploaded path, `<name>/<relative path>`. */
  pathLength: 1024,
  /** SKILL.md frontmatter `name`. */
  nameLength: 64,
  /** SKILL.md frontmatter `description`. */
  descriptionLength: 1024,
} as const;

/** The file holding a skill's manifest, at the root of its folder (exact case: the API wants this name). */
export const SKILL_MANIFEST = "SKILL.md";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf16 = new TextDecoder("utf-16le");

/**
 * A file's text when it is text (valid UTF-8 without NUL bytes), else undefined. Binary files
 * (images, archives) are uploaded as they are; only text is checked for line endings (git's
 * text=auto leaves files with NUL bytes, UTF-16 among them, alone, so a CRLF hint would not help).
 */
export function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Every file as text for the secret scan, never undefined: whatever is uploaded must be scanned.
 * UTF-8 is read as such; UTF-16 with a byte-order mark (what PowerShell's `>` writes) is decoded,
 * since its ASCII would otherwise be interleaved with NULs and match no pattern; anything else
 * (Latin-1, binary) is read as latin1, one character per byte, so the ASCII the credential
 * patterns look for is found wherever it sits.
 */
export function scanTextOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return utf16.decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return utf16.decode(swapPairs(bytes.subarray(2)));
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

/** Big-endian UTF-16 as little-endian (a decoder for "utf-16be" needs full ICU; this needs nothing). */
function swapPairs(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - (bytes.length % 2));
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1]!;
    out[i + 1] = bytes[i]!;
  }
  return out;
}

/** Each byte as the character with its code (latin1), in chunks so a 10 MiB file never overflows the argument stack. */
function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.length; at += 8192) out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  return out;
}

/** C0 and C1 controls, the line separators, and the bidirectional embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Why an upload path (`<name>/<path in the folder>`, or a folder entry ending in one `/`) is one
 * agentform will not carry, or undefined. The one rule for every side: validate reports it
 * (AF-SKILL-PATH), apply refuses to send it, and a downloaded zip holding it is refused, so a
 * path that passes validate is never refused later. Refused: whatever could point outside the
 * skill's folder (absolute, `..`, backslashes) or print as something it is not (controls, bidi).
 */
export function skillPathProblem(path: string): string | undefined {
  if (path === "" || path === "/") return "is empty";
  if (path.length > SKILL_LIMITS.pathLength) return `is longer than ${SKILL_LIMITS.pathLength} characters`;
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "is an absolute path";
  if (path.includes("\\")) return "contains a backslash";
  if (UNPRINTABLE.test(path)) return "contains control or bidirectional characters";
  const segments = path.replace(/\/$/, "").split("/");
  if (segments.some((s) => s === "..")) return "climbs out of its folder (..)";
  if (segments.some((s) => s === "" || s === ".")) return "has an empty or '.' segment";
  return undefined;
}

/**
 * The form two paths share when a case-insensitive or normalising file system (macOS, Windows)
 * would store them as one: NFC, then lower case. Two files with one key collide in such a checkout.
 */
export function pathFoldKey(path: string): string {
  return path.normalize("NFC").toLowerCase().normalize("NFC");
}
