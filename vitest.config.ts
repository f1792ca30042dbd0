import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // End-to-end tests start real HTTP servers and child processes; give them room
    // without letting a hung test stall CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two files at a time: most of the suite waits on child processes, HTTP and scrypt, so two
    // workers on a 2-core machine take about two thirds of the time one does (the default
    // there is one).
    maxWorkers: 2,
  },
});
