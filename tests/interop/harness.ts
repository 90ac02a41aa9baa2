/**
 * The server the interop tests drive real clients against (issue 3, "Done when"): our whole
 * server, in this process, built from a config text like `jabberd start` builds it, with c2s on
 * 127.0.0.1 port 0 (STARTTLS and XEP-0368 direct TLS) using the test certificates, in-band
 * registration (XEP-0077) allowed from loopback, and XDB in a temporary folder that survives
 * `restart()`.
 */
import { addresses } from "../../src/modules/c2s/mod.ts";
import type { Server } from "../../src/server/server.ts";
import type { Packet } from "../../src/tree/packet.ts";
import { startServer as startJabberd, testC2sSection } from "../start_server.ts";

const TLS_DIR = new URL("../fixtures/tls/", import.meta.url).pathname;

/** The test CA (`tests/fixtures/tls/ca.pem`) that signed the `localhost` certificate. */
export const CA_FILE = `${TLS_DIR}ca.pem`;

/** The XMPP domain every interop test logs in to. */
export const DOMAIN = "localhost";

export interface InteropServer {
  readonly domain: string;
  /** The address the listeners are bound to. */
  readonly hostname: string;
  /** The STARTTLS listener's port (changes after `restart()`). */
  readonly port: number;
  /** The direct-TLS listener's port (XEP-0368; changes after `restart()`). */
  readonly tlsPort: number;
  readonly dataDir: string;
  /** Every log line the server wrote, oldest first (shown when a test fails). */
  readonly logs: string[];
  /** Stops the server and starts it again on the same data folder. */
  restart(): Promise<void>;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra children of `<c2s>` (for example a `<limits …/>`). */
  c2s?: string;
  /** Extra children of `<sm>`. */
  sm?: string;
}

let instances = 0;

/** Data folders of servers not stopped yet: removed when the test process ends (`--filter`). */
const leftovers = new Set<string>();
globalThis.addEventListener("unload", () => {
  for (const dir of leftovers) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  }
});

/**
 * Starts the server; call `stop()` when done (a `try`/`finally` around the tests).
 *
 * For a comparison run, `INTEROP_SERVER_PORT=N` points the tests at another server already
 * listening with STARTTLS on 127.0.0.1:N for `localhost`, with a certificate from the test CA
 * and open registration (the drivers were checked that way against Prosody 0.12). `restart()`
 * then only waits, so the offline test checks delivery on the next login, not a restart.
 */
export async function startServer(options: HarnessOptions = {}): Promise<InteropServer> {
  const external = Deno.env.get("INTEROP_SERVER_PORT");
  if (external) return externalServer(Number(external));
  const dataDir = await Deno.makeTempDir({ prefix: "jabberd-interop-" });
  leftovers.add(dataDir);
  // A section id of our own: c2s publishes its bound addresses by section id.
  const c2sId = `c2s-interop-${++instances}`;
  const text = configText(c2sId, dataDir, options);
  const logs: string[] = [];
  let server: Server | undefined;
  let bound: { hostname: string; port: number; tlsPort: number } | undefined;

  const start = async () => {
    const started = await startJabberd(text, `${dataDir}/jabberd.xml`, {
      fallbackLog: (packet: Packet) => logs.push(logLine(packet)),
    });
    server = started;
    bound = listening(c2sId, logs);
  };

  await start();
  return {
    domain: DOMAIN,
    get hostname() {
      return bound!.hostname;
    },
    get port() {
      return bound!.port;
    },
    get tlsPort() {
      return bound!.tlsPort;
    },
    dataDir,
    logs,
    async restart() {
      await server?.stop();
      server = undefined;
      logs.push("--- restart ---");
      await start();
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      leftovers.delete(dataDir);
    },
  };
}

function configText(c2sId: string, dataDir: string, options: HarnessOptions): string {
  return `<jabberd>
  ${
    testC2sSection(c2sId, `<listen port="0" address="127.0.0.1" tls="direct"/>${options.c2s ?? ""}`)
  }
  <service id="sessions">
    <host>${DOMAIN}</host>
    <sm xmlns="jabberd:config:sm">
      <admin>admin@${DOMAIN}</admin>
      ${options.sm ?? ""}
    </sm>
  </service>
  <xdb id="xdb">
    <host/>
    <kv>${dataDir}/jabberd.kv</kv>
  </xdb>
</jabberd>`;
}

/**
 * The c2s listeners' addresses: c2s publishes them by section id (`addresses`), and logs
 * "c2s: listening on HOST:PORT" per listener in the order of the `<listen>` elements.
 */
function listening(c2sId: string, logs: string[]) {
  const published = addresses.get(c2sId);
  const found = published ?? [...logs.join("\n").matchAll(/listening on ([\d.]+):(\d+)/g)].map(
    (match) => ({ hostname: match[1], port: Number(match[2]) }),
  ).slice(-2);
  if (found.length < 2) {
    throw new Error(`c2s did not report two listeners; its log:\n${logs.join("\n")}`);
  }
  return { hostname: found[0].hostname, port: found[0].port, tlsPort: found[1].port };
}

function logLine(packet: Packet): string {
  const element = packet.element;
  return `[${element.attrs.type ?? "?"}] (${element.attrs.from ?? "?"}) ${element.text()}`;
}

function externalServer(port: number): InteropServer {
  return {
    domain: DOMAIN,
    hostname: "127.0.0.1",
    port,
    tlsPort: 0,
    dataDir: "",
    logs: [`(an external server on 127.0.0.1:${port})`],
    restart: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}
