/**
 * Garbage-collector settings for the agentform process (bin/agentform.js), never for a program
 * that imports agentform as a library.
 *
 * V8's defaults suit long-running servers: a young generation that grows to 32 MiB and an old
 * generation allowed to grow far past what survived its last collection. A plan is one short
 * batch whose live data (manifests, live resources, the plan) only grows, so those defaults mostly
 * hold garbage: the built CLI's plan of 10,000 agents peaked at 185–205 MiB with them, 135–150
 * MiB with these settings, for about 5 % more CPU (`npm run bench` shows both).
 *
 * Both flags are read by V8 at each collection, so setting them after start-up takes effect (a
 * test checks it does). They are left alone when the user chose heap settings of their own, and
 * on a V8 this was not checked against (an unknown flag would print an error on stderr).
 */
import { setFlagsFromString } from "node:v8";

/** Young generation never grows past its first size; old generation collected after 50 % growth. */
export const CLI_HEAP_FLAGS: readonly string[] = ["--semi-space-growth-factor=1", "--heap-growing-percent=50"];

/** V8 major versions these flags were checked on (Node 20 ships 11; Node 22 12; Node 24 13). */
const CHECKED_V8_MAJORS = new Set([11, 12, 13]);

/**
 * Flags by which a user sizes the young generation or the heap's growth themselves: any of them
 * means theirs win. `--max-old-space-size` only caps the heap, and these settings keep under it.
 * V8 reads `_` and `-` in a flag's name alike.
 */
const USER_HEAP_FLAG = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|heap-growing-percent|max-heap-size|optimize-for-size)\b/;

/** The flags to set for this process: none when the user sized the heap or V8 is unchecked. */
export function cliHeapFlags(execArgv: readonly string[], nodeOptions: string | undefined, v8Version: string): readonly string[] {
  if (!CHECKED_V8_MAJORS.has(Number(v8Version.split(".")[0]))) return [];
  const userSized = (text: string) => USER_HEAP_FLAG.test(text.replaceAll("_", "-"));
  if (execArgv.some(userSized) || userSized(nodeOptions ?? "")) return [];
  return CLI_HEAP_FLAGS;
}

/** Apply `cliHeapFlags` to this process. */
export function tuneHeapForCli(): void {
  for (const flag of cliHeapFlags(process.execArgv, process.env.NODE_OPTIONS, process.versions.v8)) setFlagsFromString(flag);
}
