/**
 * Which pull-request comment is the Action's sticky plan comment (pure). Anyone can comment on
 * a pull request, so a comment counts only when its first line is exactly the marker
 * renderMarkdown writes for this project and target, and its author is the token's user.
 */
import { stickyMarker } from "../render/markdown-escape.js";

export { stickyMarker };

export interface IssueComment {
  id: number;
  body?: string | null | undefined;
  user?: { login?: string | null; type?: string | null } | null | undefined;
}

/**
 * Whose comments are the Action's: the login `GET /user` gave for the token, or, when the token
 * cannot tell (GITHUB_TOKEN and other installation tokens cannot read /user), any bot: the
 * comments such tokens post are by `<app>[bot]` accounts, which no person can post as.
 */
export type Identity = { login: string } | { login: null };

/** What stickyMarker writes: both names non-empty and percent-encoded, nothing else. */
const MARKER = /^<!-- agentform-plan:[A-Za-z0-9._%-]+\/[A-Za-z0-9._%-]+ -->$/;

export function isMarker(marker: string): boolean {
  return MARKER.test(marker);
}

/** A comment's first line, without the CR of a CRLF ending. */
export function firstLine(body: string): string {
  const end = body.indexOf("\n");
  const line = end === -1 ? body : body.slice(0, end);
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/**
 * Whether the token's user wrote the comment: its login when the token can tell it, else
 * github-actions[bot] (what GITHUB_TOKEN posts as). Never any other bot: another app's comment
 * that starts with the marker must be neither edited nor read as the reviewed plan.
 */
export function authoredBy(comment: IssueComment, identity: Identity): boolean {
  const user = comment.user;
  if (!user || typeof user.login !== "string") return false;
  return user.login === (identity.login ?? ACTIONS_BOT_LOGIN);
}

/** The comment is this project's and target's sticky comment, posted by the token's user. */
export function isStickyComment(comment: IssueComment, marker: string, identity: Identity): boolean {
  if (!isMarker(marker)) return false;
  if (typeof comment.body !== "string" || firstLine(comment.body) !== marker) return false;
  return authoredBy(comment, identity);
}

/** The account GITHUB_TOKEN posts as. */
export const ACTIONS_BOT_LOGIN = "github-actions[bot]";

/**
 * The sticky comment (the oldest, should a race have made two), or undefined.
 */
export function findSticky<C extends IssueComment>(comments: readonly C[], marker: string, identity: Identity): C | undefined {
  return comments.find((c) => isStickyComment(c, marker, identity));
}
