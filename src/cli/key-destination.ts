/**
 * Where the API key may go. A pull request can change `base_url` in agentform.yaml (or delete
 * the lockfile whose origin would have caught it), so the repository cannot be what decides
 * which host receives the key. The rule:
 *
 * - loopback (localhost, 127.0.0.0/8, [::1]) over http or https: the machine agentform runs on;
 * - https://api.anthropic.com: the official API;
 * - any other host only over https, and only when AGENTFORM_ALLOWED_HOSTS, an environment
 *   variable set by whoever runs agentform (the CI job, not the repository), lists it.
 *
 * Entries of AGENTFORM_ALLOWED_HOSTS are exact host names (no wildcards), comma-separated,
 * optionally with a port: `gateway.example.com` allows any port of that host,
 * `gateway.example.com:8443` only that one. IPv6 addresses go in brackets.
 */
import { ConfigError } from "../errors.js";

export const ALLOWED_HOSTS_ENV = "AGENTFORM_ALLOWED_HOSTS";
const OFFICIAL_HOST = "api.anthropic.com";

interface AllowedHost {
  hostname: string;
  /** undefined: any port. */
  port: number | undefined;
}

/**
 * Refuse (exit 4) a base URL the key must not be sent to. `source` says where the URL came
 * from, e.g. `targets.production.base_url in agentform.yaml`.
 */
export function checkKeyDestination(baseUrl: string, source: string, env: NodeJS.ProcessEnv): void {
  const url = parseBaseUrl(baseUrl, source);
  if (isLoopback(url.hostname)) return;
  if (url.protocol !== "https:") {
    throw new ConfigError("base-url-insecure", `${source} is plain http to ${url.host}; the API key is only ever sent over https (or to loopback).`, {
      hint: `Use https://${url.host}${url.pathname === "/" ? "" : url.pathname}.`,
    });
  }
  if (url.hostname === OFFICIAL_HOST && url.port === "") return;
  const port = url.port === "" ? 443 : Number(url.port);
  const allowed = parseAllowedHosts(env[ALLOWED_HOSTS_ENV]);
  if (allowed.some((a) => a.hostname === url.hostname && (a.port === undefined || a.port === port))) return;
  throw new ConfigError(
    "base-url-not-allowed",
    `${source} points at ${url.host}; the API key goes only to ${OFFICIAL_HOST}, loopback, or a host listed in ${ALLOWED_HOSTS_ENV}, and ${url.host} is none of them.`,
    {
      hint: `If ${url.host} is your own proxy or gateway, allow it where a pull request cannot: set ${ALLOWED_HOSTS_ENV}=${url.host} in the CI job's environment (not in agentform.yaml).`,
    },
  );
}

function parseBaseUrl(baseUrl: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    // The value itself is not quoted: a malformed URL may still carry a credential.
    throw new ConfigError("base-url-invalid", `${source} is not an absolute URL.`, { hint: "Write it as https://host[:port][/path]." });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError("base-url-invalid", `${source} uses ${url.protocol.replace(/:$/, "")}; only https (or http to loopback) is supported.`, {
      hint: "Write it as https://host[:port][/path].",
    });
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError("base-url-invalid", `${source} contains a user name or password; it would be written to the lockfile.`, {
      hint: "Remove the credentials from the URL; the API key is read from the variable named by api_key_env.",
    });
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigError("base-url-invalid", `${source} has a query or fragment, which a base URL cannot have.`, {
      hint: "Write it as https://host[:port][/path].",
    });
  }
  return url;
}

/** Loopback as the WHATWG URL parser normalizes it (so `127.1` is already `127.0.0.1`). */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function parseAllowedHosts(value: string | undefined): AllowedHost[] {
  if (value === undefined) return [];
  const out: AllowedHost[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    out.push(parseAllowedHost(entry));
  }
  return out;
}

function parseAllowedHost(entry: string): AllowedHost {
  const invalid = () =>
    new ConfigError("allowed-hosts-invalid", `${ALLOWED_HOSTS_ENV} entry ${JSON.stringify(entry.slice(0, 100))} is not a host name or host:port.`, {
      hint: `List exact host names, comma-separated, e.g. ${ALLOWED_HOSTS_ENV}=gateway.example.com,proxy.internal:8443 (no scheme, path or wildcard).`,
    });
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(entry)) throw invalid();
  let url: URL;
  try {
    url = new URL(`https://${entry}`);
  } catch {
    throw invalid();
  }
  const explicitPort = /:(\d{1,5})$/.exec(entry);
  const port = explicitPort ? Number(explicitPort[1]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw invalid();
  return { hostname: url.hostname, port };
}
