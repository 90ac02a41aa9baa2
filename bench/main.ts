/** `deno task bench`: every benchmark of bench/, one table each (see bench/README.md). */
import { benchDeliveryTree } from "./delivery_tree.ts";
import { benchXmlParser } from "./xml_parser.ts";

console.log("XML stream parser: the same stanza mix in 4 KiB chunks (median of rounds)");
console.table(await benchXmlParser());
console.log("Delivery tree: Router.deliver with a synchronous handler (median of 7 rounds)");
console.table(benchDeliveryTree());
