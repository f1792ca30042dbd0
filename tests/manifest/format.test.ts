/** Rendering diagnostics: plain text, colour, JSON, paths. */
import { describe, expect, it } from "vitest";
import { formatDiagnostics, formatDiagnosticsJson, pointerToPath } from "../../src/manifest/index.js";
import type { Diagnostic } from "../../src/manifest/types.js";

const d = (over: Partial<Diagnostic>): Diagnostic => ({ code: "AF-X", severity: "error", file: "agents/a.yaml", line: 1, column: 1, path: "", message: "broken", ...over });

describe("formatDiagnostics", () => {
  it("sorts by file, line, column and renders hints and warnings", () => {
    const text = formatDiagnostics(
      [
        d({ file: "environments/e.yaml", line: 2, column: 3, path: "config.type", message: "bad type", hint: "fix it" }),
        d({ line: 10, column: 1, severity: "warning", message: "odd", code: "AF-W" }),
        d({ line: 2, column: 9, path: "name", message: "no" }),
      ],
      { color: false },
    );
    expect(text).toBe(
      ["agents/a.yaml:2:9 name: no [AF-X]", "agents/a.yaml:10:1 warning odd [AF-W]", "environments/e.yaml:2:3 config.type: bad type [AF-X]", "  hint: fix it", ""].join("\n"),
    );
  });

  it("adds ANSI colour only when asked", () => {
    expect(formatDiagnostics([d({ hint: "h" })], { color: true })).toContain("\u001b[");
    expect(formatDiagnostics([], { color: true })).toBe("");
  });

  it("renders JSON with valid=false only for errors", () => {
    expect(JSON.parse(formatDiagnosticsJson([d({ severity: "warning" })])).valid).toBe(true);
    expect(JSON.parse(formatDiagnosticsJson([d({})]))).toEqual({ valid: false, diagnostics: [d({})] });
  });
});

describe("pointerToPath", () => {
  it.each([
    ["", ""],
    ["/name", "name"],
    ["/tools/0/configs/2/name", "tools[0].configs[2].name"],
    ["/metadata/agentform.project", 'metadata["agentform.project"]'],
    ["/metadata/a~1b", 'metadata["a/b"]'],
  ])("%s → %s", (pointer, expected) => {
    expect(pointerToPath(pointer)).toBe(expected);
  });
});

describe("docs/diagnostics.md", () => {
  it("documents every code the manifest module can report", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const root = new URL("../../", import.meta.url);
    // The manifest module and every kind's modules (their rules report codes).
    const files = [
      ...readdirSync(new URL("src/manifest/", root)).map((f) => `src/manifest/${f}`),
      ...readdirSync(new URL("src/kinds/", root), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => readdirSync(new URL(`src/kinds/${d.name}/`, root)).map((f) => `src/kinds/${d.name}/${f}`)),
    ];
    const sources = files.map((f) => readFileSync(new URL(f, root), "utf8"));
    const codes = new Set(sources.join("\n").match(/"AF-[A-Z0-9-]+"/g)!.map((c) => c.slice(1, -1)));
    expect(codes.size).toBeGreaterThan(40);
    const doc = readFileSync(new URL("docs/diagnostics.md", root), "utf8");
    const documented = new Set(doc.match(/`AF-[A-Z0-9-]+`/g)!.map((c) => c.slice(1, -1)));
    expect([...codes].filter((c) => !documented.has(c))).toEqual([]);
  });
});
