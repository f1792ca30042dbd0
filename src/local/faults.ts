/**
 * Fault injection and rate limiting for the local control plane: latency, per-minute request
 * windows, an environment concurrency cap, random errors from a seeded PRNG, and scripted faults
 * ("the 7th write fails").
 */

/** Fault and limit settings. Every field has a default that injects nothing. */
export interface FaultConfig {
  /** Fixed latency added to every API request (default 0). */
  latencyMs: number;
  /** Plus a uniform random 0..jitterMs. */
  jitterMs: number;
  /** POST/DELETE on /v1/*; over the limit → 429 + retry-after (seconds). */
  writesPerMinute: number | null;
  /** GET on /v1/*. */
  readsPerMinute: number | null;
  /**
   * Length of the rate-limit window in ms (default 60,000, a real minute). Tests shrink it to
   * exercise sustained rate limiting in seconds instead of minutes; the limits above then count
   * per window.
   */
  rateWindowMs: number;
  /** Max in-flight /v1/environments* requests; over → 429 + retry-after. */
  environmentConcurrency: number | null;
  /** Probability 0..1 of an injected error on a /v1 request. */
  errorRate: number;
  /** Which status errorRate injects (429 comes with retry-after: 1). */
  errorStatus: 500 | 529 | 429;
  /** Probability that a WRITE is committed and then the socket is destroyed without a response. */
  dropAfterCommitRate: number;
  /** Deterministic faults. */
  script: ScriptedFault[];
  /** Seeds the PRNG used for probabilities and jitter (deterministic tests). */
  seed: number;
}

/** A fault that hits the nth counted request after the script was set. */
export interface ScriptedFault {
  /** Which requests count. */
  on: "write" | "read" | "any";
  /** 1-based index among counted requests since this script was set. */
  nth: number;
  fault: { status: 429 | 500 | 503 | 529; retryAfterSeconds?: number } | { dropAfterCommit: true } | { dropBeforeCommit: true };
}

/** No latency, no limits, no injected errors. */
export const DEFAULT_FAULTS: Readonly<FaultConfig> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  writesPerMinute: null,
  readsPerMinute: null,
  rateWindowMs: 60_000,
  environmentConcurrency: null,
  errorRate: 0,
  errorStatus: 500,
  dropAfterCommitRate: 0,
  script: [],
  seed: 1,
});

/** What the engine decided for one request, before the handler runs. */
export type FaultDecision =
  | { kind: "none"; dropAfterCommit: boolean; fault?: string }
  | { kind: "error"; status: number; retryAfterSeconds?: number; fault: string }
  | { kind: "dropBeforeCommit"; fault: string };

/** mulberry32: tiny, seedable, good enough for fault probabilities. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isNonNegativeNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/**
 * Check a partial FaultConfig coming from outside (admin HTTP, CLI flags). Throws an Error whose
 * message names the bad field.
 */
export function parseFaults(input: unknown): Partial<FaultConfig> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error("faults must be a JSON object");
  const o = input as Record<string, unknown>;
  const out: Partial<FaultConfig> = {};
  for (const [key, v] of Object.entries(o)) {
    switch (key) {
      case "rateWindowMs":
        if (!isNonNegativeNumber(v) || v < 100) throw new Error(`${key} must be a number ≥ 100`);
        out[key] = v;
        break;
      case "latencyMs":
      case "jitterMs":
        if (!isNonNegativeNumber(v)) throw new Error(`${key} must be a number ≥ 0`);
        out[key] = v;
        break;
      case "writesPerMinute":
      case "readsPerMinute":
      case "environmentConcurrency":
        if (v !== null && !(isNonNegativeNumber(v) && Number.isInteger(v) && v >= 1)) throw new Error(`${key} must be an integer ≥ 1 or null`);
        out[key] = v as number | null;
        break;
      case "errorRate":
      case "dropAfterCommitRate":
        if (!isNonNegativeNumber(v) || v > 1) throw new Error(`${key} must be a probability between 0 and 1`);
        out[key] = v;
        break;
      case "errorStatus":
        if (v !== 500 && v !== 529 && v !== 429) throw new Error("errorStatus must be 500, 529 or 429");
        out.errorStatus = v;
        break;
      case "seed":
        if (typeof v !== "number" || !Number.isInteger(v)) throw new Error("seed must be an integer");
        out.seed = v;
        break;
      case "script":
        out.script = parseScript(v);
        break;
      default:
        throw new Error(`unknown fault setting "${key}"`);
    }
  }
  return out;
}

