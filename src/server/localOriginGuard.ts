import { networkInterfaces, hostname as osHostname } from "node:os";
import type { NextFunction, Request, Response } from "express";
import { GeneraError } from "../errors.js";
import { errorBody } from "./httpErrors.js";

export interface LocalOriginGuardOptions {
  /** The interface the server listens on (`server.host`). */
  host: string;
  /** More names clients may use to reach the server (a reverse proxy's name, a LAN name); "*" allows any. */
  allowedHosts?: string[];
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/** "[::1]:3000" → "::1", "Example.org:80" → "example.org", a bare "::1" stays. */
function hostnameOf(hostHeader: string): string {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith("[")) return value.slice(1, value.indexOf("]"));
  const colon = value.indexOf(":");
  return colon >= 0 && value.lastIndexOf(":") === colon ? value.slice(0, colon) : value;
}

/**
 * The names a same-machine client or the web UI reach the server by: loopback, the
 * configured host, and, when it listens on every interface, this machine's name and
 * addresses (a LAN user types one of those). Anything else in `Host` is a page whose
 * own name resolves to this server: DNS rebinding.
 */
export function allowedHostNames(options: LocalOriginGuardOptions): Set<string> {
  const names = new Set(["localhost", "127.0.0.1", "::1"]);
  const host = hostnameOf(options.host);
  if (WILDCARD_HOSTS.has(options.host)) {
    names.add(osHostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address.toLowerCase());
    }
  } else {
    names.add(host);
  }
  for (const name of options.allowedHosts ?? []) names.add(hostnameOf(name));
  return names;
}

/**
 * Without an API key the server trusts whoever can reach it, so it must make sure a
 * web page cannot reach it through the visitor's browser:
 * - `Host` must be one of the server's own names (a DNS-rebinding page sends its own);
 * - an unsafe request (POST, DELETE…) from a browser must come from the server's own
 *   page: `Sec-Fetch-Site` same-origin (or none: typed by the user), or else an
 *   `Origin` equal to the server's. Browsers always send one of them on such requests,
 *   and same-machine clients (curl, the openai client, RemoteRunnable) send neither,
 *   so they keep working.
 * Refusals are 403 FORBIDDEN with the reason.
 */
export function localOriginGuard(options: LocalOriginGuardOptions) {
  const any = options.allowedHosts?.includes("*") ?? false;
  const names = allowedHostNames(options);
  const refuse = (res: Response, message: string) =>
    res.status(403).json(errorBody(new GeneraError("FORBIDDEN", message)));
  return (req: Request, res: Response, next: NextFunction) => {
    const host = req.headers.host ?? "";
    if (!any && !names.has(hostnameOf(host))) {
      refuse(
        res,
        `Host "${host}" is not a name of this server; add it to server.allowedHosts (GENERA_ALLOWED_HOSTS) to allow it`,
      );
      return;
    }
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.headers["sec-fetch-site"];
    if (typeof site === "string") {
      if (site === "same-origin" || site === "none") return next();
      refuse(res, `Cross-site ${req.method} refused (Sec-Fetch-Site: ${site}); set an API key to allow other sites`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        originHost = undefined;
      }
      if (originHost !== host.toLowerCase()) {
        refuse(res, `Cross-site ${req.method} refused (Origin: ${origin}); set an API key to allow other sites`);
        return;
      }
    }
    next();
  };
}
