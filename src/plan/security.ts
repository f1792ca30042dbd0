/**
 * Security review (pure): which changes broaden what a resource can do or reach. Each kind
 * reviews its own canonical forms (src/kinds/<kind>/security.ts); `before` is null for a resource
 * being created, and then every capability it starts with is listed, as "broadening" when it is
 * unattended or opens reach and as "notable" otherwise.
 */
import { kindSpec } from "../kinds/index.js";
import { Findings } from "../kinds/findings.js";
import type { ResourceKind } from "../kinds/types.js";
import type { SecurityFinding } from "./types.js";

type Obj = Record<string, unknown>;

/** Security findings for one resource; `before` null means the resource is being created. */
export function reviewSecurity(kind: ResourceKind, before: Obj | null, after: Obj): SecurityFinding[] {
  const f = new Findings();
  kindSpec(kind).reviewSecurity(f, before, after);
  return f.list;
}
