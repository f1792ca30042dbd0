/**
 * Raw HTTP/1.1 over a TCP socket, for requests no well-behaved client sends: a foreign Host
 * header, malformed percent-escapes, a body that never finishes or is far too large.
 */
import net from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body. */
  body: { type?: string; error?: { type: string; message: string }; request_id?: string } & Record<string, unknown>;
}

/** Opens a connection to a server's base URL. */
export class RawConnection {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  /** The socket error code, if any (ECONNRESET, EPIPE…). */
  error: string | null = null;
  readonly closed: Promise<void>;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    // Half-open allowed, like an HTTP client still sending its body after the server answered:
    // the server's FIN alone must not end our side; only a reset would break the write.
    this.socket = net.connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    this.socket.on("data", (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.notify();
    });
    this.socket.on("error", (e: NodeJS.ErrnoException) => {
      this.error ??= e.code ?? e.message;
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("close", () => this.notify());
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Everything received so far, as Latin-1 text (interim 100 responses included). */
  text(): string {
    return this.received.toString("latin1");
  }

  /** Resolves once the bytes received contain `text`. */
  async waitFor(text: string): Promise<void> {
    while (!this.received.toString("latin1").includes(text)) {
      if (this.socket.destroyed) throw new Error(`connection closed before "${text}" arrived; got ${JSON.stringify(this.received.toString("latin1").slice(0, 200))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The first complete final response (a 100 Continue before it is skipped). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = parseResponse(this.received.toString("latin1"));
      if (parsed) return parsed;
      if (this.socket.destroyed) throw new Error(`connection closed without a complete response; got ${JSON.stringify(this.received.toString("latin1").slice(0, 200))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Write, honouring back-pressure; resolves false if the connection failed meanwhile. */
  write(data: string | Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve(false);
      this.socket.write(data, (err) => resolve(!err));
    });
  }

  /** Send `bytes` bytes of body in 64 KiB chunks; stops early if the connection fails. */
  async writeBody(bytes: number): Promise<void> {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!(await this.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent))))) return;
    }
  }

  /** Send `bytes` bytes as a chunked body (the server cannot know the size in advance), then the last chunk. */
  async writeChunked(bytes: number): Promise<void> {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      if (!(await this.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")])))) return;
    }
    await this.write("0\r\n\r\n");
  }

  close(): void {
    this.socket.destroy();
  }
}

function parseResponse(text: string): RawResponse | null {
  let rest = text;
  while (rest.startsWith("HTTP/1.1 100")) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return null;
    rest = rest.slice(end + 4);
  }
  const end = rest.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers["content-length"] ?? "0");
  const bodyText = rest.slice(end + 4);
  if (bodyText.length < length) return null;
  return { status: Number(statusLine?.split(" ")[1]), headers, body: (length === 0 ? {} : JSON.parse(bodyText.slice(0, length))) as RawResponse["body"] };
}

/** One request on a fresh connection; the connection is closed afterwards. */
export async function rawRequest(baseUrl: string, head: string): Promise<RawResponse> {
  const conn = new RawConnection(baseUrl);
  try {
    await conn.write(head);
    return await conn.response();
  } finally {
    conn.close();
  }
}

/** The head of a request: request line plus headers (Host defaults to the server's own). */
export function requestHead(baseUrl: string, requestLine: string, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = { host: new URL(baseUrl).host, ...headers };
  return `${requestLine}\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
}
