/**
 * Error classes shared by every module. Each error carries a stable `code` (for machines and
 * docs), a message that names the file or resource, a `hint` that tells the user the fix, and
 * the process exit code of its category (README.md, "Plans, exit codes and CI"). Only `src/cli` turns them into
 * output and exit codes; the core just throws them.
 */

/** Exit codes, as README.md lists them ("Plans, exit codes and CI"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  changes: 2,
  refused: 3,
  invalid: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface AgentformErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra structured data for `--format json` output (never secrets). */
  details?: Record<string, unknown>;
}

export class AgentformError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, exitCode: ExitCode, options: AgentformErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redactSecrets(options.hint);
    this.exitCode = exitCode;
    this.details = options.details;
  }
}

/** Invalid manifests, project config or command-line usage (exit 4). */
export class ConfigError extends AgentformError {
  constructor(code: string, message: string, options?: AgentformErrorOptions) {
    super(code, message, ExitCode.invalid, options);
  }
}

/**
 * Refused by a safety rule (exit 3): stale saved plan, version conflict, duplicate or
 * foreign-owned name, unapproved security broadening, drift under --fail-on-drift.
 */
export class SafetyError extends AgentformError {
  constructor(code: string, message: string, options?: AgentformErrorOptions) {
    super(code, message, ExitCode.refused, options);
  }
}

/** API, network or internal failure (exit 1). */
export class OperationalError extends AgentformError {
  constructor(code: string, message: string, options?: AgentformErrorOptions) {
    super(code, message, ExitCode.error, options);
  }
}

// Shapes of credentials that must never appear in output. Kept deliberately broad: a false
// positive costs a few redacted characters, a false negative leaks a key. The manifest scanner
// checks parsed values against the same shapes (so a YAML escape cannot hide one). Quantifiers
// are bounded where a match could otherwise rescan a long run for every start position.
export const CREDENTIAL_SHAPES: ReadonlyArray<{ what: string; pattern: RegExp; outputOnly?: boolean }> = [
  { what: "an Anthropic API key", pattern: /sk-ant-[A-Za-z0-9_-]{8,}/g },
  { what: "a GitHub token", pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g },
  { what: "a GitHub token", pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/g },
  { what: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  // A token has digits; "Bearer authentication" is prose.
  { what: "a bearer token", pattern: /\bBearer\s+(?=[A-Za-z0-9._~+/-]{0,256}\d)[A-Za-z0-9._~+/-]{16,}=*/g },
  { what: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { what: "an OpenAI API key", pattern: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{16,}/g },
  { what: "a Stripe key", pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}/g },
  { what: "an npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { what: "a GitLab token", pattern: /\b(?:glpat|gldt|glrt|glptt|glsoat)-[A-Za-z0-9_-]{20,}/g },
  { what: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { what: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  // A password in URL userinfo: keep the URL readable, drop the credential. (Manifests get a finer
  // check that tells `${VAR}` placeholders from passwords.)
  { what: "a password in a URL", outputOnly: true, pattern: /(?<=\/\/[^/\s:@]{0,256}:)[^/\s@]{1,256}(?=@)/g },
];

/** Replace anything shaped like a credential with `[REDACTED]`. */
export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join("[REDACTED]");
  }
  for (const { pattern } of CREDENTIAL_SHAPES) out = out.replace(pattern, "[REDACTED]");
  return out;
}
