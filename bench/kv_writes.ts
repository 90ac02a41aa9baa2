/**
 * What one archived message costs in Deno KV alone: CPU microseconds per key written into a KV
 * file, by how many keys one atomic commit carries (1, 10, 100, 500), with keys shaped like the
 * message archive's (`["xdb", host, user, ns, id]`, 1000 users, 300-character values). Every
 * archived chat message is two such keys (the sender's and the recipient's archive), so this is
 * the floor under "routing with archiving on" in bench/README.md. CPU is the whole process's
 * (`process.cpuUsage`): Deno KV commits on its own thread.
 *
 * Run alone: `deno run -A bench/kv_writes.ts`.
 */
import process from "node:process";

export interface KvWriteRow {
  keysPerCommit: number;
  keysPerSecond: number;
  cpuMicrosPerKey: number;
}

const USERS = 1000;
const KEYS = 20_000;

export async function benchKvWrites(): Promise<KvWriteRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-kv-writes-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  const value = "x".repeat(300);
  const rows: KvWriteRow[] = [];
  let n = 0;
  try {
    for (const batch of [1, 10, 100, 500]) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (let written = 0; written < KEYS;) {
        const atomic = kv.atomic();
        for (let i = 0; i < batch; i++, written++, n++) {
          const id = n.toString(36).padStart(8, "0");
          atomic.set(["xdb", "localhost", `u${n % USERS}@localhost`, "urn:xmpp:mam:2", id], value);
        }
        await atomic.commit();
      }
      const used = process.cpuUsage(cpu);
      rows.push({
        keysPerCommit: batch,
        keysPerSecond: Math.round(KEYS / ((performance.now() - started) / 1000)),
        cpuMicrosPerKey: Number(((used.user + used.system) / KEYS).toFixed(1)),
      });
    }
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
}

if (import.meta.main) console.table(await benchKvWrites());
