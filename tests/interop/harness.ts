/**
 * The server the interop tests drive real clients against (issue 3, "Done when"): our whole
 * server, in this process, built from a config text like `jabberd start` builds it, with c2s on
 * 127.0.0.1 port 0 (STARTTLS and XEP-0368 direct TLS) using the test certificates, in-band
 * registration (XEP-0077) allowed from loopback, and XDB in a temporary folder that survives
 * `restart()`.
 */
import { denoAdapters } from "../../src/adapters/deno/mod.ts";
import { testC2sSection, testServer, TLS_FIXTURES } from "../../src/server/_testing.ts";

/** The test CA (`tests/fixtures/tls/ca.pem`) that signed the `localhost` certificate. */
export const CA_FILE = `${TLS_FIXTURES}ca.pem`;

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
  /** Extra sections (a `<service>` with a component, such as the MUC service). */
  services?: string;
}

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
  const start = () =>
    testServer(configText(dataDir, options), {
      file: `${dataDir}/jabberd.xml`,
      adapters: denoAdapters(),
    });
  // Restarted in place, on the same data folder: what a login right after a start sees.
  const world = await start();
  return {
    domain: DOMAIN,
    get hostname() {
      return world.address("c2s").hostname;
    },
    get port() {
      return world.address("c2s").port;
    },
    get tlsPort() {
      return world.address("c2s-tls").port;
    },
    dataDir,
    get logs() {
      return world.logLines();
    },
    async restart() {
      await world.restart();
    },
    async stop() {
      await world.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      leftovers.delete(dataDir);
    },
  };
}

function configText(dataDir: string, options: HarnessOptions): string {
  return `<jabberd>
  ${
    testC2sSection("c2s", `<listen port="0" address="127.0.0.1" tls="direct"/>${options.c2s ?? ""}`)
  }
  <service id="sessions">
    <host>${DOMAIN}</host>
    <sm xmlns="jabberd:config:sm">
      <admin>admin@${DOMAIN}</admin>
      ${options.sm ?? ""}
    </sm>
  </service>
  ${options.services ?? ""}
  <xdb id="xdb">
    <host/>
    <kv>${dataDir}/jabberd.kv</kv>
  </xdb>
</jabberd>`;
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
