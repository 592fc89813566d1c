import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a hostname resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** True when the fetcher may connect to this IP address. */
export type AddressPolicy = (address: string) => boolean;

/** The operating system resolver, all addresses in the order it gives them. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/**
 * SSRF-01: only globally routable unicast addresses. ipaddr.js names every special-purpose range
 * (private, loopback, link-local incl. 169.254.169.254, unique-local incl. fd00:ec2::254, multicast,
 * broadcast, unspecified, reserved, documentation, benchmarking, carrier-grade NAT, 6to4, Teredo,
 * NAT64 `64:ff9b::/96`, ...) and anything not plain `unicast` is refused. IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`) is judged as the IPv4 address it carries. 6to4, Teredo and NAT64 embed IPv4
 * addresses too; they are refused outright rather than unpacked, which costs nothing on AWS.
 */
export const isPublicUnicastAddress: AddressPolicy = (address) => {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
};
