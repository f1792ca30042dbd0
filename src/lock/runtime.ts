/**
 * agentform/runtime: the data-plane reader of the lockfile. Imports nothing but node built-ins.
 * (Reserved entry point; the reader lands with the apply issue.)
 */
export {};
