/**
 * The stream fuzzer (RFC 6120 §4.9.3 stream errors, §11 XML restrictions, c2s limits): one
 * whole server in this process on 127.0.0.1 (real c2s, session manager and XDB on an in-memory
 * KV) takes every class of hostile input of `tests/fuzz/classes.ts` at its stage of the stream,
 * a batch at a time, plus seeded mutants of a session, while a canary client keeps pinging.
 * Each class must get its answer within 1 s, the canary every pong within 2 s, and the
 * process's memory must stay bounded. `FUZZ_SEED=n` picks other mutants.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { addUser, c2sServerConfig, scramLogin } from "../src/modules/c2s/_testing.ts";
import { testServer } from "../src/server/_testing.ts";
import {
  CLASSES,
  CONNECTIONS_PER_IP,
  type Expect,
  type FuzzClass,
  mutants,
  seeded,
} from "./fuzz/classes.ts";
import {
  bindSession,
  DOMAIN,
  FuzzClient,
  NS_SASL,
  openStream,
  PROBE,
  PROBE_ANSWER,
  startSasl,
} from "./fuzz/client.ts";

/**
 * The classes that fail today for a cause outside the parser and the limits, each with what the
 * server does instead. A listed class's step passes while the class still fails and fails once
 * it passes: then take it off this list.
 */
export const KNOWN_FAILURES = new Map<string, string>([]);

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261206);
const MUTANTS = 12;
/** Classes run at the same time (each on its own connection). */
const BATCH = 8;
const PASSWORD = "fuzz-password";
/**
 * Growth of memory the run may cause: of this isolate's heap and buffers, where the server
 * runs, and of the process's resident set, which `deno test --parallel` shares with other files.
 */
const HEAP_BOUND = 128 << 20;
const RSS_BOUND = 512 << 20;
const MIB = 1 << 20;

const CONFIG = c2sServerConfig(
  `<require-encryption enabled="false"/>
   <limits auth-timeout="3s" connections-per-ip="${CONNECTIONS_PER_IP}"/>`,
  { kv: ":memory:" },
);

interface Outcome {
  cls: FuzzClass;
  /** Undefined when the class got what it expects, else what it got. */
  failure: string | undefined;
  /** From the end of the attack to the answer. */
  ms: number;
}

const STREAM_ERROR = /<stream:error>\s*<([a-z-]+)/;

