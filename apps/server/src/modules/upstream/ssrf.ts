import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

// The IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach that address as
// such: IPv4-mapped (::ffff:0:0/96, how dual-stack sockets show IPv4) and the well-known NAT64
// prefix (64:ff9b::/96, how DNS64 networks reach IPv4). Their embedded address is judged instead.
const EMBEDS_IPV4: [ipaddr.IPv6, number][] = [
  [ipaddr.IPv6.parse("::ffff:0:0"), 96],
  [ipaddr.IPv6.parse("64:ff9b::"), 96],
];
// Everything routable on the IPv6 internet is in 2000::/3; anything outside it (the deprecated
// IPv4-compatible ::/96 such as ::127.0.0.1, unassigned space) is refused outright.
const GLOBAL_UNICAST: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse("2000::"), 3];

/**
 * Parses an address as the socket will see it. ipaddr.js reads any IPv6 address written with a
 * dotted IPv4 tail as IPv4-mapped (`::8.8.8.8` as `::ffff:8.8.8.8`), but the kernel connects to
 * the 128 bits written, so the tail is turned into two hex groups first.
 */
function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const text =
    isIP(ip) === 6
      ? ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)(%.*)?$/, (_m, a, b, c, d, zone = "") => {
          const [w, x, y, z] = [a, b, c, d].map(Number) as [number, number, number, number];
          return `${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}${zone}`;
        })
      : ip;
  try {
    return ipaddr.parse(text);
  } catch {
    return null;
  }
}

/**
 * True for an address a probe must not reach by default: every range ipaddr.js does not call
 * plain `unicast` (loopback, private, carrier-grade NAT, link-local — cloud metadata lives at
 * 169.254.169.254 and fd00:ec2::254 —, unique-local, site-local, multicast, broadcast, reserved,
 * documentation, benchmarking, and the tunnelling and translation prefixes 6to4 2002::/16,
 * Teredo 2001::/32 and local NAT64 64:ff9b:1::/48, whose far end is whatever the tunnel says),
 * and IPv6 outside 2000::/3. An IPv4-mapped or well-known-NAT64 address is judged by the IPv4
 * address in it. Anything that is not an address at all is refused rather than guessed at.
 */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "");
  const parsed = isIP(ip) ? parseAddress(ip) : null;
  if (!parsed) return true;
  if (parsed.kind() === "ipv4") return parsed.range() !== "unicast";
  const v6 = parsed as ipaddr.IPv6;
  if (EMBEDS_IPV4.some((range) => v6.match(range))) {
    const bytes = v6.toByteArray().slice(12);
    return new ipaddr.IPv4(bytes).range() !== "unicast";
  }
  return !v6.match(GLOBAL_UNICAST) || v6.range() !== "unicast";
}

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: LookupAll = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/** How a refused target is allowed, in the words the dashboard shows at the URL field. */
export const PRIVATE_TARGETS_HINT =
  "private addresses need ALLOW_PRIVATE_TARGETS=true on the Switchboard server";

export class TargetRefused extends Error {
  override name = "TargetRefused";
}

/**
 * Refuses a URL whose host is, or resolves to, an address a probe must not reach. Every address a
 * name resolves to must be allowed: one private answer is enough to refuse.
 */
export async function assertAllowedTarget(
  url: string,
  opts: { allowPrivate: boolean; lookup?: LookupAll },
): Promise<void> {
  if (opts.allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : (await (opts.lookup ?? systemLookup)(host)).map((a) => a.address);
  const refused = addresses.find(isPrivateAddress);
  if (refused !== undefined) {
    throw new TargetRefused(
      isIP(host)
        ? `${host} is a private, loopback, link-local or reserved address`
        : `${host} resolves to ${refused}, a private, loopback, link-local or reserved address`,
    );
  }
}
