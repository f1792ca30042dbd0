/**
 * Security review of an environment change (pure): networking opened, hosts added, network flags
 * switched on, packages added. `before` null: the environment is created.
 */
import { Findings, obj, strings } from "../findings.js";
import type { Obj } from "../values.js";

export function environmentFindings(f: Findings, before: Obj | null, after: Obj): void {
  const creating = before === null;
  const ac = obj(after.config);
  const bc = obj(before?.config);
  if (ac.type !== "cloud") return;
  const an = obj(ac.networking);
  const bn = obj(bc.networking);
  if (an.type === "unrestricted" && (creating || bn.type !== "unrestricted")) {
    f.add("network-opened", "broadening", "/config/networking/type", creating ? "network access unrestricted" : `networking ${String(bn.type)} → unrestricted`);
  }
  if (an.type === "limited") {
    const wasLimited = bn.type === "limited";
    const added = strings(an.allowed_hosts).filter((h) => !wasLimited || !strings(bn.allowed_hosts).includes(h));
    if (added.length > 0 && (wasLimited || creating)) {
      f.add("hosts-added", creating ? "notable" : "broadening", "/config/networking/allowed_hosts", `allowed hosts added: ${added.join(", ")}`);
    }
    for (const flag of ["allow_mcp_servers", "allow_package_managers"]) {
      if (an[flag] === true && (!wasLimited || bn[flag] !== true) && (wasLimited || creating)) {
        f.add("network-flag-enabled", "broadening", `/config/networking/${flag}`, `${flag} switched on`);
      }
    }
  }
  const ap = obj(ac.packages);
  const bp = obj(bc.packages);
  const added: string[] = [];
  for (const m of Object.keys(ap).sort()) {
    for (const p of strings(ap[m])) if (!strings(bp[m]).includes(p)) added.push(`${m}:${p}`);
  }
  if (added.length > 0) {
    f.add("packages-added", creating ? "notable" : "broadening", "/config/packages", `packages added: ${added.join(", ")}`);
  }
}
