/**
 * GitHub Actions' file and log commands: step outputs ($GITHUB_OUTPUT), the job summary
 * ($GITHUB_STEP_SUMMARY), masking, and keeping workflow commands out of untrusted output.
 */
import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";

export interface Log {
  out(text: string): void;
  err(text: string): void;
}

export const processLog: Log = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * Hide a secret in the job log from here on. Each line is registered on its own (the runner
 * masks line by line); values too short to be a credential are left alone, since masking
 * them would blank out ordinary words.
 */
export function mask(log: Log, secret: string): void {
  for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 4) log.out(`::add-mask::${line.trim()}\n`);
}

/**
 * Run `fn` with workflow commands off: plans and errors quote manifests, and a line of them
 * starting with `::` (`::add-mask::`, `::error::`, `::stop-commands::`) must not be obeyed by the
 * runner. The resume token is random, so the output cannot guess it to turn commands back on.
 */
export async function withCommandsOff<T>(log: Log, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(16).toString("hex");
  log.out(`::stop-commands::${token}\n`);
  try {
    return await fn();
  } finally {
    log.out(`\n::${token}::\n`);
  }
}

/** Set step outputs: the multi-line form with a random delimiter, which no value can end early. */
export async function setOutputs(file: string | undefined, values: Record<string, string>): Promise<void> {
  if (file === undefined) return;
  let text = "";
  for (const [name, value] of Object.entries(values)) {
    const delimiter = `AGENTFORM_${randomBytes(12).toString("hex")}`;
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  await appendFile(file, text, "utf8");
}

export async function appendSummary(file: string | undefined, markdown: string): Promise<void> {
  if (file === undefined) return;
  await appendFile(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`, "utf8");
}
