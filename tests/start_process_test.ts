/**
 * `jabberd start` as a real process: the embedded default config, SIGHUP reloading, a clean
 * stop on SIGTERM and SIGINT with the XDB file written, a stop with users online, a busy port,
 * and the pidfile with `jabberd status|reload|stop`. Every process a test starts is stopped by
 * it (SIGTERM, or SIGKILL in its `finally` when something went wrong).
 */
import assert from "node:assert/strict";
import { createAccount } from "../src/accounts/store.ts";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { openStorage } from "../src/cli/storage.ts";
import { XdbStore } from "../src/modules/xdb/store.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A running `main.ts start` whose standard error is collected as it comes. */
class JabberdProcess {
  readonly child: Deno.ChildProcess;
  stderr = "";
  readonly #done: Promise<void>;

  constructor(args: string[], cwd: string) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...(args[0] === "--no-start" ? args.slice(1) : ["start", ...args])],
      cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#done = (async () => {
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.stderr += decoder.decode(value, { stream: true });
      }
    })();
  }

  /** Waits until standard error matches, for at most 30 s (then fails with what it has). */
  async waitFor(pattern: RegExp): Promise<void> {
    for (let waited = 0; !pattern.test(this.stderr); waited += 20) {
      if (waited > 30_000) {
        throw new Error(`Timed out waiting for ${pattern} in:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(signal: Deno.Signal): Promise<number> {
    this.child.kill(signal);
    return await this.exited();
  }

  /** Waits for the process to end by itself; resolves with its exit code. */
  async exited(): Promise<number> {
    const status = await this.child.status;
    await this.#done;
    return status.code;
  }

  /** Kills the process if it still runs (a test's `finally`). */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.exited();
  }
}

/** Runs `main.ts` with `args` to its end: exit code, standard output and standard error. */
async function jabberd(cwd: string, args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, out: decoder.decode(stdout), err: decoder.decode(stderr) };
}

/** A raw XMPP client over plain TCP (the test config allows PLAIN without TLS). */
async function rawClient(port: number, user: string, resource: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let text = "";
  let mark = 0;
  const reading = (async () => {
    const buffer = new Uint8Array(16384);
    try {
      for (;;) {
        const count = await conn.read(buffer);
        if (count === null) break;
        text += decoder.decode(buffer.subarray(0, count), { stream: true });
      }
    } catch {
      // Closed by the server.
    }
  })();
  const client = {
    get text() {
      return text;
    },
    send: (data: string) => conn.write(encoder.encode(data)),
    async next(pattern: RegExp): Promise<string> {
      for (let waited = 0; !pattern.test(text.slice(mark)); waited += 10) {
        if (waited > 20_000) throw new Error(`Timed out waiting for ${pattern} in:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const part = text.slice(mark);
      const match = pattern.exec(part)!;
      mark += match.index + match[0].length;
      return part.slice(0, match.index + match[0].length);
    },
    async open() {
      await client.send(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
          "to='localhost' version='1.0'>",
      );
      await client.next(/<\/stream:features>/);
    },
    /** Waits until the server closed the connection. */
    closed: () => reading,
    close: () => conn.close(),
  };
  await client.open();
  const plain = encoder.encode(`\0${user}\0secret`).toBase64();
  await client.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`,
  );
  await client.next(/<success[^>]*\/>|<\/success>/);
  await client.open();
  await client.send(
    "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      `<resource>${resource}</resource></bind></iq>`,
  );
  await client.next(/<\/iq>/);
  await client.send("<presence/>");
  await client.next(new RegExp(`<presence[^>]*from='${user}@localhost/${resource}'`));
  return client;
}

Deno.test("jabberd start runs the embedded default config, says it lacks the server's V8 flag, and stops cleanly on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  // Started as `deno run -A main.ts start`, without `deno task start`'s --v8-flags.
  const jabberd = new JabberdProcess([], dir);
  try {
    await jabberd.waitFor(/jabberd for Deno [\d.]+ started/);
    assert.match(jabberd.stderr, /Using the embedded default config/);
    if (Deno.build.os === "linux") {
      assert.match(
        jabberd.stderr,
        /^jabberd: running without the V8 flag --no-allocation-site-pretenuring; .*deno task start/m,
      );
    }
    assert.equal(await jabberd.stop("SIGTERM"), 0);
    assert.match(jabberd.stderr, /Stopping on SIGTERM/);
    assert.ok((await Deno.stat(`${dir}/data/jabberd.kv`)).isFile, "the XDB file exists");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jabberd start re-reads its config on SIGHUP and stops on SIGINT", async () => {
  const dir = await Deno.makeTempDir();
  const config = (extra: string) =>
    `<jabberd>
      <service id="one"><host>one.test</host><null/></service>
      ${extra}
      <log id="logs"><host/><stderr/><file>logs/jabberd.log</file></log>
    </jabberd>`;
  await Deno.writeTextFile(`${dir}/jabberd.xml`, config(""));
  const jabberd = new JabberdProcess(["-c", "jabberd.xml"], dir);
  try {
    await jabberd.waitFor(/started/);
    await Deno.writeTextFile(`${dir}/jabberd.xml`, config("<service id='two'><bogus/></service>"));
    jabberd.child.kill("SIGHUP");
    await jabberd.waitFor(/nothing changed/);
    assert.match(jabberd.stderr, /jabberd\.xml:3:\d+: Unknown element <bogus>/);

    await Deno.writeTextFile(`${dir}/jabberd.xml`, config("<service id='two'><null/></service>"));
    jabberd.child.kill("SIGHUP");
    await jabberd.waitFor(/config reloaded/);
    assert.match(jabberd.stderr, /started \[two\]/);

    assert.equal(await jabberd.stop("SIGINT"), 0);
    const logFile = await Deno.readTextFile(`${dir}/logs/jabberd.log`);
    assert.match(logFile, /Stopping on SIGINT/, "the file sink was flushed before exit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A whole server on 127.0.0.1, plain TCP allowed, logging everything to standard error. */
function wholeServerConfig(port = 0, extra = ""): string {
  return `<jabberd>
    ${extra}
    <service id="c2s">
      <c2s xmlns="jabberd:config:c2s">
        <domain>localhost</domain>
        <listen port="${port}" address="127.0.0.1"/>
        <require-encryption enabled="false"/>
        <plain allow-unencrypted="true"/>
      </c2s>
    </service>
    <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
    <xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb>
    <log id="logs"><host/><stderr/></log>
  </jabberd>`;
}

Deno.test("jabberd start stopped with users online exits 0 with a final stopped line and stores their last logout", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/jabberd.xml`, wholeServerConfig());
  const storage = await openStorage(`${dir}/jabberd.xml`, { ...denoAdapters(), stderr: () => {} });
  for (const user of ["alice", "bob"]) {
    await createAccount(storage!.xdb, `${user}@localhost`, "secret", { iterations: 4096 });
  }
  await storage!.stop();
  const server = new JabberdProcess(["-c", "jabberd.xml"], dir);
  const clients: Awaited<ReturnType<typeof rawClient>>[] = [];
  try {
    await server.waitFor(/started/);
    const port = Number(/c2s: listening on 127\.0\.0\.1:(\d+)/.exec(server.stderr)![1]);
    const alice = await rawClient(port, "alice", "home");
    const bob = await rawClient(port, "bob", "work");
    clients.push(alice, bob);
    // Each other's contacts, both ways.
    for (const [asker, owner, ownerName] of [[alice, bob, "bob"], [bob, alice, "alice"]] as const) {
      await asker.send(`<presence to='${ownerName}@localhost' type='subscribe'/>`);
      await owner.next(/type='subscribe'/);
      await owner.send(
        `<presence to='${asker === alice ? "alice" : "bob"}@localhost' type='subscribed'/>`,
      );
      await asker.next(new RegExp(`<presence[^>]*from='${ownerName}@localhost/`));
    }

    assert.equal(await server.stop("SIGTERM"), 0, server.stderr);
    await Promise.all(clients.map((client) => client.closed()));
    for (const client of clients) assert.match(client.text, /<system-shutdown/);
    const lines = server.stderr.trimEnd().split("\n");
    assert.match(lines.at(-1)!, /jabberd for Deno [\d.]+ stopped$/, "the last line says stopped");
    const problems = lines.filter((line) => /^\S+ \S+ (warn|error|alert) /.test(line));
    assert.deepEqual(problems, [], server.stderr);

    const kv = await denoAdapters().kv.open(`${dir}/data/jabberd.kv`);
    const store = new XdbStore(kv);
    for (const user of ["alice", "bob"]) {
      const last = await store.get(`${user}@localhost`, "jabber:iq:last");
      assert.ok(last?.attrs.stamp, `${user}'s last logout is stored`);
    }
    await store.close();
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch {
        // Closed by the server already.
      }
    }
    await server.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jabberd start exits 1 naming the port when a listener's port is busy, unless --keep-going", async () => {
  const dir = await Deno.makeTempDir();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = busy.addr.port;
  await Deno.writeTextFile(`${dir}/jabberd.xml`, wholeServerConfig(port));
  // One after the other: both use the config's default pidfile in `dir`.
  let keepGoing: JabberdProcess | undefined;
  try {
    const refused = await jabberd(dir, ["start", "-c", "jabberd.xml"]);
    assert.equal(refused.code, 1, refused.err);
    assert.match(
      refused.err,
      new RegExp(
        `Port ${port} is already in use, probably by another jabberd or XMPP server; ` +
          `find it with \`ss -ltnp 'sport = :${port}'\``,
      ),
    );
    assert.doesNotMatch(refused.err, / started/);

    keepGoing = new JabberdProcess(["-c", "jabberd.xml", "--keep-going"], dir);
    await keepGoing.waitFor(/started/);
    assert.match(keepGoing.stderr, /Section c2s failed to start and was stopped: Port \d+ is/);
    assert.equal(await keepGoing.stop("SIGTERM"), 0);
  } finally {
    busy.close();
    await keepGoing?.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jabberd status, reload and stop find the server through its pidfile; a stale one is replaced", async () => {
  const dir = await Deno.makeTempDir();
  const config = (extra: string) =>
    `<jabberd><pidfile>run/jabberd.pid</pidfile>
      <service id="one"><host>one.test</host><null/></service>${extra}
      <log id="logs"><host/><stderr/></log></jabberd>`;
  await Deno.writeTextFile(`${dir}/jabberd.xml`, config(""));
  // A pidfile left by a process that is gone.
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await Deno.mkdir(`${dir}/run`);
  await Deno.writeTextFile(`${dir}/run/jabberd.pid`, `${gone.pid}\n`);
  const before = await jabberd(dir, ["status", "-c", "jabberd.xml"]);
  assert.equal(before.code, 1);
  assert.match(before.out, new RegExp(`not running \\(the pidfile .* names pid ${gone.pid}`));

  const server = new JabberdProcess(["-c", "jabberd.xml"], dir);
  try {
    await server.waitFor(/started/);
    assert.match(server.stderr, new RegExp(`Replaced the stale pidfile .*pid ${gone.pid}`));
    const pid = server.child.pid;
    assert.equal((await Deno.readTextFile(`${dir}/run/jabberd.pid`)).trim(), String(pid));

    const status = await jabberd(dir, ["status", "-c", "jabberd.xml"]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, new RegExp(`^jabberd is running as pid ${pid} since \\d{4}-`));

    // A second server on the same pidfile refuses to start.
    const second = await jabberd(dir, ["start", "-c", "jabberd.xml"]);
    assert.equal(second.code, 1);
    assert.match(second.err, new RegExp(`already running as pid ${pid}`));

    await Deno.writeTextFile(`${dir}/jabberd.xml`, config("<service id='two'><null/></service>"));
    const reload = await jabberd(dir, ["reload", "-c", "jabberd.xml"]);
    assert.equal(reload.code, 0, reload.err);
    await server.waitFor(/config reloaded; started \[two\]/);

    const stop = await jabberd(dir, ["stop", "-c", "jabberd.xml"]);
    assert.equal(stop.code, 0, stop.err);
    assert.match(stop.out, new RegExp(`Stopped jabberd \\(pid ${pid}\\)`));
    assert.equal(await server.exited(), 0);
    assert.match(server.stderr, /Stopping on SIGTERM/);
    assert.equal(await Deno.stat(`${dir}/run/jabberd.pid`).catch(() => undefined), undefined);

    const after = await jabberd(dir, ["status", "-c", "jabberd.xml"]);
    assert.equal(after.code, 3);
    assert.match(after.out, /jabberd is not running \(no pidfile/);
    assert.equal((await jabberd(dir, ["reload", "-c", "jabberd.xml"])).code, 1);
  } finally {
    await server.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("jabberd killed with SIGKILL right after answering keeps every message it acknowledged, in order", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/jabberd.xml`, wholeServerConfig());
  const storage = await openStorage(`${dir}/jabberd.xml`, { ...denoAdapters(), stderr: () => {} });
  for (const user of ["alice", "bob"]) {
    await createAccount(storage!.xdb, `${user}@localhost`, "secret", { iterations: 4096 });
  }
  await storage!.stop();
  const clients: Awaited<ReturnType<typeof rawClient>>[] = [];
  let server = new JabberdProcess(["-c", "jabberd.xml"], dir);
  try {
    await server.waitFor(/started/);
    const portOf = (stderr: string) =>
      Number(/c2s: listening on 127\.0\.0\.1:(\d+)/.exec(stderr)![1]);
    const alice = await rawClient(portOf(server.stderr), "alice", "home");
    clients.push(alice);
    // Bob is offline: twenty chats to his bare JID, then a ping to the same address. Its answer
    // comes only once everything before it is stored (ROUTING.md R34), so nothing may be lost
    // when the process dies at once.
    for (let n = 0; n < 20; n++) {
      await alice.send(
        `<message to='bob@localhost' type='chat' id='m${n}'><body>msg ${n}</body></message>`,
      );
    }
    await alice.send(
      `<iq to='bob@localhost' type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>`,
    );
    await alice.next(/<iq[^>]*id='ping'[^>]*type='result'|<iq[^>]*type='result'[^>]*id='ping'/);
    assert.equal(await server.stop("SIGKILL"), 137);

    server = new JabberdProcess(["-c", "jabberd.xml"], dir);
    await server.waitFor(/started/);
    const bob = await rawClient(portOf(server.stderr), "bob", "work");
    clients.push(bob);
    await bob.next(/msg 19<\/body>/);
    const bodies = [...bob.text.matchAll(/<body>(msg \d+)<\/body>/g)].map((m) => m[1]);
    assert.deepEqual(bodies, Array.from({ length: 20 }, (_, n) => `msg ${n}`));
  } finally {
    for (const client of clients) {
      try {
        client.close();
      } catch {
        // Closed by the server already.
      }
    }
    await server.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
