/**
 * The GitHub REST calls the Action makes (thin I/O over @octokit/rest): the pull request's
 * comments, the sticky comment's create or update, the pull requests of a commit, and who the
 * token is. Failures become OperationalErrors with the status; the token is never in them.
 */
import { Octokit } from "@octokit/rest";
import { OperationalError } from "../errors.js";
import { findSticky, type Identity, type IssueComment } from "./sticky.js";

export interface Repo {
  owner: string;
  repo: string;
}

export interface Github {
  octokit: Octokit;
  repo: Repo;
}

const TIMEOUT_MS = 30_000;

export function githubClient(baseUrl: string, token: string, repo: Repo): Github {
  const octokit = new Octokit({
    auth: token,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    userAgent: "agentform-action",
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    // A request that hangs would hold the job until its timeout: give each one 30 s.
    request: { fetch: (url: string, init?: RequestInit) => fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(TIMEOUT_MS) }) },
  });
  return { octokit, repo };
}

/** The HTTP status of a failed call, if it got an answer. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

function failed(what: string, err: unknown): OperationalError {
  const status = statusOf(err);
  const why = status !== undefined ? `GitHub answered ${status}` : `no answer (${err instanceof Error ? err.name : "error"})`;
  const hint =
    status === 401
      ? "The github-token input is missing or invalid; leave it at its default, ${{ github.token }}."
      : status === 403 || status === 404
        ? "Give the job `permissions: pull-requests: write` (plan) or `pull-requests: read` (apply), and `contents: read`."
        : "Check GITHUB_API_URL and GitHub's status, then re-run the job.";
  return new OperationalError("github-api-failed", `Cannot ${what}: ${why}.`, { hint, cause: err });
}

/** Who the token posts as: known for user tokens; installation tokens cannot read /user. */
export async function tokenIdentity(gh: Github): Promise<Identity> {
  try {
    const { data } = await gh.octokit.rest.users.getAuthenticated();
    return typeof data.login === "string" && data.login !== "" ? { login: data.login } : { login: null };
  } catch {
    return { login: null };
  }
}

/** Every comment of a pull request, page by page (100 a page). */
export async function listComments(gh: Github, issue: number): Promise<IssueComment[]> {
  try {
    return await gh.octokit.paginate(gh.octokit.rest.issues.listComments, { ...gh.repo, issue_number: issue, per_page: 100 });
  } catch (err) {
    throw failed(`list the comments of pull request #${issue}`, err);
  }
}

export type Upsert = { action: "created" | "updated"; id: number } | { action: "refused"; status: number };

/**
 * Update the sticky comment in place, or create it. A 403 (a fork's read-only token, or a job
 * without `pull-requests: write`) is returned, not thrown: the caller decides whether it fails.
 */
export async function upsertSticky(gh: Github, issue: number, marker: string, identity: Identity, body: string): Promise<Upsert> {
  const comments = await listComments(gh, issue);
  const mine = findSticky(comments, marker, identity);
  try {
    if (mine) {
      await gh.octokit.rest.issues.updateComment({ ...gh.repo, comment_id: mine.id, body });
      return { action: "updated", id: mine.id };
    }
    const { data } = await gh.octokit.rest.issues.createComment({ ...gh.repo, issue_number: issue, body });
    return { action: "created", id: data.id };
  } catch (err) {
    const status = statusOf(err);
    if (status === 403) return { action: "refused", status };
    throw failed(`${mine ? "update" : "create"} the plan comment on pull request #${issue}`, err);
  }
}

export interface CommitPull {
  number: number;
  headSha: string;
  merged: boolean;
  mergeCommitSha: string | null;
}

/** The pull requests GitHub associates with a commit (for a merge commit: the one merged). */
export async function pullsForCommit(gh: Github, sha: string): Promise<CommitPull[]> {
  try {
    const pulls = await gh.octokit.paginate(gh.octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...gh.repo, commit_sha: sha, per_page: 100 });
    return pulls.map((p) => ({ number: p.number, headSha: p.head.sha, merged: p.merged_at !== null && p.merged_at !== undefined, mergeCommitSha: p.merge_commit_sha ?? null }));
  } catch (err) {
    throw failed(`list the pull requests of commit ${sha.slice(0, 12)}`, err);
  }
}

/** The merged pull request that produced `sha`: the one whose merge commit it is, else the only merged one. */
export function mergedPullOf(pulls: readonly CommitPull[], sha: string): CommitPull | undefined {
  const merged = pulls.filter((p) => p.merged);
  return merged.find((p) => p.mergeCommitSha === sha) ?? (merged.length === 1 ? merged[0] : undefined);
}
