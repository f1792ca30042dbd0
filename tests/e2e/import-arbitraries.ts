/**
 * fast-check generators for a live workspace made OUTSIDE agentform (tests/e2e/import-property.test.ts):
 * the API's own create and update bodies, with references by id and version (never by name), as
 * a team using the Console or the SDK directly would leave them.
 *
 * A fleet is a template: bodies without ids, and references as indexes into the fleet's other
 * resources with a pin rule (`latest`, `first`, ...). The test creates the resources in order
 * with the raw SDK backend and turns each index into the id and version the server answered.
 *
 * Names are what the local control plane accepts (src/local/*-config.ts): free text for agents,
 * environments, memory stores, deployments and vaults (spaces, capitals, non-ASCII, dots, long
 * ones), kebab-case slugs for skills. Each name carries its kind's letter and index (`a0`, `E1`),
 * followed by something that is never a digit, so no two resources of a kind map to the same
 * file under import's safe file names; the one collision a fleet can hold is its `twin`, whose
 * skip the test asserts.
 *
 * Left out on purpose, because import writes a manifest the next plan refuses for them (the
 * regression tests of import-property.test.ts, one each): names with control characters, empty
 * metadata values, 16 metadata keys (the API's maximum), and a vault name long enough that a
 * credential's imported secret variable passes 128 characters. Metadata here has 1–3 keys.
 */
import fc from "fast-check";

type Obj = Record<string, unknown>;

const MODELS = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-sonnet-4-5"] as const;
const AGENT_TOOLS = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;
const POLICIES = ["always_allow", "always_ask", "auto"] as const;

/** Leave out the keys whose value is `undefined`. */
export function compact<T extends Obj>(o: T): T {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Absent one time in `freq`. */
function maybe<T>(arb: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq });
}

// ---- Names --------------------------------------------------------------------------------------

/** Before the kind letter and index: nothing, a dot (dropped from the file name), words, spaces. */
const namePrefix = fc.constantFrom("", "", "", ".", "The ", "  ", "Ünï ");
/** A long name: import's file stem keeps its first 80 characters. */
const LONG = ` ${"long name ".repeat(14).trim()}`;
/**
 * Vaults get a shorter long name: import names a credential's secret variable
 * `IMPORTED_<VAULT>_<LOCAL>_TOKEN`, which the manifest schema bounds at 128 characters (see the
 * regression test of import-property.test.ts for a longer vault name).
 */
const VAULT_LONG = ` ${"long name ".repeat(6).trim()}`;

/** After the index: never a digit, so `a1…` and `a12…` cannot share a file stem. */
const suffixes = (long: string) => fc.constantFrom(
  "",
  "",
  "",
  " Billing Bot",
  " ✓ ünï",
  ".v2",
  "_x",
  "#1: draft",
  " 日本語",
  " (copy) ",
  "...",
  "-Ärger",
  long,
);

/** `{prefix}{letter or LETTER}{index}{suffix}`: unique within its kind, and so is its file stem. */
function nameFor(letter: string, index: number, parts: NameParts): string {
  return `${parts.prefix}${parts.upper ? letter.toUpperCase() : letter}${index}${parts.suffix}`;
}

interface NameParts {
  prefix: string;
  upper: boolean;
  suffix: string;
}

const namePartsWith = (long: string): fc.Arbitrary<NameParts> => fc.record({ prefix: namePrefix, upper: fc.boolean(), suffix: suffixes(long) });
const nameParts = namePartsWith(LONG);

/** Every letter's case swapped: a different name with the same file stem (import lower-cases). */
export function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");
}

// ---- Shared values ------------------------------------------------------------------------------

const shortText = fc.constantFrom(
  "Answers billing questions.",
  "key: value # not a comment",
  "- looks like a list",
  "'quoted' and \"double\"",
  "Ünïcödé ✓ 日本語",
  "true",
  "123",
  "null",
  "  leading and trailing spaces  ",
);

