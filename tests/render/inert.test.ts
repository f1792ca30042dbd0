/** inertText and friends, on plain strings; and the two other places that print input. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reportError } from "../../src/cli/output.js";
import { ConfigError } from "../../src/errors.js";
import { diffCanonical } from "../../src/plan/diff.js";
import { capDepth, inertJson, inertLines, inertText, TOO_DEEP } from "../../src/render/inert.js";
import { capture } from "../helpers/capture.js";

const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("inertText", () => {
  it("escapes control, C1 and bidi characters visibly", () => {
    expect(inertText("a\u001b[31mb\rc\u0000d\u007f\u009be\u202ef\u2066g\u2069\n")).toBe("a\\x1b[31mb\\rc\\x00d\\x7f\\u009be\\u202ef\\u2066g\\u2069\\n");
  });
  it("keeps tabs, Unicode text and backslashes as they are", () => {
    const s = "tab\there · → 日本語 é \\x1b C:\\path";
    expect(inertText(s)).toBe(s);
  });
  it("never lets an unsafe character through, for any input", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => !UNSAFE.test(inertText(s))));
  });
  it("inertLines keeps the author's line breaks and escapes the rest", () => {
    expect(inertLines("first\u001b]0;x\u0007\nsecond\r")).toBe("first\\x1b]0;x\\x07\nsecond\\r");
  });
  it("inertJson escapes what JSON.stringify leaves raw, losslessly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const json = inertJson(JSON.stringify({ s }));
        expect(json).not.toMatch(UNSAFE);
        expect((JSON.parse(json) as { s: string }).s).toBe(s);
      }),
    );
  });
  it("capDepth cuts nesting at 64 levels and keeps shallower values whole", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let v = capDepth(deep);
    let levels = 0;
    while (Array.isArray(v)) [v, levels] = [v[0], levels + 1];
    expect([levels, v]).toEqual([64, TOO_DEEP]);
    expect(capDepth({ a: [1, { b: null }] })).toEqual({ a: [1, { b: null }] });
  });
});

describe("diffCanonical on deep values", () => {
  it("walks at most 64 levels: deeper differences are one whole-value change", () => {
    const nest = (leaf: string) => {
      let v: unknown = leaf;
      for (let i = 0; i < 100; i++) v = { k: v };
      return v;
    };
    const changes = diffCanonical(nest("a"), nest("b"));
    expect(changes).toHaveLength(1);
    expect(changes[0]!.pointer.split("/").length - 1).toBe(64);
    expect(changes[0]!.op).toBe("replace");
  });
});

describe("reportError", () => {
  it("prints a message and hint naming hostile input inert", () => {
    const err = capture();
    const io = { stdout: capture().stream, stderr: err.stream, env: {} };
    const code = reportError(new ConfigError("bad-name", "agents/\u001b[2Jx.yaml: bad name \u202eevil\rok", { hint: "rename \u001b]0;t\u0007 it" }), io);
    expect(code).toBe(4);
    // Only the newlines ending the two lines remain (NO_COLOR is not needed: stderr is no TTY).
    expect(err.text().replace(/\n/g, "")).not.toMatch(UNSAFE);
    expect(err.text()).toContain("agents/\\x1b[2Jx.yaml: bad name \\u202eevil\\rok");
    expect(err.text()).toContain("rename \\x1b]0;t\\x07 it");
  });
});
