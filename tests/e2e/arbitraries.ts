/**
 * fast-check generators for VALID agent, environment and skill manifests (the API create body
 * plus agentform's by-name roster and skill references), spread over the documented agent and
 * environment API surface (docs/local-control-plane.md). "Valid" means: accepted by the manifest
 * loader's schema and rules (src/manifest/rules.ts, src/kinds/skill/rules.ts) and by the API's
 * documented write-time checks.
 *
 * `generatedFleet` adds vaults with credentials of every type (secrets named by variable, their
 * values in the case), memory stores and deployments that use the case's other resources by ref
 * (src/kinds/{credential,memory-store,deployment}, schemas/, docs/local-control-plane.md).
 *
 * Names are placeholders (`a0`, `e1`, `s0`, `v0`, `m0`, `d0`…); `materializeCase` prefixes them so
 * that many cases can share one control plane without colliding.
 */
import fc from "fast-check";
import { stringify } from "yaml";

type Obj = Record<string, unknown>;

const LEVELS = ["low", "medium", "high", "xhigh", "max"] as const;
const POLICIES = ["always_allow", "always_ask", "auto"] as const;
const AGENT_TOOLS = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;
const MODELS = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5-20251001"] as const;
const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;

/** Leave a key out of an object when the generated value is `undefined`. */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Absent one time in `freq` (fast-check's meaning of `freq`), present otherwise. fast-check
 * shrinks toward absence, which keeps counterexamples small.
 */
function maybe<T>(arb: fc.Arbitrary<T>, freq = 3): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq });
}

/** Sometimes an explicit `null`, which the API treats as "unset" for these fields. */
function orNull<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });
}

/**
 * Text a user would write, including characters YAML must quote (`: `, `#`, leading `-`,
 * quotes, newlines, non-ASCII) and strings that look like other scalars.
 */
const text: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "Answers billing questions.",
    "key: value # not a comment",
    "- looks like a list",
    "multi\nline\ntext\n",
    "  leading and trailing spaces  ",
    "true",
    "123",
    "null",
    "Ünïcödé ✓ 日本語",
    "'quoted' and \"double\"",
  ),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
);

/** description/system: absent, null, "", or text (the API stores "" as null for agents). */
const optionalText = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(""), text);

const label = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);
const host = fc
  .tuple(fc.constantFrom("", "docs.", "api.", "*."), fc.constantFrom("example.com", "acme.io", "github.com", "pypi.org", "internal.acme.dev"))
  .map(([sub, base]) => sub + base);
const plainDomain = fc.constantFrom("example.com", "docs.acme.io", "github.com", "wikipedia.org", "news.ycombinator.com");
const searchDomain = fc.oneof(plainDomain, fc.constantFrom("example.com/blog", "acme.io/docs/v2"));

const policy = orNull(fc.constantFrom(...POLICIES).map((type) => ({ type })));
const enabled = orNull(fc.boolean());

const model: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...MODELS),
  fc.record(
    {
      id: fc.constantFrom(...MODELS),
      effort: fc.oneof(fc.constantFrom(...LEVELS), fc.constantFrom(...LEVELS).map((type) => ({ type })), fc.constant(null)),
      speed: orNull(fc.constantFrom("standard", "fast")),
      inference_geo: orNull(fc.constantFrom("us", "eu")),
    },
    { requiredKeys: ["id"] },
  ),
);

const defaultConfig = orNull(fc.record({ enabled, permission_policy: policy }, { requiredKeys: [] }));

function domainLists(domain: fc.Arbitrary<string>): fc.Arbitrary<Obj> {
  const list = fc.uniqueArray(domain, { minLength: 1, maxLength: 4 });
  // Either list, or neither: the API rejects both together and rejects empty lists.
  return fc.oneof(fc.constant({}), list.map((allowed_domains) => ({ allowed_domains })), list.map((blocked_domains) => ({ blocked_domains })));
}

function toolFilter(names: readonly string[]): fc.Arbitrary<unknown> {
  const simple = fc.oneof(fc.constantFrom("all", "none"), fc.constantFrom("all", "none").map((type) => ({ type })), fc.constant(null));
  if (names.length === 0) return simple;
  const listed = fc
    .tuple(fc.constantFrom("only", "except"), fc.shuffledSubarray([...names], { minLength: 1 }))
    .map(([type, picked]) => ({ type, tools: picked.map((name) => ({ type: "tool_reference", name })) }));
  return fc.oneof(simple, listed);
}

const kindOf = (v: unknown) => (typeof v === "string" ? v : v && typeof v === "object" ? (v as Obj).type : undefined);

function urlSources(customNames: readonly string[]): fc.Arbitrary<unknown> {
  const obj = fc
    .record(
      {
        user_input: fc.oneof(fc.constantFrom("all", "none"), fc.constantFrom("all", "none").map((type) => ({ type })), fc.constant(null)),
        client_tool_results: toolFilter(customNames),
        server_tool_results: toolFilter(["web_search", "web_fetch"]),
      },
      { requiredKeys: [] },
    )
    // All three "none" is rejected by the API.
    .filter((o) => !["user_input", "client_tool_results", "server_tool_results"].every((k) => kindOf((o as Obj)[k]) === "none"));
  return fc.oneof(obj, fc.constant(null));
}

