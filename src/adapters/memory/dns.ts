/** DNS for tests: answers come from a table filled by the test; unknown names have no records. */

import type { DnsAdapter, SrvRecord } from "../types.ts";

export class DnsTable implements DnsAdapter {
  readonly srv = new Map<string, SrvRecord[]>();
  readonly addresses = new Map<string, string[]>();

  /** Sets the SRV records of `name` (e.g. "_xmpp-server._tcp.example.org"). */
  setSrv(name: string, records: SrvRecord[]): this {
    this.srv.set(name.toLowerCase(), records);
    return this;
  }

  setAddresses(name: string, addresses: string[]): this {
    this.addresses.set(name.toLowerCase(), addresses);
    return this;
  }

  resolveSrv(name: string): Promise<SrvRecord[]> {
    const records = this.srv.get(name.toLowerCase()) ?? [];
    return Promise.resolve(records.map((record) => ({ ...record })));
  }

  resolveAddresses(name: string): Promise<string[]> {
    // Address literals resolve to themselves, as in the Deno adapter.
    if (/^[0-9.]+$/.test(name) || name.includes(":")) return Promise.resolve([name]);
    return Promise.resolve([...(this.addresses.get(name.toLowerCase()) ?? [])]);
  }
}
