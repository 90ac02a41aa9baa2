/** Runs the NetAdapter conformance suite on the in-memory adapter and on the Deno adapter. */

import { netConformance } from "./net_conformance.ts";
import { DenoNet } from "./deno/net.ts";
import { MemoryNet } from "./memory/net.ts";

netConformance("memory", () => new MemoryNet());
netConformance("deno", () => new DenoNet());