const userLocation = fc.record(
  {
    type: fc.constant("approximate"),
    city: orNull(fc.constantFrom("Berlin", "San Francisco", "São Paulo")),
    country: orNull(fc.constantFrom("DE", "US", "BR")),
    region: orNull(fc.constantFrom("Bavaria", "California")),
    timezone: orNull(fc.constantFrom("Europe/Berlin", "America/Los_Angeles")),
  },
  { requiredKeys: ["type"] },
);

function agentToolConfig(name: (typeof AGENT_TOOLS)[number], customNames: readonly string[]): fc.Arbitrary<Obj> {
  const base = fc.record({ enabled, permission_policy: policy, type: fc.constant(name) }, { requiredKeys: [] });
  if (name === "web_fetch") {
    return fc
      .tuple(base, domainLists(plainDomain), maybe(fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.constant(null))), maybe(urlSources(customNames)))
      .map(([b, d, max, sources]) => compact({ name, ...b, ...d, max_content_tokens: max, url_sources: sources }));
  }
  if (name === "web_search") {
    return fc.tuple(base, domainLists(searchDomain), maybe(orNull(userLocation))).map(([b, d, loc]) => compact({ name, ...b, ...d, user_location: loc }));
  }
  return base.map((b) => ({ name, ...b }));
}

function agentToolset(customNames: readonly string[]): fc.Arbitrary<Obj> {
  const configs = fc
    .shuffledSubarray([...AGENT_TOOLS])
    .chain((names) => (names.length === 0 ? fc.constant([] as Obj[]) : fc.tuple(...names.map((n) => agentToolConfig(n, customNames)))));
  return fc
    .record({ default_config: defaultConfig, configs }, { requiredKeys: [] })
    .map((o) => ({ type: "agent_toolset_20260401", ...o }));
}

function mcpToolset(server: string): fc.Arbitrary<Obj> {
  const config = fc
    .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/), fc.record({ enabled, permission_policy: policy }, { requiredKeys: [] }))
    .map(([name, rest]) => ({ name, ...rest }));
  return fc
    .record(
      {
        default_config: defaultConfig,
        configs: fc.uniqueArray(config, { maxLength: 4, selector: (c) => c.name }),
      },
      { requiredKeys: [] },
    )
    .map((o) => ({ type: "mcp_toolset", mcp_server_name: server, ...o }));
}

const jsonSchemaProperty = fc.constantFrom<Obj>(
  { type: "string" },
  { type: "integer", minimum: 1 },
  { type: "string", enum: ["a", "b"], description: "One of a or b." },
  { type: "array", items: { type: "string" } },
  { type: "object", properties: { x: { type: "number" } } },
  { type: "boolean" },
);

const inputSchema: fc.Arbitrary<Obj> = fc
  .dictionary(fc.stringMatching(/^[a-z][a-z_]{0,9}$/), jsonSchemaProperty, { maxKeys: 4 })
  .chain((props): fc.Arbitrary<Obj> => {
    const names = Object.keys(props);
    // `required` only names declared properties; `null` and absent are the API's "none".
    return names.length === 0
      ? fc.record({ properties: fc.constantFrom<Obj | null>({}, null), required: fc.constantFrom<string[] | null>([], null) }, { requiredKeys: [] })
      : fc.record({ properties: fc.constant(props), required: fc.oneof(fc.shuffledSubarray(names), fc.constant(null)) }, { requiredKeys: ["properties"] });
  })
  .chain((o) =>
    // Other JSON Schema keywords at the top level are echoed by the API and must survive.
    fc.record({ additionalProperties: fc.boolean(), description: fc.constant("Arguments.") }, { requiredKeys: [] }).map((extra) => ({ type: "object", ...o, ...extra })),
  );

const customToolName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,19}$/);

const customTool = (name: string): fc.Arbitrary<Obj> =>
  fc.tuple(text, inputSchema).map(([description, input_schema]) => ({ type: "custom", name, description, input_schema }));

/** tools and mcp_servers together: every server is used by exactly one mcp_toolset. */
const toolsAndServers: fc.Arbitrary<{ tools?: Obj[]; mcp_servers?: Obj[] }> = fc
  .record({
    customNames: fc.uniqueArray(customToolName, { maxLength: 3 }),
    servers: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), { maxLength: 2 }),
    withToolset: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    emptyTools: fc.boolean(),
  })
  .chain(({ customNames, servers, withToolset, emptyTools }) =>
    fc
      .record({
        toolset: withToolset ? agentToolset(customNames).map((t) => [t]) : fc.constant([] as Obj[]),
        custom: customNames.length === 0 ? fc.constant([] as Obj[]) : fc.tuple(...customNames.map(customTool)),
        mcp: servers.length === 0 ? fc.constant([] as Obj[]) : fc.tuple(...servers.map(mcpToolset)),
        urls: fc.tuple(...servers.map(() => fc.constantFrom("https://mcp.example.com/sse", "https://github.mcp.acme.io/mcp", "http://localhost:8080/mcp"))),
      })
      .chain(({ toolset, custom, mcp, urls }) => {
        const all = [...toolset, ...custom, ...mcp];
        const serverList = servers.map((name, i) => ({ type: "url", name, url: urls[i] }));
        return fc.tuple(fc.shuffledSubarray(all, { minLength: all.length }), fc.shuffledSubarray(serverList, { minLength: serverList.length })).map(([tools, mcp_servers]) =>
          compact({
            // An explicit empty list and an absent field mean the same thing.
            tools: tools.length > 0 ? tools : emptyTools ? [] : undefined,
            mcp_servers: mcp_servers.length > 0 ? mcp_servers : undefined,
          }),
        );
      }),
  );

