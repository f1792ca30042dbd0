/**
 * The validators the build compiles ahead of time (ajv standalone code in
 * dist/manifest/validators.js) must judge every document exactly as the schemas compiled at run
 * time do: same verdict, same errors (the diagnostics are made from their paths). Needs the
 * build (`npm test` builds first).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AJV_OPTIONS, compilableSchema, SCHEMA_NAMES, schemaDigest, type SchemaName } from "../../src/manifest/schema.js";

const built = (await import(new URL("../../dist/manifest/validators.js", import.meta.url).href)) as { digests: Record<string, string>; validators: Record<string, ValidateFunction> };

/** Every YAML document under a folder, with the schema its folder implies. */
function documents(root: string): Array<{ file: string; schema: SchemaName; value: unknown }> {
  const bySchema: Record<string, SchemaName> = { agents: "agent", environments: "environment", vaults: "vault", memory_stores: "memory_store", deployments: "deployment" };
  const out: Array<{ file: string; schema: SchemaName; value: unknown }> = [];
  const walk = (dir: string, schema: SchemaName | undefined) => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs, bySchema[name] ?? schema);
      else if (schema && /\.ya?ml$/.test(name)) {
        try {
          out.push({ file: path.relative(root, abs), schema, value: parse(readFileSync(abs, "utf8")) });
        } catch {
          // Files that are not YAML at all test the parser, not the schemas.
        }
      }
    }
  };
  walk(root, undefined);
  return out;
}

const shape = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath} ${e.schemaPath} ${e.keyword} ${e.message ?? ""}`);

describe("validators compiled at build time", () => {
  it("were built from the committed schemas", () => {
    for (const name of SCHEMA_NAMES) expect(built.digests[name], name).toBe(schemaDigest(name));
  });

  it("judge every fixture and example exactly as run-time compilation does", () => {
    const ajv = new Ajv(AJV_OPTIONS);
    const compiled = new Map(SCHEMA_NAMES.map((n) => [n, ajv.compile(compilableSchema(n))]));
    const docs = [...documents(path.resolve("tests/fixtures")), ...documents(path.resolve("."))].filter((d) => !d.file.startsWith("node_modules"));
    expect(docs.length).toBeGreaterThan(50);
    let invalid = 0;
    for (const d of docs) {
      const runtime = compiled.get(d.schema) as ValidateFunction;
      const ahead = built.validators[d.schema] as ValidateFunction;
      const verdict = runtime(d.value);
      expect(ahead(d.value), d.file).toBe(verdict);
      expect(shape(ahead.errors), d.file).toEqual(shape(runtime.errors));
      if (!verdict) invalid++;
    }
    // Both sides of the comparison are exercised.
    expect(invalid).toBeGreaterThan(10);
  });
});
