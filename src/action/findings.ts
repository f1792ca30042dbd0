/**
 * The reviewed plan's security findings, carried from the pull request to the merge (pure).
 *
 * Plan mode hides a machine-readable list of the plan's broadening findings in the last line of
 * the sticky comment (`<!-- agentform-findings:<base64 JSON> -->`), with the head commit it was
 * planned at. Apply mode reads it back and refuses a finding the reviewers were not shown.
 * Comment text is attacker-reachable, so decoding is strict: anything but a well-formed,
 * bounded payload is "no reviewed plan", never an error or a partial list.
 */
import { createHash } from "node:crypto";
import { OperationalError } from "../errors.js";
import type { Plan } from "../plan/types.js";
import { withNames } from "../render/index.js";

/**
 * One finding as reviewed: resource address, category, JSON pointer (ids shown as names, as in
 * the comment), and a short digest of its message, so a finding that grew (a second tool enabled
 * under the same pointer) is not taken for the one reviewers saw.
 */
export interface FindingKey {
  address: string;
  category: string;
  pointer: string;
  detail: string;
  /** The finding's text, for showing a refused finding (never encoded: `detail` stands for it). */
  message?: string;
}

export interface ReviewedFindings {
  /** The pull request's head commit the plan was made at. */
  sha: string;
  /** The reviewed list; null when it was too long for the comment and only its digest was kept. */
  findings: FindingKey[] | null;
  digest: string;
  count: number;
}

const PREFIX = "<!-- agentform-findings:";
const SUFFIX = " -->";
/**
 * The longest findings line written (base64 included); longer lists are kept as a digest. With
 * agentform's Markdown (at most 60,000 characters) the comment stays under GitHub's 65,536.
 */
export const MAX_FINDINGS_LINE = 4000;
const MAX_FIELD = 1024;
const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const HEX64 = /^[0-9a-f]{64}$/;
const DETAIL = /^[0-9a-f]{16}$/;

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const keyOf = (k: FindingKey) => JSON.stringify([k.address, k.category, k.pointer, k.detail]);

/** The digest of a findings list: of its sorted keys, so order and duplicates do not matter. */
export function findingsDigest(keys: readonly FindingKey[]): string {
  return sha256(JSON.stringify([...new Set(keys.map(keyOf))].sort()));
}

/** A plan's broadening findings (what `--require-approval broadening` gates), sorted, without duplicates. */
export function planFindings(plan: Plan): FindingKey[] {
  const byKey = new Map<string, FindingKey>();
  for (const r of withNames(plan).resources) {
    for (const f of r.security) {
      if (f.severity !== "broadening") continue;
      // The detail covers the resource's whole desired content (its spec digest), not only the
      // finding's words: a skill whose files changed after review reads the same in its message.
      const k = { address: r.address, category: f.category, pointer: f.pointer, detail: sha256(`${f.message}\n${r.specDigest ?? ""}`).slice(0, 16), message: f.message };
      byKey.set(keyOf(k), k);
    }
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/** The hidden line for the comment: the list, or (when that would be too long) its digest. */
export function encodeFindings(sha: string, keys: readonly FindingKey[]): string {
  const line = (payload: unknown) => `${PREFIX}${Buffer.from(JSON.stringify(payload), "utf8").toString("base64")}${SUFFIX}`;
  const full = line({ v: 1, sha, f: keys.map((k) => [k.address, k.category, k.pointer, k.detail]) });
  if (full.length <= MAX_FINDINGS_LINE) return full;
  return line({ v: 1, sha, d: findingsDigest(keys), n: keys.length });
}

/** The findings line of a comment body (its last non-empty line), decoded; null unless well-formed. */
export function decodeFindings(body: string): ReviewedFindings | null {
  const last = body.trimEnd().split("\n").pop() ?? "";
  if (last.length > MAX_FINDINGS_LINE || !last.startsWith(PREFIX) || !last.endsWith(SUFFIX)) return null;
  const b64 = last.slice(PREFIX.length, -SUFFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const bytes = Buffer.from(b64, "base64");
  if (bytes.toString("base64") !== b64) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  return reviewedOf(payload);
}

function reviewedOf(payload: unknown): ReviewedFindings | null {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  if (p.v !== 1 || typeof p.sha !== "string" || !SHA.test(p.sha)) return null;
  if (Array.isArray(p.f)) {
    const findings: FindingKey[] = [];
    for (const entry of p.f as unknown[]) {
      const k = keyFrom(entry);
      if (!k) return null;
      findings.push(k);
    }
    return { sha: p.sha, findings, digest: findingsDigest(findings), count: findings.length };
  }
  if (typeof p.d === "string" && HEX64.test(p.d) && Number.isSafeInteger(p.n) && (p.n as number) >= 0) {
    return { sha: p.sha, findings: null, digest: p.d, count: p.n as number };
  }
  return null;
}

function keyFrom(entry: unknown): FindingKey | null {
  if (!Array.isArray(entry) || entry.length !== 4) return null;
  if (!entry.every((s) => typeof s === "string" && s.length <= MAX_FIELD)) return null;
  const [address, category, pointer, detail] = entry as string[];
  if (!DETAIL.test(detail as string)) return null;
  return { address: address as string, category: category as string, pointer: pointer as string, detail: detail as string };
}

export interface Comparison {
  /** Findings of the plan now that the reviewed plan did not have. */
  unreviewed: FindingKey[];
  /** The reviewed list was kept as a digest only, so any difference refuses the whole list. */
  digestOnly: boolean;
}

/** The findings of `current` that were not reviewed. Findings that went away are fine. */
export function compareFindings(reviewed: ReviewedFindings, current: readonly FindingKey[]): Comparison {
  if (reviewed.findings === null) {
    return { unreviewed: findingsDigest(current) === reviewed.digest ? [] : [...current], digestOnly: true };
  }
  const seen = new Set(reviewed.findings.map(keyOf));
  return { unreviewed: current.filter((k) => !seen.has(keyOf(k))), digestOnly: false };
}

/** A saved plan (`plan --out`, written by the Action's own run) read back, with its shape checked. */
export function planFromJson(text: string): Plan {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (err) {
    throw unreadable(`not JSON (${(err as Error).message})`);
  }
  const p = plan as { resources?: unknown };
  if (!plan || typeof plan !== "object" || !Array.isArray(p.resources)) throw unreadable("it has no resources list");
  for (const r of p.resources as unknown[]) {
    const res = r as { address?: unknown; security?: unknown };
    if (!r || typeof r !== "object" || typeof res.address !== "string" || !Array.isArray(res.security)) throw unreadable("a resource has no address or security list");
  }
  return plan as Plan;
}

function unreadable(why: string): OperationalError {
  return new OperationalError("action-plan-unreadable", `The plan agentform saved cannot be read: ${why}.`, {
    hint: "This is a bug in the Action or agentform; rerun the job, and report it if it happens again.",
  });
}