/**
 * A reference by name to one of the case's skills, `{type: custom, ref}`: `skillRef` is an index
 * into the case's skills, mapped onto a name by `materializeCase` (dropped when there is none).
 */
const skillRefTemplate = fc.nat({ max: 3 }).map((n) => ({ type: "custom", skillRef: n }));

const skill = fc.oneof(
  { weight: 3, arbitrary: skillRefTemplate },
  fc.record(
    { type: fc.constant("anthropic"), skill_id: fc.constantFrom("xlsx", "pdf", "docx", "pptx"), version: orNull(fc.constantFrom("latest", "20251013")) },
    { requiredKeys: ["type", "skill_id"] },
  ),
  fc.record(
    { type: fc.constant("custom"), skill_id: fc.constantFrom("skill_01AbCdEf", "skill_02GhIjKl"), version: orNull(fc.constantFrom("1759178010641129", "latest")) },
    { requiredKeys: ["type", "skill_id"] },
  ),
);

const skillKeyOf = (s: Obj) => (s.skillRef !== undefined ? `ref:${String(s.skillRef)}` : `${String(s.type)}:${String(s.skill_id)}`);

/** Metadata with at most `maxKeys` keys, never `agentform.*`, never "". */
function metadataUpTo(maxKeys: number): fc.Arbitrary<Record<string, string>> {
  return fc.dictionary(
    fc.oneof(label, fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.: -]{0,20}$/)).filter((k) => !k.startsWith("agentform.")),
    fc.oneof(text.filter((s) => s.length <= 512), fc.constantFrom("true", "42", "0.5", "2026-01-01", "yes", "~")),
    { maxKeys },
  );
}

/** ≤ 15 keys (one is reserved for the ownership marker), never `agentform.*`, never "". */
export const metadata: fc.Arbitrary<Record<string, string>> = metadataUpTo(15);

/** For kinds holding secrets (credentials, deployments): ≤ 14 keys, as the secret's digest takes one more. */
const secretHolderMetadata: fc.Arbitrary<Record<string, string>> = metadataUpTo(14);

const executionIdentity = fc.constantFrom<Obj | null | undefined>(
  undefined,
  null,
  { type: "service_account" },
  { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/agent-runner" },
);

/**
 * A multiagent configuration whose roster entries point at generated agents by index; the
 * indexes are mapped onto the agents that have no multiagent (depth 1) by `materializeCase`.
 */
export interface RosterTemplate {
  kind: "coordinator" | "multiagent_20261001";
  /** Raw entry templates: `{leaf: n, version?}` means "the n-th leaf agent", other values are literal. */
  agents: unknown[];
  advisor?: unknown;
  subagents?: unknown;
  workflows?: unknown;
}

const leafEntry = fc.record({ leaf: fc.nat({ max: 7 }), version: fc.constant(1) }, { requiredKeys: ["leaf"] });
const rosterEntry = fc.oneof({ weight: 4, arbitrary: leafEntry }, { weight: 1, arbitrary: fc.constant({ type: "self" }) });

const member = fc.oneof(
  fc.constant({ type: "disabled" }),
  fc.constant(null),
  fc
    .record(
      {
        inline_agents: fc.constantFrom({ type: "enabled" }, { type: "disabled" }, null),
        predefined_agents: fc.oneof(fc.array(rosterEntry, { maxLength: 3 }), fc.constant(null)),
      },
      { requiredKeys: [] },
    )
    .map((m) => ({ type: "enabled", ...m })),
);

const rosterTemplate: fc.Arbitrary<RosterTemplate> = fc.oneof(
  fc
    .array(fc.oneof({ weight: 5, arbitrary: rosterEntry }, { weight: 1, arbitrary: fc.constantFrom(...MODELS).map((m) => ({ type: "advisor", model: m })) }), {
      minLength: 1,
      maxLength: 4,
    })
    .map((agents) => ({ kind: "coordinator" as const, agents })),
  fc
    .record(
      {
        advisor: fc.oneof(fc.constant({ type: "disabled" }), fc.constant(null), fc.constantFrom(...MODELS).map((m) => ({ type: "enabled", model: m }))),
        subagents: member,
        workflows: member,
      },
      { requiredKeys: [] },
    )
    .map((o) => ({ kind: "multiagent_20261001" as const, agents: [], ...o })),
);

/**
 * Appended to the placeholder name: names are free text (1–256 characters), not identifiers,
 * and the file name need not match.
 */
const nameSuffix = fc.constantFrom("", "", "", " Billing Bot", " ✓ ünï", ".v2", "_x", "#1: draft");

export interface GeneratedAgent {
  /** Placeholder name, unique within the case. */
  name: string;
  /** Written as a `.md` agent (frontmatter, with `system` as the Markdown body) when it has a system prompt. */
  markdown: boolean;
  spec: Obj;
  roster: RosterTemplate | undefined;
}

/** A skill folder: SKILL.md (frontmatter + body) and the files beside it. */
export interface GeneratedSkill {
  /** Placeholder name (a slug), unique within the case; also the folder's name. */
  name: string;
  description: string;
  /** The skill's own frontmatter keys (license, allowed-tools, metadata): uploaded, not read. */
  extra: Obj;
  /** The Markdown after the frontmatter. */
  body: string;
  /** Files beside SKILL.md, by path relative to the folder (unique, never SKILL.md). */
  files: GeneratedFile[];
}

export interface GeneratedFile {
  path: string;
  bytes: Uint8Array;
}

export interface GeneratedCase {
  agents: GeneratedAgent[];
  environments: Obj[];
  skills: GeneratedSkill[];
  /** Vaults (with their credentials), memory stores and deployments: only `generatedFleet` makes them. */
  vaults?: GeneratedVault[];
  memoryStores?: Obj[];
  deployments?: DeploymentTemplate[];
  /** The value of each variable a secret is read from (SECRET_ENVS), as the environment holds it. */
  secrets?: Record<string, string>;
}

const agentBody: fc.Arbitrary<Obj> = fc
  .record({
    model,
    description: optionalText,
    system: optionalText,
    toolsAndServers,
    skills: maybe(fc.uniqueArray(skill as fc.Arbitrary<Obj>, { maxLength: 3, selector: skillKeyOf })),
    metadata: maybe(metadata),
    execution_identity: executionIdentity,
    // Agents without a roster: absent or an explicit null (single-threaded); replaced for coordinators.
    multiagent: fc.constantFrom(undefined, undefined, null),
  })
  .map(({ toolsAndServers: ts, ...rest }) => compact({ ...rest, ...ts }));

const networking = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant({ type: "unrestricted" }),
  // limited has the most server-filled fields, so it gets the most cases.
  fc
    .record(
      {
        allowed_hosts: orNull(fc.uniqueArray(host, { maxLength: 4 })),
        allow_mcp_servers: orNull(fc.boolean()),
        allow_package_managers: orNull(fc.boolean()),
      },
      { requiredKeys: [] },
    )
    .map((o) => ({ type: "limited", ...o }) as Obj),
  fc.constant({ type: "limited" }),
);

