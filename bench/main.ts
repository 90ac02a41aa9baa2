/**
 * `deno task bench`: every microbenchmark of bench/, one table each; `deno task bench --compare`
 * runs the side-by-side comparison with Prosody and ejabberd instead, `deno task bench --farm`
 * one node against two nodes of a farm (see bench/README.md).
 */
import { benchDeliveryTree } from "./delivery_tree.ts";
import { benchKvWrites } from "./kv_writes.ts";
import { benchRoutingWorker } from "./routing_worker.ts";
import { benchSmRouting } from "./sm_routing.ts";
import { benchWebSocket } from "./websocket.ts";
import { benchXmlParser } from "./xml_parser.ts";

if (Deno.args.includes("--farm")) {
  const { benchFarm, parseFarmArgs } = await import("./farm.ts");
  await benchFarm(parseFarmArgs(Deno.args));
} else if (Deno.args.includes("--compare")) {
  const { compare, parseArgs } = await import("./compare/main.ts");
  await compare(parseArgs(Deno.args));
} else {
  console.log("XML stream parser: the same stanza mix in 4 KiB chunks (median of rounds)");
  console.table(await benchXmlParser());
  console.log("Delivery tree: Router.deliver with a synchronous handler (median of 7 rounds)");
  console.table(benchDeliveryTree());
  console.log("Session manager message path: CPU µs per message, every feature (median of 7)");
  console.table(await benchSmRouting());
  console.log(
    "Routing rate between two sections, without and with a busy <load thread=worker> module",
  );
  console.table(await benchRoutingWorker());
  console.log("WebSocket next to TCP on real sockets: logins/s and messages routed/s");
  console.table(await benchWebSocket());
  console.log("Deno KV: CPU µs per archive-shaped key written, by keys per atomic commit");
  console.table(await benchKvWrites());
}
