/**
 * The load phases of the comparison (login rate, one-to-one message routing at maximum and at
 * fixed rates, memory per session), each bounded by a deadline and measuring the server's CPU
 * and memory from /proc and the generator's own CPU use.
 */
import type { Account } from "./accounts.ts";
import { Client, login, type Mechanism } from "./client.ts";
import { CpuMeter, type Processes, rssBytes, settle } from "./proc.ts";

export interface Target {
  name: string;
  pid: number;
  port: number;
  domain: string;
  /** Every process whose CPU is the server's when it is several (a farm: nodes, nats-server). */
  pids?: readonly number[];
}

/** The processes whose CPU a phase counts as the server's. */
const serverOf = (target: Target): Processes => target.pids ?? target.pid;

/** One measured figure (one JSON line of the results). */
export interface Result {
  server: string;
  metric: string;
  value: number;
  unit: string;
  /** The load generator's CPU use during the phase, in % of one core. */
  generatorCpu?: number;
  /** The server's CPU use during the phase, in % of one core. */
  serverCpu?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` for 0…count-1 with at most `concurrency` at once; stops starting at `deadline`. */
async function pool<T>(
  count: number,
  concurrency: number,
  deadline: number,
  fn: (i: number) => Promise<T>,
): Promise<{ results: T[]; errors: string[] }> {
  // Results by index, not by the order they finish: routing pairs client i with client i^1,
  // which must be the accounts i and i^1.
  const results: (T | undefined)[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        results[i] = await fn(i);
      } catch (error) {
        errors.push(String(error instanceof Error ? error.message : error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { results: results.filter((r): r is T => r !== undefined), errors };
}

/** Logs in accounts[from…from+count) and returns the clients; throws past the deadline. */
export async function loginMany(
  target: Target,
  accounts: Account[],
  from: number,
  count: number,
  mechanism: Mechanism,
  concurrency: number,
  deadlineMs: number,
  roster = false,
): Promise<{ clients: Client[]; seconds: number; errors: string[] }> {
  const started = performance.now();
  const deadline = started + deadlineMs;
  // A login that hangs must not outlive the phase: each is raced against the deadline.
  const { results, errors } = await pool(count, concurrency, deadline, (i) => {
    const attempt = login(target.port, target.domain, accounts[from + i], mechanism, roster)
      // What arrives later (contacts' presence) is read and dropped until a phase looks at it.
      .then((c) => {
        c.onData = discard;
        return c;
      });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("login past the phase deadline")),
        Math.max(0, deadline - performance.now()),
      );
    });
    attempt.then((c) => {
      if (performance.now() > deadline) c.close();
    }, () => {});
    return Promise.race([attempt, late]).finally(() => clearTimeout(timer));
  });
  return { clients: results, seconds: (performance.now() - started) / 1000, errors };
}

const discard = (c: Client) => {
  c.text = "";
};

export function closeAll(clients: Client[]): void {
  for (const c of clients) {
    if (!c.closed) c.send("</stream:stream>");
  }
  // Give the closing tags a moment to leave, then drop the sockets.
  setTimeout(() => {
    for (const c of clients) c.close();
  }, 200);
}

export interface LoginOptions {
  mechanism: Mechanism;
  /** The first account of `accounts` to log in. */
  from: number;
  count: number;
  concurrency: number;
  deadlineMs: number;
  /** "cold" (first read of each account since the server started) or "warm", for the label. */
  cache: "cold" | "warm";
  /** Fetch the roster before the initial presence. */
  roster?: boolean;
}

/** Login rate: `count` logins at `concurrency`, kept online until all are done, then closed. */
export async function loginPhase(
  target: Target,
  accounts: Account[],
  options: LoginOptions,
): Promise<Result[]> {
  const { mechanism, count, concurrency } = options;
  await settle(target.pid);
  const generator = new CpuMeter("self");
  const server = new CpuMeter(target.pid);
  const { clients, seconds, errors } = await loginMany(
    target,
    accounts,
    options.from,
    count,
    mechanism,
    concurrency,
    options.deadlineMs,
    options.roster,
  );
  const g = generator.read(), s = server.read();
  closeAll(clients);
  await sleep(500);
  const label = `${mechanism === "PLAIN" ? "PLAIN (hashed, 4096)" : "SCRAM-SHA-1 (cached)"}${
    options.roster ? ` + roster of ${accounts[options.from].contacts.length}` : ""
  }, ${options.cache}`;
  return [{
    server: target.name,
    metric: `logins/s ${label}`,
    value: clients.length / seconds,
    unit: "logins/s",
    generatorCpu: g.percent,
    serverCpu: s.percent,
    note: `${clients.length}/${count} in ${seconds.toFixed(2)} s at concurrency ${concurrency}` +
      (errors.length ? `; ${errors.length} failed, first: ${errors[0].slice(0, 200)}` : ""),
  }, {
    // What a login costs the server whatever else runs on its core: logins/s on a busy machine
    // are capped by the CPU share the server gets.
    server: target.name,
    metric: `server CPU-ms per login ${label}`,
    value: (s.cpu / Math.max(1, clients.length)) * 1000,
    unit: "CPU-ms",
    serverCpu: s.percent,
  }];
}

/** Counts `</message>` in the client's text and keeps what follows the last one. */
function takeMessages(client: Client): number {
  const text = client.text;
  let count = 0;
  let at = text.indexOf("</message>");
  let end = 0;
  while (at >= 0) {
    count++;
    end = at + 10;
    at = text.indexOf("</message>", end);
  }
  if (count > 0) client.text = text.slice(end);
  else if (text.length > 65536) client.text = text.slice(-16); // not messages: drop
  return count;
}

export interface RoutingOptions {
  users: number;
  seconds: number;
  warmupSeconds: number;
  /** Fixed offered rates in messages/s for the latency measurements. */
  rates: number[];
  deadlineMs: number;
  /** The maximum-rate runs: to the partner's bare JID, full JID (default both; [] for none). */
  forms?: readonly ("bare" | "full")[];
}

/**
 * One-to-one routing between `users` online users in pairs (u0↔u1, u2↔u3, …): first the
 * maximum delivered rate with one message in flight per sender, then p50/p99 latency at fixed
 * offered rates spread round-robin over the senders.
 */
export async function routingPhase(
  target: Target,
  accounts: Account[],
  options: RoutingOptions,
): Promise<Result[]> {
  const { clients, errors } = await loginMany(
    target,
    accounts,
    0,
    options.users,
    "SCRAM-SHA-1",
    50,
    options.deadlineMs,
  );
  if (clients.length < options.users) {
    closeAll(clients);
    throw new Error(
      `routing: only ${clients.length}/${options.users} logged in; first error: ${errors[0]}`,
    );
  }
  try {
    return await routeOnline(target, clients, accounts.map((a) => a.user), options);
  } finally {
    for (const c of clients) c.onData = undefined;
    closeAll(clients);
    await sleep(500);
  }
}

/**
 * The measurements of `routingPhase` on clients already online: client i is user `users[i]`
 * and its partner is client i^1 (bench/farm.ts orders them to put pairs on chosen nodes).
 * Leaves the clients online.
 */
export async function routeOnline(
  target: Target,
  clients: Client[],
  users: readonly string[],
  options: Omit<RoutingOptions, "users" | "deadlineMs">,
): Promise<Result[]> {
  const results: Result[] = [];
  const server = serverOf(target);
  const n = clients.length;
  const encoder = new TextEncoder();
  let delivered = 0;
  let running = false;
  let generator: CpuMeter, serverMeter: CpuMeter;
  let g: ReturnType<CpuMeter["read"]>, s: ReturnType<CpuMeter["read"]>;
  // Maximum rate, to the partner's bare JID (what chat clients address) and then to its full
  // JID: whoever receives k messages lets its partner (their sender) send k more.
  for (const form of options.forms ?? ["bare", "full"] as const) {
    const resource = form === "full" ? "/bench" : "";
    // message[i] is what client i sends to its partner i^1.
    const message = clients.map((_, i) =>
      encoder.encode(
        `<message to='${users[i ^ 1]}@${target.domain}${resource}' type='chat'>` +
          `<body>Benchmark message from ${users[i]}, about as long as a chat line.` +
          `</body></message>`,
      )
    );
    delivered = 0;
    running = true;
    for (let i = 0; i < n; i++) {
      const partner = i ^ 1;
      clients[i].onData = (c) => {
        const k = takeMessages(c);
        delivered += k;
        if (running) { for (let j = 0; j < k; j++) clients[partner].send(message[partner]); }
      };
    }
    await settle(server);
    for (let i = 0; i < n; i++) clients[i].send(message[i]);
    await sleep(options.warmupSeconds * 1000);
    generator = new CpuMeter("self");
    serverMeter = new CpuMeter(server);
    const before = delivered;
    await sleep(options.seconds * 1000);
    const count = delivered - before;
    g = generator.read();
    s = serverMeter.read();
    running = false;
    results.push({
      server: target.name,
      metric: `routed messages/s at max, ${form} JID`,
      value: count / s.wall,
      unit: "messages/s",
      generatorCpu: g.percent,
      serverCpu: s.percent,
      note: `${count} messages in ${s.wall.toFixed(1)} s, ${n} users, 1 in flight per sender`,
    });
    results.push({
      server: target.name,
      metric: `server CPU-s per 100k messages at max, ${form} JID`,
      value: (s.cpu / count) * 100_000,
      unit: "CPU-seconds",
      serverCpu: s.percent,
    });
    // Let the last messages in flight arrive before the next measurement.
    await sleep(1000);
  }

  // Fixed rates, to bare JIDs: a 2 ms tick sends what is due. Each message carries its send time in its id, so a latency never depends on matching
  // arrivals to sends in order (a FIFO that slipped by one message once made every later
  // sample of that pair one send period too long).
  const timed = clients.map((_, i) =>
    `<message to='${users[i ^ 1]}@${target.domain}' type='chat' id='t`
  );
  const body = `'><body>Benchmark message, about as long as a chat line.</body></message>`;
  for (const offered of options.rates) {
    const samples = new Float64Array(Math.ceil(offered * options.seconds * 1.2) + 1000);
    let sampled = 0;
    let measuring = false;
    delivered = 0;
    for (let i = 0; i < n; i++) {
      clients[i].onData = (c) => {
        const now = performance.now();
        const text = c.text;
        let end = 0;
        for (let at = text.indexOf("</message>"); at >= 0; at = text.indexOf("</message>", end)) {
          const id = text.lastIndexOf(" id='t", at);
          const t = id >= end ? Number(text.slice(id + 6, text.indexOf("'", id + 6))) : -1;
          if (t >= 0 && measuring && sampled < samples.length) samples[sampled++] = now - t;
          delivered++;
          end = at + 10;
        }
        c.text = end > 0 ? text.slice(end) : text.length > 65536 ? text.slice(-16) : text;
      };
    }
    await settle(server);
    let sent = 0;
    let next = 0;
    const started = performance.now();
    const warmupEnd = started + options.warmupSeconds * 1000;
    const end = warmupEnd + options.seconds * 1000;
    generator = new CpuMeter("self");
    serverMeter = new CpuMeter(server);
    let windowStart = { sent: 0, delivered: 0 };
    // The generator's own longest stall between ticks (event-loop lag, its GC pauses).
    let lastTick = performance.now();
    let maxGap = 0;
    while (true) {
      const now = performance.now();
      if (measuring) maxGap = Math.max(maxGap, now - lastTick);
      lastTick = now;
      if (now >= end) break;
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        generator = new CpuMeter("self");
        serverMeter = new CpuMeter(server);
        windowStart = { sent, delivered };
      }
      const due = Math.floor(((now - started) / 1000) * offered) - sent;
      for (let j = 0; j < due; j++) {
        clients[next].send(timed[next] + (measuring ? now.toFixed(3) : "-1") + body);
        next = (next + 1) % n;
        sent++;
      }
      await sleep(2);
    }
    g = generator.read();
    s = serverMeter.read();
    const sentInWindow = sent - windowStart.sent;
    const deliveredInWindow = delivered - windowStart.delivered;
    // Let what is in flight arrive (bounded) so that late messages still count as samples.
    const drainEnd = performance.now() + 5000;
    while (delivered < sent && performance.now() < drainEnd) await sleep(20);
    measuring = false;
    const sorted = samples.subarray(0, sampled).sort();
    const pct = (p: number) => sorted[Math.min(sampled - 1, Math.floor((p / 100) * sampled))];
    const lost = sent - delivered;
    const note = `offered ${offered}/s: ${sentInWindow} sent, ${deliveredInWindow} delivered ` +
      `in the window, ${sampled} samples (p90 ${pct(90)?.toFixed(1)}, p99.9 ${
        pct(99.9)?.toFixed(1)
      }, max ${sorted[sampled - 1]?.toFixed(1)} ms; generator's longest tick gap ${
        maxGap.toFixed(1)
      } ms)${lost > 0 ? `, ${lost} not delivered after 5 s` : ""}`;
    for (const [p, name] of [[50, "p50"], [99, "p99"]] as const) {
      results.push({
        server: target.name,
        metric: `${name} latency at ${offered} messages/s, bare JID`,
        value: sampled ? pct(p) : NaN,
        unit: "ms",
        generatorCpu: g.percent,
        serverCpu: s.percent,
        note,
      });
    }
    results.push({
      server: target.name,
      metric: `server CPU-s per 100k messages (at ${offered}/s)`,
      value: (s.cpu / Math.max(1, deliveredInWindow)) * 100_000,
      unit: "CPU-seconds",
      serverCpu: s.percent,
    });
  }
  for (const c of clients) c.onData = undefined;
  return results;
}

