/**
 * `npm run schemas`: regenerate schemas/agent.schema.json, environment.schema.json and
 * vault.schema.json from the installed SDK's own type definitions (AgentCreateParams,
 * EnvironmentCreateParams, VaultCreateParams),
 * then layer agentform's additions on top (`{type: agent, ref}` roster entries, `{type: custom,
 * ref}` skill entries and the `agentform:` block). Generating instead of hand-writing means an
 * SDK upgrade is one command, and tests/manifest/schemas.test.ts fails while the committed files
 * lag behind the SDK.
 *
 * project.schema.json and lockfile.schema.json describe agentform's own formats and are
 * hand-written; this script does not touch them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createGenerator } from "ts-json-schema-generator";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sdkDir = path.join(repoRoot, "node_modules", "@anthropic-ai", "sdk");
const sdkBeta = path.join(sdkDir, "resources", "beta");

interface Source {
  file: string;
  type: string;
  title: string;
  kind: "agent" | "environment" | "vault" | "memory_store" | "deployment";
}

const SOURCES: Source[] = [
  { file: "agent.schema.json", type: "AgentCreateParams", title: "agentform agent manifest", kind: "agent" },
  { file: "environment.schema.json", type: "EnvironmentCreateParams", title: "agentform environment manifest", kind: "environment" },
  { file: "vault.schema.json", type: "VaultCreateParams", title: "agentform vault manifest", kind: "vault" },
  { file: "memory_store.schema.json", type: "MemoryStoreCreateParams", title: "agentform memory store manifest", kind: "memory_store" },
  { file: "deployment.schema.json", type: "DeploymentCreateParams", title: "agentform deployment manifest", kind: "deployment" },
];

const TYPE_FILES: Record<string, string> = {
  AgentCreateParams: path.join(sdkBeta, "agents", "agents.d.ts"),
  EnvironmentCreateParams: path.join(sdkBeta, "environments", "environments.d.ts"),
  VaultCreateParams: path.join(sdkBeta, "vaults", "vaults.d.ts"),
  MemoryStoreCreateParams: path.join(sdkBeta, "memory-stores", "memory-stores.d.ts"),
  DeploymentCreateParams: path.join(sdkBeta, "deployments.d.ts"),
};

// Roster and predefined_agents unions that also accept agentform's by-name reference.
const REF_UNIONS = ["BetaManagedAgentsMultiagentRosterEntryParams", "BetaManagedAgentsMultiagentPredefinedAgentParams"];

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sdkVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(sdkDir, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The SDK's params types mix the request body with header params (`betas`, `workspace_id`);
 * only the body belongs in a manifest. The SDK marks each with a "Header param:" /
 * "Body param:" description prefix, which is more robust than a list of names.
 */
function keepBodyParams(schema: JsonObject): void {
  const properties = schema.properties;
  if (!isObject(properties)) throw new Error("expected an object schema with properties");
  const dropped: string[] = [];
  for (const [key, prop] of Object.entries(properties)) {
    if (!isObject(prop)) continue;
    const description = typeof prop.description === "string" ? prop.description : "";
    if (/^(Header|Query|Path) param:/.test(description)) {
      delete properties[key];
      dropped.push(key);
    } else if (description.startsWith("Body param: ")) {
      prop.description = description.slice("Body param: ".length);
    }
  }
  if (Array.isArray(schema.required)) schema.required = schema.required.filter((k) => !dropped.includes(k as string));
}

/**
 * `adopt: true` takes over the live resource of the manifest's name; `adopt: "<id>"` only that
 * resource (written by `agentform import --from-ant`, which knows the id): a same-name resource
 * with another id is refused instead of taken over.
 */
