/**
 * The one test world: a whole `Server` built from config text by the real loader and validator
 * (`src/config/`) with the real module registry, on the in-memory adapters unless a test passes
 * the Deno ones. Tests of modules, scenarios and interop all start here, so they run the same
 * composition `jabberd start` runs. Used by tests only (it may import what production code may
 * not, such as the test certificates).
 */
import {
  type MemoryAdapters,
  memoryAdapters,
  type MemoryAdaptersOptions,
} from "../adapters/memory/mod.ts";
import { testCertificates } from "../adapters/net_conformance.ts";
import type { Adapters, Connection, ConnectOptions } from "../adapters/types.ts";
import { type Config, formatProblem, loadConfigText } from "../config/mod.ts";
import { builtinModules } from "../modules/mod.ts";
import type { Packet, PacketKind } from "../tree/packet.ts";
import type { Router } from "../tree/router.ts";
import { Element } from "../xml/element.ts";
import type { ListenerAddress, ModuleDefinition, XdbClient } from "./module_api.ts";
import { Section } from "./section.ts";
import { Server } from "./server.ts";

/** Where the config "file" lies by default: certificates and relative paths resolve here. */
export const TEST_CONFIG_DIR = "/etc/jabberd";

/** The test CA and certificates (`tools/make_test_certs.sh`), at the same paths in memory. */
export const TLS_FIXTURES = new URL("../../tests/fixtures/tls/", import.meta.url).pathname;

/**
 * A c2s `<service>` for `localhost` as tests use it, on memory or real sockets alike:
 * 127.0.0.1 on a free port with STARTTLS and the test certificate, cheap SCRAM (4096
 * iterations), open registration from loopback. `extra` adds c2s settings (another `<listen>`,
 * `<listen … tls="direct"/>` for the `c2s-tls` address).
 */
export function testC2sSection(id: string, extra = ""): string {
  return `<service id="${id}">
    <c2s xmlns="jabberd:config:c2s">
      <domain>localhost</domain>
      <listen port="0" address="127.0.0.1"/>
      <certificate host="localhost" cert="${TLS_FIXTURES}localhost.pem" key="${TLS_FIXTURES}localhost.key"/>
      <scram iterations="4096"/>
      <register from="127.0.0.0/8 ::1/128" rate="1000" per="1m"/>
      ${extra}
    </c2s>
  </service>`;
}

export interface TestServerOptions {
  /** Adapters to run on instead of the memory ones: the Deno adapters for socket tests. */
  adapters?: Adapters;
  /** Options for the memory adapters (files, the clock's start, programs). */
  memory?: MemoryAdaptersOptions;
  /** The config's file name: includes and relative paths resolve from its folder. */
  file?: string;
  /** Module definitions besides the built-in ones (a test's own component). */
  modules?: readonly ModuleDefinition[];
  xdbTimeoutMs?: number;
}

/**
 * A running world: what a test holds. `restart()` stops the server and starts it again on the
 * same adapters (memory KV and files survive); collectors and the fallback log carry over.
 */
export class TestServer implements AsyncDisposable {
  /** The memory adapters (unused when `options.adapters` replaced them). */
  readonly memory: MemoryAdapters;
  readonly adapters: Adapters;
  /** The test CA and certificates; `tls.pem`/`tls.key` in the config folder are `localhost`'s. */
  readonly certs: ReturnType<typeof testCertificates>;
  /** Log packets no log section took (the server writes them to standard error). */
  readonly fallback: Packet[] = [];
  readonly #config: Config;
  readonly #xdbTimeoutMs?: number;
  readonly #collectors = new Map<
    string,
    { packets: Packet[]; hosts: string[]; kind: PacketKind }
  >();
  #server?: Server;
  #requester?: Section;
  #xdb?: XdbClient;

  constructor(
    config: Config,
    memory: MemoryAdapters,
    adapters: Adapters,
    certs: ReturnType<typeof testCertificates>,
    xdbTimeoutMs?: number,
  ) {
    this.#config = config;
    this.memory = memory;
    this.adapters = adapters;
    this.certs = certs;
    this.#xdbTimeoutMs = xdbTimeoutMs;
  }

