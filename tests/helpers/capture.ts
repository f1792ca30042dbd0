import { Writable } from "node:stream";

/** A writable stream that keeps what the CLI printed, for in-process `main()` runs. */
export function capture(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}
