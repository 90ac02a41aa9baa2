/**
 * Federation interop (RFC 6120 server streams, XEP-0220 dialback, XEP-0178 SASL EXTERNAL) with
 * real peers: throwaway Prosody 0.12 and ejabberd 23.01 (Debian packages), each with its config,
 * data and log in a temporary folder, its s2s on port 5269 of a loopback address of its own, and
 * our server with two domains. Nobody uses DNS: our `<route>` pins the peers; Prosody is pinned to
 * us by a plugin (`peers/mod_s2s_fixed_routes.lua`), ejabberd by SRV answers from a tiny DNS
 * server of the test's own, named in an Erlang inetrc file (`ERL_INETRC`). Certificates come
 * from the test CA (`tools/make_test_certs.sh`). Every process started is stopped by PID, also
 * when the test process ends early.
 */
import dgram from "node:dgram";
import { denoAdapters } from "../../src/adapters/deno/mod.ts";
import { testServer, TLS_FIXTURES } from "../../src/server/_testing.ts";
import type { InteropServer } from "../interop/harness.ts";
import { CI } from "../interop/peers.ts";
import { spawnLogged } from "../../bench/compare/proc.ts";
import { freePort, stopChild, waitForPort } from "../jabberd_process.ts";

export { CI };

/** The standard server-to-server port: every server listens on it, on its own address. */
export const S2S_PORT = 5269;
/** `FEDERATION_KEEP=1` keeps the peers' folders (config, data, logs) to read after a run. */
const KEEP = Deno.env.get("FEDERATION_KEEP") === "1";
const PLUGINS = new URL("./peers/", import.meta.url).pathname;
export const OUR_DOMAINS = ["jabberd.test", "jabberd2.test"] as const;

/**
 * `count` loopback addresses in a /24 of 127/8 picked at random, each for one server: every
 * server listens on port 5269 of its own address, and two runs at once do not collide.
 */
export function loopbackAddresses(count: number): string[] {
  const [b, c] = crypto.getRandomValues(new Uint8Array(2)).map((n) => 1 + (n % 254));
  return Array.from({ length: count }, (_, i) => `127.${b}.${c}.${i + 1}`);
}

/** A certificate and key from the test CA, by name (`tests/fixtures/tls/NAME.pem`/`.key`). */
function tlsFiles(name: string): { cert: string; key: string } {
  return { cert: `${TLS_FIXTURES}${name}.pem`, key: `${TLS_FIXTURES}${name}.key` };
}
const CA_FILE = `${TLS_FIXTURES}ca.pem`;

/** A started server: what the tests log in to (the xmpp.js driver reads domain/hostname/port). */
export interface Peer extends InteropServer {
  readonly name: string;
  /** The s2s address. */
  readonly ip: string;
  /** The server's log so far. */
  log(): string;
  /** Kills the peer at once (SIGKILL): its connections drop without a closing tag. */
  crash(): Promise<void>;
}

/** Why a peer cannot run here, or undefined: the Debian package and what it brings. */
export async function missing(kind: "prosody" | "ejabberd"): Promise<string | undefined> {
  if (kind === "prosody") {
    return await exists("/usr/bin/prosody") ? undefined : "prosody is missing (Debian package)";
  }
  return await ejabberdLibs() && await exists("/usr/bin/erl")
    ? undefined
    : "ejabberd is missing (Debian package ejabberd)";
}

