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
 * The IPv4 addresses an IPv6 address carries, for the forms that deliver to them (REV-09):
 * IPv4-compatible `::a.b.c.d` (deprecated, but some stacks still route it), IPv4-mapped
 * `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`, Teredo `2001:0::/32`
 * (its server, and its client obfuscated by XOR), NAT64 `64:ff9b::/96`. Undefined when there is none.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = address.parts;
  const ipv4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  if (zeros(0, 5) && (p[5] === 0 || p[5] === 0xffff)) return [ipv4(p[6], p[7])];
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [ipv4(p[6], p[7])];
  if (p[0] === 0x2002) return [ipv4(p[1], p[2])];
  if (p[0] === 0x2001 && p[1] === 0) return [ipv4(p[2], p[3]), ipv4(p[6] ^ 0xffff, p[7] ^ 0xffff)];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [ipv4(p[6], p[7])];
  return undefined;
}

/**
 * SSRF-01, REV-09: only globally routable unicast addresses. IPv4: anything ipaddr.js does not call
 * plain `unicast` is refused (private, loopback, link-local incl. 169.254.169.254, carrier-grade NAT,
 * broadcast, reserved, documentation, benchmarking, ...). IPv6: an address that carries IPv4 addresses
 * (mapped, compatible, 6to4, Teredo, NAT64) is judged by those, all of which must pass; any other must
 * be global unicast (2000::/3) and not a special range (documentation, ORCHID, ...), so `::7f00:1`,
 * unique-local `fd00:ec2::254` and link-local are refused.
 */
export const isPublicUnicastAddress: AddressPolicy = (address) => {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  const carried = embeddedIPv4(v6);
  if (carried) return carried.every((ipv4) => ipv4.range() === 'unicast');
  return (v6.parts[0] & 0xe000) === 0x2000 && v6.range() === 'unicast';
};
