/** Memory store rules beyond the JSON Schema: what the API refuses (a description over 1,024 characters). */
import type { KindRules } from "../rules.js";

/** The longest description the API stores; it is shown to agents in their system prompt. */
export const MEMORY_STORE_DESCRIPTION_MAX = 1024;

export const memoryStoreRules: KindRules = (manifests, _ctx, sink) => {
  for (const m of manifests) {
    const d = m.spec.description;
    if (typeof d === "string" && [...d].length > MEMORY_STORE_DESCRIPTION_MAX) {
      sink.add(m, ["description"], "AF-MEMORY-STORE-DESCRIPTION", `the description has ${[...d].length} characters; the API stores at most ${MEMORY_STORE_DESCRIPTION_MAX}`, "Shorten it: it is shown to every agent using the store, in its system prompt.");
    }
  }
};