/** A system prompt: one line, several, Markdown, YAML-looking, trailing newlines, or long. */
const systemPrompt: fc.Arbitrary<string> = fc.oneof(
  shortText,
  fc.constantFrom(
    "You route customer requests.\nBe brief.\n",
    "# Role\n\nYou are the billing agent.\n\n## Rules\n\n- Never refund twice.\n- Ask for the invoice id: `inv_…`.\n",
    "---\nname: not frontmatter\n---\nbody after dashes",
    "line one\r\nline two with CRLF\r\n",
    "tabs\tand\ttabs\n\n\n",
    "ends without newline\nsecond",
    "  indented first line\nsecond",
  ),
  fc.array(fc.constantFrom("Rule:", "Always cite sources.", "日本語の文。", "x: y", "#hash", "- item", "", "  indented"), { minLength: 5, maxLength: 40 }).map((lines) => lines.join("\n")),
  fc.nat({ max: 3 }).map((n) => `${"A long system prompt sentence with some detail. ".repeat(60 + n * 40)}\nThe end.`),
);

const description = fc.oneof(shortText, fc.constantFrom("Finds documentation.\nAnd summarises it.", "d".repeat(2048)));

const metadataValue = fc.oneof(shortText, fc.constantFrom("42", "yes", "~", "2026-01-01", "v".repeat(512)));
/** 1–3 keys, never `agentform.*`, never an empty value (see the regression test of import-property.test.ts). */
const metadata: fc.Arbitrary<Record<string, string>> = fc.dictionary(fc.constantFrom("team", "owner", "Cost Center", "tier.level", "ünï", "k-1", "x"), metadataValue, { minKeys: 1, maxKeys: 3 });

// ---- Environments -------------------------------------------------------------------------------

const host = fc.constantFrom("api.example.com", "*.acme.io", "pypi.org", "github.com", "registry.npmjs.org");
const packageLists = fc
  .record({ pip: fc.uniqueArray(fc.constantFrom("requests", "requests==2.31.0", "numpy"), { maxLength: 2 }), npm: fc.uniqueArray(fc.constantFrom("lodash", "lodash@4.17.21"), { maxLength: 2 }), apt: fc.uniqueArray(fc.constantFrom("jq", "curl"), { maxLength: 2 }) }, { requiredKeys: [] })
  .chain((p) => fc.boolean().map((typed) => (typed ? { type: "packages", ...p } : p)));

const environmentConfig: fc.Arbitrary<Obj | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ type: "cloud" }),
  fc
    .record({
      networking: fc.oneof(
        fc.constant(undefined),
        fc.constant({ type: "unrestricted" }),
        fc.record({ type: fc.constant("limited"), allowed_hosts: fc.uniqueArray(host, { maxLength: 3 }), allow_mcp_servers: fc.boolean(), allow_package_managers: fc.boolean() }, { requiredKeys: ["type"] }),
      ),
      packages: maybe(packageLists),
    })
    .map(({ networking, packages }) => {
      const any = packages !== undefined && ["pip", "npm", "apt"].some((m) => ((packages as Obj)[m] as unknown[] | undefined)?.length);
      // Under limited networking, packages need allow_package_managers (the API refuses them otherwise).
      const net = networking?.type === "limited" && any ? { ...networking, allow_package_managers: true } : networking;
      return compact({ type: "cloud", networking: net, packages });
    }),
);

export interface EnvironmentTemplate {
  name: string;
  body: Obj;
}

const environmentBody: fc.Arbitrary<Obj> = fc
  .record({
    description: maybe(description, 3),
    config: fc.oneof({ weight: 6, arbitrary: environmentConfig }, { weight: 1, arbitrary: fc.constant({ type: "self_hosted" }) }),
    metadata: maybe(metadata),
    scope: fc.constantFrom(undefined, undefined, undefined, "organization"),
  })
  .map(compact);

// ---- Skills -------------------------------------------------------------------------------------

export interface SkillTemplate {
  /** A slug (the folder, the frontmatter name and the display name). */
  name: string;
  description: string;
  body: string;
  /** Files beside SKILL.md: path relative to the folder → text. */
  files: Record<string, string>;
  /** A second upload after the first (one file changed): the skill's latest version is then not its first. */
  secondVersion: boolean;
}