function tail(text: string): string {
  return text.length === 0 ? "nothing" : JSON.stringify(text.slice(-160));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Brings a fresh connection to `stage`. */
async function setUp(client: FuzzClient, stage: FuzzClass["stage"], resource: string) {
  switch (stage) {
    case "before the header":
    case "in the header":
      return;
    case "before auth":
      return void await openStream(client);
    case "during SASL":
      return await startSasl(client, "fuzz");
    case "before bind": {
      await openStream(client);
      const answer = await scramLogin(client, "SCRAM-SHA-256", "fuzz", PASSWORD);
      if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
      return void await openStream(client);
    }
    case "after bind":
      return await bindSession(client, "fuzz", PASSWORD, resource);
  }
}

/** Checks what the server did after the attack; returns what was wrong, if anything. */
async function judge(
  client: FuzzClient,
  expect: Expect,
  mark: number,
  bound: boolean,
): Promise<string | undefined> {
  const since = () => client.text.slice(mark);
  const streamError = () => STREAM_ERROR.exec(since())?.[1];
  const probed = async () => {
    await client.send(PROBE);
    if (await client.wait(PROBE_ANSWER, 1000) === undefined) {
      return `no answer to a ping within 1 s; got ${tail(since())}`;
    }
    return streamError() ? `stream error ${streamError()}` : undefined;
  };
  if ("stream" in expect) {
    const ms = 1000 + (expect.afterMs ?? 0);
    await client.wait(/<\/stream:stream>/, ms);
    const got = streamError();
    if (got !== expect.stream) {
      return got ? `stream error ${got}` : `no stream error within ${ms} ms; got ${tail(since())}`;
    }
    return await client.waitClosed(1000) ? undefined : "the connection stayed open after the error";
  }
  if ("stanza" in expect) {
    const pattern = new RegExp(`<${expect.stanza} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'`);
    if (await client.wait(pattern, 1000) === undefined) {
      return `no ${expect.stanza} within 1 s; got ${tail(since())}`;
    }
    // Only a bound session may send stanzas: before that, the stream must merely stay.
    if (bound) return await probed();
    return streamError() ? `stream error ${streamError()}` : undefined;
  }
  if ("sasl" in expect) {
    const pattern = new RegExp(`<failure xmlns='${NS_SASL}'><${expect.sasl}/>`);
    if (await client.wait(pattern, 1000) === undefined) {
      return `no SASL ${expect.sasl} within 1 s; got ${tail(since())}`;
    }
    return streamError() ? `stream error ${streamError()}` : undefined;
  }
  if ("served" in expect) return await probed();
  if ("features" in expect) {
    return await client.wait(/<\/stream:features>/, 1000) === undefined
      ? `no features within 1 s; got ${tail(since())}`
      : undefined;
  }
  if ("closed" in expect) {
    if (!await client.waitClosed(1000)) return `still open after 1 s; got ${tail(since())}`;
    return streamError() ? `stream error ${streamError()}` : undefined;
  }
  if ("open" in expect) {
    await sleep(1000);
    if (streamError()) return `stream error ${streamError()}`;
    return client.isClosed ? "closed" : undefined;
  }
  if ("throttled" in expect) {
    await sleep(1000);
    const answers = since().match(/id='probe'/g)?.length ?? 0;
    if (streamError()) return `stream error ${streamError()}`;
    if (answers === 0) return "no ping answered within 1 s";
    const max = expect.throttled.maxAnswers;
    return answers > max ? `${answers} pings answered within 1 s (at most ${max})` : undefined;
  }
  // survives: never internal-server-error, and what our own parser predicts.
  await client.send(PROBE);
  await client.wait(/<\/stream:stream>|id='probe'/, 1000);
  const got = streamError();
  if (got === "internal-server-error") return "stream error internal-server-error";
  if (got) return undefined;
  if (expect.survives === "fault") return `no stream error within 1 s; got ${tail(since())}`;
  if (client.isClosed) return "closed without a stream error";
  if (expect.survives === "open" || PROBE_ANSWER.test(since())) return undefined;
  return `no answer to a ping within 1 s; got ${tail(since())}`;
}

async function runClass(cls: FuzzClass, index: number, port: number): Promise<Outcome> {
  const client = await FuzzClient.connect(port);
  try {
    const resource = `c${index}`;
    await setUp(client, cls.stage, resource);
    const mark = client.text.length;
    const other = await cls.attack(client, { resource, port });
    const started = performance.now();
    try {
      const failure = other
        ? await judge(other, cls.expect, 0, false)
        : await judge(client, cls.expect, mark, cls.stage === "after bind");
      return { cls, failure, ms: performance.now() - started };
    } finally {
      other?.close();
    }
  } catch (error) {
    return { cls, failure: `the class could not run: ${error}`, ms: 0 };
  } finally {
    client.close();
  }
}

/** Pings the server every 200 ms on a bound session until `stop`; records every delay. */
async function canary(port: number, stop: Promise<void>) {
  const client = await FuzzClient.connect(port);
  const delays: number[] = [];
  const missed: number[] = [];
  let peakRss = Deno.memoryUsage().rss;
  let peakHeap = isolateMemory();
  let stopped = false;
  let closed = false;
  stop.then(() => stopped = true);
  try {
    await bindSession(client, "canary", PASSWORD, "canary");
    for (let k = 0; !stopped && k < 10_000; k++) {
      const sent = performance.now();
      await client.send(
        `<iq type='get' id='canary${k}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
      );
      if (await client.wait(new RegExp(`id='canary${k}'`), 2000) === undefined) missed.push(k);
      else delays.push(performance.now() - sent);
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      peakHeap = Math.max(peakHeap, isolateMemory());
      await sleep(200);
    }
    closed = client.isClosed;
  } finally {
    client.close();
  }
  return { delays, missed, peakRss, peakHeap, closed };
}

/** The JavaScript heap and buffers of this isolate, where the server runs (RSS is the process's). */
function isolateMemory(): number {
  const usage = Deno.memoryUsage();
  return usage.heapUsed + usage.external;
}

function describeExpect(expect: Expect): string {
  if ("stream" in expect) return `stream error ${expect.stream}`;
  if ("stanza" in expect) return `stanza error ${expect.stanza}`;
  if ("sasl" in expect) return `SASL failure ${expect.sasl}`;
  if ("served" in expect) return "served";
  if ("features" in expect) return "stream features";
  if ("closed" in expect) return "closed";
  if ("open" in expect) return "no error, still open";
  if ("throttled" in expect) return `throttled (≤ ${expect.throttled.maxAnswers} pongs in 1 s)`;
  return {
    fault: "a stream error, not internal-server-error",
    complete: "a pong or a stream error, not internal-server-error",
    open: "anything but internal-server-error",
  }[expect.survives];
}

Deno.test("the stream fuzzer: every hostile class gets its answer within 1 s, the canary stays served", async (t) => {
  const world = await testServer(CONFIG, { adapters: denoAdapters() });
  const outcomes: Outcome[] = [];
  let report: Awaited<ReturnType<typeof canary>>;
  const baseline = { rss: Deno.memoryUsage().rss, heap: isolateMemory() };
  try {
    for (const user of ["fuzz", "canary"]) {
      await addUser(world, user, PASSWORD);
    }
    const port = world.address("c2s").port;
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => stop = resolve);
    const running = canary(port, stopped);
    const classes = [...CLASSES, ...mutants(MUTANTS, seeded(SEED))];
    const together = classes.filter((cls) => !cls.alone);
    for (let k = 0; k < together.length; k += BATCH) {
      const batch = together.slice(k, k + BATCH);
      outcomes.push(...await Promise.all(batch.map((cls, j) => runClass(cls, k + j, port))));
    }
    for (const cls of classes.filter((cls) => cls.alone)) {
      outcomes.push(await runClass(cls, classes.indexOf(cls), port));
    }
    stop();
    report = await running;
  } finally {
    await world.stop();
  }

  for (const { cls, failure, ms } of outcomes) {
    const name = `${cls.stage}: ${cls.name} → ${describeExpect(cls.expect)}`;
    await t.step(name, () => {
      const known = KNOWN_FAILURES.get(cls.name);
      if (known === undefined) {
        assert.equal(failure, undefined, `${name}: ${failure} (after ${ms.toFixed(0)} ms)`);
      } else {
        assert.notEqual(failure, undefined, `${cls.name} passes now: take it off KNOWN_FAILURES`);
      }
    });
  }
  const passed = outcomes.filter((o) => o.failure === undefined).length;
  const maxDelay = Math.max(...report.delays);
  const heap = (report.peakHeap - baseline.heap) / MIB;
  const rss = (report.peakRss - baseline.rss) / MIB;
  console.log(
    `fuzz seed ${SEED}: ${outcomes.length} classes, ${passed} as expected, ` +
      `${KNOWN_FAILURES.size} known failures; canary ${report.delays.length} pongs, slowest ` +
      `${maxDelay.toFixed(0)} ms; heap +${heap.toFixed(0)} MiB at most, RSS ` +
      `${(baseline.rss / MIB).toFixed(0)} MiB +${rss.toFixed(0)} MiB at most`,
  );
  await t.step("the canary got every pong within 2 s and kept its stream", () => {
    assert.deepEqual(report.missed, []);
    assert.ok(report.delays.length >= 5, `only ${report.delays.length} pongs`);
    assert.equal(report.closed, false);
  });
  await t.step("the server's memory stayed bounded", () => {
    assert.ok(heap < HEAP_BOUND / MIB, `the heap grew by ${heap.toFixed(0)} MiB`);
    assert.ok(rss < RSS_BOUND / MIB, `the resident set grew by ${rss.toFixed(0)} MiB`);
  });
});
