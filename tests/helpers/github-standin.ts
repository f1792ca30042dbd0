/**
 * A small stand-in for the GitHub REST API, over real HTTP (node:http), for the Action's tests:
 * the pull-request comment endpoints (paginated like GitHub: per_page, page, a Link header),
 * comment updates, the pull requests of a commit, and GET /user. Requests need a known token
 * (`Authorization: token …` or `bearer …`, 401 otherwise); a switch makes every write answer 403,
 * as GitHub does for the read-only token of a fork's pull request. Every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandinUser {
  login: string;
  type: "Bot" | "User";
}

export interface StandinComment {
  id: number;
  body: string;
  user: { login: string; id: number; type: string };
  created_at: string;
  updated_at: string;
  html_url: string;
}

export interface StandinPull {
  number: number;
  headSha: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface GithubStandin {
  /** The API's base URL (what GITHUB_API_URL holds on GitHub.com: https://api.github.com). */
  url: string;
  requests: RecordedRequest[];
  /** Accept `token` for `user`. Installation tokens (GITHUB_TOKEN) cannot read /user; user tokens can. */
  addToken(token: string, user: StandinUser, options?: { readUser?: boolean }): void;
  /** Seed a comment, as if `user` had posted it. */
  addComment(owner: string, repo: string, issue: number, body: string, user: StandinUser): StandinComment;
  comments(owner: string, repo: string, issue: number): StandinComment[];
  setCommitPulls(owner: string, repo: string, sha: string, pulls: StandinPull[]): void;
  /** Answer every write with 403 "Resource not accessible by integration" (a fork's token). */
  forbidWrites(on: boolean): void;
  close(): Promise<void>;
}

const MAX_BODY = 65536;

interface State {
  tokens: Map<string, { user: StandinUser; readUser: boolean }>;
  comments: Map<string, StandinComment[]>;
  pulls: Map<string, StandinPull[]>;
  nextId: number;
  forbidden: boolean;
  users: Map<string, number>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
  return status;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text === "" ? {} : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** One page of `items` and GitHub's Link header (first, prev, next, last) for it. */
function page<T>(items: readonly T[], url: URL, base: string): { items: T[]; link: string } {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 30) || 30));
  const pageNo = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const at = (n: number) => {
    const u = new URL(`${base}${url.pathname}`);
    u.searchParams.set("per_page", String(perPage));
    u.searchParams.set("page", String(n));
    return u.toString();
  };
  const rels: string[] = [];
  if (pageNo > 1) rels.push(`<${at(1)}>; rel="first"`, `<${at(pageNo - 1)}>; rel="prev"`);
  if (pageNo < last) rels.push(`<${at(pageNo + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  return { items: items.slice((pageNo - 1) * perPage, pageNo * perPage), link: rels.join(", ") };
}

function pullJson(owner: string, repo: string, p: StandinPull): Record<string, unknown> {
  const full = `${owner}/${repo}`;
  return {
    number: p.number,
    state: p.mergedAt ? "closed" : "open",
    head: { sha: p.headSha, ref: `branch-${p.number}`, repo: { full_name: full } },
    base: { sha: "0".repeat(40), ref: "main", repo: { full_name: full } },
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
  };
}

export async function startGithubStandin(): Promise<GithubStandin> {
  const state: State = { tokens: new Map(), comments: new Map(), pulls: new Map(), nextId: 1_000_001, forbidden: false, users: new Map() };
  const requests: RecordedRequest[] = [];
  const userJson = (u: StandinUser) => {
    if (!state.users.has(u.login)) state.users.set(u.login, 100 + state.users.size);
    return { login: u.login, id: state.users.get(u.login) as number, type: u.type };
  };
  const makeComment = (owner: string, repo: string, issue: number, body: string, user: StandinUser): StandinComment => {
    const now = new Date().toISOString();
    const id = state.nextId++;
    const comment = { id, body, user: userJson(user), created_at: now, updated_at: now, html_url: `https://github.example/${owner}/${repo}/pull/${issue}#issuecomment-${id}` };
    const key = `${owner}/${repo}#${issue}`;
    state.comments.set(key, [...(state.comments.get(key) ?? []), comment]);
    return comment;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://standin");
    const base = `http://${req.headers.host}`;
    void handle(req, res, url, base).then(
      (status) => requests.push({ method: req.method ?? "", path: url.pathname, query: Object.fromEntries(url.searchParams), status }),
      () => send(res, 500, { message: "stand-in failure" }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, base: string): Promise<number> {
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const caller = auth ? state.tokens.get(auth[1] as string) : undefined;
    if (!caller) return send(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/user") {
      if (!caller.readUser) return send(res, 403, { message: "Resource not accessible by integration" });
      return send(res, 200, userJson(caller.user));
    }
    const write = method !== "GET" && method !== "HEAD";
    if (write && state.forbidden) return send(res, 403, { message: "Resource not accessible by integration" });
    let m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (m) {
      const [, owner, repo, issue] = m as unknown as [string, string, string, string];
      if (method === "GET") {
        const { items, link } = page(state.comments.get(`${owner}/${repo}#${issue}`) ?? [], url, base);
        return send(res, 200, items, link ? { link } : {});
      }
      if (method === "POST") {
        const body = ((await readJson(req)) as { body?: unknown } | undefined)?.body;
        if (typeof body !== "string" || body.length > MAX_BODY) return send(res, 422, { message: "Validation Failed", errors: [{ field: "body", code: "invalid" }] });
        return send(res, 201, makeComment(owner, repo, Number(issue), body, caller.user));
      }
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (m && method === "PATCH") {
      const [, owner, repo, id] = m as unknown as [string, string, string, string];
      const comment = [...state.comments.entries()].filter(([k]) => k.startsWith(`${owner}/${repo}#`)).flatMap(([, list]) => list).find((c) => c.id === Number(id));
      if (!comment) return send(res, 404, { message: "Not Found" });
      // GitHub lets a token edit only its own user's comments (without admin rights).
      if (comment.user.login !== caller.user.login) return send(res, 403, { message: "Must have admin rights to Repository." });
      const body = ((await readJson(req)) as { body?: unknown } | undefined)?.body;
      if (typeof body !== "string" || body.length > MAX_BODY) return send(res, 422, { message: "Validation Failed", errors: [{ field: "body", code: "invalid" }] });
      comment.body = body;
      comment.updated_at = new Date().toISOString();
      return send(res, 200, comment);
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{7,64})\/pulls$/.exec(url.pathname);
    if (m && method === "GET") {
      const [, owner, repo, sha] = m as unknown as [string, string, string, string];
      const { items, link } = page((state.pulls.get(`${owner}/${repo}@${sha}`) ?? []).map((p) => pullJson(owner, repo, p)), url, base);
      return send(res, 200, items, link ? { link } : {});
    }
    return send(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addToken: (token, user, options) => void state.tokens.set(token, { user, readUser: options?.readUser ?? false }),
    addComment: (owner, repo, issue, body, user) => makeComment(owner, repo, issue, body, user),
    comments: (owner, repo, issue) => (state.comments.get(`${owner}/${repo}#${issue}`) ?? []).map((c) => ({ ...c, user: { ...c.user } })),
    setCommitPulls: (owner, repo, sha, pulls) => void state.pulls.set(`${owner}/${repo}@${sha}`, pulls),
    forbidWrites: (on) => void (state.forbidden = on),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