const skillTemplate = (i: number): fc.Arbitrary<SkillTemplate> =>
  fc.record({
    name: fc.constantFrom("", "-refunds", "-pdf-tools", "-a-b-c").map((s) => `s${i}${s}`),
    description: fc.constantFrom("How refunds are decided.", "Fill PDF forms.\nUse when the user sends a form.", "Quotes: 'a' and \"b\"; colons: x: y", "Ünïcödé ✓"),
    body: fc.constantFrom("Refund within 30 days.\n", "", "# Steps\n\n1. Read.\n2. Write.\n"),
    files: fc.dictionary(fc.constantFrom("scripts/run.py", "reference.md", "notes with spaces.md", "data/table.csv", "ünïcode/日本.txt"), fc.constantFrom("print('x')\n", "", "a,b\n1,2\n", "text without newline"), { maxKeys: 2 }),
    secondVersion: fc.boolean(),
  });

/** How an agent's skills list names a generated skill. */
export type SkillPin = "latest-id" | "first-id" | "latest" | "omitted";

export type SkillUse = { skill: number; pin: SkillPin } | { anthropic: string; version?: string };

const skillUse: fc.Arbitrary<SkillUse> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ skill: fc.nat({ max: 3 }), pin: fc.constantFrom<SkillPin>("latest-id", "first-id", "latest", "omitted") }) },
  { weight: 1, arbitrary: fc.record({ anthropic: fc.constantFrom("xlsx", "pdf"), version: fc.constantFrom("latest", "20251013") }, { requiredKeys: ["anthropic"] }) },
);

// ---- Agents -------------------------------------------------------------------------------------

const policy = fc.constantFrom(...POLICIES).map((type) => ({ type }));

const toolConfig = (name: (typeof AGENT_TOOLS)[number]): fc.Arbitrary<Obj> =>
  fc
    .record(
      {
        enabled: fc.boolean(),
        permission_policy: policy,
        allowed_domains: name === "web_fetch" || name === "web_search" ? fc.uniqueArray(fc.constantFrom("example.com", "docs.acme.io"), { minLength: 1, maxLength: 2 }) : fc.constant(undefined),
        max_content_tokens: name === "web_fetch" ? fc.integer({ min: 1, max: 50_000 }) : fc.constant(undefined),
      },
      { requiredKeys: [] },
    )
    .map((o) => compact({ name, ...o }));

const agentToolset: fc.Arbitrary<Obj> = fc
  .record(
    {
      default_config: fc.record({ enabled: fc.boolean(), permission_policy: policy }, { requiredKeys: [] }),
      configs: fc.shuffledSubarray([...AGENT_TOOLS], { maxLength: 4 }).chain((names) => (names.length === 0 ? fc.constant([] as Obj[]) : fc.tuple(...names.map(toolConfig)))),
    },
    { requiredKeys: [] },
  )
  .map((o) => ({ type: "agent_toolset_20260401", ...o }));

const inputSchema = fc.constantFrom<Obj>(
  { type: "object", properties: { invoice_id: { type: "string" } }, required: ["invoice_id"] },
  { type: "object", properties: {} },
  { type: "object", properties: { n: { type: "integer", minimum: 1 }, tags: { type: "array", items: { type: "string" } } }, additionalProperties: false },
);

const customTool = (name: string): fc.Arbitrary<Obj> => fc.record({ description: shortText, input_schema: inputSchema }).map((o) => ({ type: "custom", name, ...o }));