/** The folder (ERL_LIBS) holding Debian's `ejabberd-VERSION`: /usr/lib/<multiarch triplet>. */
async function ejabberdLibs(): Promise<string | undefined> {
  for await (const arch of Deno.readDir("/usr/lib")) {
    if (!arch.isDirectory || !arch.name.endsWith("-linux-gnu")) continue;
    for await (const entry of Deno.readDir(`/usr/lib/${arch.name}`)) {
      if (/^ejabberd-\d/.test(entry.name)) return `/usr/lib/${arch.name}`;
    }
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (bounded) until ip:port can be bound: a peer that just stopped may hold its listening
 * socket a moment longer, and a peer that cannot bind its s2s port only logs it and runs on.
 */
async function waitUntilFree(ip: string, port: number): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      Deno.listen({ hostname: ip, port }).close();
      return;
    } catch (error) {
      if (Date.now() > end) throw new Error(`${ip}:${port} stays busy: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Peer processes running: killed when the test process ends (a failed or filtered run). */
const alive = new Set<Deno.ChildProcess>();
globalThis.addEventListener("unload", () => {
  for (const child of alive) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }
});

/** Starts `command` with its output appended to `logFile`; stopped when the tests end. */
function spawn(command: string, args: string[], logFile: string, env: Record<string, string>) {
  const running = spawnLogged(command, args, logFile, env);
  alive.add(running.child);
  running.child.status.finally(() => alive.delete(running.child));
  return running;
}

/** SIGTERM, SIGKILL after 5 s; resolves once the process is gone and its output copied. */
async function terminate(
  running: { child: Deno.ChildProcess; copied: Promise<unknown> },
  signal: Deno.Signal = "SIGTERM",
): Promise<void> {
  await stopChild(running.child, signal, 5_000);
  await running.copied.catch(() => {});
}

function readLog(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "(no log)";
  }
}

/**
 * A peer process that can be stopped and started again on the same data (`restart()`), or
 * killed without a goodbye (`crash()`, a peer that drops mid-stream).
 */
class PeerProcess implements Peer {
  readonly name: string;
  readonly domain: string;
  readonly ip: string;
  readonly hostname: string;
  readonly port: number;
  readonly tlsPort = 0;
  readonly dataDir: string;
  readonly #logFile: string;
  readonly #launch: () => { child: Deno.ChildProcess; copied: Promise<unknown> };
  readonly #cleanup: () => void;
  #running?: { child: Deno.ChildProcess; copied: Promise<unknown> };

  constructor(
    name: string,
    domain: string,
    ip: string,
    c2sPort: number,
    dir: string,
    logFile: string,
    launch: () => { child: Deno.ChildProcess; copied: Promise<unknown> },
    cleanup = () => {},
  ) {
    this.name = name;
    this.domain = domain;
    this.ip = ip;
    this.hostname = ip;
    this.port = c2sPort;
    this.dataDir = dir;
    this.#logFile = logFile;
    this.#launch = launch;
    this.#cleanup = cleanup;
  }

  get logs(): string[] {
    return this.log().split("\n");
  }

  log(): string {
    return readLog(this.#logFile);
  }

  async start(): Promise<void> {
    await waitUntilFree(this.ip, S2S_PORT);
    const running = this.#launch();
    this.#running = running;
    try {
      const log = () => this.log();
      await waitForPort(running.child, this.port, { hostname: this.ip, log });
      await waitForPort(running.child, S2S_PORT, { hostname: this.ip, log });
    } catch (error) {
      await terminate(running, "SIGKILL");
      throw error;
    }
  }

  async restart(): Promise<void> {
    if (this.#running) await terminate(this.#running);
    await this.start();
  }

  /** Kills the peer at once (SIGKILL): its connections drop without a closing tag. */
  async crash(): Promise<void> {
    if (this.#running) await terminate(this.#running, "SIGKILL");
    this.#running = undefined;
  }

  async stop(): Promise<void> {
    if (this.#running) await terminate(this.#running);
    this.#running = undefined;
    this.#cleanup();
    if (KEEP) console.log(`${this.name}'s folder is kept: ${this.dataDir}`);
    else await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}

export interface PeerOptions {
  /** The peer's XMPP domain (it has a certificate from the test CA for it). */
  domain: "prosody.test" | "ejabberd.test";
  /** The loopback address its c2s and s2s listen on. */
  ip: string;
  /** The address of each other domain the peer federates with (its s2s on `S2S_PORT`). */
  routes: Record<string, string>;
  /**
   * true: the peer trusts the test CA and accepts only peers whose certificate chains to it and
   * names them (SASL EXTERNAL where offered); false: Prosody does not know the test CA (so it
   * never offers EXTERNAL) and dialback is enough; ejabberd gets dialback besides EXTERNAL.
   */
  secureAuth: boolean;
}

/** Starts a throwaway Prosody 0.12; `stop()` ends it and removes its folder. */
export async function startProsody(options: PeerOptions): Promise<Peer> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-prosody-" });
  const c2sPort = freePort(options.ip);
  const log = `${dir}/prosody.log`;
  const tls = tlsFiles(options.domain);
  const routes = Object.entries(options.routes)
    .map(([domain, ip]) => `["${domain}"] = { "${ip}", ${S2S_PORT} }`).join(", ");
  await Deno.writeTextFile(
    `${dir}/prosody.cfg.lua`,
    `-- Throwaway Prosody for the federation tests (tests/federation/harness.ts)
run_as_root = true
daemonize = false
pidfile = "${dir}/prosody.pid"
data_path = "${dir}"
plugin_paths = { "${PLUGINS}" }
log = { { levels = { min = "debug" }, to = "console" } }
interfaces = { "${options.ip}" }
local_interfaces = { "${options.ip}" }
c2s_ports = { ${c2sPort} }
c2s_interfaces = { "${options.ip}" }
s2s_ports = { ${S2S_PORT} }
s2s_interfaces = { "${options.ip}" }
http_ports = { }
https_ports = { }
component_ports = { }
c2s_require_encryption = false
s2s_require_encryption = true
s2s_secure_auth = ${options.secureAuth}
s2s_timeout = 5
authentication = "internal_hashed"
storage = "internal"
allow_registration = true
min_seconds_between_registrations = 0
ssl = { certificate = "${tls.cert}", key = "${tls.key}"${
      options.secureAuth ? `, cafile = "${CA_FILE}"` : ""
    } }
s2s_fixed_routes = { ${routes} }
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "offline",
  "register", "s2s_fixed_routes" }
VirtualHost "${options.domain}"
`,
  );
  const peer = new PeerProcess(
    "Prosody",
    options.domain,
    options.ip,
    c2sPort,
    dir,
    log,
    () => spawn("prosody", ["--config", `${dir}/prosody.cfg.lua`], log, {}),
  );
  return await started(peer);
}

/** Starts `peer`; when it does not come up, stops it (removing its folder) and throws. */
async function started(peer: PeerProcess): Promise<Peer> {
  try {
    await peer.start();
  } catch (error) {
    await peer.stop();
    throw error;
  }
  return peer;
}

/**
 * A DNS server on 127.0.0.1 (UDP, RFC 1035 §4) that answers the SRV query for
 * `_xmpp-server._tcp.DOMAIN` (RFC 6120 §3.2.1) of each domain in `records` with its address
 * written as the target name ("127.0.0.21." on port 5269), and NXDOMAIN to everything else.
 * ejabberd asks SRV through this server (`inet_res`) but resolves the target with getaddrinfo
 * (glibc, /etc/hosts), which takes an address as the name: no hosts file needed.
 */
async function startDns(
  records: Record<string, string>,
): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (query: Uint8Array, from: { address: string; port: number }) => {
    const answer = dnsAnswer(query, records);
    if (answer) socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

const SRV = 33;

/** The reply to one DNS query, or undefined for what is not a single-question query. */
function dnsAnswer(query: Uint8Array, records: Record<string, string>): Uint8Array | undefined {
  const view = new DataView(query.buffer, query.byteOffset, query.byteLength);
  if (query.length < 12 || view.getUint16(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    labels.push(new TextDecoder().decode(query.subarray(at + 1, at + 1 + query[at])));
    at += 1 + query[at];
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return undefined;
  const name = labels.join(".").toLowerCase();
  const prefix = "_xmpp-server._tcp.";
  const target = view.getUint16(at + 1) === SRV && name.startsWith(prefix)
    ? records[name.slice(prefix.length)]
    : undefined;
  const targetName = target
    ? [
      ...target.split(".").flatMap((label) => [label.length, ...new TextEncoder().encode(label)]),
      0,
    ]
    : [];
  // Priority 0, weight 0, the port, the target.
  const rdata = [0, 0, 0, 0, S2S_PORT >> 8, S2S_PORT & 0xff, ...targetName];
  const record = target
    // A pointer to the question's name, type SRV, class IN, TTL 60 s, the data.
    ? [0xc0, 12, 0, SRV, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 0xff, ...rdata]
    : [];
  const reply = new Uint8Array(questionEnd + record.length);
  reply.set(query.subarray(0, questionEnd));
  reply.set(record, questionEnd);
  const out = new DataView(reply.buffer);
  // QR, the query's opcode and RD, RA; NXDOMAIN (3) for a name we do not know.
  out.setUint16(2, 0x8080 | (view.getUint16(2) & 0x7900) | (target ? 0 : 3));
  out.setUint16(6, target ? 1 : 0);
  out.setUint16(8, 0);
  out.setUint16(10, 0);
  return reply;
}

/** Starts a throwaway ejabberd 23.01 (a plain Erlang node, no epmd); `stop()` ends it. */
export async function startEjabberd(options: PeerOptions): Promise<Peer> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-ejabberd-" });
  const c2sPort = freePort(options.ip);
  const tls = tlsFiles(options.domain);
  const dns = await startDns(options.routes);
  await Deno.writeTextFile(
    `${dir}/inetrc`,
    `{resolv_conf, ""}.\n{nameserver, {127,0,0,1}, ${dns.port}}.\n{lookup, [dns]}.\n`,
  );
  await Deno.writeTextFile(
    `${dir}/ejabberd.yml`,
    `# Throwaway ejabberd for the federation tests (tests/federation/harness.ts)
hosts: ["${options.domain}"]
loglevel: debug
log_rotate_count: 0
certfiles: ["${tls.cert}", "${tls.key}"]
ca_file: "${CA_FILE}"
s2s_use_starttls: required
s2s_access: all
outgoing_s2s_timeout: 5 seconds
s2s_dns_timeout: 3 seconds
registration_timeout: infinity
listen:
  -
    port: ${c2sPort}
    ip: "${options.ip}"
    module: ejabberd_c2s
    starttls: true
    shaper: none
    access: all
  -
    port: ${S2S_PORT}
    ip: "${options.ip}"
    module: ejabberd_s2s_in
auth_method: [internal]
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  register:
    allow: all
shaper: {}
shaper_rules: {}
modules:
  mod_roster: {}
  mod_disco: {}
  mod_offline: {}
  mod_ping: {}
  mod_register:
    access: register
    ip_access: all
  ${options.secureAuth ? "" : "mod_s2s_dialback: {}"}
`,
  );
  await Deno.mkdir(`${dir}/spool`);
  const env = {
    EJABBERD_CONFIG_PATH: `${dir}/ejabberd.yml`,
    EJABBERD_LOG_PATH: `${dir}/ejabberd.log`,
    ERL_CRASH_DUMP: `${dir}/erl_crash.dump`,
    ERL_INETRC: `${dir}/inetrc`,
    ERL_LIBS: (await ejabberdLibs()) ?? "",
    HOME: dir,
  };
  const peer = new PeerProcess(
    "ejabberd",
    options.domain,
    options.ip,
    c2sPort,
    dir,
    `${dir}/ejabberd.log`,
    () =>
      spawn(
        "erl",
        ["-noinput", "-mnesia", "dir", `"${dir}/spool"`, "-s", "ejabberd"],
        `${dir}/erl.out`,
        env,
      ),
    () => dns.close(),
  );
  return await started(peer);
}

export interface OurOptions {
  /** The loopback address our s2s (and c2s) listen on. */
  ip: string;
  /** The peer's domain and address (its s2s on `S2S_PORT`). */
  peer: { domain: string; ip: string };
  /**
   * "external": trust the test CA, so a peer with a valid certificate authenticates with SASL
   * EXTERNAL; "dialback": no CA, the peer is an insecure domain and proves itself by dialback.
   */
  auth: "external" | "dialback";
}

/** Our server, with the domains `OUR_DOMAINS` on real sockets; data survives `restart()`. */
export type Ours = InteropServer;

/** Starts our server (c2s on a free port of `ip`, s2s on `S2S_PORT`), certificates from the CA. */
export async function startOurs(options: OurOptions): Promise<Ours> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-ours-" });
  const tls = tlsFiles("jabberd.test");
  const trust = options.auth === "external"
    ? `<ca>${CA_FILE}</ca>`
    : `<insecure-domain>${options.peer.domain}</insecure-domain>`;
  const config = `<jabberd>
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      ${OUR_DOMAINS.map((d) => `<domain>${d}</domain>`).join("")}
      <listen port="0" address="${options.ip}"/>
      <certificate cert="${tls.cert}" key="${tls.key}"/>
      <scram iterations="4096"/>
      <register from="127.0.0.0/8" rate="1000" per="1m"/>
    </c2s>
  </service>
  <service id="sessions">
    ${OUR_DOMAINS.map((d) => `<host>${d}</host>`).join("")}
    <sm xmlns="jabberd:config:sm"/>
  </service>
  <service id="s2s">
    <s2s xmlns="jabberd:config:s2s">
      <listen ip="${options.ip}" port="${S2S_PORT}"/>
      <secret>federation test secret</secret>
      <route domain="${options.peer.domain}" host="${options.peer.ip}" port="${S2S_PORT}"/>
      <tls cert="${tls.cert}" key="${tls.key}"/>
      ${trust}
      <connect-timeout>5s</connect-timeout>
    </s2s>
  </service>
  <xdb id="xdb">
    <host/>
    <kv>${dir}/jabberd.kv</kv>
  </xdb>
</jabberd>`;
  const world = await testServer(config, { file: `${dir}/jabberd.xml`, adapters: denoAdapters() })
    .catch(async (error) => {
      await Deno.remove(dir, { recursive: true });
      throw error;
    });
  return {
    domain: OUR_DOMAINS[0],
    get hostname() {
      return world.address("c2s").hostname;
    },
    get port() {
      return world.address("c2s").port;
    },
    tlsPort: 0,
    dataDir: dir,
    get logs() {
      return world.logLines();
    },
    restart: () => world.restart(),
    async stop() {
      await world.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
