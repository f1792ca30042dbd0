/**
 * A small, strict multipart/form-data parser (RFC 7578 / RFC 2046) for the skill uploads. It
 * works on a body already read in full by http-guard.ts, so it inherits that size limit and
 * deadline and can never wait for input; every search is a forward Buffer.indexOf, so the work
 * is linear in the body size. Anything malformed is a 400, never a guess: a lenient parser would
 * accept uploads the real API refuses and hide client bugs.
 */
import { badRequest } from "./api-error.js";

/** One part of a form. `filename` is null for a plain field; `data` is binary-safe. */
export interface FormPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

export interface MultipartLimits {
  /** Most parts accepted in one body. */
  maxParts: number;
  /** Largest header block of one part, in bytes. */
  maxHeaderBytes: number;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 2046 §5.1.1: 1 to 70 of these characters, not ending in a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

const malformed = (why: string) => badRequest(`malformed multipart/form-data body: ${why}`);

/**
 * Split `a; b=c; d="e"` into the leading value and its parameters. Quoted values end at the next
 * quote, without backslash escapes: form encoders (the WHATWG rules Node's FormData follows)
 * percent-encode a quote instead, and the names are taken verbatim (no percent-decoding), since a
 * literal `%22` could not be told apart from an encoded quote.
 */
function splitParams(header: string, what: string): { value: string; params: Map<string, string> } {
  const semi = header.indexOf(";");
  const value = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  let rest = semi < 0 ? "" : header.slice(semi + 1);
  while (rest.trim() !== "") {
    const m = /^\s*([^\s=;]+)\s*=\s*(?:"([^"]*)"|([^\s";]+))\s*(?:;|$)/.exec(rest);
    if (!m) throw malformed(`cannot parse the parameters of ${what}`);
    const key = (m[1] as string).toLowerCase();
    if (params.has(key)) throw malformed(`${what} repeats the parameter ${key}`);
    params.set(key, m[2] ?? (m[3] as string));
    rest = rest.slice(m[0].length);
  }
  return { value, params };
}

/** The boundary of a `multipart/form-data` Content-Type; anything else is a 400. */
export function boundaryOf(contentType: string | undefined): string {
  if (contentType === undefined || contentType.trim() === "") throw badRequest("this endpoint takes a multipart/form-data body (no Content-Type was sent)");
  const { value, params } = splitParams(contentType, "Content-Type");
  if (value !== "multipart/form-data") throw badRequest(`this endpoint takes a multipart/form-data body, not ${JSON.stringify(value.slice(0, 100))}`);
  const boundary = params.get("boundary");
  if (boundary === undefined) throw malformed("the Content-Type has no boundary");
  if (!BOUNDARY.test(boundary)) throw malformed("the boundary must be 1 to 70 characters allowed by RFC 2046");
  return boundary;
}

/** Header lines of one part → lower-cased name → value. Folded, repeated or unnamed lines are refused. */
function parseHeaderBlock(block: Buffer): Map<string, string> {
  let text: string;
  try {
    text = utf8.decode(block);
  } catch {
    throw malformed("a part's headers are not valid UTF-8");
  }
  const headers = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) throw malformed("a part has a header line that is not `Name: value`");
    const value = line.slice(colon + 1).trim();
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw malformed(`the ${name} header of a part holds control characters`);
    if (headers.has(name)) throw malformed(`a part repeats the ${name} header`);
    headers.set(name, value);
  }
  return headers;
}

/** One part's headers → its form name and filename. */
function describePart(headers: Map<string, string>, data: Buffer): FormPart {
  const disposition = headers.get("content-disposition");
  if (disposition === undefined) throw malformed("a part has no Content-Disposition header");
  const { value, params } = splitParams(disposition, "Content-Disposition");
  if (value !== "form-data") throw malformed("a part's Content-Disposition is not form-data");
  // RFC 7578 §4.2: senders must not use filename*; a receiver that ignored it would misname the file.
  if (params.has("filename*") || params.has("name*")) throw malformed("the extended parameters filename* and name* are not supported");
  const name = params.get("name");
  if (name === undefined || name === "") throw malformed("a part's Content-Disposition has no name");
  return { name, filename: params.get("filename") ?? null, contentType: headers.get("content-type") ?? null, data };
}

/** Where the part that starts at `pos` (just after its boundary line) ends, and what it is. */
function readPart(body: Buffer, pos: number, delimiter: Buffer, limits: MultipartLimits): { part: FormPart; end: number } {
  const next = body.indexOf(delimiter, pos);
  if (next < 0) throw malformed("a part is not closed by a boundary (the body is truncated)");
  const headEnd = body.subarray(pos, next).indexOf(HEADER_END);
  if (headEnd < 0) throw malformed("a part has no blank line between its headers and its content");
  if (headEnd > limits.maxHeaderBytes) throw malformed(`a part's headers exceed ${limits.maxHeaderBytes} bytes`);
  const headers = parseHeaderBlock(body.subarray(pos, pos + headEnd));
  return { part: describePart(headers, body.subarray(pos + headEnd + HEADER_END.length, next)), end: next + delimiter.length };
}

/**
 * Parse a whole multipart/form-data body. The body must begin with the first boundary (no
 * preamble) and end with the closing boundary, optionally followed by one CRLF (no epilogue):
 * every form encoder writes exactly that, and anything more is more likely garbage than intent.
 */
export function parseMultipart(body: Buffer, boundary: string, limits: MultipartLimits): FormPart[] {
  const dashBoundary = Buffer.from(`--${boundary}`, "latin1");
  const delimiter = Buffer.concat([CRLF, dashBoundary]);
  if (!body.subarray(0, dashBoundary.length).equals(dashBoundary)) throw malformed("the body does not start with the boundary");
  const parts: FormPart[] = [];
  let pos = dashBoundary.length;
  for (;;) {
    const after = body.subarray(pos, pos + 2).toString("latin1");
    if (after === "--") {
      const rest = body.subarray(pos + 2);
      if (rest.length > 0 && !rest.equals(CRLF)) throw malformed("unexpected data after the closing boundary");
      return parts;
    }
    if (after !== "\r\n") throw malformed("a boundary line is not followed by CRLF or --");
    if (parts.length === limits.maxParts) throw malformed(`more than ${limits.maxParts} parts`);
    const { part, end } = readPart(body, pos + 2, delimiter, limits);
    parts.push(part);
    pos = end;
  }
}