/** tools (agent toolset, custom tools, maybe one MCP toolset) and the mcp_servers they use. */
const tools: fc.Arbitrary<{ tools?: Obj[]; mcp_servers?: Obj[] }> = fc
  .record({
    toolset: maybe(agentToolset, 3),
    custom: fc.uniqueArray(fc.constantFrom("lookup_invoice", "Search-Docs", "x"), { maxLength: 2 }).chain((names) => (names.length === 0 ? fc.constant([] as Obj[]) : fc.tuple(...names.map(customTool)))),
    mcp: fc.boolean(),
  })
  .map(({ toolset, custom, mcp }) => {
    const list = [...(toolset ? [toolset] : []), ...custom, ...(mcp ? [{ type: "mcp_toolset", mcp_server_name: "github", default_config: { enabled: true } }] : [])];
    return compact({ tools: list.length > 0 ? list : undefined, mcp_servers: mcp ? [{ type: "url", name: "github", url: "https://api.githubcopilot.com/mcp/" }] : undefined });
  });

const model = fc.oneof(fc.constantFrom(...MODELS), fc.record({ id: fc.constantFrom(...MODELS), speed: fc.constantFrom("standard", "fast") }, { requiredKeys: ["id"] }));

const executionIdentity = fc.constantFrom<Obj | undefined>(undefined, undefined, undefined, { type: "service_account" }, { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/agent-runner" });

const agentBody: fc.Arbitrary<Obj> = fc
  .record({ model, system: maybe(systemPrompt, 4), description: maybe(description, 3), metadata: maybe(metadata), tools, execution_identity: executionIdentity })
  .map(({ tools: t, ...rest }) => compact({ ...rest, ...t }));

/** An update made outside agentform: every one makes a new version. */
const agentUpdate = (rev: number): fc.Arbitrary<Obj> =>
  fc.constantFrom<Obj>(
    { description: `Revision ${rev}.` },
    { system: `Updated instructions, revision ${rev}.\nSecond line.` },
    { metadata: { rev: String(rev) } },
    { model: rev % 2 === 0 ? "claude-haiku-5-5" : "claude-opus-5-5", description: `Model change ${rev}` },
  );

export interface LeafTemplate {
  name: string;
  body: Obj;
  skills: SkillUse[];
  /** Updates before any coordinator is made (a roster pinning version 1 then names an older version). */
  updatesBefore: Obj[];
  /** Updates after the coordinators and deployments are made (their "latest" pins are then older). */
  updatesAfter: Obj[];
}

/** How a roster entry or a deployment names an agent: the version it had then, version 1, no version, or the bare id. */
export type AgentPin = "latest" | "first" | "omitted" | "bare";

export type RosterEntry = { leaf: number; pin: AgentPin } | { self: true } | { advisor: string };

export interface CoordinatorTemplate {
  name: string;
  body: Obj;
  kind: "coordinator" | "multiagent_20261001";
  entries: RosterEntry[];
  skills: SkillUse[];
  /** Updates after create (its roster kept): its own version moves on. */
  updates: Obj[];
}

const rosterEntry: fc.Arbitrary<RosterEntry> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ leaf: fc.nat({ max: 5 }), pin: fc.constantFrom<AgentPin>("latest", "latest", "first", "omitted", "bare") }) },
  { weight: 1, arbitrary: fc.constant({ self: true as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...MODELS).map((advisor) => ({ advisor })) },
);

// ---- Memory stores, vaults, credentials ---------------------------------------------------------

export interface MemoryStoreTemplate {
  name: string;
  body: Obj;
}

const memoryStoreBody: fc.Arbitrary<Obj> = fc.record({ description: maybe(fc.oneof(shortText, fc.constant("Notes the agent keeps.\nOne per line.")), 3), metadata: maybe(metadata) }).map(compact);

/** How a credential was named where it was made: as agentform would (`<vault>/<local>`), plainly, or not at all. */
export type CredentialNaming = "vault/local" | "plain" | "none";

export interface CredentialTemplate {
  local: string;
  naming: CredentialNaming;
  auth: Obj;
  metadata?: Record<string, string>;
}

export interface VaultTemplate {
  name: string;
  metadata?: Record<string, string>;
  credentials: CredentialTemplate[];
}