/**
 * Memory per connected session: anonymous RSS before any session and at each level of online
 * sessions (logged in with SCRAM, cumulative, each broadcasting presence to its contacts online),
 * `(RSS(n) − RSS(0)) / n`.
 */
export async function memoryPhase(
  target: Target,
  accounts: Account[],
  levels: number[],
  deadlineMs: number,
): Promise<Result[]> {
  const results: Result[] = [];
  await settle(target.pid);
  // Anonymous memory (heap, stacks, buffers) is the figure; the total RSS also counts the pages
  // of mapped files, which for ours includes the SQLite file Deno KV maps as it reads (rosters of
  // thousands of users), so it is given in the note.
  const base = rssBytes(target.pid, "RssAnon");
  const baseTotal = rssBytes(target.pid);
  const clients: Client[] = [];
  const deadline = performance.now() + deadlineMs;
  try {
    for (const level of levels) {
      const generator = new CpuMeter("self");
      const { clients: more, seconds, errors } = await loginMany(
        target,
        accounts,
        clients.length,
        level - clients.length,
        "SCRAM-SHA-1",
        50,
        Math.max(0, deadline - performance.now()),
      );
      const g = generator.read();
      clients.push(...more);
      const online = clients.length;
      if (online === 0) throw new Error(`no session online: ${errors[0]}`);
      await settle(target.pid);
      await sleep(1000);
      const rss = rssBytes(target.pid, "RssAnon");
      const total = rssBytes(target.pid);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      results.push({
        server: target.name,
        metric: `memory per session at ${level}, rosters of ${accounts[0].contacts.length}`,
        value: (rss - base) / online / 1024,
        unit: "KiB",
        generatorCpu: g.percent,
        note: (online < level ? `only ${online} online when the phase's time ran out; ` : "") +
          `anonymous RSS ${mib(base)} → ${mib(rss)} MiB, total RSS ${mib(baseTotal)} → ` +
          `${mib(total)} MiB (${((total - baseTotal) / online / 1024).toFixed(1)} KiB per ` +
          `session); ${more.length} SCRAM logins in ${seconds.toFixed(1)} s` +
          (errors.length ? `; ${errors.length} failed, first: ${errors[0].slice(0, 200)}` : ""),
      });
      if (online < level) break;
    }
  } finally {
    closeAll(clients);
    await sleep(1000);
  }
  return results;
}
