/**
 * One run of the official `ant` CLI, under the rules its v1.20 source imposes (docs/backends.md):
 *
 * - Global flags always: `--base-url` (the relay's: ant-relay.ts, which keeps redirects and
 *   ant's own resends out), an explicit `--format` (retrieve and list default to an interactive
 *   explorer) and `--format-error json`.
 * - The body goes in as stdin from a 0600 file in a private temporary folder, handed over as an
 *   open file, deleted afterwards: ant treats stdin as piped only when data arrives within 10 ms,
 *   so a pipe (or a stream a library feeds) could be missed and the request sent without its
 *   body. Calls without a body get /dev/null, so nothing on stdin can set a parameter.
 * - The environment is built, not inherited: the run's relay token as its key (never the real
 *   key, never in argv), colour off, and what the binary needs to run (PATH, HOME, TMPDIR).
 * - Every run has a timeout and a cap on what it may print; it is killed past either.
 * - A failure becomes the BackendError the SDK backend would raise: the status from ant's own
 *   last line (`METHOD "url": NNN Status`), the envelope from stdout; the relay's own 502s name
 *   what went wrong upstream. A run that sent no request at all was refused by ant itself.
 */
import { rmSync } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { ConfigError, redactSecrets, SafetyError } from "../errors.js";
import { isObj } from "../kinds/values.js";
import { answeredStatus, BackendError } from "./errors.js";
import { relayFailure, type Relay, type RunRecord } from "./ant-relay.js";

/** How every run of one target's binary is made. */
export interface AntProcessSettings {
  antPath: string;
  /** The relay every run sends its requests through; it holds the real key. */
  relay: () => Promise<Relay>;
  workspaceId?: string | undefined;
  /** Longest a run may take: its one request's time upstream, plus the process's own.*/
  timeoutMs: number;
  /** Most bytes one answer may have (ant prints it on stdout). */
  maxResponseBytes: number;
  /** Where PATH, HOME and TMPDIR come from. */
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
}

export interface AntAnswer {
  /** The parsed answer; undefined when ant printed nothing (a 204). */
  value: unknown;
  /** Bytes ant printed. */
  bytes: number;
}

/** Variables the child may inherit: what running the binary needs, nothing else (it talks only to the loopback relay). */
const PASSED_ENV = ["PATH", "HOME", "TMPDIR", "SYSTEMROOT"];

/** What stderr may hold: a note or two and ant's error line. */
const MAX_STDERR = 256 * 1024;

/** Body folders of runs in flight, removed even when the process is stopped mid-run. */
const bodyDirs = new Set<string>();
let exitHook = false;

/** Run ant once; the parsed answer, or a BackendError as the SDK backend would raise it. */
export async function runAnt(settings: AntProcessSettings, call: AntCall): Promise<AntAnswer> {
  const args = argv(settings, call);
  if (args.some((a) => a.includes("\0"))) throw unsendable(call.operation, "a value for ant's command line holds a NUL character, which no program argument can carry");
  const relay = await settings.relay();
  const run = relay.begin();
  const dir = call.body === undefined ? undefined : await bodyDir();
  try {
    const bodyText = call.body === undefined ? "" : JSON.stringify(call.body);
    if (dir !== undefined) await writeFile(path.join(dir, "body.json"), bodyText, { mode: 0o600, flag: "wx" });
    // An open file, not a stream: ant must see a regular file on stdin from its first instant.
    const stdin = dir === undefined ? undefined : await open(path.join(dir, "body.json"), "r");
    try {
      const result = await execa(settings.antPath, [`--base-url`, relay.url, ...args], {
        // A file descriptor goes to the child as it is (execa's types omit it; node's spawn takes it).
        stdin: stdin === undefined ? "ignore" : (stdin.fd as unknown as "ignore"),
        env: childEnv(settings, run.token),
        extendEnv: false,
        timeout: settings.timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: { stdout: settings.maxResponseBytes, stderr: MAX_STDERR },
        encoding: "utf8",
        stripFinalNewline: false,
        reject: false,
        windowsHide: true,
      });
      return answerOf(settings, call, result, relay.marker, run.end());
    } finally {
      await stdin?.close();
    }
  } finally {
    run.end();
    if (dir !== undefined) {
      await rm(dir, { recursive: true, force: true });
      bodyDirs.delete(dir);
    }
  }
}

/** A private folder for one body, removed at exit should the run be cut short (Ctrl-C). */
async function bodyDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "agentform-ant-"));
  bodyDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of bodyDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

function argv(settings: AntProcessSettings, call: AntCall): string[] {
  const global = ["--format", call.format, "--format-error", "json"];
  if (settings.workspaceId !== undefined) global.push(`--workspace-id=${settings.workspaceId}`);
  return [...global, ...call.args];
}