const credentialAuth = (i: number): fc.Arbitrary<Obj> =>
  fc.oneof(
    fc.constantFrom("https://api.githubcopilot.com/mcp/", "https://mcp.example.com/sse", "http://localhost:8080/mcp").map((url) => ({ type: "static_bearer", mcp_server_url: `${url}${i === 0 ? "" : `?n=${i}`}`, token: `tok-${i}-made-elsewhere` })),
    fc
      .record({
        networking: fc.oneof(fc.constant<Obj>({ type: "unrestricted" }), fc.uniqueArray(fc.constantFrom("api.example.com", "*.acme.io", "10.0.0.1"), { minLength: 1, maxLength: 2 }).map((allowed_hosts): Obj => ({ type: "limited", allowed_hosts }))),
        injection_location: maybe(fc.constantFrom<Obj>({ header: true }, { body: true }, { header: true, body: false })),
        secret_name: fc.constantFrom("API_TOKEN", "_x", "lower_case"),
      })
      .map(({ secret_name, ...o }) => compact({ type: "environment_variable", secret_name: `${secret_name}_${i}`, secret_value: "made elsewhere ✓", ...o })),
  );

const vaultCredentials: fc.Arbitrary<CredentialTemplate[]> = fc.nat({ max: 2 }).chain((n) =>
  n === 0
    ? fc.constant([])
    : fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc
            .record({
              local: fc.constantFrom("", "-github", ".oauth", "_X").map((s) => `k${i}${s}`),
              naming: fc.constantFrom<CredentialNaming>("vault/local", "vault/local", "plain", "none"),
              auth: credentialAuth(i),
              metadata: maybe(metadata, 3),
            })
            .map((c) => compact(c) as CredentialTemplate),
        ),
      ),
);

// ---- Deployments --------------------------------------------------------------------------------

export interface DeploymentTemplate {
  name: string;
  /** Index into every agent (leaves first, then coordinators). */
  agent: number;
  pin: Exclude<AgentPin, "omitted">;
  environment: number;
  vaults: number[];
  stores: Array<{ store: number; access?: "read_write" | "read_only"; instructions?: string }>;
  /** A GitHub repository among its resources (its token made elsewhere), at this place. */
  repository?: { at: number; resource: Obj };
  /** Made paused (the raw backend pauses it right after the create). */
  paused?: boolean;
  body: Obj;
}

const deploymentTemplate = (name: string): fc.Arbitrary<DeploymentTemplate> =>
  fc.record({
    name: fc.constant(name),
    agent: fc.nat({ max: 7 }),
    pin: fc.constantFrom<DeploymentTemplate["pin"]>("latest", "latest", "first", "bare"),
    environment: fc.nat({ max: 3 }),
    vaults: fc.uniqueArray(fc.nat({ max: 2 }), { maxLength: 2 }),
    stores: fc.array(fc.record({ store: fc.nat({ max: 2 }), access: fc.constantFrom("read_write", "read_only"), instructions: shortText }, { requiredKeys: ["store"] }), { maxLength: 2 }),
    repository: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.record({
          at: fc.nat({ max: 2 }),
          resource: fc.constantFrom<Obj>(
            { type: "github_repository", url: "https://github.com/acme/support-bot", authorization_token: "ghp_made_elsewhere" },
            { type: "github_repository", url: "https://github.com/acme/docs.git", authorization_token: "ghp_made_elsewhere", checkout: { type: "branch", name: "main" }, mount_path: "/workspace/docs" },
          ),
        }),
      },
    ),
    paused: fc.constantFrom(undefined, undefined, true),
    body: fc
      .record({
        description: maybe(shortText, 3),
        schedule: maybe(fc.record({ type: fc.constant("cron"), expression: fc.constantFrom("0 9 * * 1-5", "*/15 * * * *", "0 0 1 * *"), timezone: fc.constantFrom("UTC", "Europe/Paris", "Asia/Tokyo") })),
        budget: maybe(fc.constantFrom("2500", "1").map((amount) => ({ type: "limit", max_list_cost: { amount, currency: "USD" } })), 3),
        metadata: maybe(metadata, 3),
        initial_events: fc.array(fc.oneof(shortText, systemPrompt), { minLength: 1, maxLength: 2 }).map((texts) => [{ type: "user.message", content: texts.map((text) => ({ type: "text", text })) }]),
      })
      .map(compact),
  });

