/**
 * Property tests: whatever a manifest file holds, loading reports diagnostics instead of
 * throwing, and the pieces that turn pointers into positions and paths agree with each other.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { checkRules, schemaDiagnostics } from "../../src/manifest/index.js";
import { LineIndex, parseYaml, pointerSegments, toPointer } from "../../src/manifest/source.js";
import type { LoadedManifest } from "../../src/manifest/types.js";
import { emptyByKind } from "../plan/helpers.js";

const lines = (text: string) => new LineIndex(text);

describe("robustness", () => {
  it("pointer segments round-trip through toPointer", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.nat().map(String)), { maxLength: 6 }), (segments) => {
        expect(pointerSegments(toPointer(segments))).toEqual(segments);
      }),
    );
  });

  it("parseYaml never throws, and a parsed mapping locates each of its own keys on the right line", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/^[\s#]/.test(k)), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 }), (doc) => {
        const text = stringify(doc);
        const parsed = parseYaml(text, { file: "x.yaml", lines: lines(text) });
        expect(parsed.diagnostics).toEqual([]);
        expect(JSON.stringify(parsed.value)).toBe(JSON.stringify(doc));
        for (const key of Object.keys(doc)) {
          const pos = parsed.locate(toPointer([key]));
          // The position is where the key is written: plain, quoted, or as an explicit "? key".
          const rest = text.split("\n")[pos.line - 1]!.slice(pos.column - 1);
          expect(rest.startsWith(key) || /^["'?]/.test(rest), `${JSON.stringify(key)} at ${JSON.stringify(rest)}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("arbitrary text yields diagnostics or a value, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parseYaml(text, { file: "x.yaml", lines: lines(text) });
        for (const d of parsed.diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("schema validation and rules accept any JSON shape without throwing", () => {
    const locate = () => ({ line: 1, column: 1 });
    fc.assert(
      fc.property(
        fc.record({ name: fc.string(), model: fc.jsonValue({ maxDepth: 2 }), tools: fc.jsonValue({ maxDepth: 4 }), multiagent: fc.jsonValue({ maxDepth: 4 }), metadata: fc.jsonValue({ maxDepth: 2 }), mcp_servers: fc.jsonValue({ maxDepth: 3 }), config: fc.jsonValue({ maxDepth: 4 }) }, { requiredKeys: ["name"] }),
        (spec) => {
          const manifest: LoadedManifest = { kind: "agent", name: spec.name, file: "a.yaml", spec, settings: { previous_names: [], adopt: false, ignore: [] }, locate };
          schemaDiagnostics("agent", spec, { file: "a.yaml", locate });
          schemaDiagnostics("environment", spec, { file: "a.yaml", locate });
          const env: LoadedManifest = { ...manifest, kind: "environment" };
          for (const d of checkRules({ ...emptyByKind(), agent: [manifest], environment: [env] })) expect(d.code).toMatch(/^AF-[A-Z-]+$/);
        },
      ),
      { numRuns: 300 },
    );
  });
});
