/**
 * The `ant` binary the ant backend's tests run, found as agentform finds it (AGENTFORM_ANT, then
 * PATH). Named through AGENTFORM_ANT, it must work: a wrong path fails the run instead of
 * skipping. Found on PATH but not Anthropic's CLI (often Apache Ant), it is as good as none.
 */
import { locateAnt } from "../../src/backends/ant-locate.js";

export const ANT: string | undefined = process.env.AGENTFORM_ANT
  ? (await locateAnt(undefined, process.env)).path
  : await locateAnt(undefined, { PATH: process.env.PATH ?? "" }).then(
      (found) => found.path,
      () => undefined,
    );

/** The line the ant tests print when there is no binary: how many were skipped, and what to set. */
export function antSkipLine(count: number): string {
  return `ant backend: ${count} tests skipped, no ant binary; set AGENTFORM_ANT`;
}