// ---- The fleet ----------------------------------------------------------------------------------

export interface FleetTemplate {
  environments: EnvironmentTemplate[];
  skills: SkillTemplate[];
  leaves: LeafTemplate[];
  coordinators: CoordinatorTemplate[];
  memoryStores: MemoryStoreTemplate[];
  vaults: VaultTemplate[];
  deployments: DeploymentTemplate[];
  /** A leaf made with the case-swapped name of leaf `n` (same file name): import must skip both. */
  twin?: number;
}

function named<T extends { name: string }>(letter: string, bodies: fc.Arbitrary<Omit<T, "name">>, min: number, max: number, parts = nameParts): fc.Arbitrary<T[]> {
  return fc.array(fc.tuple(parts, bodies), { minLength: min, maxLength: max }).map((list) => list.map(([parts, body], i) => ({ ...body, name: nameFor(letter, i, parts) }) as T));
}

/**
 * One workspace: 1–3 environments, 0–2 skills, 1–4 agents without a roster (0–2 updates before
 * and after the rest), 0–2 coordinators over them, 0–2 memory stores, 0–2 vaults (0–2 credentials
 * each), 0–2 deployments; sometimes a twin agent whose file name collides.
 */
export const importFleet: fc.Arbitrary<FleetTemplate> = fc
  .record({
    environments: named<EnvironmentTemplate>("e", fc.record({ body: environmentBody }), 1, 3),
    skillCount: fc.nat({ max: 2 }),
    leaves: named<LeafTemplate>(
      "a",
      fc.record({
        body: agentBody,
        skills: fc.array(skillUse, { maxLength: 3 }),
        updatesBefore: fc.nat({ max: 2 }).chain((n) => (n === 0 ? fc.constant([]) : fc.tuple(...Array.from({ length: n }, (_, i) => agentUpdate(i + 1))))),
        updatesAfter: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Obj[]) }, { weight: 1, arbitrary: agentUpdate(9).map((u) => [u]) }),
      }),
      1,
      4,
    ),
    coordinators: named<CoordinatorTemplate>(
      "c",
      fc.record({
        body: agentBody,
        kind: fc.constantFrom<CoordinatorTemplate["kind"]>("coordinator", "coordinator", "multiagent_20261001"),
        entries: fc.array(rosterEntry, { minLength: 1, maxLength: 4 }),
        skills: fc.array(skillUse, { maxLength: 2 }),
        updates: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Obj[]) }, { weight: 1, arbitrary: agentUpdate(5).map((u) => [u]) }),
      }),
      0,
      2,
    ),
    memoryStores: named<MemoryStoreTemplate>("m", fc.record({ body: memoryStoreBody }), 0, 2),
    vaults: named<VaultTemplate>("v", fc.record({ metadata: maybe(metadata), credentials: vaultCredentials }).map((v) => compact(v) as Omit<VaultTemplate, "name">), 0, 2, namePartsWith(VAULT_LONG)),
    deploymentCount: fc.nat({ max: 2 }),
    deploymentNames: fc.array(nameParts, { minLength: 2, maxLength: 2 }),
    twin: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: 3 }) }),
  })
  .chain(({ skillCount, deploymentCount, deploymentNames, ...rest }) =>
    fc
      .record({
        skills: skillCount === 0 ? fc.constant([] as SkillTemplate[]) : fc.tuple(...Array.from({ length: skillCount }, (_, i) => skillTemplate(i))),
        deployments: deploymentCount === 0 ? fc.constant([] as DeploymentTemplate[]) : fc.tuple(...Array.from({ length: deploymentCount }, (_, i) => deploymentTemplate(nameFor("d", i, deploymentNames[i]!)))),
      })
      .map(({ skills, deployments }) => ({ ...rest, skills, deployments, twin: rest.twin === undefined ? undefined : rest.twin % rest.leaves.length })),
  );
