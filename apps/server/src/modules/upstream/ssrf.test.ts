import { describe, expect, it } from "vitest";
import { assertAllowedTarget, isPrivateAddress, type LookupAll } from "./ssrf";

/** A resolver that answers from a table and never touches the network. */
const fakeLookup =
  (table: Record<string, string[]>): LookupAll =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

describe("SSRF guard", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254", // cloud metadata
    "169.254.0.1",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254", // AWS metadata over IPv6
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "not-an-address",
    // IPv4-compatible (::/96, deprecated): Linux still routes ::127.0.0.1 to loopback.
    "::127.0.0.1",
    "::a9fe:a9fe",
    "::8.8.8.8",
    "[::127.0.0.1]",
    // Translation and tunnels, whose far end is whatever the gateway or the embedded address says.
    "64:ff9b:1::a00:1", // local-use NAT64 (RFC 8215)
    "64:ff9b::7f00:1", // well-known NAT64 of 127.0.0.1
    "::ffff:0:7f00:1", // SIIT, RFC 6145
    "2002:7f00:1::1", // 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1", // 6to4 of 169.254.169.254
    "2002:808:808::1", // 6to4, whatever address it embeds
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
    "2001::1",
    "fec0::1", // site-local (deprecated)
    "fed0::1",
    "fe80::1%eth0",
    "100::1", // discard-only
    "2001:2::1", // benchmarking
    "2001:db8::1", // documentation
    "3fff::1", // documentation (RFC 9637)
    "5f00::1", // segment routing
    "ff02::1",
    "4000::1", // outside 2000::/3: not global unicast
    "192.88.99.1", // 6to4 relay anycast
    "198.18.0.1", // benchmarking
    "192.0.2.1",
    "::ffff:10.0.0.1",
    "::ffff:7f00:1",
  ])("calls %s private", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "2606:4700::1111",
    "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808", // DNS64's view of 8.8.8.8
    "[2606:4700::1111]",
  ])("calls %s public", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it.each([
    ["http://10.1.2.3/mcp", /10\.1\.2\.3 is a private/],
    ["http://169.254.169.254/latest/meta-data", /169\.254\.169\.254/],
    ["http://[fd00:ec2::254]/", /fd00:ec2::254/],
    ["http://[::1]:8080/mcp", /::1/],
    ["http://[::127.0.0.1]/mcp", /::7f00:1 is a private/],
    ["http://[::ffff:127.0.0.1]/mcp", /::ffff:7f00:1 is a private/],
    ["http://[2002:7f00:1::1]/mcp", /2002:7f00:1::1/],
    ["http://2130706433/mcp", /127\.0\.0\.1 is a private/], // the URL parser's view of 127.0.0.1
    ["http://0x7f.1/mcp", /127\.0\.0\.1 is a private/],
    ["http://v6.internal/mcp", /resolves to ::127\.0\.0\.1/],
    ["http://metadata.internal/computeMetadata", /resolves to 169\.254\.169\.254/],
    ["https://rebind.example.com/mcp", /resolves to 10\.0\.0\.7/],
  ])("refuses %s", async (url, message) => {
    const lookup = fakeLookup({
      "metadata.internal": ["169.254.169.254"],
      "v6.internal": ["::127.0.0.1"],
      // One private answer among public ones is enough to refuse.
      "rebind.example.com": ["93.184.216.34", "10.0.0.7"],
    });
    await expect(assertAllowedTarget(url, { allowPrivate: false, lookup })).rejects.toThrow(message);
  });

  it("allows a name that resolves only to public addresses", async () => {
    const lookup = fakeLookup({ "mcp.example.com": ["93.184.216.34", "2606:2800:220:1::1"] });
    await expect(
      assertAllowedTarget("https://mcp.example.com/mcp", { allowPrivate: false, lookup }),
    ).resolves.toBeUndefined();
  });

  it("allows anything when the operator allows private targets, without resolving", async () => {
    const lookup: LookupAll = async () => {
      throw new Error("must not resolve");
    };
    await expect(
      assertAllowedTarget("http://10.0.0.1/", { allowPrivate: true, lookup }),
    ).resolves.toBeUndefined();
  });
});
