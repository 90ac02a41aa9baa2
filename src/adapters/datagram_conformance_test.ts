/** Runs the DatagramAdapter conformance suite on the in-memory adapter and on the Deno adapter. */

import { datagramConformance } from "./datagram_conformance.ts";
import { DenoDatagrams } from "./deno/datagrams.ts";
import { MemoryDatagrams } from "./memory/datagrams.ts";
import { DnsTable } from "./memory/dns.ts";

datagramConformance("memory", () => new MemoryDatagrams(new DnsTable()));
datagramConformance("deno", () => new DenoDatagrams());