const packageName = fc.constantFrom("requests", "requests==2.31.0", "lodash", "lodash@4.17.21", "ripgrep", "serde@1.0.200", "rails", "golang.org/x/tools@v0.20.0", "curl", "jq");

const packages = fc
  .record(
    Object.fromEntries(PACKAGE_MANAGERS.map((m) => [m, orNull(fc.uniqueArray(packageName, { maxLength: 3 }))])) as Record<(typeof PACKAGE_MANAGERS)[number], fc.Arbitrary<string[] | null>>,
    { requiredKeys: [] },
  )
  .chain((p) => fc.boolean().map((marker) => (marker ? { type: "packages", ...p } : p)));

const hasPackages = (p: Obj | null | undefined) => p !== undefined && p !== null && PACKAGE_MANAGERS.some((m) => Array.isArray(p[m]) && (p[m] as unknown[]).length > 0);

const environmentConfig: fc.Arbitrary<Obj | null | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant({ type: "self_hosted" }) },
  { weight: 8, arbitrary: fc.record({ networking, packages: maybe(orNull(packages)) }).map(({ networking: net, packages: pkgs }) => {
    // Under limited networking, packages need allow_package_managers (the API refuses them otherwise).
    const n = net && (net as Obj).type === "limited" && hasPackages(pkgs) ? { ...net, allow_package_managers: true } : net;
    return compact({ type: "cloud", networking: n, packages: pkgs });
  }) },
);

const environmentBody: fc.Arbitrary<Obj> = fc
  .record({
    description: optionalText,
    config: environmentConfig,
    metadata: maybe(metadata),
    scope: maybe(orNull(fc.constant("organization")), 2),
  })
  .map(compact);

/** An XML-like tag: the API refuses one in a skill description. */
const XML_TAG = /<\/?[A-Za-z][^<>]*>/;
const noCr = (s: string) => s.replace(/\r/g, "");

/** A skill description: free text (quoting, multi-line, scalars-lookalikes), no tags, not blank. */
const skillDescription: fc.Arbitrary<string> = fc
  .oneof(
    text,
    fc.constantFrom("Fill and merge PDF forms.", "a --- b", "first line\n---\nafter a dash line", "Use when: the user asks for x > y or a < b.", "# not a heading"),
  )
  .map(noCr)
  .filter((d) => d.trim() !== "" && d.length <= 1024 && !XML_TAG.test(d));

const skillExtra: fc.Arbitrary<Obj> = fc
  .record(
    {
      license: fc.constantFrom("MIT", "Apache-2.0", "Proprietary. See LICENSE.txt"),
      "allowed-tools": fc.constantFrom(["bash", "read"], "Read Grep", []),
      metadata: fc.constantFrom({ version: "1.0" }, { author: "acme", tags: ["x", "y"] }),
    },
    { requiredKeys: [] },
  )
  .map((o) => o as Obj);

/** Text a skill's files hold: lines of user text, LF only. */
const fileText: fc.Arbitrary<string> = fc.array(text, { maxLength: 4 }).map((lines) => noCr(lines.join("\n")));

const utf8 = new TextEncoder();

