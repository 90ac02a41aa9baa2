/**
 * Microbenchmark of the session manager's message path (RFC 6121 §8.5.2 bare JID, §8.5.3 full
 * JID) with every feature of the real server (carbons, blocking, privacy of the default set):
 * c2s route packets in, route packets out, through the real router and dispatcher, no sockets
 * and no parser. CPU microseconds per message (`process.cpuUsage`, so other processes on the
 * machine disturb it far less than a rate), median of rounds.
 *
 * Archiving (XEP-0313, on by default) writes every message to both users' archives in the
 * background. The work is let settle after every batch of messages, inside the measured time:
 * the archive writes are part of a message's cost, and without settling a round of 100,000
 * messages piled up their writes (about 1.4 GB) before any ran. Each case is measured twice: as
 * configured by default (archiving on) and with `<mam default="never"/>`, the routing alone.
 *
 * The world's XDB is the in-memory KV stand-in (src/adapters/memory/kv.ts), which keeps its rows
 * in one sorted array: an insert shifts the rows after it, so the cost of an archive write grows
 * with the archive and the archiving rows overstate what Deno KV costs (for that, run
 * `deno task bench --compare`). They run a quarter of the messages, so the archive stays small.
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
/** Messages sent before the world settles (XDB writes, archive batches) inside a round. */
const BATCH = 1000;

export async function benchSmRouting(rounds = 5, perRound = 20_000): Promise<SmRoutingRow[]> {
  const rows: SmRoutingRow[] = [];
  rows.push(...await benchOneConfig(true, rounds, Math.ceil(perRound / 4)));
  rows.push(...await benchOneConfig(false, rounds, perRound));
  return rows;
}

async function benchOneConfig(
  archiving: boolean,
  rounds: number,
  perRound: number,
): Promise<SmRoutingRow[]> {
  const world = await smWorld({
    features: allFeatures(),
    config: archiving ? "" : `<mam default="never"/>`,
  });
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
          if (i % BATCH === BATCH - 1) {
            for (const c of world.connections.values()) c.routes.length = 0;
            await world.settle();
          }
        }
        await world.settle();
        const used = process.cpuUsage(before);
        samples.push((used.user + used.system) / perRound);
      }
      samples.sort((a, b) => a - b);
      const median = samples[Math.floor(samples.length / 2)];
      rows.push({
        case: `message to ${form} JID, archiving ${archiving ? "on (default)" : "off"}`,
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
