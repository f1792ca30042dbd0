/**
 * The local control plane: an HTTP server on 127.0.0.1 that behaves like the Managed Agents
 * control plane for agents, agent versions, environments, skills with their versions, vaults
 * with their credentials, memory stores and deployments (as docs/local-control-plane.md
 * describes), with optional persistence and fault injection.
 */
export { startLocalControlPlane, REQUIRED_BETA, MEMORY_BETA } from "./server.js";
export type { LocalControlPlane, LocalServerOptions, RequestLogEntry } from "./server.js";
export { DEFAULT_FAULTS, parseFaults } from "./faults.js";
export type { FaultConfig, ScriptedFault } from "./faults.js";
export { defaultEffort } from "./agent-config.js";
