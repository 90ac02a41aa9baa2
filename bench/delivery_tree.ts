/**
 * Microbenchmark of the delivery tree: packets per second through `Router.deliver` to one
 * instance with a synchronous handler, to a wildcard host, and fanned out to three instances.
 */
import { Router } from "../src/tree/router.ts";
import { Element } from "../src/xml/element.ts";

export interface TreeRow {
  case: string;
  packetsPerSecond: number;
}

function measure(name: string, setup: (router: Router) => void, to: string): TreeRow {
  const router = new Router();
  setup(router);
  const stanzas = Array.from(
    { length: 1000 },
    (_, i) =>
      new Element("message", { to, from: `user${i}@example.org/r`, type: "chat" }, [
        new Element("body", {}, ["hello"]),
      ]),
  );
  const rounds: number[] = [];
  for (let round = 0; round < 7; round++) {
    const count = 200_000;
    const start = performance.now();
    for (let i = 0; i < count; i++) router.deliver(stanzas[i % 1000]);
    rounds.push(count / ((performance.now() - start) / 1000));
  }
  rounds.sort((a, b) => a - b);
  return { case: name, packetsPerSecond: Math.round(rounds[3]) };
}

export function benchDeliveryTree(): TreeRow[] {
  const take = (router: Router, id: string, host: string) => {
    router.addInstance(id).add("deliver", () => "done");
    router.tree.insert("normal", host, id);
  };
  return [
    measure("exact host, 1 instance", (r) => take(r, "sm", "example.org"), "bob@example.org"),
    measure("wildcard host", (r) => take(r, "c", "*.example.org"), "muc.example.org"),
    measure("fan-out to 3 instances", (r) => {
      for (const id of ["a", "b", "c"]) take(r, id, "example.org");
    }, "bob@example.org"),
  ];
}

if (import.meta.main) console.table(benchDeliveryTree());
