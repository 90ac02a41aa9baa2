/**
 * The DNS adapter on `Deno.resolveDns`: SRV records for s2s and direct TLS (RFC 6120 §3.2,
 * XEP-0368) and addresses for the fallback to the domain itself.
 */

import type { DnsAdapter, SrvRecord } from "../types.ts";

/** A name with no records of a type is an empty answer, not a failure. */
async function resolveOrEmpty<T>(lookup: () => Promise<T[]>): Promise<T[]> {
  try {
    return await lookup();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

export class DenoDns implements DnsAdapter {
  async resolveSrv(name: string): Promise<SrvRecord[]> {
    const records = await resolveOrEmpty(() => Deno.resolveDns(name, "SRV"));
    return records.map((record) => ({
      // Targets come back fully qualified ("xmpp.example.org."): drop the root dot.
      target: record.target.replace(/\.$/, ""),
      port: record.port,
      priority: record.priority,
      weight: record.weight,
    }));
  }

  async resolveAddresses(name: string): Promise<string[]> {
    // An address literal needs no lookup.
    if (/^[0-9.]+$/.test(name) || name.includes(":")) return [name];
    const [v4, v6] = await Promise.allSettled([
      resolveOrEmpty(() => Deno.resolveDns(name, "A")),
      resolveOrEmpty(() => Deno.resolveDns(name, "AAAA")),
    ]);
    if (v4.status === "rejected" && v6.status === "rejected") throw v4.reason;
    return [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
  }
}