function childEnv(settings: AntProcessSettings, token: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const value = settings.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ANTHROPIC_API_KEY: token, FORCE_COLOR: "0", NO_COLOR: "1" };
}

interface Finished {
  exitCode?: number | undefined;
  stdout: unknown;
  stderr: unknown;
  timedOut: boolean;
  isMaxBuffer: boolean;
  code?: string | undefined;
}

function answerOf(settings: AntProcessSettings, call: AntCall, result: Finished, marker: string, record: RunRecord): AntAnswer {
  const stdout = typeof result.stdout === "string" ? result.stdout : "";
  const stderr = typeof result.stderr === "string" ? result.stderr : "";
  if (result.code === "ENOENT" || result.code === "EACCES") throw notRunnable(settings.antPath, result.code);
  if (result.timedOut) {
    throw new BackendError({ operation: call.operation, serverMessage: `ant did not finish within ${settings.timeoutMs} ms and was stopped` });
  }
  if (result.isMaxBuffer) {
    throw new BackendError({ operation: call.operation, problem: "too-large", serverMessage: `ant printed more than the ${settings.maxResponseBytes} bytes an answer may have` });
  }
  if (result.exitCode === 0) return { value: parsed(stdout, call.operation), bytes: Buffer.byteLength(stdout) };
  if (record.requests === 0) throw refusedByAnt(call.operation, stderr);
  throw failureOf(call.operation, stdout, stderr, marker, record);
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

/** ant's own line for an HTTP error, the last it prints: `POST "http://…": 409 Conflict`. */
const STATUS_LINE = /^[A-Z]+ ".*": (\d{3})\b/;

/** A failed run that reached the relay, as the BackendError the SDK backend would raise. */
function failureOf(operation: string, stdout: string, stderr: string, marker: string, record: RunRecord): BackendError {
  const last = lastLine(stderr);
  const status = STATUS_LINE.exec(last)?.[1];
  if (status === undefined) {
    // The relay always answers; an exit without its status line is ant failing on the answer.
    return new BackendError({ operation, problem: "invalid", serverMessage: `ant could not use the answer: ${inertLine(last)}` });
  }
  const envelope = envelopeOf(stdout);
  const relayed = relayFailure(marker, envelope.type, envelope.message);
  if (relayed?.problem === "no-response") return new BackendError({ operation, serverMessage: relayed.message });
  if (relayed) return new BackendError({ operation, problem: relayed.problem, serverMessage: relayed.message });
  // The relay saw the answer itself; ant's line and envelope only say what it printed of it.
  const answered = record.status === Number(status);
  return new BackendError({
    operation,
    status: Number(status),
    type: envelope.type,
    errorCode: envelope.errorCode,
    requestId: envelope.requestId ?? (answered ? record.requestId : undefined),
    retryAfterSeconds: answered ? record.retryAfterSeconds : undefined,
    serverMessage: envelope.message ?? answeredStatus(Number(status)),
  });
}

/** ant sent nothing: it refused the request itself (a value it could not parse, a flag it rejected). */
function refusedByAnt(operation: string, stderr: string): SafetyError {
  return new SafetyError("ant-refused", `${operation}: ant refused the request before sending it: ${inertLine(lastLine(stderr))}; nothing was sent.`, {
    hint: "A value in the manifest is one ant cannot send; change it, or use the sdk backend for this target (`backend: sdk`).",
  });
}

/**
 * ant's last line that says something: not the excerpt and caret a parse error adds under its
 * reason (the excerpt would echo the body, a prompt included).
 */
function lastLine(text: string): string {
  const excerpt = /^\s*(>?\s*\d+\s*\||\^+\s*$)/;
  return text.split("\n").filter((l) => l.trim() !== "" && !excerpt.test(l)).at(-1) ?? "(ant said nothing)";
}

/** One line of ant's stderr, short, for a message. */
function inertLine(line: string): string {
  return redactSecrets(line.trim().slice(0, 300));
}

/** What the envelope ant printed on stdout says, each field only when it has the right type. */
function envelopeOf(stdout: string): { type: string | undefined; errorCode: string | undefined; requestId: string | undefined; message: string | undefined } {
  let body: unknown;
  try {
    body = JSON.parse(stdout);
  } catch {
    body = undefined;
  }
  const error = isObj(body) && isObj(body.error) ? body.error : {};
  const details = isObj(error.details) ? error.details : {};
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return { type: str(error.type), errorCode: str(details.error_code), requestId: isObj(body) ? str(body.request_id) : undefined, message: str(error.message) };
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
