import { describe, expect, it } from "vitest";
import { opensTarget } from "../../src/cli/main.js";

const argv = (...args: string[]) => ["node", "agentform", ...args];

describe("opensTarget (which commands start loading the SDK backend early)", () => {
  it("holds for the commands and subcommands that open a target, options anywhere", () => {
    for (const args of [["plan"], ["plan", "-t", "prod"], ["--no-color", "apply", "plan.json"], ["import", "--from-ant", "x"], ["lock", "verify"], ["lock", "refresh"], ["state", "forget", "agent.a"], ["state", "transfer", "--from-project", "old"]]) {
      expect(opensTarget(argv(...args)), args.join(" ")).toBe(true);
    }
  });

  it("does not hold for commands that only read files (a runtime's `lock get` must not load the SDK)", () => {
    for (const args of [[], ["--version"], ["validate"], ["lock", "get", "agent", "triage"], ["lock", "break"], ["state", "list"], ["init"], ["local"], ["lock"], ["planx"]]) {
      expect(opensTarget(argv(...args)), args.join(" ")).toBe(false);
    }
  });
});
