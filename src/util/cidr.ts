/**
 * CIDR ranges (RFC 4632, RFC 4291 §2.3) for the registration allow list: parse `127.0.0.0/8` or
 * `::1/128` and test an address. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`, what a dual-stack
 * `::` listener reports for IPv4 clients) match IPv4 ranges.
 */

export interface Cidr {
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let tail: Uint8Array | undefined;
  let head = text;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (!tail) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const n = parseInt(all[i], 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** The bytes of an IPv4 or IPv6 address (zone ids such as `%eth0` ignored), or undefined. */
export function parseAddress(text: string): Uint8Array | undefined {
  const bare = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  return bare.includes(":") ? parseIpv6(bare) : parseIpv4(bare);
}

/** Parses `address/prefix` (a bare address is a /32 or /128); throws with a sentence if wrong. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, extra] = text.split("/");
  const bytes = parseAddress(address);
  if (!bytes || extra !== undefined) {
    throw new Error(`"${text}" is not an address range; write it like 127.0.0.0/8 or ::1/128`);
  }
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? "0") || prefix > max) {
    throw new Error(`The prefix length of "${text}" must be a number from 0 to ${max}`);
  }
  return { bytes, prefix, text };
}

/** Unwraps an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) to its 4 bytes. */
function unmapped(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : bytes;
}

/** True when `address` lies in one of the ranges. */
export function inRanges(address: string, ranges: readonly Cidr[]): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  const bytes = unmapped(parsed);
  return ranges.some((range) => {
    if (range.bytes.length !== bytes.length) return false;
    let bits = range.prefix;
    for (let i = 0; bits > 0; i++, bits -= 8) {
      const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((range.bytes[i] & mask) !== (bytes[i] & mask)) return false;
    }
    return true;
  });
}
