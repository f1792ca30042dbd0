/**
 * Validation throughput: 5,000 generated manifests (4,000 agents, 1,000 environments; a
 * realistic mix of toolsets, MCP servers, custom tools, rosters by ref and metadata) loaded and
 * checked by loadProject. The budget: a couple of seconds on 2 cores.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { loadConfig, loadProject } from "../src/manifest/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function agentYaml(i: number): string {
  const lines = [
    "# yaml-language-server: $schema=../schemas/agent.schema.json",
    `name: agent-${i}`,
    `description: Generated agent number ${i}.`,
    "model:",
    "  id: claude-sonnet-5-5",
    "  effort: medium",
    "system: |",
    `  You are agent ${i}. Answer customer questions about product area ${i % 37}.`,
    "  Keep answers short and cite the documentation.",
    "tools:",
    "  - type: agent_toolset_20260401",
    "    configs:",
    "      - name: bash",
    "        enabled: false",
    "      - name: web_fetch",
    "        allowed_domains: [docs.example.com, status.example.com]",
    "  - type: mcp_toolset",
    "    mcp_server_name: github",
    "    default_config:",
    "      permission_policy: {type: always_ask}",
    "  - type: custom",
    "    name: lookup_order",
    "    description: Look up an order by id.",
    "    input_schema: {type: object, properties: {order_id: {type: string}}, required: [order_id]}",
    "mcp_servers:",
    "  - {type: url, name: github, url: 'https://api.githubcopilot.com/mcp/'}",
    "metadata:",
    `  team: team-${i % 12}`,
    "  tier: generated",
  ];
  // Every 10th agent coordinates the nine before it, by name.
  if (i % 10 === 9) {
    lines.push("multiagent:", "  type: coordinator", "  agents:");
    for (let j = i - 9; j < i; j++) lines.push(`    - {type: agent, ref: agent-${j}}`);
  }
  return lines.join("\n") + "\n";
}

export function environmentYaml(i: number): string {
  return [
    "# yaml-language-server: $schema=../schemas/environment.schema.json",
    `name: env-${i}`,
    "config:",
    "  type: cloud",
    "  networking:",
    "    type: limited",
    "    allowed_hosts: [api.example.com, '*.internal.example']",
    "    allow_package_managers: true",
    "  packages:",
    "    pip: [requests, pandas==2.3.1]",
    "metadata:",
    `  owner: team-${i % 12}`,
  ].join("\n") + "\n";
}

/** Generate the fleet in a temp folder, time loadProject over it, print and return the figures. */
export async function benchValidate(): Promise<Record<string, number>> {
  const agents = 4000;
  const environments = 1000;
  const dir = await mkdtemp(path.join(tmpdir(), "agentform-bench-validate-"));
  try {
    await mkdir(path.join(dir, "agents"));
    await mkdir(path.join(dir, "environments"));
    await writeFile(path.join(dir, "agentform.yaml"), "project: bench\n");
    await Promise.all([
      ...Array.from({ length: agents }, (_, i) => writeFile(path.join(dir, "agents", `agent-${i}.yaml`), agentYaml(i))),
      ...Array.from({ length: environments }, (_, i) => writeFile(path.join(dir, "environments", `env-${i}.yaml`), environmentYaml(i))),
    ]);
    const config = await loadConfig({ cwd: dir });
    // First run includes compiling the schemas once; the second is the steady state.
    const cold = performance.now();
    const first = await loadProject(config);
    const coldMs = performance.now() - cold;
    const warm = performance.now();
    const cpu = process.cpuUsage();
    const second = await loadProject(config);
    const warmMs = performance.now() - warm;
    // CPU time as well as wall time: on a shared machine wall time mostly measures the neighbours.
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    if (first.diagnostics.length > 0 || second.manifests.agent.length !== agents || second.manifests.environment.length !== environments) {
      throw new Error(`bench fleet did not validate clean: ${first.diagnostics.length} diagnostics, first: ${JSON.stringify(first.diagnostics[0])}`);
    }
    // The yardstick: reading the same files and a bare `yaml` parse of each (no positions kept, no checks).
    const bareStarted = process.cpuUsage();
    for (const [folder, n] of [["agents", agents], ["environments", environments]] as const) {
      for (let i = 0; i < n; i++) parseDocument(readFileSync(path.join(dir, folder, `${folder === "agents" ? "agent" : "env"}-${i}.yaml`), "utf8")).toJS();
    }
    const bare = process.cpuUsage(bareStarted);
    const bareCpuMs = (bare.user + bare.system) / 1000;
    const figures: Record<string, number> = { manifests: agents + environments, coldMs: Math.round(coldMs), warmMs: Math.round(warmMs), cpuMs: Math.round(cpuMs), perManifestUs: Math.round((warmMs * 1000) / (agents + environments)), bareYamlCpuMs: Math.round(bareCpuMs), vsBareYaml: Math.round((cpuMs / bareCpuMs) * 100) / 100 };
    console.log(`validate (loadProject, in-process from source): ${figures.manifests} manifests in ${figures.warmMs} ms wall, ${figures.cpuMs} ms CPU (cold ${figures.coldMs} ms); a bare yaml parse of the same files: ${figures.bareYamlCpuMs} ms CPU (${figures.vsBareYaml}×)`);
    // What a user runs: the built CLI, process start-up and schema compilation included.
    const cli = path.join(repo, "bin", "agentform.js");
    if (existsSync(path.join(repo, "dist", "cli", "main.js"))) {
      const started = performance.now();
      const run = spawnSync(process.execPath, [cli, "validate", "--format", "json"], { cwd: dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      figures.cliMs = Math.round(performance.now() - started);
      if (run.status !== 0) throw new Error(`agentform validate exited ${run.status}: ${run.stderr}`);
      console.log(`validate (node bin/agentform.js validate, built): ${figures.manifests} manifests in ${figures.cliMs} ms wall`);
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  await benchValidate();
}
