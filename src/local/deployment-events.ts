/**
 * A deployment's `initial_events` (docs/local-control-plane.md, "Deployments"): `user.message`,
 * `user.define_outcome` and `system.message`, in the shapes of the SDK's event params. Pure.
 *
 * Each event is returned in the shape the SDK's deployment response types give, with every
 * optional field present: `null` when it was not sent (document `context`/`title`,
 * `max_iterations`), so a stored event is a fixed point of this resolution.
 */
import { badRequest } from "./api-error.js";
import { checkKeys, expectArray, expectObj, expectOneOf, expectString, type Obj } from "./util.js";

/** Limits the SDK documents: 1 to 50 events, rubric text up to 262,144 characters, 1 to 20 outcome iterations. */
export const INITIAL_EVENTS_MAX = 50;
export const RUBRIC_TEXT_MAX = 262_144;
export const OUTCOME_MAX_ITERATIONS = 20;

/** The media types the Messages API takes for base64 images and documents. */
const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FILE_ID = /^file_[A-Za-z0-9_-]{1,128}$/;
const URL_MAX = 2048;

/** A Files API id (`file_…`); whether the file exists shows only when a session is created (as on the API). */
export function fileId(v: unknown, where: string): string {
  const s = expectString(v, where, { min: 1 });
  if (!FILE_ID.test(s)) throw badRequest(`${where}: must be a file id (file_…)`);
  return s;
}

/** An absolute http(s) URL without user info (it is echoed in every response, so a password in it would leak). */
export function webUrl(v: unknown, where: string): string {
  const s = expectString(v, where, { min: 1, max: URL_MAX });
  let url: URL | null = null;
  try {
    url = new URL(s);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || /[\s\u0000-\u001f\u007f-\u009f]/.test(s)) {
    throw badRequest(`${where}: must be an absolute http or https URL without spaces`);
  }
  if (url.username !== "" || url.password !== "") throw badRequest(`${where}: must not carry a user name or password`);
  return s;
}

function base64Data(v: unknown, where: string): string {
  const s = expectString(v, where, { min: 1 });
  if (!BASE64.test(s)) throw badRequest(`${where}: must be base64`);
  return s;
}

function textBlock(o: Obj, where: string): Obj {
  checkKeys(o, ["type", "text"], where);
  return { type: "text", text: expectString(o.text, `${where}.text`, { min: 1 }) };
}

function imageSource(v: unknown, where: string): Obj {
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["base64", "url", "file"] as const, `${where}.type`);
  if (type === "base64") {
    checkKeys(o, ["type", "data", "media_type"], where);
    return { type, data: base64Data(o.data, `${where}.data`), media_type: expectOneOf(o.media_type, IMAGE_MEDIA_TYPES, `${where}.media_type`) };
  }
  if (type === "url") {
    checkKeys(o, ["type", "url"], where);
    return { type, url: webUrl(o.url, `${where}.url`) };
  }
  checkKeys(o, ["type", "file_id"], where);
  return { type, file_id: fileId(o.file_id, `${where}.file_id`) };
}

function documentSource(v: unknown, where: string): Obj {
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["base64", "text", "url", "file"] as const, `${where}.type`);
  if (type === "base64") {
    checkKeys(o, ["type", "data", "media_type"], where);
    return { type, data: base64Data(o.data, `${where}.data`), media_type: expectOneOf(o.media_type, ["application/pdf"] as const, `${where}.media_type`) };
  }
  if (type === "text") {
    checkKeys(o, ["type", "data", "media_type"], where);
    return { type, data: expectString(o.data, `${where}.data`, { min: 1 }), media_type: expectOneOf(o.media_type, ["text/plain"] as const, `${where}.media_type`) };
  }
  return imageSource(o, where);
}

function optionalText(v: unknown, where: string): string | null {
  return v === undefined || v === null ? null : expectString(v, where);
}

/** One block of a user message: text, image, document or redacted. */
function userBlock(v: unknown, where: string): Obj {
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["text", "image", "document", "redacted"] as const, `${where}.type`);
  if (type === "text") return textBlock(o, where);
  if (type === "image") {
    checkKeys(o, ["type", "source"], where);
    return { type, source: imageSource(o.source, `${where}.source`) };
  }
  if (type === "document") {
    checkKeys(o, ["type", "source", "context", "title"], where);
    return { type, source: documentSource(o.source, `${where}.source`), context: optionalText(o.context, `${where}.context`), title: optionalText(o.title, `${where}.title`) };
  }
  checkKeys(o, ["type"], where);
  return { type };
}

function blocks(v: unknown, where: string, block: (v: unknown, where: string) => Obj): Obj[] {
  if (v === undefined || v === null) throw badRequest(`${where}: Field required`);
  const list = expectArray(v, where);
  if (list.length === 0) throw badRequest(`${where}: must hold at least one content block`);
  return list.map((b, i) => block(b, `${where}[${i}]`));
}

function rubric(v: unknown, where: string): Obj {
  if (v === undefined || v === null) throw badRequest(`${where}: Field required`);
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["text", "file"] as const, `${where}.type`);
  if (type === "text") {
    checkKeys(o, ["type", "content"], where);
    return { type, content: expectString(o.content, `${where}.content`, { min: 1, max: RUBRIC_TEXT_MAX }) };
  }
  checkKeys(o, ["type", "file_id"], where);
  return { type, file_id: fileId(o.file_id, `${where}.file_id`) };
}

function maxIterations(v: unknown, where: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > OUTCOME_MAX_ITERATIONS) {
    throw badRequest(`${where}: must be an integer from 1 to ${OUTCOME_MAX_ITERATIONS}`);
  }
  return v;
}

function initialEvent(v: unknown, where: string): Obj {
  const o = expectObj(v, where);
  const type = expectOneOf(o.type, ["user.message", "user.define_outcome", "system.message"] as const, `${where}.type`);
  if (type === "user.message") {
    checkKeys(o, ["type", "content"], where);
    return { type, content: blocks(o.content, `${where}.content`, userBlock) };
  }
  if (type === "system.message") {
    checkKeys(o, ["type", "content"], where);
    // System messages are text-only.
    return { type, content: blocks(o.content, `${where}.content`, (b, w) => textBlock(expectObjOfType(b, "text", w), w)) };
  }
  checkKeys(o, ["type", "description", "rubric", "max_iterations"], where);
  if (o.description === undefined || o.description === null) throw badRequest(`${where}.description: Field required`);
  return {
    type,
    description: expectString(o.description, `${where}.description`, { min: 1 }),
    rubric: rubric(o.rubric, `${where}.rubric`),
    max_iterations: maxIterations(o.max_iterations, `${where}.max_iterations`),
  };
}

function expectObjOfType(v: unknown, type: string, where: string): Obj {
  const o = expectObj(v, where);
  expectOneOf(o.type, [type], `${where}.type`);
  return o;
}

/**
 * 1 to 50 events, as the SDK documents. The older skill docs say the list must include a starting
 * `user.message`; the SDK does not, and it wins, so a list of only `system.message`s is accepted.
 */
export function resolveInitialEvents(v: unknown): Obj[] {
  if (v === undefined || v === null) throw badRequest("initial_events: Field required");
  const list = expectArray(v, "initial_events");
  if (list.length === 0 || list.length > INITIAL_EVENTS_MAX) throw badRequest(`initial_events: must hold 1 to ${INITIAL_EVENTS_MAX} events`);
  return list.map((e, i) => initialEvent(e, `initial_events[${i}]`));
}
