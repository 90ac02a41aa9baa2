/**
 * Where a remote domain's server is (RFC 6120 §3.2.1, RFC 2782, XEP-0368 §3): a `<route>` pin,
 * else the `_xmpps-server._tcp` (direct TLS) and `_xmpp-server._tcp` (STARTTLS) SRV records in
 * priority and weight order, else the domain itself on 5269.
 */
import type { DnsAdapter, SrvRecord } from "../../adapters/types.ts";
import type { TlsMode } from "./config.ts";

/** One place to try, in order. */
export interface Candidate {
  host: string;
  port: number;
  tls: TlsMode;
}

/** The default port when no SRV record says otherwise (RFC 6120 §3.2.2). */
export const DEFAULT_S2S_PORT = 5269;

/**
 * Orders SRV records as RFC 2782 says: by priority, and within one priority by a weighted random
 * draw; records of weight 0 come after the weighted ones of their priority.
 */
export function orderSrv<T extends SrvRecord>(records: readonly T[], random = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const record of records) {
    const group = byPriority.get(record.priority) ?? [];
    group.push(record);
    byPriority.set(record.priority, group);
  }
  const ordered: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const left = byPriority.get(priority)!.slice().sort((a, b) => a.weight - b.weight);
    while (left.length > 0) {
      const total = left.reduce((sum, record) => sum + record.weight, 0);
      const draw = random() * total;
      let running = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        running += left[i].weight;
        if (running >= draw && (left[i].weight > 0 || total === 0)) {
          index = i;
          break;
        }
      }
      ordered.push(left.splice(index, 1)[0]);
    }
  }
  return ordered;
}

/**
 * The places to try for `domain`, best first. A lone SRV target of "." means the domain offers
 * no such service (RFC 2782): no fallback to the domain's own address then.
 */
export async function candidatesFor(
  domain: string,
  dns: DnsAdapter,
  pinned: { host: string; port: number; tls: TlsMode } | undefined,
  random = Math.random,
): Promise<Candidate[]> {
  if (pinned) return [{ ...pinned }];
  const [direct, starttls] = await Promise.all([
    dns.resolveSrv(`_xmpps-server._tcp.${domain}`).catch(() => []),
    dns.resolveSrv(`_xmpp-server._tcp.${domain}`).catch(() => []),
  ]);
  const tagged = [
    ...direct.map((record) => ({ ...record, tls: "direct" as const })),
    ...starttls.map((record) => ({ ...record, tls: "starttls" as const })),
  ];
  if (tagged.length === 0) return [{ host: domain, port: DEFAULT_S2S_PORT, tls: "starttls" }];
  return orderSrv(tagged, random)
    .filter((record) => record.target !== "." && record.target !== "")
    .map((record) => ({
      host: record.target.replace(/\.$/, ""),
      port: record.port,
      tls: record.tls,
    }));
}
