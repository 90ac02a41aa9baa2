/**
 * Names the farm uses on NATS (docs/farm.md, ROUTING.md R40): KV keys made from JIDs, escaped to
 * NATS key characters, and the subjects and bucket names of one farm.
 *
 * A KV key is a NATS subject: tokens of `[-/_=A-Za-z0-9]` joined by dots. A JID may hold any
 * Unicode character, so every character outside `[A-Za-z0-9_-]` becomes `=` and two hex digits per
 * UTF-8 byte (`alice@example.org` → `alice=40example=2Eorg`). The escape is reversible and keeps
 * one JID one token, so a full JID's key is `bare.resource`: its bare JID's keys share a prefix.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PLAIN = /^[A-Za-z0-9_-]$/;

/** One JID part as a NATS key token (never empty: "" is `=`). */
export function escapeKey(text: string): string {
  if (text === "") return "=";
  let out = "";
  for (const char of text) {
    if (PLAIN.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) {
      out += "=" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
  }
  return out;
}

/** The text `escapeKey` made `token` from; throws on a token it cannot have made. */
export function unescapeKey(token: string): string {
  if (token === "=") return "";
  const bytes: number[] = [];
  for (let at = 0; at < token.length;) {
    if (token[at] === "=") {
      const hex = token.slice(at + 1, at + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`"${token}" is not an escaped key`);
      bytes.push(parseInt(hex, 16));
      at += 3;
    } else {
      bytes.push(...encoder.encode(token[at]));
      at++;
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** The homes bucket's key of a bare JID. */
export function bareKey(bare: string): string {
  return escapeKey(bare);
}

/** The sessions bucket's key of a full JID: `bare.resource`, both escaped. */
export function fullKey(full: string): string {
  const slash = full.indexOf("/");
  if (slash < 0) throw new Error(`${full} is not a full JID`);
  return `${escapeKey(full.slice(0, slash))}.${escapeKey(full.slice(slash + 1))}`;
}

/** The full JID of a sessions key. */
export function fullOfKey(key: string): string {
  const dot = key.indexOf(".");
  if (dot < 0) throw new Error(`"${key}" is not a session key`);
  return `${unescapeKey(key.slice(0, dot))}/${unescapeKey(key.slice(dot + 1))}`;
}

/** The names of one farm's subjects and buckets. */
export class FarmNames {
  readonly farm: string;

  constructor(farm: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(farm)) {
      throw new Error(`The farm name "${farm}" may hold only letters, digits, - and _`);
    }
    this.farm = farm;
  }

  /** Packets for one node. */
  node(id: string): string {
    return `jabberd.${this.farm}.node.${escapeKey(id)}`;
  }

  /** Packets for a host any node serving it may take (a queue group: one of N). */
  host(host: string): string {
    return `jabberd.${this.farm}.host.${escapeKey(host)}`;
  }

  /** Farm-wide events, to every node. */
  get all(): string {
    return `jabberd.${this.farm}.all`;
  }

  /** Bucket names: `[A-Za-z0-9_-]` only. */
  get homes(): string {
    return `jabberd_${this.farm}_homes`;
  }

  get sessions(): string {
    return `jabberd_${this.farm}_sessions`;
  }

  get nodes(): string {
    return `jabberd_${this.farm}_nodes`;
  }

  get losses(): string {
    return `jabberd_${this.farm}_losses`;
  }
}
