import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { isPrivateAddress, TargetRefused } from "./ssrf";

export interface UpstreamDispatcherOptions {
  /** Reach private, loopback and link-local addresses too (ALLOW_PRIVATE_TARGETS). */
  allowPrivate: boolean;
  /** How long an idle connection to an MCP server is kept for reuse. */
  keepAliveTimeoutMs?: number;
}

/**
 * A DNS lookup that refuses a name as soon as one of its addresses is forbidden: a name that
 * resolves to a public and a private address must not reach the private one on a retry.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
    if (err) return callback(err, "", 0);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new TargetRefused(`${hostname} resolves to ${bad.address}`), "", 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(new Error(`no address for ${hostname}`), "", 0);
    callback(null, first.address, first.family);
  });
};

/**
 * The one way Switchboard reaches an MCP server (health probes, the gateway, registry imports).
 * Every new connection checks the address it is about to open, once: an IP literal directly, a
 * name through the lookup it is connected with. So neither a redirect, nor a DNS answer that
 * changes after registration, nor `[::ffff:127.0.0.1]` reaches a forbidden address.
 */
export function createUpstreamDispatcher({
  allowPrivate,
  keepAliveTimeoutMs = 1000,
}: UpstreamDispatcherOptions): Dispatcher {
  if (allowPrivate) return new Agent({ keepAliveTimeout: keepAliveTimeoutMs });
  const connect = buildConnector({ lookup: guardedLookup });
  return new Agent({
    keepAliveTimeout: keepAliveTimeoutMs,
    connect: (options, callback) => {
      const host = options.hostname.replace(/^\[|\]$/g, "");
      if (isIP(host) && isPrivateAddress(host)) {
        return callback(
          new TargetRefused(`${host} is a private, loopback, link-local or reserved address`),
          null,
        );
      }
      connect(options, callback);
    },
  });
}
