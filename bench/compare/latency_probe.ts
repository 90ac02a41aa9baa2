/**
 * A latency probe: a few pairs of users on one server, messages at a low steady rate, every
 * latency printed as a histogram — to tell a server's delay from load effects.
 * Run: deno run -A bench/compare/latency_probe.ts [ours|prosody|ejabberd] [PAIRS] [RATE]
 */
import { makeAccounts } from "./accounts.ts";
import { Client, login } from "./client.ts";
import { ALL, killAll } from "./servers.ts";

const [which = "ours", pairsText = "2", rateText = "200"] = Deno.args;
const pairs = Number(pairsText);
const rate = Number(rateText);
const accounts = await makeAccounts(pairs * 2);
const dir = await Deno.makeTempDir();
try {
  const server = await ALL[which].start(dir, accounts, () => {}, {});
  const clients: Client[] = [];
  for (const account of accounts) {
    clients.push(await login(server.port, "localhost", account, "PLAIN"));
  }
  const sentAt: number[][] = clients.map(() => []);
  const samples: number[] = [];
  clients.forEach((client, i) => {
    client.onData = (c) => {
      const now = performance.now();
      let at;
      while ((at = c.text.indexOf("</message>")) >= 0) {
        c.text = c.text.slice(at + 10);
        const t = sentAt[i ^ 1].shift();
        if (t !== undefined) samples.push(now - t);
      }
    };
  });
  const total = rate * 5;
  for (let k = 0; k < total; k++) {
    const i = k % clients.length;
    const to = accounts[i ^ 1];
    sentAt[i].push(performance.now());
    clients[i].send(`<message to='${to.user}@localhost' type='chat'><body>x</body></message>`);
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await new Promise((r) => setTimeout(r, 500));
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.floor(p / 100 * (samples.length - 1))].toFixed(2);
  console.log(
    `${which}: ${samples.length} samples, p50 ${pct(50)} p90 ${pct(90)} p99 ${pct(99)} max ${
      pct(100)
    } ms`,
  );
  for (const c of clients) c.conn.close();
} finally {
  await killAll();
  await Deno.remove(dir, { recursive: true });
}