/** File contents: LF text, empty, and binary-ish bytes (NUL, invalid UTF-8, stray CR LF). */
const fileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fileText.map((t) => utf8.encode(t)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d])) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => (b.includes(0) ? b : Uint8Array.from([...b, 0]))) },
);

/** Paths beside SKILL.md: nested, hidden, with spaces and non-ASCII. */
const FILE_PATHS = ["scripts/run.py", "reference.md", "assets/logo.png", ".env.example", "data/table.csv", "docs/deep/nested/notes.txt", "notes with spaces.md", "ünïcode/日本.txt"] as const;

const skillFiles: fc.Arbitrary<GeneratedFile[]> = fc
  .shuffledSubarray([...FILE_PATHS], { maxLength: 2 })
  .chain((paths) => (paths.length === 0 ? fc.constant([]) : fc.tuple(...paths.map((path) => fileBytes.map((bytes) => ({ path, bytes }))))));

/** A skill without its name (the case numbers it). */
export const skillBody: fc.Arbitrary<Omit<GeneratedSkill, "name">> = fc.record({
  description: skillDescription,
  extra: skillExtra,
  body: fileText,
  files: skillFiles,
});

/** Slug suffixes: skill names are 1–64 characters of [a-z0-9-]. */
const skillSuffix = fc.constantFrom("", "", "-pdf-tools", "-2", "-a-b-c");

/** One case: 1–4 agents (some of them coordinators over the others), 0–2 environments and 0–2 skills. */
export const generatedCase: fc.Arbitrary<GeneratedCase> = fc
  .record({
    agents: fc.array(
      fc.record({
        spec: agentBody,
        roster: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: rosterTemplate }),
        suffix: nameSuffix,
        markdown: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    environments: fc.array(fc.tuple(environmentBody, nameSuffix), { maxLength: 2 }),
    skills: fc.array(fc.tuple(skillBody, skillSuffix), { maxLength: 2 }),
  })
  .map(({ agents, environments, skills }) => ({
    agents: agents.map((a, i) => ({ name: `a${i}${a.suffix}`, spec: a.spec, roster: a.roster, markdown: a.markdown })),
    environments: environments.map(([e, suffix], i) => ({ name: `e${i}${suffix}`, ...e })),
    skills: skills.map(([sk, suffix], i) => ({ name: `s${i}${suffix}`, ...sk })),
  }));

// ---- Vaults and their credentials, memory stores, deployments (src/kinds/{vault,credential,memory-store,deployment}) ----

/**
 * Variables secrets are read from: valid names (`[A-Za-z_][A-Za-z0-9_]*`), none reserved
 * (ANTHROPIC_*, AGENTFORM_*, the target's api_key_env). Several secrets may share one.
 */
export const SECRET_ENVS = ["GITHUB_MCP_TOKEN", "OAUTH_ACCESS_TOKEN", "OAUTH_REFRESH_TOKEN", "OAUTH_CLIENT_SECRET", "DB_PASSWORD", "_lower_tok", "X", "Token_2"] as const;

const secretEnv = fc.constantFrom(...SECRET_ENVS);

/** What a variable holds: any non-empty text an environment can hold (no NUL), short or long. */
const secretValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("ghp_0123456789abcdefABCDEF0123456789abcd", "tok en with spaces ", "Ünïcödé ✓ 日本語 🔑", "line1\nline2", "\"quoted\" and \\back\\slash", "x", "k".repeat(5000)),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }).filter((v) => !v.includes("\0")),
);

const secretValues: fc.Arbitrary<Record<string, string>> = fc.tuple(...SECRET_ENVS.map(() => secretValue)).map((values) => Object.fromEntries(SECRET_ENVS.map((name, i) => [name, values[i]!])));

/** MCP server URLs: stored and matched as exact strings (scheme, case, port, query and trailing slash included). */
const mcpServerUrl = fc.constantFrom("https://mcp.example.com/sse", "https://github.mcp.acme.io/mcp", "http://localhost:8080/mcp", "https://api.githubcopilot.com/mcp/", "https://api.githubcopilot.com/mcp", "https://MCP.Acme.io:8443/v1?tenant=a");

/** Expiries far in the future, in the RFC 3339 spellings the schema takes (offsets, fractions). */
const farFuture = fc.constantFrom("2099-01-01T00:00:00Z", "2087-06-15T12:30:00.123+02:00", "2100-02-28T23:59:59-05:00", "2199-12-31T23:59:59.999999Z", "2099-01-01T00:00:00+00:00");

const tokenEndpointAuth = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Obj>({ type: "none" }) },
  { weight: 2, arbitrary: secretEnv.map((client_secret_env): Obj => ({ type: "client_secret_post", client_secret_env })) },
  { weight: 1, arbitrary: secretEnv.map((client_secret_env): Obj => ({ type: "client_secret_basic", client_secret_env })) },
);

const oauthRefresh: fc.Arbitrary<Obj> = fc
  .record({
    client_id: fc.constantFrom("agentform", "client-123", "ünï client id"),
    token_endpoint: fc.constantFrom("https://auth.example.com/oauth/token", "http://localhost:9000/token"),
    refresh_token_env: secretEnv,
    // "" is no scope (the API leaves it out).
    scope: maybe(fc.constantFrom("read", "read write", "", "repo:status offline_access")),
    resource: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("https://mcp.example.com", "urn:acme:mcp") }),
    token_endpoint_auth: tokenEndpointAuth,
  })
  .map(compact);

