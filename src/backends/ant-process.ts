/**
 * One run of the official `ant` CLI, under the rules its v1.20 source imposes (docs/backends.md):
 *
 * - Global flags always: `--base-url` (ant ignores ANTHROPIC_BASE_URL unless it comes from a
 *   profile), an explicit `--format` (retrieve and list default to an interactive explorer) and
 *   `--format-error json`.
 * - The body goes in through a 0600 file in a private temporary folder, given as stdin and
 *   deleted afterwards: ant treats stdin as piped only when data arrives within 10 ms, so a pipe
 *   written after the start could be missed and the request sent without a body. Calls without a
 *   body get /dev/null, so nothing on stdin can set a parameter.
 * - The key travels in the environment, never in argv (any user can read another's argv). The
 *   environment is built, not inherited: only the key, the workspace, colour off, and what the
 *   binary needs to run and connect (PATH, HOME, TLS and proxy settings).
 * - Every run has a timeout and a cap on what it may print; it is killed past either.
 * - Writes run with `--debug`, which dumps every HTTP attempt to stderr: ant resends 408, 409,
 *   429, 5xx and lost answers up to twice on its own, with no flag to stop it, and agentform must
 *   know (pacing pays for each attempt, a create resent after a lost answer may have made two).
 *   Only the dumps' request and status lines are read; the dumps are never printed.
 * - A failure becomes the BackendError the SDK backend would raise: the status from ant's own
 *   `METHOD "url": NNN Status` line, the envelope from stdout. No status line means no usable
 *   answer arrived (a lost connection, or a body ant could not decode): ambiguous.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { ConfigError, redactSecrets, SafetyError } from "../errors.js";
import { isObj } from "../kinds/values.js";
import { BackendError } from "./errors.js";
import type { OwnRetry } from "./types.js";

/** How every run of one target's binary is made. */
export interface AntProcessSettings {
  antPath: string;
  baseUrl: string;
  /** Held in memory and handed to the child's environment only. */
  apiKey: string;
  workspaceId?: string | undefined;
  /** Longest a run may take, ant's own retries and waits included. */
  timeoutMs: number;
  /** Most bytes one answer may have (ant prints it on stdout). */
  maxResponseBytes: number;
  /** Where PATH, HOME and the proxy settings come from. */
  env: NodeJS.ProcessEnv;
}

export interface AntCall {
  /** What is being done, for messages: `create agent "triage"`. */
  operation: string;
  /** The resource, action and flags, after the global flags. */
  args: readonly string[];
  /** The request body, already escaped for ant (antBody); none: stdin is /dev/null. */
  body?: Record<string, unknown> | undefined;
  /** `raw` prints the server's bytes (list pages); `jsonl` one compact document. */
  format: "raw" | "jsonl";
  /** Record every HTTP attempt (writes: ant resends some on its own). */
  attempts: boolean;
}

export interface AntAnswer {
  /** The parsed answer; undefined when ant printed nothing (a 204). */
  value: unknown;
  /** Bytes ant printed. */
  bytes: number;
  /** Every attempt but the last, when recorded: what ant resent on its own. */
  resent: OwnRetry[];
}

