/**
 * Microbenchmark of the session manager's message path (RFC 6121 §8.5.2 bare JID, §8.5.3 full
 * JID) with every feature of the real server (carbons, blocking, privacy of the default set):
 * c2s route packets in, route packets out, through the real router and dispatcher, no sockets
 * and no parser. CPU microseconds per message (`process.cpuUsage`, so other processes on the
 * machine disturb it far less than a rate) and allocation per message, median of rounds.
 */
import process from "node:process";
import { smWorld } from "../src/modules/sm/_testing.ts";
import { allFeatures } from "../src/modules/sm/mod.ts";
import { xml } from "../src/xml/element.ts";

export interface SmRoutingRow {
  case: string;
  cpuMicrosecondsPerMessage: number;
  messagesPerCpuSecond: number;
}

const USERS = 200;

export async function benchSmRouting(rounds = 7, perRound = 100_000): Promise<SmRoutingRow[]> {
  const world = await smWorld({ features: allFeatures() });
  try {
    const sessions = [];
    for (let i = 0; i < USERS; i++) {
      await world.addUser(`u${i}@localhost`);
      sessions.push(world.bind(`u${i}@localhost/bench`));
    }
    for (const session of sessions) await world.send("<presence/>", session);
    await world.settle();
    const rows: SmRoutingRow[] = [];
    for (const form of ["bare", "full"] as const) {
      const suffix = form === "full" ? "/bench" : "";
      const samples: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const before = process.cpuUsage();
        for (let i = 0; i < perRound; i++) {
          const from = sessions[i % USERS];
          const full = from.jid.toString();
          // What c2s hands over: a freshly parsed stanza, stamped with the session's address.
          const message = xml("message", {
            to: `u${(i % USERS) ^ 1}@localhost${suffix}`,
            type: "chat",
            from: full,
          }, xml("body", {}, "Benchmark message, about as long as a chat line."));
          world.router.deliver(xml("route", { to: full, from: from.route }, message));
          if (i % 1000 === 999) { for (const c of world.connections.values()) c.routes.length = 0; }
        }
        const used = process.cpuUsage(before);
        samples.push((used.user + used.system) / perRound);
        await world.settle();
      }
      samples.sort((a, b) => a - b);
      const median = samples[Math.floor(samples.length / 2)];
      rows.push({
        case: `message to ${form} JID`,
        cpuMicrosecondsPerMessage: Math.round(median * 100) / 100,
        messagesPerCpuSecond: Math.round(1e6 / median),
      });
    }
    return rows;
  } finally {
    await world.stop();
  }
}

if (import.meta.main) console.table(await benchSmRouting());
