/**
 * Routing with XEP-0313 archiving on versus off: chat messages between pairs of online local
 * users through the real session manager and a `<kv>` XDB on a Deno KV file (each message is
 * then archived twice, for sender and recipient). Reports messages delivered per second and, with
 * archiving on, how long after the last delivery the archives were all committed.
 *
 * `deno run -A bench/mam.ts [MESSAGES] [PAIRS]`
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { NS_CREDENTIALS } from "../src/accounts/credentials.ts";
import { testServer } from "../src/server/_testing.ts";
import { Element, xml } from "../src/xml/element.ts";

export interface MamRow {
  case: string;
  messagesPerSecond: number;
  /** Milliseconds from the last delivery until every archive write was committed. */
  archivedAfterMs: number;
}

const ROUNDS = 3;

async function run(archiving: boolean, messages: number, pairs: number): Promise<MamRow> {
  const dir = await Deno.makeTempDir({ prefix: "bench-mam-" });
  const world = await testServer(
    `<jabberd>
      <service id="sm"><host>localhost</host>
        <sm xmlns="jabberd:config:sm">${archiving ? "" : "<disable>mam</disable>"}</sm>
      </service>
      <xdb id="xdb"><host/><kv>${dir}/xdb.sqlite3</kv></xdb>
    </jabberd>`,
    { adapters: denoAdapters() },
  );
  try {
    let delivered = 0;
    let wake: () => void = () => {};
    const routes = new Map<string, string>();
    world.router.addInstance("c2s", ["normal", "route"]).add("deliver", (packet) => {
      if (packet.kind !== "route") return "pass";
      const element = packet.element;
      if (element.attrs.type === "session") routes.set(element.attrs.from!, packet.to!);
      else if (element.elements[0]?.name === "message") {
        if (++delivered >= target) wake();
      }
      return "done";
    });
    let target = Infinity;
    const users = Array.from({ length: pairs }, (_, i) => [`a${i}@localhost`, `b${i}@localhost`])
      .flat();
    for (const user of users) {
      await world.xdb.set(user, NS_CREDENTIALS, xml("credentials", { xmlns: NS_CREDENTIALS }));
    }
    let connection = 0;
    for (const user of users) {
      const full = `${user}/r`;
      world.router.deliver(
        xml("route", { type: "session", to: full, from: `c2s/${++connection}` }),
      );
    }
    await world.settle(50);
    const from = (full: string, stanza: Element) => {
      stanza.attrs.from = full;
      world.router.deliver(xml("route", { to: full, from: routes.get(full)! }, stanza));
    };
    for (const user of users) from(`${user}/r`, xml("presence"));
    await world.settle(50);

    const rates: number[] = [];
    let archivedAfterMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      delivered = 0;
      target = messages;
      const done = new Promise<void>((resolve) => wake = resolve);
      const start = performance.now();
      for (let n = 0; n < messages; n++) {
        const pair = n % pairs;
        from(
          `a${pair}@localhost/r`,
          xml("message", { to: `b${pair}@localhost`, type: "chat" }, xml("body", {}, `m${n}`)),
        );
        // Let deliveries and XDB replies run, as a stream of clients would.
        if (n % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await done;
      const end = performance.now();
      rates.push(messages / ((end - start) / 1000));
      // Every archive write answered: the section's XDB requests all settled.
      await world.settle(200);
      await world.xdb.get("a0@localhost", NS_CREDENTIALS);
      archivedAfterMs = Math.max(archivedAfterMs, performance.now() - end);
    }
    rates.sort((a, b) => a - b);
    return {
      case: archiving ? "mam on" : "mam off",
      messagesPerSecond: Math.round(rates[Math.floor(ROUNDS / 2)]),
      archivedAfterMs: Math.round(archivedAfterMs),
    };
  } finally {
    await world.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function benchMam(messages = 20_000, pairs = 50): Promise<MamRow[]> {
  const off = await run(false, messages, pairs);
  const on = await run(true, messages, pairs);
  return [off, on];
}

if (import.meta.main) {
  const [messages, pairs] = Deno.args.map(Number);
  console.table(await benchMam(messages || undefined, pairs || undefined));
}