/** Variables the child may inherit: what finding and reaching the server needs, nothing else. */
const PASSED_ENV = ["PATH", "HOME", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SYSTEMROOT"];

/** ant makes at most 3 attempts (its SDK's 2 retries); a dump claiming more is not believed. */
const MAX_ATTEMPTS = 3;

/** Room on stderr besides the dumps: notes, the status line, a Go error. */
const STDERR_SLACK = 256 * 1024;

/** Run ant once; the parsed answer, or a BackendError as the SDK backend would raise it. */
export async function runAnt(settings: AntProcessSettings, call: AntCall): Promise<AntAnswer> {
  const dir = call.body === undefined ? undefined : await mkdtemp(path.join(os.tmpdir(), "agentform-ant-"));
  try {
    const stdin = dir === undefined ? "/dev/null" : path.join(dir, "body.json");
    const bodyText = call.body === undefined ? "" : JSON.stringify(call.body);
    if (dir !== undefined) await writeFile(stdin, bodyText, { mode: 0o600, flag: "wx" });
    const result = await execa(settings.antPath, argv(settings, call), {
      inputFile: stdin,
      env: childEnv(settings),
      extendEnv: false,
      timeout: settings.timeoutMs,
      killSignal: "SIGKILL",
      // The dumps hold each attempt's request and answer.
      maxBuffer: { stdout: settings.maxResponseBytes, stderr: call.attempts ? MAX_ATTEMPTS * (bodyText.length + settings.maxResponseBytes) + STDERR_SLACK : STDERR_SLACK },
      encoding: "utf8",
      stripFinalNewline: false,
      reject: false,
      windowsHide: true,
    });
    return answerOf(settings, call, result);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function argv(settings: AntProcessSettings, call: AntCall): string[] {
  const global = ["--base-url", settings.baseUrl, "--format", call.format, "--format-error", "json"];
  if (settings.workspaceId !== undefined) global.push(`--workspace-id=${settings.workspaceId}`);
  if (call.attempts) global.push("--debug");
  return [...global, ...call.args];
}

function childEnv(settings: AntProcessSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const value = settings.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ANTHROPIC_API_KEY: settings.apiKey, FORCE_COLOR: "0", NO_COLOR: "1" };
}

interface Finished {
  exitCode?: number | undefined;
  stdout: unknown;
  stderr: unknown;
  timedOut: boolean;
  isMaxBuffer: boolean;
  code?: string | undefined;
  failed: boolean;
}

function answerOf(settings: AntProcessSettings, call: AntCall, result: Finished): AntAnswer {
  const stdout = typeof result.stdout === "string" ? result.stdout : "";
  const stderr = typeof result.stderr === "string" ? result.stderr : "";
  if (result.code === "ENOENT" || result.code === "EACCES") throw notRunnable(settings.antPath, result.code);
  const secrets = [settings.apiKey];
  if (result.timedOut) {
    throw new BackendError({ operation: call.operation, serverMessage: `ant did not finish within ${settings.timeoutMs} ms and was stopped` });
  }
  if (result.isMaxBuffer) {
    throw new BackendError({ operation: call.operation, problem: "too-large", serverMessage: `ant printed more than the ${settings.maxResponseBytes} bytes an answer may have` });
  }
  const attempts = call.attempts ? attemptsOf(stderr) : [];
  const resent = attempts.slice(0, -1);
  if (result.exitCode === 0) return { value: parsed(stdout, call.operation), bytes: Buffer.byteLength(stdout), resent };
  throw failureOf(call.operation, stdout, stderr, attempts.at(-1), secrets, resent);
}

/** ant's answer: nothing (a 204), or one JSON document. */
function parsed(stdout: string, operation: string): unknown {
  if (stdout.trim() === "") return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    throw new BackendError({ operation, problem: "not-json", serverMessage: "ant printed an answer that is not JSON" });
  }
}

/** ant's own line for an HTTP error: `POST "https://…": 409 Conflict`. The last one is ant's, printed after every dump. */
const STATUS_LINE = /^[A-Z]+ ".*": (\d{3})\b/;

/** A failed run as a BackendError carrying the attempts ant made before it (`resent`). */
function failureOf(operation: string, stdout: string, stderr: string, last: OwnRetry | undefined, secrets: readonly string[], resent: OwnRetry[]): BackendError {
  const lines = stderr.split("\n");
  const statusLine = [...lines].reverse().find((l) => STATUS_LINE.test(l));
  const status = statusLine === undefined ? undefined : Number(STATUS_LINE.exec(statusLine)?.[1]);
  if (status === undefined) {
    // No answer ant could read: the connection failed, or the body was not the API's JSON.
    const said = [...lines].reverse().find((l) => l.trim() !== "" && !DUMP_LINE.test(l)) ?? "ant failed without saying why";
    return withResent(new BackendError({ operation, serverMessage: redactSecrets(`ant: ${said.trim().slice(0, 300)}`, secrets) }), resent);
  }
  const envelope = envelopeOf(stdout);
  return withResent(
    new BackendError({
      operation,
      status,
      type: envelope.type,
      errorCode: envelope.errorCode,
      requestId: envelope.requestId,
      retryAfterSeconds: last?.status === status ? last.retryAfterSeconds : undefined,
      serverMessage: redactSecrets(envelope.message ?? `the server answered ${status}`, secrets),
    }),
    resent,
  );
}

/** What the envelope ant printed on stdout says, each field only when it has the right type. */
function envelopeOf(stdout: string): { type?: string; errorCode?: string; requestId?: string; message?: string } {
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    return {};
  }
  const error = isObj(body) && isObj(body.error) ? body.error : {};
  const details = isObj(error.details) ? error.details : {};
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const out: { type?: string; errorCode?: string; requestId?: string; message?: string } = {};
  const [type, errorCode, requestId, message] = [str(error.type), str(details.error_code), isObj(body) ? str(body.request_id) : undefined, str(error.message)];
  if (type !== undefined) out.type = type;
  if (errorCode !== undefined) out.errorCode = errorCode;
  if (requestId !== undefined) out.requestId = requestId;
  if (message !== undefined) out.message = message;
  return out;
}