function parseScript(v: unknown): ScriptedFault[] {
  if (!Array.isArray(v)) throw new Error("script must be an array");
  return v.map((entry, i) => {
    const e = entry as Partial<ScriptedFault> | null;
    if (typeof e !== "object" || e === null) throw new Error(`script[${i}] must be an object`);
    if (e.on !== "write" && e.on !== "read" && e.on !== "any") throw new Error(`script[${i}].on must be "write", "read" or "any"`);
    if (typeof e.nth !== "number" || !Number.isInteger(e.nth) || e.nth < 1) throw new Error(`script[${i}].nth must be an integer ≥ 1`);
    const f = e.fault as Record<string, unknown> | undefined;
    if (typeof f !== "object" || f === null) throw new Error(`script[${i}].fault must be an object`);
    if (f.dropAfterCommit === true) return { on: e.on, nth: e.nth, fault: { dropAfterCommit: true } };
    if (f.dropBeforeCommit === true) return { on: e.on, nth: e.nth, fault: { dropBeforeCommit: true } };
    if (f.status !== 429 && f.status !== 500 && f.status !== 503 && f.status !== 529) {
      throw new Error(`script[${i}].fault needs status 429|500|503|529, dropAfterCommit: true or dropBeforeCommit: true`);
    }
    const fault: { status: 429 | 500 | 503 | 529; retryAfterSeconds?: number } = { status: f.status };
    if (f.retryAfterSeconds !== undefined) {
      if (!isNonNegativeNumber(f.retryAfterSeconds)) throw new Error(`script[${i}].fault.retryAfterSeconds must be a number ≥ 0`);
      fault.retryAfterSeconds = f.retryAfterSeconds;
    }
    return { on: e.on, nth: e.nth, fault };
  });
}

/** Holds the live fault settings and the counters they need. One per server. */
export class FaultEngine {
  private config: FaultConfig = { ...DEFAULT_FAULTS, script: [] };
  private random: () => number = prng(DEFAULT_FAULTS.seed);
  private writeTimes: number[] = [];
  private readTimes: number[] = [];
  private counters = { write: 0, read: 0, any: 0 };
  private environmentInFlight = 0;

  constructor(private readonly clock: () => number = () => Date.now()) {}

  get settings(): FaultConfig {
    return structuredClone(this.config);
  }

  /** Replace the given fields; re-seed the PRNG and restart the script counters. */
  set(partial: Partial<FaultConfig>): void {
    const checked = parseFaults(partial);
    this.config = { ...this.config, ...checked };
    this.random = prng(this.config.seed);
    this.counters = { write: 0, read: 0, any: 0 };
  }

  reset(): void {
    this.config = { ...DEFAULT_FAULTS, script: [] };
    this.random = prng(this.config.seed);
    this.counters = { write: 0, read: 0, any: 0 };
    this.writeTimes = [];
    this.readTimes = [];
  }

  /** The latency to add to this request. */
  latency(): number {
    const { latencyMs, jitterMs } = this.config;
    return latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
  }

  /**
   * Take an environment concurrency slot. Returns false when the cap is reached; otherwise the
   * caller must call `releaseEnvironment()` when the request ends.
   */
  acquireEnvironment(): boolean {
    const cap = this.config.environmentConcurrency;
    if (cap !== null && this.environmentInFlight >= cap) return false;
    this.environmentInFlight++;
    return true;
  }

  releaseEnvironment(): void {
    this.environmentInFlight = Math.max(0, this.environmentInFlight - 1);
  }

  /**
   * Sliding window (a minute unless rateWindowMs says otherwise). Returns the whole seconds until a slot frees when over the limit,
   * or null (and records the request) when it may proceed.
   */
  private takeSlot(times: number[], limit: number | null): number | null {
    if (limit === null) return null;
    const now = this.clock();
    while (times.length > 0 && (times[0] as number) <= now - this.config.rateWindowMs) times.shift();
    if (times.length >= limit) {
      const oldest = times[times.length - limit] as number;
      return Math.max(1, Math.ceil((oldest + this.config.rateWindowMs - now) / 1000));
    }
    times.push(now);
    return null;
  }

  /** Decide what happens to one authenticated /v1 request: rate limits, script, random errors. */
  decide(write: boolean): FaultDecision {
    const retryAfter = write ? this.takeSlot(this.writeTimes, this.config.writesPerMinute) : this.takeSlot(this.readTimes, this.config.readsPerMinute);
    if (retryAfter !== null) {
      return { kind: "error", status: 429, retryAfterSeconds: retryAfter, fault: write ? "writesPerMinute" : "readsPerMinute" };
    }
    if (write) this.counters.write++;
    else this.counters.read++;
    this.counters.any++;
    for (const s of this.config.script) {
      const count = s.on === "write" ? (write ? this.counters.write : -1) : s.on === "read" ? (write ? -1 : this.counters.read) : this.counters.any;
      if (count !== s.nth) continue;
      const label = `script:${s.on}#${s.nth}`;
      if ("dropAfterCommit" in s.fault) return { kind: "none", dropAfterCommit: true, fault: `${label}:dropAfterCommit` };
      if ("dropBeforeCommit" in s.fault) return { kind: "dropBeforeCommit", fault: `${label}:dropBeforeCommit` };
      const decision: FaultDecision = { kind: "error", status: s.fault.status, fault: `${label}:${s.fault.status}` };
      if (s.fault.retryAfterSeconds !== undefined) decision.retryAfterSeconds = s.fault.retryAfterSeconds;
      else if (s.fault.status === 429) decision.retryAfterSeconds = 1;
      return decision;
    }
    if (this.config.errorRate > 0 && this.random() < this.config.errorRate) {
      const status = this.config.errorStatus;
      const decision: FaultDecision = { kind: "error", status, fault: `errorRate:${status}` };
      if (status === 429) decision.retryAfterSeconds = 1;
      return decision;
    }
    if (write && this.config.dropAfterCommitRate > 0 && this.random() < this.config.dropAfterCommitRate) {
      return { kind: "none", dropAfterCommit: true, fault: "dropAfterCommitRate" };
    }
    return { kind: "none", dropAfterCommit: false };
  }
}
