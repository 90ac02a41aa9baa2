/**
 * In-process routing rate (packets/s through `Router.deliver` between two sections) with and
 * without a `<load thread="worker">` module that keeps its own thread busy with a CPU loop
 * (issue 4: with it, routing keeps at least 90% of the rate).
 */
import { memoryAdapters } from "../src/adapters/memory/mod.ts";
import { load } from "../src/modules/base/load.ts";
import { Section } from "../src/server/section.ts";
import { Router } from "../src/tree/router.ts";
import { Element, xml } from "../src/xml/element.ts";

export interface RoutingWorkerRow {
  case: string;
  packetsPerSecond: number;
  percentOfBaseline: number;
}

const ROUNDS = 7;
const COUNT = 200_000;

function measure(router: Router): number {
  const stanzas = Array.from(
    { length: 1000 },
    (_, i) =>
      new Element("message", { to: "bob@b.example", from: `user${i}@a.example/r` }, [
        new Element("body", {}, ["hello"]),
      ]),
  );
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < COUNT; i++) router.deliver(stanzas[i % 1000]);
    rounds.push(COUNT / ((performance.now() - start) / 1000));
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(ROUNDS / 2)];
}

export async function benchRoutingWorker(): Promise<RoutingWorkerRow[]> {
  const { adapters } = memoryAdapters();
  const router = new Router();
  const configDir = new URL(".", import.meta.url).pathname.slice(0, -1);
  const section = (id: string) => new Section({ id, kind: "service", router, adapters, configDir });
  const a = section("a");
  await a.load({
    element: "a",
    sections: ["service"],
    register: (api) => api.addHost("a.example"),
  }, xml("a"));
  const b = section("b");
  await b.load({
    element: "b",
    sections: ["service"],
    register(api) {
      api.addHost("b.example");
      api.handle("deliver", () => "done");
    },
  }, xml("b"));
  const baseline = measure(router);
  const busy = section("busy");
  await busy.load(load, xml("load", { thread: "worker" }, "busy_module.ts"));
  // Let the worker's loop get going before measuring.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const withWorker = measure(router);
  await busy.stop();
  await a.stop();
  await b.stop();
  return [
    { case: "two sections", packetsPerSecond: Math.round(baseline), percentOfBaseline: 100 },
    {
      case: "two sections + busy worker module",
      packetsPerSecond: Math.round(withWorker),
      percentOfBaseline: Math.round((withWorker / baseline) * 100),
    },
  ];
}

if (import.meta.main) console.table(await benchRoutingWorker());
