/**
 * ANSI colour painters. Pure formatting: whether to use colour at all is decided by the CLI
 * (`useColor` in src/cli/output.ts), which passes the painter down.
 */
export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
export const colors: Paint = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  bold: wrap(1, 22),
  dim: wrap(2, 22),
};
const identity = (s: string) => s;
export const noColors: Paint = { red: identity, green: identity, yellow: identity, cyan: identity, bold: identity, dim: identity };
