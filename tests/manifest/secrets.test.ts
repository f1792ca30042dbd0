/**
 * Secret scanning through loadProject/loadConfig over real files: secretlint's recommended
 * preset on the raw text plus agentform's own shapes on the values. Every fake credential is
 * assembled here at run time, so no credential-shaped literal sits in the repository.
 */
import { describe, expect, it } from "vitest";
import { tempProjects } from "../helpers/temp-project.js";
import { ConfigError } from "../../src/errors.js";
import { findSecrets, formatDiagnostics, formatDiagnosticsJson, loadConfig, loadProject, scanTexts, scrubSecrets } from "../../src/manifest/index.js";
import type { Diagnostic } from "../../src/manifest/types.js";

const project = tempProjects("secrets");

async function diagnosticsOf(files: Record<string, string>): Promise<Diagnostic[]> {
  return (await loadProject(await loadConfig({ cwd: await project(files) }))).diagnostics;
}

/** Everything a user or a machine could see of the diagnostics. */
const rendered = (diags: Diagnostic[]) => formatDiagnostics(diags, { color: false }) + formatDiagnosticsJson(diags) + JSON.stringify(diags);

const j = (...parts: string[]) => parts.join("");
const alnum = (n: number, seed = 7) => Array.from({ length: n }, (_, i) => "aB3dE5gH7jK9mN1pQ2sT4vW6yZ8"[(i * seed) % 27]).join("");
const b64Body = Array.from({ length: 6 }, (_, i) => "MIIEv" + alnum(59, i + 2)).join("\n");

/** [what, the string pasted into a field, the part of it that must never be printed]. */
const SAMPLES: Array<[string, string, string]> = [
  ["an OpenAI project key (own shape)", j("sk-", "proj-", alnum(48)), j("proj-", alnum(48))],
  ["a Stripe live key (preset)", j("sk_", "live_", alnum(32)), j("live_", alnum(32))],
  ["an npm token (preset)", j("npm", "_", alnum(36)), alnum(36)],
  ["a GitLab token (preset)", j("glpat", "-", alnum(20)), alnum(20)],
  ["a Google API key (own shape)", j("AI", "za", alnum(35)), alnum(35)],
  ["a GitHub PAT (preset)", j("gh", "p_", alnum(36)), alnum(36)],
  ["a GitHub OAuth token (preset)", j("gh", "o_", alnum(36, 5)), alnum(36, 5)],
  ["a GitHub server token (preset)", j("gh", "s_", alnum(36, 11)), alnum(36, 11)],
  ["a Slack bot token (preset)", j("xo", "xb-", "123456789012-", "1234567890123-", alnum(24)), alnum(24)],
  ["a Slack user token (preset)", j("xo", "xp-", "123456789012-", "123456789012-", alnum(32)), alnum(32)],
  ["an AWS access key id (preset)", j("AK", "IA", "Q3EGRVLOUH7NZ2XD"), "Q3EGRVLOUH7NZ2XD"],
  ["an Anthropic key (own shape)", j("sk-", "ant-", "api03-", alnum(30)), alnum(30)],
  ["a JWT (own shape)", j("ey", "JhbGciOiJIUzI1NiJ9.", "ey", "JzdWIiOiIxMjM0NTY3ODkwIn0.", alnum(43)), alnum(43)],
  ["a PEM private key (preset and own)", j("-----BEGIN ", "RSA PRIVATE KEY-----\n", b64Body, "\n-----END ", "RSA PRIVATE KEY-----"), b64Body.slice(0, 40)],
  ["a PEM header without its body (own shape)", j("-----BEGIN ", "OPENSSH PRIVATE KEY-----"), "OPENSSH PRIVATE"],
  ["URL userinfo (own shape)", j("https://", "deploy:", "Hunter2-", alnum(10), "@git.example.com/repo.git"), j("Hunter2-", alnum(10))],
  ["a token= query parameter (own shape)", j("https://api.example.com/v1?", "token=", alnum(24)), alnum(24)],
  ["a key= query parameter (own shape)", j("https://maps.example.com/js?", "key=", alnum(20)), alnum(20)],
  ["an api_key= query parameter (own shape)", j("https://api.example.com/?a=1&", "api_key=", alnum(20)), alnum(20)],
  ["an access_token= fragment (own shape)", j("https://app.example.com/cb#", "access_token=", alnum(30)), alnum(30)],
  ["a sig= query parameter (own shape)", j("https://acct.blob.example.net/c/f?sv=2024&", "sig=", alnum(30), "%3D"), alnum(30)],
];