const ADOPT_SCHEMA: JsonObject = {
  anyOf: [
    { type: "boolean" },
    { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$" },
  ],
  description: "Take over an existing resource of the same name that agentform did not create: true, or the id of exactly the resource to take over.",
};

function agentformBlock(kind: Source["kind"]): JsonObject {
  return {
    type: "object",
    description: `Reconciler settings for this ${kind}; never sent to the API.`,
    additionalProperties: false,
    properties: {
      previous_names: {
        type: "array",
        description: "Earlier names of this resource: a live resource found under one of them is renamed in place instead of orphaned.",
        items: { type: "string", minLength: 1 },
      },
      adopt: ADOPT_SCHEMA,
      ignore: {
        type: "array",
        description: "JSON pointers into the API body (e.g. /description) left to someone else: never diffed, never sent on update.",
        items: { type: "string", pattern: "^(/([^~]|~[01])*)+$" },
      },
      allow_secret_pattern: {
        type: "array",
        description: "JSON pointers into this manifest (e.g. /system or /metadata/sample) whose value only looks like a credential: exempt from secret scanning. Keys and comments cannot be exempted.",
        items: { type: "string", pattern: "^(/([^~]|~[01])*)+$" },
      },
    },
  };
}

const AGENT_REF: JsonObject = {
  type: "object",
  description: "agentform reference by name: resolved to {type: agent, id, version}. Without `version` it follows the referenced agent's latest version.",
  additionalProperties: false,
  required: ["type", "ref"],
  properties: {
    type: { type: "string", const: "agent" },
    ref: { type: "string", minLength: 1, description: "The `name` of another agent manifest in this project." },
    version: { type: "integer", minimum: 1, description: "Pin this exact version instead of following the latest." },
  },
};

// The skills list's union, which also accepts agentform's by-name skill reference.
const SKILL_UNION = "BetaManagedAgentsSkillParams";

const SKILL_REF: JsonObject = {
  type: "object",
  description: "agentform reference by name: resolved to {type: custom, skill_id, version}. Without `version` it follows the skill's latest version (a new skill version re-pins this agent).",
  additionalProperties: false,
  required: ["type", "ref"],
  properties: {
    type: { type: "string", const: "custom" },
    ref: { type: "string", minLength: 1, description: "The `name` of a skill in this project (its folder under skills/)." },
    version: { type: "string", minLength: 1, description: "Pin this version id (skver_…) instead of following the latest." },
  },
};

/** Add an agentform reference as one more alternative of an SDK union definition. */
function addToUnion(definitions: JsonObject, union: string, ref: string): void {
  const def = definitions[union];
  if (!isObject(def) || !Array.isArray(def.anyOf)) throw new Error(`SDK type ${union} is no longer a union; update scripts/gen-schemas.ts`);
  def.anyOf.push({ $ref: `#/definitions/${ref}` });
}

function collectRefs(node: Json, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, out);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") out.add(value.replace("#/definitions/", ""));
      else collectRefs(value, out);
    }
  }
}

/** Drop definitions nothing points at any more (e.g. AnthropicBeta, once `betas` is gone). */
function pruneDefinitions(schema: JsonObject): void {
  const definitions = schema.definitions;
  if (!isObject(definitions)) return;
  const reachable = new Set<string>();
  const queue: string[] = [];
  const rootRefs = new Set<string>();
  collectRefs({ ...schema, definitions: {} }, rootRefs);
  for (const name of rootRefs) queue.push(name);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reachable.has(name)) continue;
    reachable.add(name);
    const found = new Set<string>();
    collectRefs(definitions[name] ?? null, found);
    for (const next of found) if (!reachable.has(next)) queue.push(next);
  }
  for (const name of Object.keys(definitions)) if (!reachable.has(name)) delete definitions[name];
}

/** Recursively sorted keys, so the committed file only changes when the content does. */
function sortKeys(node: Json): Json {
  if (Array.isArray(node)) return node.map(sortKeys);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const key of Object.keys(node).sort()) out[key] = sortKeys(node[key]!);
  return out;
}

/** Serialize the way every schema in schemas/ is written: sorted keys, 2-space indent, trailing newline. */
export function serializeSchema(schema: unknown): string {
  return JSON.stringify(sortKeys(schema as Json), null, 2) + "\n";
}

function generateOne(source: Source, version: string): string {
  const generator = createGenerator({
    path: TYPE_FILES[source.type]!,
    type: source.type,
    skipTypeCheck: true,
    expose: "export",
    topRef: false,
    jsDoc: "extended",
    additionalProperties: false,
  });
  const schema = generator.createSchema(source.type) as unknown as JsonObject;
  keepBodyParams(schema);
  const properties = schema.properties as JsonObject;
  properties.agentform = agentformBlock(source.kind);
  const definitions = (schema.definitions ?? {}) as JsonObject;
  if (source.kind === "agent") {
    definitions.AgentformAgentRef = AGENT_REF;
    for (const union of REF_UNIONS) addToUnion(definitions, union, "AgentformAgentRef");
    definitions.AgentformSkillRef = SKILL_REF;
    addToUnion(definitions, SKILL_UNION, "AgentformSkillRef");
  }
  if (source.kind === "vault") addCredentials(properties, definitions);
  if (source.kind === "deployment") addDeploymentRefs(properties, definitions);
  schema.definitions = definitions;
  pruneDefinitions(schema);
  schema.title = source.title;
  schema.$comment = `Generated by scripts/gen-schemas.ts from @anthropic-ai/sdk ${version} ${source.type}; do not edit by hand (run npm run schemas).`;
  return serializeSchema(schema);
}

/**
 * A vault's `credentials:` map, each entry as schemas/credential.schema.json (agentform's own,
 * hand-written format: secrets are named by environment variable, never written). Its
 * definitions move in under an `AgentformCredential` prefix.
 */