/** Allowed hosts: names, wildcards, IPv4, mixed case; repeats are allowed (stored as sent). */
const allowedHost = fc.constantFrom("api.example.com", "*.acme.io", "10.0.0.1", "localhost", "API.Example.COM", "a-b.c-d.internal");

const credentialAuth: fc.Arbitrary<Obj> = fc.oneof(
  fc.record({ type: fc.constant("static_bearer"), mcp_server_url: mcpServerUrl, token_env: secretEnv }),
  fc
    .record({ type: fc.constant("mcp_oauth"), mcp_server_url: mcpServerUrl, access_token_env: secretEnv, expires_at: maybe(farFuture, 2), refresh: maybe(oauthRefresh, 2) })
    .map(compact),
  fc
    .record({
      type: fc.constant("environment_variable"),
      secret_name: fc.constantFrom("API_TOKEN", "DATABASE_URL", "_x", "lower_case", "A1_B2"),
      secret_value_env: secretEnv,
      networking: fc.oneof(fc.constant<Obj>({ type: "unrestricted" }), fc.array(allowedHost, { minLength: 1, maxLength: 4 }).map((allowed_hosts): Obj => ({ type: "limited", allowed_hosts }))),
      // Never every location off (the API refuses it, and so does validate).
      injection_location: maybe(fc.constantFrom<Obj>({ header: true }, { body: true }, { header: true, body: true }, { header: true, body: false }, { header: false, body: true }), 2),
    })
    .map(compact),
);

/** What must be unique among a vault's credentials: the MCP server URL (both MCP types share it) or the variable's name. */
const credentialKey = (c: { auth: Obj }) => (c.auth.type === "environment_variable" ? `env:${String(c.auth.secret_name)}` : `url:${String(c.auth.mcp_server_url)}`);

/** A credential under `credentials:` (its local name is given by `materializeCase`). */
const credentialEntry: fc.Arbitrary<{ auth: Obj; metadata?: Record<string, string> }> = fc.record({ auth: credentialAuth, metadata: maybe(secretHolderMetadata, 2) }, { requiredKeys: ["auth"] });

export interface GeneratedVault {
  /** Placeholder name, unique within the case. */
  name: string;
  metadata?: Record<string, string>;
  /** Credentials by local name (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`), their keys unique; absent, `{}` or some. */
  credentials?: Record<string, { auth: Obj; metadata?: Record<string, string> }>;
}

const credentialSuffix = fc.constantFrom("", "", "-github", ".oauth", "_X");

/** 0–3 credentials, fewer more often: each costs a slow digest per plan. */
const vaultCredentials: fc.Arbitrary<Record<string, { auth: Obj; metadata?: Record<string, string> }> | undefined> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.uniqueArray(credentialEntry, { maxLength: 1, selector: credentialKey }) }, { weight: 1, arbitrary: fc.uniqueArray(credentialEntry, { minLength: 2, maxLength: 3, selector: credentialKey }) }),
    fc.array(credentialSuffix, { minLength: 3, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([list, suffixes, explicitEmpty]) => (list.length === 0 ? (explicitEmpty ? {} : undefined) : Object.fromEntries(list.map((c, i) => [`k${i}${suffixes[i]}`, c]))));

const vaultBody: fc.Arbitrary<Omit<GeneratedVault, "name">> = fc.record({ metadata: maybe(metadata), credentials: vaultCredentials }).map((o) => compact(o) as Omit<GeneratedVault, "name">);

/** A memory store's description: at most 1,024 characters (code points: an emoji is one). */
const storeDescription = fc.oneof(fc.constant(undefined), fc.constant(""), text, fc.constantFrom("📝".repeat(1024), "x".repeat(1024), "Notes the agent keeps.\nOne per line."));

const memoryStoreBody: fc.Arbitrary<Obj> = fc.record({ description: storeDescription, metadata: maybe(metadata) }).map(compact);

/** 5-field cron expressions the API takes (steps, ranges, lists, 7 for Sunday, a rare leap day). */
const CRONS = ["0 9 * * 1-5", "*/15 * * * *", "0 0 1 * *", "30 6 * * 0,6", "0 */2 * * *", "5 4 * * 7", "0 0 29 2 *", "0 12 1-7 * 1", "0,30 8-18 * * 1-5"] as const;
const TIMEZONES = ["UTC", "Etc/UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"] as const;

/**
 * A deployment whose references are indexes into the case's agents, environments, vaults and
 * memory stores, mapped onto their names by `materializeCase`.
 */
export interface DeploymentTemplate {
  name: string;
  agent: number;
  /** Pin version 1 (`agent: {ref, version: 1}`) instead of following the latest. */
  pinVersion: boolean;
  environment: number;
  /** Absent, or indexes into the case's vaults (repeats and missing vaults dropped: `[]` stays). */
  vaults: number[] | undefined;
  /** Memory stores by index, with their per-attachment settings; and maybe one repository, at `repoAt`. */
  stores: Array<{ store: number; access?: string | null; instructions?: string | null }>;
  repository: Obj | undefined;
  repoAt: number;
  message: string[];
  spec: Obj;
}

const githubRepository: fc.Arbitrary<Obj> = fc
  .record({
    type: fc.constant("github_repository"),
    url: fc.constantFrom("https://github.com/acme/support-bot", "https://github.com/acme/docs.git", "http://github.example.com/x/y"),
    authorization_token_env: secretEnv,
    checkout: maybe(orNull(fc.constantFrom<Obj>({ type: "branch", name: "main" }, { type: "branch", name: "release/2.x" }, { type: "commit", sha: "0123456789abcdef0123456789abcdef01234567" })), 2),
    mount_path: maybe(orNull(fc.constantFrom("/workspace/repo", "/srv/ünï code")), 2),
  })
  .map(compact);

/** Minor units as the API takes them: digits, no leading zero, above 0, at most 20 digits. */
const budgetAmount = fc.oneof(fc.constantFrom("1", "2500", "99999999999999999999"), fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }).map(String));