describe("secret scanning", () => {
  it.each(SAMPLES)("finds %s in a string field and prints only a short prefix", async (_what, pasted, hidden) => {
    const yaml = `name: a\nmodel: claude-sonnet-5-5\ndescription: ${JSON.stringify(pasted)}\n`;
    const diags = await diagnosticsOf({ "agents/a.yaml": yaml });
    expect(diags.map((d) => `${d.line}:${d.column} ${d.path} ${d.code}`)).toEqual(["3:1 description AF-SECRET"]);
    // The prefix is at most six characters of the secret, or only the name of the URL parameter holding it.
    expect(diags[0]!.message).toMatch(/^this value looks like .+ \((?:.{0,6}|[a-z_]+=)…\); secrets must not be committed$/);
    expect(rendered(diags)).not.toContain(hidden);
    expect(rendered(diags)).not.toContain(pasted);
  });

  it("finds credentials in environment packages and in a .md system prompt", async () => {
    const url = j("git+https://", "ci:", "p4ss-", alnum(12), "@git.example.com/tools.git");
    const npmToken = j("npm", "_", alnum(36, 13));
    const diags = await diagnosticsOf({
      "environments/e.yaml": `name: e\nconfig:\n  type: cloud\n  networking: {type: unrestricted}\n  packages:\n    pip: [requests, ${JSON.stringify(url)}]\n`,
      "agents/d.md": `---\nname: d\nmodel: claude-sonnet-5-5\n---\n\nPublish with ${npmToken} please.\n`,
    });
    expect(diags.map((d) => `${d.file}:${d.line}:${d.column} ${d.path} ${d.code}`)).toEqual([
      "agents/d.md:6:1 system AF-SECRET",
      "environments/e.yaml:6:21 config.packages.pip[1] AF-SECRET",
    ]);
    expect(rendered(diags)).not.toContain(npmToken.slice(4));
    expect(rendered(diags)).not.toContain(alnum(12));
  });

  it("finds a preset-only token pasted as a key without printing it in the path, message or hint", async () => {
    const token = j("npm", "_", alnum(36, 17));
    const diags = await diagnosticsOf({ "agents/k.yaml": `name: k\nmodel: claude-sonnet-5-5\nmetadata:\n  ${token}: x\n` });
    const secret = diags.filter((d) => d.code === "AF-SECRET");
    expect(secret.map((d) => [d.line, d.column, d.path])).toEqual([[4, 3, "metadata"]]);
    expect(secret[0]!.message).toMatch(/^this key looks like an npm token/);
    expect(rendered(diags)).not.toContain(token.slice(4, 20));
  });

  it("scrubs the secret from other diagnostics that quote the same value", async () => {
    const url = j("https://", "bot:", "s3cr3t-", alnum(16), "@docs.example.com");
    const token = j("gh", "p_", alnum(36, 19));
    const diags = await diagnosticsOf({
      "agents/q.yaml": [
        "name: q",
        "model: claude-sonnet-5-5",
        `${token}: 1`,
        "tools:",
        "  - type: agent_toolset_20260401",
        "    configs:",
        `      - {name: web_fetch, allowed_domains: [${JSON.stringify(url)}]}`,
        "",
      ].join("\n"),
    });
    const codes = diags.map((d) => d.code).sort();
    expect(codes).toEqual(["AF-DOMAIN-INVALID", "AF-SCHEMA-UNKNOWN-KEY", "AF-SECRET", "AF-SECRET"]);
    expect(rendered(diags)).not.toContain(alnum(16));
    expect(rendered(diags)).not.toContain(alnum(36, 19).slice(0, 12));
  });

  it("reports a secret in a comment, and in a file that does not even parse", async () => {
    const token = j("gl", "pat-", alnum(24, 23));
    const diags = await diagnosticsOf({
      "agents/c.yaml": `name: c\nmodel: claude-sonnet-5-5\n# old token: ${token}\n`,
      "agents/broken.yaml": `name: broken\nmodel: [unclosed\nsystem: use ${token}\n`,
    });
    const secret = diags.filter((d) => d.code === "AF-SECRET").map((d) => `${d.file}:${d.line}:${d.column} "${d.path}" ${d.message.split(" (")[0]}`);
    expect(secret).toEqual(['agents/broken.yaml:3:13 "" this text looks like a GitLab token', 'agents/c.yaml:3:14 "" this text looks like a GitLab token']);
    expect(diags.find((d) => d.file === "agents/c.yaml")!.hint).toMatch(/comments are committed too/);
    expect(rendered(diags)).not.toContain(alnum(24, 23));
  });

  it("finds provider tokens hidden behind YAML escapes or line continuations (the parsed value is checked too)", async () => {
    const token = j("ghp", "_", alnum(36, 11));
    const escaped = token.replace("p_", "\\x70_"); // gh\x70_… in a double-quoted scalar
    const split = `${token.slice(0, 10)}\\\n  ${token.slice(10)}`; // a "…\" continuation line
    const diags = await diagnosticsOf({
      "agents/e.yaml": `name: e\nmodel: claude-sonnet-5-5\nsystem: "use ${escaped}"\ndescription: "${split}"\n`,
    });
    expect(diags.map((d) => `${d.path} ${d.code}`).sort()).toEqual(["description AF-SECRET", "system AF-SECRET"]);
    expect(rendered(diags)).not.toContain(token.slice(0, 12));
  });

  it("a long run of URL-like characters is scanned in linear work (the scheme is bounded)", async () => {
    // Unbounded, the URL pattern rescanned the whole run from every start: about a minute here.
    const diags = await diagnosticsOf({ "agents/u.yaml": `name: u\nmodel: claude-sonnet-5-5\ndescription: "://${"a.".repeat(100_000)}"\n` });
    expect(diags.filter((d) => d.code === "AF-SECRET")).toEqual([]);
  });

  it("leaves placeholders, short values and prose alone", async () => {
    const diags = await diagnosticsOf({
      "agents/p.yaml": [
        "name: p",
        "model: claude-sonnet-5-5",
        "system: |",
        "  Clone https://user:${GIT_PASSWORD}@git.example.com/x.git and https://git:<token>@example.com/y.",
        "  Call https://api.example.com/v1?token={{ token }}&key=short&page=12345678 with Bearer authentication.",
        "  Use sk-ant- keys from the vault; ssh://git@github.com/org/repo.git is fine.",
        "  Commit c0ffee0123456789abcdef0123456789abcdef01 fixed it.",
        "metadata:",
        "  docs: https://example.com/?api_key=xxxxxxxxxxxx",
        "",
      ].join("\n"),
    });
    expect(diags).toEqual([]);
  });

  it("an AWS secret key is caught by the preset under its usual name and by agentform under any aws/secret key", async () => {
    const secret = j("wJalr", alnum(35, 29));
    const diags = await diagnosticsOf({ "agents/w.yaml": `name: w\nmodel: claude-sonnet-5-5\nmetadata:\n  aws_secret_access_key: ${secret}\n  my_secret: ${j(alnum(20, 31), "/", alnum(19, 37))}\n` });
    expect(diags.map((d) => `${d.path} ${d.code}`)).toEqual(["metadata.aws_secret_access_key AF-SECRET", "metadata.my_secret AF-SECRET"]);
    expect(rendered(diags)).not.toContain(secret.slice(0, 12));
  });
});

