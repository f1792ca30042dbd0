/**
 * Per-target values: `${vars.NAME}` interpolation as a pure function over plain data, then
 * through loadConfig/loadProject over real project folders (every kind of manifest, `.md`
 * agents, vault credentials, skills left alone, the config's schema and secret scan).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { defaultTarget, interpolate, loadConfig, loadProject, varScope, VarScope, type Diagnostic } from "../../src/manifest/index.js";
import { tempProjects } from "../helpers/temp-project.js";

const scope = (values: Record<string, string | number | boolean>, others: Record<string, string[]> = {}) =>
  new VarScope(
    "dev",
    new Map(Object.entries(values)),
    Object.entries(others).map(([target, names]) => ({ target, names: new Set(names) })),
  );

const VALUES = { DESC: "Routes tickets", TRIAGE_VERSION: 3, STRICT: true, MODEL: "claude-sonnet-5-5" };

describe("interpolate (pure)", () => {
  it("a string that is exactly one reference takes the value's type", () => {
    const out = interpolate({ a: "${vars.TRIAGE_VERSION}", b: "${vars.STRICT}", c: "${vars.DESC}", list: ["${vars.TRIAGE_VERSION}"] }, scope(VALUES));
    expect(out.value).toEqual({ a: 3, b: true, c: "Routes tickets", list: [3] });
    expect(out.problems).toEqual([]);
    expect([...out.typed]).toEqual([
      ["/a", "TRIAGE_VERSION"],
      ["/b", "STRICT"],
      ["/list/0", "TRIAGE_VERSION"],
    ]);
  });

  it("inside a longer string the value is written as text", () => {
    const out = interpolate({ s: "v${vars.TRIAGE_VERSION} strict=${vars.STRICT}: ${vars.DESC}!", t: " ${vars.TRIAGE_VERSION}" }, scope(VALUES));
    expect(out.value).toEqual({ s: "v3 strict=true: Routes tickets!", t: " 3" });
  });

  it("`$${` is always a literal `${`, and any other `${…}` is left as written", () => {
    const out = interpolate(
      {
        escaped: "$${vars.DESC}",
        shell: 'echo "${HOME}" ${PATH:-/bin} ${ vars.DESC } ${VARS.DESC} ${vars}',
        mixed: "$${HOME} and ${vars.DESC} and $$${vars.DESC}",
        nested: "${FOO:-${vars.TRIAGE_VERSION}}",
      },
      scope(VALUES),
    );
    expect(out.problems).toEqual([]);
    expect(out.value).toEqual({
      escaped: "${vars.DESC}",
      shell: 'echo "${HOME}" ${PATH:-/bin} ${ vars.DESC } ${VARS.DESC} ${vars}',
      // The leftmost `$${` is the escape: `$$${vars.DESC}` is `$` then a literal `${vars.DESC}`.
      mixed: "${HOME} and Routes tickets and $${vars.DESC}",
      nested: "${FOO:-3}",
    });
  });

  it("values are inserted as they are, never interpolated themselves", () => {
    const out = interpolate({ s: "${vars.A} / x${vars.A}" }, scope({ A: "${vars.B} $${", B: "no" }));
    expect(out.value).toEqual({ s: "${vars.B} $${ / x${vars.B} $${" });
  });

  it("an unknown name is AF-VAR-UNKNOWN at the string, with the defined names closest first, and the string is left as written", () => {
    const out = interpolate({ tools: [{ description: "x ${vars.TRIAGE_VERSON} ${vars.TRIAGE_VERSON}" }] }, scope(VALUES));
    expect(out.problems).toEqual([
      {
        pointer: "/tools/0/description",
        code: "AF-VAR-UNKNOWN",
        message: 'vars.TRIAGE_VERSON is not defined for target "dev"; did you mean "TRIAGE_VERSION"?',
        hint: 'Define TRIAGE_VERSON under `vars:` (every target) or `targets.dev.vars:` in agentform.yaml. Defined for target "dev": TRIAGE_VERSION, DESC, STRICT, MODEL.',
      },
    ]);
    expect(out.unresolved).toEqual(["/tools/0/description"]);
    expect(out.value).toEqual({ tools: [{ description: "x ${vars.TRIAGE_VERSON} ${vars.TRIAGE_VERSON}" }] });
  });

  it("names are looked up as own entries only: `constructor` or `__proto__` are unknown unless defined", () => {
    const out = interpolate({ a: "${vars.constructor}", b: "${vars.__proto__}" }, scope({}));
    expect(out.problems.map((p) => [p.pointer, p.code])).toEqual([
      ["/a", "AF-VAR-UNKNOWN"],
      ["/b", "AF-VAR-UNKNOWN"],
    ]);
    expect(out.problems[0]!.hint).toContain('No vars are defined for target "dev".');
    expect(interpolate({ a: "${vars.__proto__}" }, scope({ __proto__: "p" } as never)).problems).toHaveLength(1);
    const defined = new VarScope("dev", new Map([["__proto__", "p"]]));
    expect(interpolate({ a: "${vars.__proto__}" }, defined).value).toEqual({ a: "p" });
  });

  it.each([
    ["${vars.}", '"${vars.}"'],
    ["${vars.a-b}", '"${vars.a-"'],
    ["x ${vars.1st}", '"${vars.1st}"'],
    ["${vars.A", '"${vars.A"'],
    ["${vars.a.b}", '"${vars.a."'],
  ])("a malformed reference %s is AF-VAR-SYNTAX", (text, shown) => {
    const out = interpolate({ s: text }, scope({ A: 1, a: 1 }));
    expect(out.problems.map((p) => p.code)).toEqual(["AF-VAR-SYNTAX"]);
    expect(out.problems[0]!.message).toContain(`malformed reference ${shown}`);
    expect(out.problems[0]!.hint).toContain("$${");
    expect(out.value).toEqual({ s: text });
  });

  it("keys are never interpolated, nor what `skip` names (the settings blocks)", () => {
    const value = { "${vars.DESC}": "${vars.DESC}", agentform: { previous_names: ["${vars.DESC}"] }, credentials: { gh: { agentform: { previous_names: ["${vars.NOPE}"] }, auth: { token_env: "${vars.DESC}" } } } };
    const out = interpolate(value, scope(VALUES), { skip: new Set(["/agentform", "/credentials/gh/agentform"]) });
    expect(out.problems).toEqual([]);
    expect(out.value).toEqual({ "${vars.DESC}": "Routes tickets", agentform: { previous_names: ["${vars.DESC}"] }, credentials: { gh: { agentform: { previous_names: ["${vars.NOPE}"] }, auth: { token_env: "Routes tickets" } } } });
  });

  it("never modifies its input, and keeps a `__proto__` key a key", () => {
    const input = JSON.parse('{"__proto__": {"a": "${vars.DESC}"}, "list": ["${vars.DESC}", "plain"], "same": {"k": 1}}') as Record<string, unknown>;
    const before = JSON.stringify(input);
    const out = interpolate(input, scope(VALUES)).value as Record<string, unknown>;
    expect(JSON.stringify(input)).toBe(before);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__", "list", "same"]);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"a":"Routes tickets"},"list":["Routes tickets","plain"],"same":{"k":1}}');
    // What did not change is shared, not copied.
    expect(out.same).toBe(input.same);
  });

  it("with other targets, a name one of them lacks is reported naming it, while the selected target's value is used", () => {
    const s = scope({ DESC: "dev desc", ONLY_DEV: 1 }, { prod: ["DESC"], staging: [] });
    const out = interpolate({ a: "${vars.DESC}", b: "${vars.ONLY_DEV}", c: "${vars.NOPE} ${vars.DESC}" }, s);
    expect(out.value).toEqual({ a: "dev desc", b: 1, c: "${vars.NOPE} ${vars.DESC}" });
    expect(out.problems.map((p) => [p.pointer, p.message])).toEqual([
      ["/a", 'vars.DESC is not defined for target "staging"'],
      ["/b", 'vars.ONLY_DEV is not defined for targets "prod" and "staging"'],
      ["/c", 'vars.NOPE is not defined for targets "dev", "prod" and "staging"; vars.DESC is not defined for target "staging"'],
    ]);
    expect(out.problems[0]!.hint).toBe('Define DESC under `vars:` (every target) or `targets.staging.vars:` in agentform.yaml. No vars are defined for target "staging". Without --target, validate checks every target\'s names.');
    expect(out.unresolved).toEqual(["/c"]);
  });

  it("stays linear on 100,000 references, malformed references and escapes in one string", () => {
    const s = scope({ A: "x", B: 7 });
    const refs = "${vars.A}".repeat(100_000);
    const mixed = "${vars.B}$${vars.A}${HOME}".repeat(100_000);
    const broken = "${vars.".repeat(100_000);
    const unknown = Array.from({ length: 100_000 }, (_, i) => `\${vars.N${i}}`).join("");
    const started = performance.now();
    const out = interpolate({ refs, mixed, broken, unknown }, s);
    const elapsed = performance.now() - started;
    expect((out.value as { refs: string }).refs).toBe("x".repeat(100_000));
    expect((out.value as { mixed: string }).mixed).toBe("7${vars.A}${HOME}".repeat(100_000));
    expect(out.problems.map((p) => p.code)).toEqual(["AF-VAR-SYNTAX", "AF-VAR-UNKNOWN"]);
    expect(out.problems[0]!.message).toContain("(and 99999 more)");
    expect(out.problems[1]!.message).toContain("and 99997 more names");
    expect(elapsed).toBeLessThan(5_000);
  });

  it("bounds what references insert: a long value referenced many times stops with AF-VAR-TOO-LARGE", () => {
    const long = "y".repeat(100_000);
    const out = interpolate({ a: "${vars.L}".repeat(5), b: "${vars.L} ".repeat(20), c: "${vars.L}" }, scope({ L: long }));
    expect(out.overflow).toBe(true);
    expect(out.problems.map((p) => [p.pointer, p.code])).toEqual([["/b", "AF-VAR-TOO-LARGE"]]);
    expect(interpolate({ a: "${vars.L}".repeat(10) }, scope({ L: long })).overflow).toBe(false);
    expect(interpolate({ a: "${vars.L}".repeat(10) }, scope({ L: long }), { budget: 999_999 }).overflow).toBe(true);
  });
});

describe("which target's values", () => {
  const config = (targets: Record<string, { vars?: Record<string, string | number | boolean> }>, vars?: Record<string, string | number | boolean>) => ({ targets, file: "agentform.yaml", ...(vars ? { vars } : {}) });

  it("top-level vars are defaults; a target's own vars override them", () => {
    const c = config({ dev: { vars: { DESC: "dev" } }, prod: {} }, { DESC: "all", N: 1 });
    expect([...varScope(c, "dev").values]).toEqual([
      ["DESC", "dev"],
      ["N", 1],
    ]);
    expect([...varScope(c, "prod").values]).toEqual([
      ["DESC", "all"],
      ["N", 1],
    ]);
  });

  it('without a target: "default", else the first declared; every other target\'s names on request', () => {
    expect(defaultTarget(config({ prod: {}, default: {} }))).toBe("default");
    expect(defaultTarget(config({ dev: {}, prod: {} }))).toBe("dev");
    const s = varScope(config({ dev: { vars: { A: 1 } }, prod: { vars: { B: 2 } } }), undefined, true);
    expect(s.target).toBe("dev");
    expect(s.others.map((o) => [o.target, [...o.names]])).toEqual([["prod", ["B"]]]);
    expect(varScope(config({ dev: {} }), undefined).others).toEqual([]);
  });

  it("a target agentform.yaml does not declare is a ConfigError", () => {
    expect(() => varScope(config({ dev: {} }), "prod")).toThrow(ConfigError);
    expect(() => varScope(config({ dev: {} }), "toString")).toThrow(/not declared/);
  });
});

// ---------------------------------------------------------------------------------------------
// through the loader

const project = tempProjects("vars");

const CONFIG = `project: demo
vars:
  DESC: Routes tickets
  TRIAGE_VERSION: 2
  TOKEN_VAR: GITHUB_MCP_TOKEN
  TEAM: support
targets:
  dev:
    local: true
    vars:
      DESC: Routes dev tickets
      MCP_URL: https://dev.mcp.example/mcp/
  prod:
    local: true
    vars:
      TRIAGE_VERSION: 5
      MCP_URL: https://mcp.example/mcp/
`;

const codes = (diags: Diagnostic[]) => diags.map((d) => `${d.file}:${d.line}:${d.column} ${d.path} ${d.code}`);

async function load(files: Record<string, string>, options: Parameters<typeof loadProject>[1] = {}) {
  const dir = await project({ "agentform.yaml": CONFIG, ...files });
  return loadProject(await loadConfig({ cwd: dir }), options);
}

describe("vars in manifests (loadProject)", () => {
  it("resolves YAML manifests of several kinds, an agent's Markdown frontmatter and body, and vault credentials, with the target's values", async () => {
    const files = {
      "agents/billing.yaml": "name: billing\nmodel: claude-sonnet-5-5\n",
      "agents/triage.md": "---\nname: triage\nmodel: claude-sonnet-5-5\ndescription: ${vars.DESC}\nmultiagent:\n  type: coordinator\n  agents:\n    - type: agent\n      ref: billing\n      version: ${vars.TRIAGE_VERSION}\nmetadata: {team: '${vars.TEAM}'}\n---\nYou route tickets for the ${vars.TEAM} team. Run `echo ${HOME}`; write $${vars.X} literally.\n",
      "environments/sandbox.yaml": "name: sandbox\ndescription: for ${vars.TEAM}\nconfig: {type: cloud, networking: {type: unrestricted}}\n",
      "vaults/tools.yaml": "display_name: tools\ncredentials:\n  github:\n    auth:\n      type: static_bearer\n      mcp_server_url: ${vars.MCP_URL}\n      token_env: ${vars.TOKEN_VAR}\n",
      "memory_stores/notes.yaml": "name: notes\ndescription: Notes of the ${vars.TEAM} team\n",
    };
    for (const [target, desc, version, url] of [
      ["dev", "Routes dev tickets", 2, "https://dev.mcp.example/mcp/"],
      ["prod", "Routes tickets", 5, "https://mcp.example/mcp/"],
    ] as const) {
      const result = await load(files, { target });
      expect(result.diagnostics).toEqual([]);
      const triage = result.manifests.agent.find((m) => m.name === "triage")!;
      expect(triage.spec.description).toBe(desc);
      expect(triage.spec.multiagent).toEqual({ type: "coordinator", agents: [{ type: "agent", ref: "billing", version }] });
      expect(triage.spec.metadata).toEqual({ team: "support" });
      expect(triage.spec.system).toBe("You route tickets for the support team. Run `echo ${HOME}`; write ${vars.X} literally.");
      expect(result.manifests.environment[0]!.spec.description).toBe("for support");
      expect(result.manifests.memory_store[0]!.spec.description).toBe("Notes of the support team");
      const credential = result.manifests.credential[0]!;
      expect(credential.spec.auth).toEqual({ type: "static_bearer", mcp_server_url: url, token_env: "GITHUB_MCP_TOKEN" });
    }
  });

  it("reports an unknown name at the string's file:line:column, in YAML and in a Markdown body, and keeps the manifest out", async () => {
    const result = await load(
      {
        "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\nmetadata:\n  team: ${vars.TEEM}\n",
        "agents/b.md": "---\nname: b\nmodel: claude-sonnet-5-5\n---\n\nHello ${vars.NOPE}\n",
        "agents/c.yaml": "name: c\nmodel: claude-sonnet-5-5\ndescription: ${vars.a-b}\n",
      },
      { target: "dev" },
    );
    expect(codes(result.diagnostics)).toEqual(["agents/a.yaml:4:3 metadata.team AF-VAR-UNKNOWN", "agents/b.md:6:1 system AF-VAR-UNKNOWN", "agents/c.yaml:3:1 description AF-VAR-SYNTAX"]);
    expect(result.diagnostics[0]!.message).toBe('vars.TEEM is not defined for target "dev"; did you mean "TEAM"?');
    expect(result.diagnostics[0]!.hint).toMatch(/^Define TEEM under `vars:` \(every target\) or `targets\.dev\.vars:` in agentform\.yaml\. Defined for target "dev": TEAM, /);
    expect(result.manifests.agent).toEqual([]);
  });

  it("a whole-string reference to a number is a number: where the schema wants text, the hint says so", async () => {
    const result = await load({ "agents/a.yaml": "name: a\nmodel: claude-sonnet-5-5\ndescription: ${vars.TRIAGE_VERSION}\n" }, { target: "dev" });
    expect(codes(result.diagnostics)).toEqual(["agents/a.yaml:3:1 description AF-SCHEMA-TYPE"]);
    expect(result.diagnostics[0]!.hint).toContain('This value is `${vars.TRIAGE_VERSION}`: a string that is exactly one reference takes the value\'s type. To get text, quote the value in agentform.yaml (`TRIAGE_VERSION: "…"`).');
  });

  it("every target's names with everyTarget: a name only prod lacks is an error naming prod", async () => {
    const files = { "vaults/tools.yaml": "display_name: tools\nmetadata:\n  desc: ${vars.DESC}\n  url: ${vars.MCP_URL}\n  only: ${vars.DEV_ONLY}\n" };
    const dir = await project({ "agentform.yaml": CONFIG.replace("      MCP_URL: https://dev.mcp.example/mcp/\n", "      MCP_URL: https://dev.mcp.example/mcp/\n      DEV_ONLY: x\n"), ...files });
    const config = await loadConfig({ cwd: dir });
    expect((await loadProject(config, { target: "dev" })).diagnostics).toEqual([]);
    const every = await loadProject(config, { everyTarget: true });
    expect(codes(every.diagnostics)).toEqual(["vaults/tools.yaml:5:3 metadata.only AF-VAR-UNKNOWN"]);
    expect(every.diagnostics[0]!.message).toBe('vars.DEV_ONLY is not defined for target "prod"');
    expect(every.diagnostics[0]!.hint).toContain("`targets.prod.vars:`");
  });

  it("everyTarget also loads each other target as it would be planned: what its values make of a manifest is checked", async () => {
    const config = CONFIG.replace("      MCP_URL: https://mcp.example/mcp/\n", "      MCP_URL: https://mcp.example/mcp/\n      NAME: billing\n").replace("      MCP_URL: https://dev.mcp.example/mcp/\n", "      MCP_URL: https://dev.mcp.example/mcp/\n      NAME: alpha\n");
    const dir = await project({ "agentform.yaml": config, "agents/a.yaml": "name: ${vars.NAME}\nmodel: claude-sonnet-5-5\n", "agents/b.yaml": "name: billing\nmodel: claude-sonnet-5-5\n" });
    const loaded = await loadConfig({ cwd: dir });
    expect((await loadProject(loaded, { target: "dev" })).diagnostics).toEqual([]);
    const every = await loadProject(loaded, { everyTarget: true });
    expect(codes(every.diagnostics)).toEqual(["agents/a.yaml:1:1 name AF-NAME-DUPLICATE", "agents/b.yaml:1:1 name AF-NAME-DUPLICATE"]);
    expect(every.diagnostics[0]!.message).toMatch(/\(with target "prod"'s vars\)$/);
  });

  it("what references insert is bounded across the project too, not only per manifest", async () => {
    const big = "x".repeat(1000 * 1000);
    const files: Record<string, string> = {};
    // 70 manifests of under 1 MB each: 70 MB in all, over the project's 64 MiB.
    for (let i = 0; i < 70; i++) files[`memory_stores/s${i}.yaml`] = `name: s${i}\ndescription: "\${vars.BIG}"\n`;
    const dir = await project({ "agentform.yaml": CONFIG.replace("  TEAM: support\n", `  TEAM: support\n  BIG: ${big}\n`), ...files });
    const result = await loadProject(await loadConfig({ cwd: dir }), { target: "dev" });
    const tooLarge = result.diagnostics.filter((d) => d.code === "AF-VAR-TOO-LARGE");
    expect(tooLarge.length).toBeGreaterThan(0);
    expect(tooLarge[0]!.message).toMatch(/across the project add up to more than 67108864 characters/);
  });

  it("a did-you-mean never measures names of another length (hostile long names stay cheap)", async () => {
    const long = (i: number) => `N${String(i).padStart(4, "0")}${"a".repeat(4000)}`;
    // Keys over 1,024 characters need YAML's explicit `? key` form.
    const vars = Array.from({ length: 200 }, (_, i) => `  ? ${long(i)}\n  : v\n`).join("");
    const refs = Array.from({ length: 100 }, (_, i) => `  k${i}: \${vars.UNKNOWN_${String(i).padStart(50, "0")}}\n`).join("");
    const dir = await project({ "agentform.yaml": CONFIG.replace("  TEAM: support\n", `  TEAM: support\n${vars}`), "vaults/v.yaml": `display_name: v\nmetadata:\n${refs}` });
    const result = await loadProject(await loadConfig({ cwd: dir }), { target: "dev" });
    expect(result.diagnostics.filter((d) => d.code === "AF-VAR-UNKNOWN")).toHaveLength(100);
    expect(result.diagnostics.some((d) => d.message.includes("did you mean"))).toBe(false);
  });

  it("more previous names than the lockfile records is a validate error, not a plan-time one", async () => {
    const names = Array.from({ length: 1001 }, (_, i) => `old-${i}`).join(", ");
    const result = await load({ "agents/a.yaml": `name: a\nmodel: claude-sonnet-5-5\nagentform:\n  previous_names: [${names}]\n` }, { target: "dev" });
    expect(codes(result.diagnostics)).toEqual(["agents/a.yaml:4:3 agentform.previous_names AF-PREVIOUS-NAMES-LIMIT"]);
  });

  it("leaves skills alone: SKILL.md is uploaded as written, and a reference in its frontmatter is a warning", async () => {
    const skill = "---\nname: refunds\ndescription: Refund rules for ${vars.TEAM}\n---\nUse ${vars.TEAM} here.\n";
    const result = await load({ "skills/refunds/SKILL.md": skill }, { target: "dev" });
    expect(codes(result.diagnostics)).toEqual(["skills/refunds/SKILL.md:3:1 description AF-VAR-IN-SKILL"]);
    expect(result.diagnostics[0]!.severity).toBe("warning");
    const [manifest] = result.manifests.skill;
    expect(manifest!.spec.description).toBe("Refund rules for ${vars.TEAM}");
    expect(Buffer.from(manifest!.uploads![0]!.bytes).toString("utf8")).toBe(skill);
  });

  it("never in keys or in `agentform:` settings blocks (the manifest's own, a credential entry's)", async () => {
    const result = await load(
      {
        "vaults/tools.yaml":
          "display_name: tools\nmetadata:\n  ${vars.TEAM}: x\ncredentials:\n  github:\n    auth: {type: static_bearer, mcp_server_url: 'https://a.example/mcp/', token_env: T}\n    agentform:\n      previous_names: ['${vars.TEAM}']\nagentform:\n  previous_names: ['old-${vars.TEAM}']\n",
      },
      { target: "dev" },
    );
    expect(result.diagnostics).toEqual([]);
    const [vault] = result.manifests.vault;
    expect(vault!.spec.metadata).toEqual({ "${vars.TEAM}": "x" });
    expect(vault!.settings.previous_names).toEqual(["old-${vars.TEAM}"]);
    expect(result.manifests.credential[0]!.settings.previous_names).toContain("tools/${vars.TEAM}");
  });

  it("a manifest whose references insert more than the bound is AF-VAR-TOO-LARGE, and is not loaded", async () => {
    const dir = await project({ "agentform.yaml": `project: demo\nvars:\n  LONG: ${"z".repeat(100_000)}\n`, "agents/a.yaml": `name: a\nmodel: claude-sonnet-5-5\nsystem: "${"${vars.LONG}".repeat(11)}"\n` });
    const result = await loadProject(await loadConfig({ cwd: dir }));
    expect(codes(result.diagnostics)).toEqual(["agents/a.yaml:3:1 system AF-VAR-TOO-LARGE"]);
    expect(result.manifests.agent).toEqual([]);
  });

  it("a target the config does not declare is refused before anything is read", async () => {
    await expect(load({}, { target: "staging" })).rejects.toThrow(/Target "staging" is not declared/);
  });
});

describe("vars in agentform.yaml (loadConfig)", () => {
  async function configError(config: string): Promise<Diagnostic[]> {
    const dir = await project({ "agentform.yaml": config });
    const err = await loadConfig({ cwd: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).details!.diagnostics as Diagnostic[];
  }

  it("keeps vars on the config", async () => {
    const dir = await project({ "agentform.yaml": CONFIG });
    const config = await loadConfig({ cwd: dir });
    expect(config.vars).toEqual({ DESC: "Routes tickets", TRIAGE_VERSION: 2, TOKEN_VAR: "GITHUB_MCP_TOKEN", TEAM: "support" });
    expect(config.targets.prod!.vars).toEqual({ TRIAGE_VERSION: 5, MCP_URL: "https://mcp.example/mcp/" });
    expect(path.basename(config.root)).toMatch(/^agentform-vars-/);
  });

  it("refuses bad names and values other than strings, numbers and booleans, at the key", async () => {
    const diags = await configError("project: demo\nvars:\n  ok: 1\n  a-b: 2\n  list: [1]\n  nothing: null\ntargets:\n  dev:\n    vars:\n      1st: x\n");
    expect(codes(diags)).toEqual(["agentform.yaml:4:3 vars.a-b AF-SCHEMA", "agentform.yaml:5:3 vars.list AF-SCHEMA-TYPE", "agentform.yaml:6:3 vars.nothing AF-SCHEMA-TYPE", 'agentform.yaml:10:7 targets.dev.vars["1st"] AF-SCHEMA']);
    expect(diags[0]!.message).toBe('the key "a-b" must be letters, digits and _, not starting with a digit');
  });

  it("refuses a var whose value looks like a secret: secrets belong in environment variables", async () => {
    const token = ["ghp", "R8bT2xLmQ9vN4kW7pZ1cY6sD3fH5jA0eG2uI"].join("_");
    const diags = await configError(`project: demo\ntargets:\n  prod:\n    vars:\n      GITHUB: ${token}\n`);
    expect(codes(diags)).toContain("agentform.yaml:5:7 targets.prod.vars.GITHUB AF-SECRET");
    const secret = diags.find((d) => d.code === "AF-SECRET")!;
    expect(secret.hint).toContain("keep secrets in environment variables");
    expect(JSON.stringify(diags)).not.toContain(token);
  });
});