const deploymentSpec: fc.Arbitrary<Obj> = fc
  .record({
    description: optionalText,
    schedule: maybe(fc.record({ type: fc.constant("cron"), expression: fc.constantFrom(...CRONS), timezone: fc.constantFrom(...TIMEZONES) }), 2),
    budget: maybe(budgetAmount.map((amount) => ({ type: "limit", max_list_cost: { amount, currency: "USD" } })), 2),
    metadata: maybe(secretHolderMetadata),
    paused: fc.constantFrom(true, false, undefined),
  })
  .map(compact);

const deploymentTemplate: fc.Arbitrary<Omit<DeploymentTemplate, "name">> = fc.record({
  agent: fc.nat({ max: 7 }),
  pinVersion: fc.boolean(),
  environment: fc.nat({ max: 3 }),
  vaults: maybe(fc.array(fc.nat({ max: 3 }), { maxLength: 3 }), 4),
  stores: fc.array(
    fc.record({ store: fc.nat({ max: 3 }), access: orNull(fc.constantFrom("read_write", "read_only")), instructions: orNull(text) }, { requiredKeys: ["store"] }),
    { maxLength: 3 },
  ),
  // A repository token is a secret: digested per plan, like a credential's, so a third of the time.
  repository: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: githubRepository }),
  repoAt: fc.nat({ max: 3 }),
  // One user.message: one or two text blocks.
  message: fc.array(text, { minLength: 1, maxLength: 2 }),
  spec: deploymentSpec,
});

/**
 * One case with every kind: `generatedCase`'s agents, environments and skills, plus 0–2 vaults
 * (0–3 credentials each), 0–3 memory stores and 0–2 deployments (a deployment needs an
 * environment: a case with deployments and none gets one), and the variables' values.
 */
export const generatedFleet: fc.Arbitrary<GeneratedCase> = fc
  .record({
    base: generatedCase,
    vaults: fc.array(fc.tuple(vaultBody, nameSuffix), { maxLength: 2 }),
    memoryStores: fc.array(fc.tuple(memoryStoreBody, nameSuffix), { maxLength: 3 }),
    deployments: fc.array(fc.tuple(deploymentTemplate, nameSuffix), { maxLength: 2 }),
    spareEnvironment: environmentBody,
    secrets: secretValues,
  })
  .map(({ base, vaults, memoryStores, deployments, spareEnvironment, secrets }) => ({
    ...base,
    environments: deployments.length > 0 && base.environments.length === 0 ? [{ name: "e0", ...spareEnvironment }] : base.environments,
    vaults: vaults.map(([v, suffix], i) => ({ name: `v${i}${suffix}`, ...v })),
    memoryStores: memoryStores.map(([m, suffix], i) => ({ name: `m${i}${suffix}`, ...m })),
    deployments: deployments.map(([d, suffix], i) => ({ name: `d${i}${suffix}`, ...d })),
    secrets,
  }));

/** A skill folder as written to disk: every file by path, SKILL.md included. */
export interface MaterializedSkill {
  name: string;
  files: GeneratedFile[];
}

/** SKILL.md: YAML frontmatter (name, description, the skill's own keys), then the body. */
export function skillMarkdown(name: string, s: Omit<GeneratedSkill, "name">): string {
  const frontmatter = stringify({ name, description: s.description, ...s.extra }, { aliasDuplicateObjects: false });
  return `---\n${frontmatter}---\n${s.body}${s.body.endsWith("\n") || s.body === "" ? "" : "\n"}`;
}

/** The files of a skill as uploaded, by path (SKILL.md first). */
export function skillFolder(name: string, s: Omit<GeneratedSkill, "name">): MaterializedSkill {
  return { name, files: [{ path: "SKILL.md", bytes: utf8.encode(skillMarkdown(name, s)) }, ...s.files] };
}

/**
 * Turn a generated case into manifests for one run: prefix every name, and map roster
 * templates onto the agents that have no multiagent (depth 1). Entries that would name the
 * same agent twice are dropped; a coordinator left without entries gets `{type: self}`.
 */