function addCredentials(properties: JsonObject, definitions: JsonObject): void {
  const credential = JSON.parse(readFileSync(path.join(repoRoot, "schemas", "credential.schema.json"), "utf8")) as JsonObject;
  const rename = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rename);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === "$ref" && typeof v === "string" ? v.replace("#/definitions/", "#/definitions/AgentformCredential") : rename(v);
    return out;
  };
  for (const [name, def] of Object.entries((credential.definitions ?? {}) as JsonObject)) definitions[`AgentformCredential${name}`] = rename(def);
  const { $schema: _s, $comment: _c, title: _t, definitions: _d, ...entry } = credential;
  definitions.AgentformCredential = rename(entry);
  properties.credentials = {
    type: "object",
    description: "The vault's credentials, by a local name (the credential is named `<vault>/<local name>`). Secrets are named by environment variable (`token_env: NAME`), never written.",
    propertyNames: { pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
    additionalProperties: { $ref: "#/definitions/AgentformCredential" },
  };
}

const NAME_REF: JsonObject = {
  type: "object",
  description: "agentform reference by name: resolved to the id of the resource of that name in this project.",
  additionalProperties: false,
  required: ["ref"],
  properties: { ref: { type: "string", minLength: 1, description: "The name of the referenced manifest." } },
};

/**
 * A deployment's references by name: its agent (`{ref, version?}`: without a version it follows
 * the agent's latest, re-pinned whenever the agent changes; an agent by id must then name its
 * version, or every plan would differ), environment, vaults and memory stores; repository tokens
 * named by environment variable; and `paused`, reconciled with pause and unpause.
 */
function addDeploymentRefs(properties: JsonObject, definitions: JsonObject): void {
  const agentParams = definitions.BetaManagedAgentsAgentParams;
  if (!isObject(agentParams) || !isObject(properties.agent)) throw new Error("SDK deployment agent shape changed; update scripts/gen-schemas.ts");
  definitions.AgentformRef = NAME_REF;
  definitions.AgentformDeploymentAgentRef = {
    ...NAME_REF,
    description: "The agent, by name: without `version` the deployment follows the agent's latest version (agentform re-pins it in the apply that changes the agent).",
    properties: { ref: { type: "string", minLength: 1 }, version: { type: "integer", minimum: 1, description: "Pin this exact version instead of following the latest." } },
  };
  definitions.AgentformPinnedAgent = { ...agentParams, required: ["id", "type", "version"], description: "An agent this project does not manage, by id, at an exact version." };
  properties.agent = { description: properties.agent.description as Json, anyOf: [{ $ref: "#/definitions/AgentformDeploymentAgentRef" }, { $ref: "#/definitions/AgentformPinnedAgent" }] };
  properties.environment_id = { description: "The environment, by name (`{ref}`) or by id.", anyOf: [{ type: "string" }, { $ref: "#/definitions/AgentformRef" }] };
  properties.vault_ids = { description: "Vaults, by name (`{ref}`) or by id, in order: the first vault holding a credential for a URL wins. At most 50.", type: "array", maxItems: 50, items: { anyOf: [{ type: "string" }, { $ref: "#/definitions/AgentformRef" }] } };
  const memory = definitions.BetaManagedAgentsMemoryStoreResourceParam;
  const github = definitions.BetaManagedAgentsGitHubRepositoryResourceParams;
  if (!isObject(memory) || !isObject(memory.properties) || !isObject(github) || !isObject(github.properties)) throw new Error("SDK deployment resource shapes changed; update scripts/gen-schemas.ts");
  const { memory_store_id: _id, ...memoryProps } = memory.properties;
  definitions.AgentformMemoryStoreRef = { ...memory, required: ["type", "ref"], properties: { ...memoryProps, ref: { type: "string", minLength: 1, description: "The name of a memory store in this project." } } };
  const { authorization_token: _token, ...githubProps } = github.properties;
  github.properties = { ...githubProps, authorization_token_env: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$", description: "The environment variable holding the GitHub token (read by apply; never written anywhere). Sent again whenever resources change." } };
  const resources = properties.resources;
  if (!isObject(resources) || !isObject(resources.items) || !Array.isArray(resources.items.anyOf)) throw new Error("SDK deployment resources shape changed; update scripts/gen-schemas.ts");
  resources.items.anyOf.push({ $ref: "#/definitions/AgentformMemoryStoreRef" });
  resources.maxItems = 500;
  if (isObject(properties.initial_events)) Object.assign(properties.initial_events, { minItems: 1, maxItems: 50 });
  properties.paused = { type: "boolean", description: "Whether the deployment is paused (reconciled with pause and unpause). A deployment the server paused for an error is reported, never un-paused by agentform." };
}

/** Generate the SDK-derived schemas in memory: file name (under schemas/) → file content. */
export function generateSchemas(): Record<string, string> {
  const version = sdkVersion();
  const out: Record<string, string> = {};
  for (const source of SOURCES) out[source.file] = generateOne(source, version);
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const [file, content] of Object.entries(generateSchemas())) {
    writeFileSync(path.join(repoRoot, "schemas", file), content);
    console.log(`wrote schemas/${file}`);
  }
}
