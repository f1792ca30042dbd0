/**
 * Security review of a credential change (pure): a credential added (sessions using its vault
 * now send it, to an MCP server or as a variable), its secret rotated, or an environment
 * variable credential widened (its networking opened or hosts added, or sent in more places).
 */
import { Findings, obj, strings } from "../findings.js";
import type { Obj } from "../values.js";

function keyOf(auth: Obj): string {
  return auth.type === "environment_variable" ? `environment variable ${String(auth.secret_name)}` : `MCP server ${String(auth.mcp_server_url)}`;
}

export function credentialFindings(f: Findings, before: Obj | null, after: Obj): void {
  const a = obj(after.auth);
  const b = before === null ? null : obj(before.auth);
  if (!b || keyOf(a) !== keyOf(b) || a.type !== b.type) {
    f.add("credential-added", "broadening", "/auth", `credential for ${keyOf(a)} (${String(a.type)}); every session using this vault gets it`);
    return;
  }
  if (a.secret !== b.secret) f.add("credential-rotated", "notable", "/auth/secret", `secret of the credential for ${keyOf(a)} sent again ${String(a.secret)}`);
  if (a.type === "environment_variable") widened(f, obj(b.networking), obj(a.networking), obj(b.injection_location), obj(a.injection_location));
}

function widened(f: Findings, bn: Obj, an: Obj, bi: Obj, ai: Obj): void {
  if (an.type === "unrestricted" && bn.type !== "unrestricted") {
    f.add("credential-widened", "broadening", "/auth/networking/type", `the secret may now be sent to any host (networking ${String(bn.type)} → unrestricted)`);
  }
  if (an.type === "limited" && bn.type === "limited") {
    const added = strings(an.allowed_hosts).filter((h) => !strings(bn.allowed_hosts).includes(h));
    if (added.length > 0) f.add("credential-widened", "broadening", "/auth/networking/allowed_hosts", `the secret may now be sent to ${added.join(", ")}`);
  }
  for (const [where, what] of [["header", "request headers"], ["body", "request bodies"]] as const) {
    if (ai[where] === true && bi[where] !== true) f.add("credential-widened", "broadening", `/auth/injection_location/${where}`, `the secret is now injected into ${what}`);
  }
}
