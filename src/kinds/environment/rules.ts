/**
 * The environment kind's rules beyond the JSON Schema: networking settings the API would reject
 * or silently ignore. Pure: manifests in, diagnostics to the sink.
 */
import type { LoadedManifest } from "../../manifest/types.js";
import type { KindRules, RuleSink } from "../rules.js";
import { asArray, isObj } from "../values.js";
import { PACKAGE_MANAGERS } from "./canonical.js";

const quote = (s: unknown) => JSON.stringify(s);

/**
 * The host part of something written as a URL (scheme, path, query and port removed), for the
 * hint of a rule that wants a plain host name. Agents' tool domains use it too.
 */
export function plainHost(d: string): string {
  return d.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/[/?#].*$/, "").replace(/:\d+$/, "") || "docs.example.com";
}

function checkNetworking(m: LoadedManifest, sink: RuleSink): void {
  const config = m.spec.config;
  if (!isObj(config) || config.type !== "cloud") return;
  const net = config.networking;
  if (!isObj(net)) return;
  if (net.type === "unrestricted") {
    for (const key of Object.keys(net)) {
      if (key.startsWith("allow")) sink.add(m, ["config", "networking", key], "AF-NETWORK-FLAGS", `${quote(key)} only applies to limited networking; unrestricted networking already allows everything`, "Remove it, or switch to `type: limited` to restrict egress to an allow-list.");
    }
    return;
  }
  if (net.type !== "limited") return;
  asArray(net.allowed_hosts).forEach((h, i) => {
    if (typeof h === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(h)) {
      sink.add(m, ["config", "networking", "allowed_hosts", i], "AF-NETWORK-HOST-SCHEME", `${quote(h)} has a scheme; allowed_hosts are host names`, `Write ${quote(plainHost(h))} (a leading "*." allows subdomains).`);
    }
  });
  const packages = config.packages;
  const hasPackages = isObj(packages) && PACKAGE_MANAGERS.some((k) => asArray(packages[k]).length > 0);
  if (hasPackages && net.allow_package_managers !== true) {
    sink.add(m, ["config", "packages"], "AF-NETWORK-PACKAGES", "packages are listed but limited networking does not allow package managers", "Set `config.networking.allow_package_managers: true`, or install nothing.");
  }
}

/** Each environment stands alone: no rule compares environments with each other. */
export const environmentRules: KindRules = (environments, _ctx, sink) => {
  for (const m of environments) checkNetworking(m, sink);
};
