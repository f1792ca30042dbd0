/**
 * Rotation without storing a secret. The API never returns a credential's secret, so agentform
 * keeps, in the credential's own metadata, a digest of the last value it sent and compares the
 * value in the environment variable with it at plan time.
 *
 * A plain hash would not do: metadata is readable by anyone who can read the workspace, and a
 * sha256 of a short or guessable token is found by trying candidates offline at billions per
 * second (and an unsalted one by a precomputed table, and two credentials with the same secret
 * would show it). So the digest is scrypt, deliberately slow and memory-hard, with a random salt
 * per credential. The salt is kept while the secret is unchanged, so re-planning produces the
 * very same metadata value (no perpetual diff); a new secret gets a new salt.
 *
 * Format (fits the API's 512-character metadata values): `scrypt1$<N>$<r>$<p>$<salt>$<hash>`,
 * salt and hash base64url.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

const PREFIX = "scrypt1";
/** N = 2^15, r = 8: about 32 MiB and a few tens of milliseconds per digest on a laptop. */
const COST = { N: 1 << 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/**
 * The most work a stored digest may ask for (metadata anyone with workspace access can edit): at
 * most four times the cost above, so twenty hostile values cost a plan seconds and 64 MiB, not
 * minutes and gigabytes. Raising COST later stays within it.
 */
const MAX = { N: 1 << 16, r: 8, p: 2 } as const;

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/**
 * The digest of `secret` with `salt` (random when absent). `cost` lowers the work for stand-ins
 * that keep digests only so as not to keep secrets (the local control plane's state file).
 */
export function secretDigest(secret: string, salt: Buffer = randomBytes(SALT_BYTES), cost: { N: number; r: number; p: number } = COST): string {
  const hash = derive(secret, { ...cost, salt });
  return [PREFIX, cost.N, cost.r, cost.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** secretDigest off the main thread: apply digests what it sends while other requests run. */
export async function secretDigestAsync(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await deriveAsync(secret, { ...COST, salt });
  return [PREFIX, COST.N, COST.r, COST.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/**
 * Whether `secret` is the value `stored` was made from: true or false, or null when `stored` is
 * not a digest agentform can check (absent, malformed, or asking for more work than allowed).
 */
export function secretMatches(secret: string, stored: string | undefined): boolean | null {
  const parsed = stored === undefined ? null : parse(stored);
  if (!parsed) return null;
  return timingSafeEqual(derive(secret, parsed), parsed.hash);
}

/**
 * secretMatches off the main thread (libuv's pool): a plan checks its credentials at once, so
 * twenty of them cost about the time of a few, not twenty in a row.
 */
export async function secretMatchesAsync(secret: string, stored: string | undefined): Promise<boolean | null> {
  const parsed = stored === undefined ? null : parse(stored);
  if (!parsed) return null;
  return timingSafeEqual(await deriveAsync(secret, parsed), parsed.hash);
}

/** digestToStore off the main thread. */
export async function digestToStoreAsync(secret: string, stored: string | undefined): Promise<string> {
  return (await secretMatchesAsync(secret, stored)) === true ? (stored as string) : secretDigestAsync(secret);
}

/**
 * The digest to store when `secret` is sent: the stored one again when the secret is unchanged
 * (same salt, same output), a fresh one otherwise.
 */
export function digestToStore(secret: string, stored: string | undefined): string {
  return secretMatches(secret, stored) === true ? (stored as string) : secretDigest(secret);
}

function derive(secret: string, params: { N: number; r: number; p: number; salt: Buffer }): Buffer {
  // maxmem: scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is just below COST's need.
  return scryptSync(secret, params.salt, HASH_BYTES, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r });
}

function deriveAsync(secret: string, params: { N: number; r: number; p: number; salt: Buffer }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, params.salt, HASH_BYTES, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function parse(stored: string): Parsed | null {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^[0-9]{1,7}$/.test(x as string) ? Number(x) : NaN)) as [number, number, number];
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX.N || !(r >= 1 && r <= MAX.r) || !(p >= 1 && p <= MAX.p)) return null;
  const salt = decode(parts[4] as string);
  const hash = decode(parts[5] as string);
  if (!salt || salt.length < 8 || !hash || hash.length !== HASH_BYTES) return null;
  return { N, r, p, salt, hash };
}

function decode(text: string): Buffer | null {
  return /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, "base64url") : null;
}
