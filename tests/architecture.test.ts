/**
 * House rules that keep the code readable, checked on the source with the TypeScript compiler:
 * - no function in src/ is longer than 80 lines;
 * - outside src/kinds/ (and src/local/, which stands in for the API, and the runtime reader,
 *   which may import only node built-ins) no code branches on a kind's name: kinds are reached
 *   through their KindSpec;
 * - the core never imports the CLI (only src/cli prints).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { KINDS } from "../src/kinds/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MAX_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

const files = sourceFiles(path.join(root, "src")).map((file) => ({
  rel: path.relative(root, file).split(path.sep).join("/"),
  source: ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true),
}));

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const lineOf = (sf: ts.SourceFile, pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;

describe("house rules", () => {
  it("reads the source (a sanity check that the rules below see something)", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
    const long: string[] = [];
    for (const { rel, source } of files) {
      walk(source, (n) => {
        if (!ts.isFunctionLike(n) || !("body" in n) || !n.body) return;
        const lines = lineOf(source, n.getEnd()) - lineOf(source, n.getStart()) + 1;
        if (lines > MAX_LINES) long.push(`${rel}:${lineOf(source, n.getStart())} (${lines} lines)`);
      });
    }
    expect(long).toEqual([]);
  });

  it("outside src/kinds/ and src/local/, no code compares anything with a kind's name", () => {
    const kindNames = new Set(Object.keys(KINDS));
    const exempt = (rel: string) => rel.startsWith("src/kinds/") || rel.startsWith("src/local/") || rel === "src/lock/runtime.ts";
    const isKindName = (n: ts.Node) => (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && kindNames.has(n.text);
    const equality = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);
    const branches: string[] = [];
    for (const { rel, source } of files) {
      if (exempt(rel)) continue;
      walk(source, (n) => {
        const compared = ts.isBinaryExpression(n) && equality.has(n.operatorToken.kind) && (isKindName(n.left) || isKindName(n.right));
        const cased = ts.isCaseClause(n) && isKindName(n.expression);
        if (compared || cased) branches.push(`${rel}:${lineOf(source, n.getStart())} ${n.getText().slice(0, 60)}`);
      });
    }
    expect(branches).toEqual([]);
  });

  it("outside src/kinds/ and src/local/, no code names a kind at all (kinds are reached through the registry)", () => {
    const kindNames = new Set(Object.keys(KINDS));
    const exempt = (rel: string) => rel.startsWith("src/kinds/") || rel.startsWith("src/local/") || rel === "src/lock/runtime.ts";
    const named: string[] = [];
    for (const { rel, source } of files) {
      if (exempt(rel)) continue;
      walk(source, (n) => {
        // Import paths name kind modules' folders, not kinds; every other literal counts.
        if (ts.isImportDeclaration(n.parent ?? n) && n === (n.parent as ts.ImportDeclaration).moduleSpecifier) return;
        if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && kindNames.has(n.text)) named.push(`${rel}:${lineOf(source, n.getStart())} ${n.parent.getText().slice(0, 60)}`);
      });
    }
    expect(named).toEqual([]);
  });

  it("the core never imports the CLI", () => {
    const offenders = files
      .filter(({ rel }) => !rel.startsWith("src/cli/"))
      .flatMap(({ rel, source }) =>
        source.statements
          .filter((s): s is ts.ImportDeclaration => ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier))
          .filter((s) => /(^|\/)cli\//.test((s.moduleSpecifier as ts.StringLiteral).text))
          .map(() => rel),
      );
    expect(offenders).toEqual([]);
  });
});
