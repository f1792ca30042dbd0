/**
 * The pull request a workflow run is about, read from the event payload GitHub writes to
 * GITHUB_EVENT_PATH (pure, apart from reading that one file).
 */
import { readFile } from "node:fs/promises";
import { ConfigError } from "../errors.js";

export interface PullRequestInfo {
  number: number;
  /** The commit the plan was made for: the head of the branch, not the test merge commit. */
  headSha: string;
  /** From another repository: GitHub gives such runs no secrets and a read-only token. */
  fork: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);

/** The event's pull request, or null for events without one (push, workflow_dispatch). */
export function pullRequestOf(event: unknown): PullRequestInfo | null {
  const pr = obj(obj(event)?.pull_request);
  if (!pr) return null;
  const number = pr.number;
  const head = obj(pr.head);
  const headSha = head?.sha;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || typeof headSha !== "string") return null;
  const headRepo = obj(head?.repo)?.full_name;
  const baseRepo = obj(obj(pr.base)?.repo)?.full_name;
  // A deleted fork has no head repo: still a fork, never trusted with secrets.
  const fork = typeof headRepo !== "string" || typeof baseRepo !== "string" || headRepo.toLowerCase() !== baseRepo.toLowerCase();
  return { number, headSha, fork };
}

export async function readEvent(eventPath: string | undefined): Promise<unknown> {
  if (eventPath === undefined) return null;
  try {
    return JSON.parse(await readFile(eventPath, "utf8")) as unknown;
  } catch (err) {
    throw new ConfigError("action-event-unreadable", `Cannot read the event payload at GITHUB_EVENT_PATH: ${(err as Error).message}`, {
      hint: "Run the Action in a GitHub Actions job; GitHub writes the event payload there.",
    });
  }
}