export function materializeCase(
  c: GeneratedCase,
  prefix: string,
): { agents: Obj[]; environments: Obj[]; skills: MaterializedSkill[]; markdown: Set<string>; vaults: Obj[]; memoryStores: Obj[]; deployments: Obj[]; env: Record<string, string> } {
  const named = (n: string) => `${prefix}-${n}`;
  const skillNames = c.skills.map((s) => named(s.name));
  /** `{skillRef: n}` entries name the case's skills (dropped without any, or when repeated). */
  const resolveSkills = (list: unknown): unknown => {
    if (!Array.isArray(list)) return list;
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (const e of list as Obj[]) {
      if (typeof e.skillRef !== "number") {
        out.push(e);
        continue;
      }
      if (skillNames.length === 0) continue;
      const ref = skillNames[e.skillRef % skillNames.length]!;
      if (seen.has(ref)) continue;
      seen.add(ref);
      out.push({ type: "custom", ref });
    }
    return out;
  };
  const leaves = c.agents.filter((a) => a.roster === undefined).map((a) => named(a.name));
  const resolveList = (entries: unknown[], allowEmpty: boolean): unknown[] => {
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (const e of entries) {
      const o = e as Obj;
      let key: string;
      let value: unknown;
      if (typeof o.leaf === "number") {
        if (leaves.length === 0) continue;
        const ref = leaves[o.leaf % leaves.length]!;
        key = `ref:${ref}`;
        value = compact({ type: "agent", ref, version: o.version });
      } else if (o.type === "advisor") {
        key = "advisor";
        value = o;
      } else {
        key = "self";
        value = o;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(value);
    }
    if (out.length === 0 && !allowEmpty) out.push({ type: "self" });
    return out;
  };
  const resolveMember = (m: unknown): unknown => {
    if (m === null || m === undefined || (m as Obj).type !== "enabled") return m;
    const o = m as Obj;
    const inlineDisabled = (o.inline_agents as Obj | undefined)?.type === "disabled";
    if (!Array.isArray(o.predefined_agents)) {
      return inlineDisabled ? { ...o, predefined_agents: [{ type: "self" }] } : o;
    }
    return { ...o, predefined_agents: resolveList(o.predefined_agents, !inlineDisabled) };
  };
  const agents = c.agents.map((a) => {
    const spec: Obj = { name: named(a.name), ...a.spec };
    if (spec.skills !== undefined) spec.skills = resolveSkills(spec.skills);
    if (a.roster?.kind === "coordinator") {
      spec.multiagent = { type: "coordinator", agents: resolveList(a.roster.agents, false) };
    } else if (a.roster?.kind === "multiagent_20261001") {
      spec.multiagent = compact({
        type: "multiagent_20261001",
        advisor: a.roster.advisor,
        subagents: resolveMember(a.roster.subagents),
        workflows: resolveMember(a.roster.workflows),
      });
    }
    return spec;
  });
  const environments = c.environments.map((e) => ({ ...e, name: named(String(e.name)) }));
  const markdown = new Set(c.agents.filter((a) => a.markdown).map((a) => named(a.name)));
  const skills = c.skills.map(({ name, ...s }) => skillFolder(named(name), s));
  const vaults = (c.vaults ?? []).map(({ name, ...v }) => ({ display_name: named(name), ...v }) as Obj);
  const memoryStores = (c.memoryStores ?? []).map((m) => ({ ...m, name: named(String(m.name)) }));
  const deployments = (c.deployments ?? []).flatMap((d) => materializeDeployment(d, named(d.name), {
    agents: agents.map((a) => String(a.name)),
    environments: environments.map((e) => String(e.name)),
    vaults: vaults.map((v) => String(v.display_name)),
    memoryStores: memoryStores.map((m) => String(m.name)),
  }));
  return { agents, environments, skills, markdown, vaults, memoryStores, deployments, env: { ...(c.secrets ?? {}) } };
}

/** The names `{n}` picks, in order, without repeats (none when there is nothing to pick from). */
function pickNames(indexes: readonly number[], names: readonly string[]): string[] {
  return names.length === 0 ? [] : [...new Set(indexes.map((i) => names[i % names.length]!))];
}

/**
 * A deployment template as a manifest: its indexes mapped onto the case's names (`{ref}`), one
 * user.message, and its resources (memory stores by ref, at most once each, and the repository
 * at its place). Dropped when the case has no environment (generatedFleet always gives it one).
 */
function materializeDeployment(d: DeploymentTemplate, name: string, names: { agents: string[]; environments: string[]; vaults: string[]; memoryStores: string[] }): Obj[] {
  if (names.environments.length === 0 || names.agents.length === 0) return [];
  const agent = names.agents[d.agent % names.agents.length]!;
  const spec: Obj = {
    name,
    agent: d.pinVersion ? { ref: agent, version: 1 } : { ref: agent },
    environment_id: { ref: names.environments[d.environment % names.environments.length]! },
  };
  if (d.vaults !== undefined) spec.vault_ids = pickNames(d.vaults, names.vaults).map((ref) => ({ ref }));
  const seen = new Set<string>();
  const resources: Obj[] = [];
  for (const s of d.stores) {
    if (names.memoryStores.length === 0) break;
    const ref = names.memoryStores[s.store % names.memoryStores.length]!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    resources.push(compact({ type: "memory_store", ref, access: s.access, instructions: s.instructions }));
  }
  if (d.repository !== undefined) resources.splice(d.repoAt % (resources.length + 1), 0, d.repository);
  // No resources: left out, or an explicit empty list.
  if (resources.length > 0 || d.repoAt % 2 === 0) spec.resources = resources;
  spec.initial_events = [{ type: "user.message", content: d.message.map((t) => ({ type: "text", text: t })) }];
  return [{ ...spec, ...d.spec }];
}