describe("agentform.allow_secret_pattern", () => {
  const sample = j("gh", "p_", alnum(36, 41));

  it("exempts exactly the fields it names, and warns about entries that exempt nothing", async () => {
    const dir = await project({
      "agents/x.yaml": [
        "name: x",
        "model: claude-sonnet-5-5",
        `description: ${JSON.stringify("Example token format: " + sample)}`,
        "metadata:",
        `  example: ${sample}`,
        "agentform:",
        "  allow_secret_pattern: [/description, /metadata/owner]",
        "",
      ].join("\n"),
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.path} ${d.code} ${d.severity}`)).toEqual([
      "5:3 metadata.example AF-SECRET error",
      "7:40 agentform.allow_secret_pattern[1] AF-SECRET-ALLOW-UNUSED warning",
    ]);
    expect(result.diagnostics[0]!.hint).toContain('add "/metadata/example" to agentform.allow_secret_pattern');
  });

  it("makes a manifest valid once every finding is exempted, and never reaches the API body", async () => {
    const dir = await project({
      "agents/x.yaml": `name: x\nmodel: claude-sonnet-5-5\ndescription: ${JSON.stringify("e.g. " + sample)}\nagentform:\n  allow_secret_pattern: [/description]\n`,
    });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(result.diagnostics).toEqual([]);
    expect(result.manifests.agent).toHaveLength(1);
    expect(result.manifests.agent[0]!.spec).not.toHaveProperty("agentform");
    expect(JSON.stringify(result.manifests.agent[0]!.spec)).not.toContain("allow_secret_pattern");
  });

  it("cannot exempt a secret pasted as a key", async () => {
    const diags = await diagnosticsOf({ "agents/y.yaml": `name: y\nmodel: claude-sonnet-5-5\nmetadata:\n  ${sample}: x\nagentform:\n  allow_secret_pattern: ["/metadata/${sample}"]\n` });
    expect(diags.filter((d) => d.code === "AF-SECRET").map((d) => d.line)).toContain(4);
  });

  it("must hold JSON pointers (schema)", async () => {
    const diags = await diagnosticsOf({ "agents/z.yaml": "name: z\nmodel: claude-sonnet-5-5\nagentform:\n  allow_secret_pattern: [description]\n" });
    expect(diags.map((d) => `${d.path} ${d.code}`)).toEqual(["agentform.allow_secret_pattern[0] AF-SCHEMA"]);
  });
});

describe("agentform.yaml", () => {
  it("refuses a credential in the project config without printing it", async () => {
    const token = j("https://api.example.com/?", "api_key=", alnum(28, 43));
    const dir = await project({ "agentform.yaml": `project: demo\ntargets:\n  default:\n    base_url: ${JSON.stringify(token)}\n# ${j("npm", "_", alnum(36, 47))}\n` });
    const err = await loadConfig({ cwd: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const diags = (err as ConfigError).details!.diagnostics as Diagnostic[];
    expect(diags.map((d) => `${d.line}:${d.column} ${d.path} ${d.code}`)).toEqual(["4:5 targets.default.base_url AF-SECRET", "5:3  AF-SECRET"]);
    expect((err as ConfigError).message + JSON.stringify(diags)).not.toContain(alnum(28, 43));
    expect((err as ConfigError).message + JSON.stringify(diags)).not.toContain(alnum(36, 47));
  });
});

describe("the scanner pieces", () => {
  it("scanTexts batches many texts into few calls and maps each finding back to its own text", async () => {
    const token = j("gl", "pat-", alnum(22, 53));
    const texts = Array.from({ length: 3000 }, (_, i) => (i % 1000 === 999 ? `name: n${i}\nsystem: x ${token}\n` : `name: n${i}\nsystem: ${"plain words ".repeat(40)}\n`));
    const found = await scanTexts(texts);
    const hits = found.flatMap((f, i) => f.map((x) => ({ i, start: x.start, what: x.what, preview: x.preview })));
    expect(hits).toEqual([999, 1999, 2999].map((i) => ({ i, start: texts[i]!.indexOf(token), what: "a GitLab token", preview: "glpat-…" })));
  });

  it("findSecrets walks keys and values without recursion limits of its own", () => {
    let deep: unknown = j("AI", "za", alnum(35, 59));
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(findSecrets(deep)).toHaveLength(1);
  });

  it("findSecrets gives each finding its own full path, in document order, keys before what they hold", () => {
    const google = j("AI", "za", alnum(35, 59));
    const anthropic = j("sk-", "ant-", alnum(40, 61));
    const value = { name: "n", tools: [{ url: "https://example.com" }, { headers: { [anthropic]: "x", Authorization: google } }], metadata: { aws_secret: "a".repeat(40) } };
    const found = findSecrets(value, ["spec"]);
    expect(found.map((f) => ({ at: f.at, what: f.what, inKey: f.inKey === true }))).toEqual([
      { at: ["spec", "tools", 1, "headers", anthropic], what: "an Anthropic API key", inKey: true },
      { at: ["spec", "tools", 1, "headers", "Authorization"], what: "a Google API key", inKey: false },
      { at: ["spec", "metadata", "aws_secret"], what: "an AWS secret access key", inKey: false },
    ]);
    // Paths are not shared between findings.
    expect(found[0]!.at).not.toBe(found[1]!.at);
    // The key of a string at the root is the last segment of `at`.
    expect(findSecrets("a".repeat(40), ["config", "aws_secret_key"]).map((f) => f.at)).toEqual([["config", "aws_secret_key"]]);
  });

  it("scrubSecrets replaces whole and shortened quotations by a prefix", () => {
    const secret = j("sk-", "ant-", alnum(40, 61));
    expect(scrubSecrets(`value "${secret}" and "${secret.slice(0, 20)}…"`, [secret])).toBe('value "sk-ant…" and "sk-ant……"');
  });
});
