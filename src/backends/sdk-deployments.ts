/**
 * Deployments through the SDK. `paused` is not a field the API takes: a body's `paused` becomes a
 * pause or unpause call after the create or update (the answer is then the deployment as paused
 * or un-paused). There is no delete: archive is the end.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsDeployment } from "@anthropic-ai/sdk/resources/beta/deployments";
import { isObj } from "../kinds/values.js";
import { BackendError } from "./errors.js";
import type { KindOps } from "./sdk.js";
import type { RequestBody } from "./types.js";

/** The deployment list's largest page. */
const DEPLOYMENT_PAGE = 100;

export function deploymentOps(client: Anthropic, req: { maxRetries: 0 }): KindOps<BetaManagedAgentsDeployment> {
  const deployments = client.beta.deployments;
  const unsupported = (what: string) => () => Promise.reject(new BackendError({ operation: what, status: 400, serverMessage: `${what} is not supported` }));
  /** Pause or un-pause when the answer's status is not the one asked for. */
  const settle = async (answer: unknown, paused: unknown): Promise<unknown> => {
    if (typeof paused !== "boolean" || !isObj(answer) || typeof answer.id !== "string") return answer;
    if ((answer.status === "paused") === paused) return answer;
    return paused ? deployments.pause(answer.id, {}, req) : deployments.unpause(answer.id, {}, req);
  };
  return {
    pageSize: DEPLOYMENT_PAGE,
    list: (limit, includeArchived) => deployments.list({ limit, include_archived: includeArchived }, req),
    retrieve: (id) => deployments.retrieve(id, {}, req),
    create: async (body: RequestBody) => {
      const { paused, ...rest } = body;
      return settle(await deployments.create(rest as unknown as Anthropic.Beta.DeploymentCreateParams, req), paused);
    },
    update: async (id, body: RequestBody) => {
      const { paused, ...rest } = body;
      if (Object.keys(rest).length === 0) return paused === true ? deployments.pause(id, {}, req) : deployments.unpause(id, {}, req);
      return settle(await deployments.update(id, rest as unknown as Anthropic.Beta.DeploymentUpdateParams, req), paused);
    },
    archive: (id) => deployments.archive(id, {}, req),
    remove: unsupported("delete a deployment"),
    listVersions: unsupported("list versions of a deployment"),
  };
}
