/**
 * What a kind needs to read the official CLI's (`ant apply`) files, for migration: the shape
 * of a reference once the converter has resolved it, and the one way a kind rewrites the
 * references of a list. The converter (src/ant/) resolves paths, globs, ids and URLs; each kind
 * says where its references sit and what agentform's by-name form of each is.
 */
import { isObj, type Obj } from "./values.js";
import type { ResourceKind } from "./types.js";

/**
 * A resolved reference: a resource of the repository, by name (`latest`: the reference said
 * `version: latest`, opting out of pinning), or a resource outside it, by id. `extra` holds the
 * keys written beside `path` (a memory store's `access`), which ride along.
 */
export type AntTarget = { name: string; latest: boolean; extra: Obj } | { id: string; extra: Obj };

/**
 * Resolve one value at `pointer` that may be a reference to a resource of `kind`: undefined
 * when it is no reference (left as written); else its targets (a glob gives several; an error,
 * recorded by the resolver, gives none). `idField` is the key the reference stands for, which
 * the keys beside `path` may not set.
 */
export type AntResolve = (raw: unknown, kind: ResourceKind, pointer: string, idField?: string) => AntTarget[] | undefined;

/** How a kind's manifests are read from an `ant apply` repository. */
export interface AntForm {
  /** The manifest with every reference in agentform's by-name form (ids of resources outside the repository kept). */
  refs?(value: Obj, resolve: AntResolve): Obj;
  /** List fields whose entries may be paths or globs of data files, spliced in where they stand. */
  splices?: readonly string[];
}

/** The list at `segments` of `value` (a copy's, to rewrite in place), with its JSON pointer. */
export function listAt(value: Obj, segments: readonly string[]): { list: unknown[]; pointer: string } | undefined {
  let at: unknown = value;
  for (const s of segments) at = isObj(at) ? at[s] : undefined;
  return Array.isArray(at) ? { list: at, pointer: `/${segments.join("/")}` } : undefined;
}

/** Rewrite a list's references: each entry that is one becomes its targets' entries, in order. */
export function mapRefList(list: unknown[], pointer: string, kind: ResourceKind, resolve: AntResolve, idField: string | undefined, entryOf: (t: AntTarget) => unknown): unknown[] {
  return list.flatMap((e, i) => {
    const targets = resolve(e, kind, `${pointer}/${i}`, idField);
    return targets === undefined ? [e] : targets.map(entryOf);
  });
}

/** One reference of a single-valued field: its target's form, or the value as written (no reference, or a glob that is not one target). */
export function mapRef(value: unknown, pointer: string, kind: ResourceKind, resolve: AntResolve, idField: string | undefined, entryOf: (t: AntTarget) => unknown): unknown {
  const targets = resolve(value, kind, pointer, idField);
  return targets?.length === 1 ? entryOf(targets[0] as AntTarget) : value;
}

/** The keys beside `path` without `type` (each entry writes its own). */
export function extraWithoutType(extra: Obj): Obj {
  const { type: _type, ...rest } = extra;
  return rest;
}
