/**
 * Manifests: find and load agentform.yaml and the agent/environment files, validate them
 * against the JSON Schemas and agentform's rules, and report problems with file:line:col.
 */
export { loadConfig, loadProject, CONFIG_FILE, MAX_FILE_BYTES, type LoadProjectOptions } from "./load.js";
export { checkRules, countToolConfigs, LIMITS, type RuleOptions } from "./rules.js";
export { findSecrets, scanTexts, scrubSecrets, type SecretFinding, type TextFinding } from "./secrets.js";
export { formatDiagnostics, formatDiagnosticsJson, pointerToPath, sortDiagnostics, compareDiagnostics } from "./format.js";
export { knownModels, schemaDiagnostics, readSchema, valueAt, type SchemaName } from "./schema.js";
export { didYouMean, editDistance } from "./suggest.js";
export { defaultTarget, interpolate, targetVars, varScope, VarScope, MAX_VAR_EXPANSION, type Interpolation, type InterpolateOptions, type VarProblem } from "./vars.js";
export { OWNERSHIP_KEY } from "./types.js";
export type * from "./types.js";
