/**
 * Golden-file scenarios: every scenario's plan JSON, text and Markdown are compared with the
 * reviewed files in tests/fixtures/plans/<scenario>/. UPDATE_GOLDEN=1 rewrites them (review
 * the diff before committing). Each scenario also asserts its own specific facts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/plan/index.js";
import { renderJson, renderMarkdown, renderText } from "../../src/render/index.js";
import { scenarios } from "../fixtures/plans/scenarios.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "../fixtures/plans");
const schema = JSON.parse(readFileSync(path.resolve(here, "../../schemas/plan.schema.json"), "utf8")) as object;
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
const update = process.env.UPDATE_GOLDEN === "1";

function golden(dir: string, file: string, actual: string): void {
  const p = path.join(dir, file);
  if (update || !existsSync(p)) {
    if (!update) throw new Error(`missing golden file ${p}; run with UPDATE_GOLDEN=1 and review it`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, actual);
    return;
  }
  expect(actual).toBe(readFileSync(p, "utf8"));
}

describe("plan scenarios", () => {
  it("has at least 30 distinct scenarios", () => {
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
    expect(scenarios.length).toBeGreaterThanOrEqual(30);
  });

  for (const sc of scenarios) {
    it(sc.name, () => {
      const inputCopy = JSON.stringify(sc.input);
      const plan = buildPlan(sc.input);
      // The planner never mutates its input.
      expect(JSON.stringify(sc.input)).toBe(inputCopy);
      const json = renderJson(plan);
      const text = renderText(plan, { color: false });
      const markdown = renderMarkdown(plan, sc.markdownMaxChars ? { maxChars: sc.markdownMaxChars } : undefined);
      expect(validate(JSON.parse(json)), JSON.stringify(validate.errors)).toBe(true);
      // Deterministic: the same input gives byte-identical output.
      expect(renderJson(buildPlan(sc.input))).toBe(json);
      sc.check(plan, { text, markdown });
      const dir = path.join(fixtures, sc.name);
      golden(dir, "plan.json", json);
      golden(dir, "plan.txt", text);
      golden(dir, "plan.md", markdown);
    });
  }
});