/** The attempts ant made before failing, for the resilience layer (pacing, lost creates). */
const resentOf = new WeakMap<BackendError, OwnRetry[]>();

function withResent(error: BackendError, resent: OwnRetry[]): BackendError {
  resentOf.set(error, resent);
  return error;
}

/** What ant resent on its own before the call failed with `error` (none for errors raised elsewhere). */
export function resentBefore(error: unknown): OwnRetry[] {
  return error instanceof BackendError ? (resentOf.get(error) ?? []) : [];
}

/** The header lines of `--debug` dumps: `2026/11/30 00:47:51 Request Content:`. */
const DUMP_LINE = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (Request|Response) Content:$/;

/**
 * Each HTTP attempt in ant's `--debug` dumps, in order, with the status of its answer (undefined:
 * none arrived). An answer's body is the server's and could hold lines that look like dumps; it
 * can only add attempts, which cost pacing and a look for duplicates, never a write of its own,
 * and more attempts than ant makes are not believed.
 */
export function attemptsOf(stderr: string): OwnRetry[] {
  const attempts: OwnRetry[] = [];
  let inResponse = false;
  for (const line of stderr.split("\n")) {
    const dump = DUMP_LINE.exec(line);
    if (dump?.[1] === "Request") {
      attempts.push({ status: undefined });
      inResponse = false;
    } else if (dump?.[1] === "Response") {
      inResponse = true;
    } else if (inResponse) {
      inResponse = responseLine(line, attempts.at(-1));
    }
  }
  return attempts.slice(-MAX_ATTEMPTS);
}

/** One line of a response dump's head (status line, then headers): whether the head goes on. */
function responseLine(line: string, attempt: OwnRetry | undefined): boolean {
  if (attempt === undefined || line.trim() === "") return false;
  const status = /^HTTP\/[\d.]+ (\d{3})\b/.exec(line);
  if (status) {
    attempt.status = Number(status[1]);
    return true;
  }
  const header = /^(Retry-After|Retry-After-Ms):\s*(\S+)\s*$/i.exec(line);
  if (header) {
    const seconds = Number(header[2]) / (header[1]!.toLowerCase() === "retry-after-ms" ? 1000 : 1);
    if (Number.isFinite(seconds) && seconds >= 0) attempt.retryAfterSeconds = seconds;
  }
  return true;
}

function notRunnable(antPath: string, code: string): ConfigError {
  return new ConfigError("ant-not-runnable", `The ant binary at ${antPath} could not be run (${code}).`, {
    hint: "Point --ant-path or AGENTFORM_ANT at an executable ant (docs/backends.md says how to install it).",
  });
}

/**
 * `body` as ant must receive it to send it verbatim: ant reads any string value that starts with
 * `@` as a file to embed (`@/etc/passwd` would send that file), unless it starts with `\@`, whose
 * backslash it removes. So every such value is escaped, and a value that itself starts with `\@`,
 * which ant cannot send at all, is refused. Top-level keys ant would take as a parameter of the
 * command (the id it acts on, the beta header) are refused too: they would leave the body.
 */
export function antBody(body: Record<string, unknown>, reservedKeys: readonly string[], operation: string): Record<string, unknown> {
  for (const key of Object.keys(body)) {
    if (reservedKeys.includes(key)) throw unsendable(operation, `the body has the key ${JSON.stringify(key)}, which ant takes as a parameter of the command, not a field`);
  }
  return escapeValue(body, "", operation) as Record<string, unknown>;
}

function escapeValue(value: unknown, at: string, operation: string): unknown {
  if (typeof value === "string") {
    if (value.startsWith("\\@")) throw unsendable(operation, `the value at ${at || "/"} starts with "\\@", which ant cannot send as it is`);
    return value.startsWith("@") ? `\\${value}` : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => escapeValue(v, `${at}/${i}`, operation));
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeValue(v, `${at}/${k}`, operation)]));
  return value;
}

/** A flag value for ant: flag values get the same `@` treatment as body strings. */
export function antFlagValue(value: string, operation: string): string {
  return escapeValue(value, "a flag", operation) as string;
}

function unsendable(operation: string, what: string): SafetyError {
  return new SafetyError("ant-value-unsendable", `${operation}: ${what}; nothing was sent.`, {
    hint: "Change that value, or use the sdk backend for this target (`backend: sdk`).",
  });
}