  get server(): Server {
    if (!this.#server) throw new Error("The test server is not running");
    return this.#server;
  }

  get router(): Router {
    return this.server.router;
  }

  /** An XDB client of a test section of its own, as the CLI and the session manager use XDB. */
  get xdb(): XdbClient {
    if (!this.#xdb) throw new Error("The test server is not running");
    return this.#xdb;
  }

  /** Starts the server (done by `testServer`; again after `stop()`). */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = new Server({
      adapters: this.adapters,
      fallbackLog: (packet) => this.fallback.push(packet),
      xdbTimeoutMs: this.#xdbTimeoutMs,
    });
    this.#server = server;
    await server.start(this.#config);
    // A service section of the test's own that hands out its api.xdb.
    const requester = new Section({
      id: "test-requester",
      kind: "service",
      router: server.router,
      adapters: this.adapters,
      configDir: TEST_CONFIG_DIR,
    });
    await requester.load({
      element: "test-requester",
      sections: ["service"],
      register: (api) => void (this.#xdb = api.xdb),
    }, new Element("test-requester"));
    this.#requester = requester;
    for (const [id, collector] of this.#collectors) this.#attach(id, collector);
  }

  /** Stops the server; stopping twice is harmless. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await this.#requester?.stop();
    await server.stop();
    for (const id of this.#collectors.keys()) await server.router.removeInstance(id);
    this.#server = undefined;
    this.#requester = undefined;
    this.#xdb = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** `fallback` as lines: `[type] (from) text`. */
  logLines(): string[] {
    return this.fallback.map(logLine);
  }

  /**
   * An instance named `id` that records every packet that reaches it: through its id (replies),
   * and for `hosts` of `kind` (default normal). Answers `done`; kept across a restart.
   */
  collect(id: string, hosts: string[] = [], kind: PacketKind = "normal"): Packet[] {
    const collector = { packets: [] as Packet[], hosts, kind };
    this.#collectors.set(id, collector);
    if (this.#server) this.#attach(id, collector);
    return collector.packets;
  }

  #attach(id: string, collector: { packets: Packet[]; hosts: string[]; kind: PacketKind }) {
    this.router.addInstance(id).add("deliver", (packet) => {
      collector.packets.push(packet);
      return "done";
    });
    for (const host of collector.hosts) this.router.tree.insert(collector.kind, host, id);
  }

  /** Every listener the sections published (`api.publishAddress`). */
  addresses(): (ListenerAddress & { section: string })[] {
    return this.server.addresses();
  }

  /** The first published listener named `name` (`c2s`, `c2s-tls`, `accept`, …), of `section`. */
  address(name: string, section?: string): ListenerAddress & { section: string } {
    const all = this.addresses();
    const found = all.find((a) =>
      a.name === name && (section === undefined || a.section === section)
    );
    if (!found) {
      const listed = all.map((a) => `${a.section}/${a.name}`).join(", ") || "none";
      throw new Error(`No listener named ${name} was published (published: ${listed})`);
    }
    return found;
  }

  /** Connects to the published listener `name` (on the memory net unless real adapters run). */
  connect(name = "c2s", options: Partial<ConnectOptions> = {}): Promise<Connection> {
    const { hostname, port } = this.address(name);
    return this.adapters.net.connect({ hostname, port, ...options });
  }

  /**
   * Lets the tree finish what it is delivering, every section's XDB requests get their replies
   * (a KV operation may take longer than a few turns on a busy machine), and callbacks of the
   * next turns run.
   */
  async settle(rounds = 10): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      await this.quiet();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Resolves once the tree delivers nothing and no section waits for an XDB reply. */
  async quiet(): Promise<void> {
    do {
      await this.router.idle();
      await Promise.all(this.#server?.sections().map((section) => section.settle()) ?? []);
    } while (this.#server?.sections().some((section) => section.xdbInFlight > 0));
  }
}

/**
 * Validates `configXml` (any error fails the call, with every problem listed), starts a
 * `Server` on it and returns the world. `await using world = await testServer(…)` stops it.
 */
export async function testServer(
  configXml: string,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const certs = testCertificates();
  const memory = memoryAdapters({
    ...options.memory,
    files: {
      [`${TEST_CONFIG_DIR}/tls.pem`]: certs.localhost.cert,
      [`${TEST_CONFIG_DIR}/tls.key`]: certs.localhost.key,
      [`${TLS_FIXTURES}localhost.pem`]: certs.localhost.cert,
      [`${TLS_FIXTURES}localhost.key`]: certs.localhost.key,
      ...options.memory?.files,
    },
  });
  const adapters = options.adapters ?? memory.adapters;
  const { config, problems } = await loadConfigText(
    configXml,
    options.file ?? `${TEST_CONFIG_DIR}/jabberd.xml`,
    { readTextFile: (path) => adapters.files.readTextFile(path), env: adapters.env },
    [...builtinModules, ...(options.modules ?? [])],
  );
  if (!config) {
    throw new Error(`The test config is invalid:\n${problems.map(formatProblem).join("\n")}`);
  }
  const world = new TestServer(config, memory, adapters, certs, options.xdbTimeoutMs);
  await world.start();
  return world;
}

/** A log packet as one line: `[type] (from) text`. */
export function logLine(packet: Packet): string {
  const element = packet.element;
  return `[${element.attrs.type ?? "?"}] (${element.attrs.from ?? "?"}) ${element.text()}`;
}

/** Waits until `condition` holds, polling; fails after `ms` (a bound, not a timed assertion). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
