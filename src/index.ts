/** Library entry point: the pieces of agentform usable from code. */
export { AGENTFORM_VERSION } from "./version.js";
export * from "./errors.js";
export type * from "./backends/types.js";
export type * from "./manifest/types.js";
export type * from "./plan/types.js";
export type * from "./lock/types.js";
