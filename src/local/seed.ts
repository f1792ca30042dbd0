/**
 * Seeding for tests and benchmarks: fill a running local control plane through its store,
 * in-process, without HTTP (creating 10,000 agents over HTTP would measure the wrong thing).
 */
import { storeOf, type LocalControlPlane } from "./server.js";

/**
 * Create `count` agents named `${prefix}-${i}` through the same validation and defaults as
 * `POST /v1/agents`. Returns their ids in creation order.
 */
export function seedAgents(cp: LocalControlPlane, count: number, prefix = "seed-agent"): string[] {
  const store = storeOf.get(cp);
  if (!store) throw new Error("seedAgents needs a control plane started in this process by startLocalControlPlane");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const agent = store.createAgent({
      name: `${prefix}-${i}`,
      model: i % 3 === 0 ? "claude-haiku-4-5" : "claude-sonnet-4-6",
      system: `You are seeded agent number ${i}.`,
      tools: [{ type: "agent_toolset_20260401" }],
      metadata: { seeded: "true" },
    });
    ids.push(agent.id as string);
  }
  return ids;
}
