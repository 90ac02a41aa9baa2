/**
 * Starts a whole server in the test process from config text, the way `jabberd start` does
 * (validation, every built-in module), on the Deno adapters unless others are given.
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import type { Adapters } from "../src/adapters/types.ts";
import { loadConfigText, optionReader } from "../src/config/mod.ts";
import { builtinModules } from "../src/modules/mod.ts";
import { Server } from "../src/server/server.ts";
import type { Packet } from "../src/tree/packet.ts";

const TLS_DIR = new URL("./fixtures/tls/", import.meta.url).pathname;

/**
 * A c2s `<service>` for `localhost` as the socket tests use it: 127.0.0.1 on a free port with
 * STARTTLS and the test certificate, cheap SCRAM (4096 iterations), open registration from
 * loopback. `extra` adds c2s settings (another `<listen>`, say).
 */
export function testC2sSection(id: string, extra = ""): string {
  return `<service id="${id}">
    <c2s xmlns="jabberd:config:c2s">
      <domain>localhost</domain>
      <listen port="0" address="127.0.0.1"/>
      <certificate host="localhost" cert="${TLS_DIR}localhost.pem" key="${TLS_DIR}localhost.key"/>
      <scram iterations="4096"/>
      <register from="127.0.0.0/8 ::1/128" rate="1000" per="1m"/>
      ${extra}
    </c2s>
  </service>`;
}

export interface StartServerOptions {
  adapters?: Adapters;
  /** Where log lines go that no log section takes (default: dropped). */
  fallbackLog?: (packet: Packet) => void;
}

/** `file` names the config (includes and relative paths resolve from its folder). */
export async function startServer(
  text: string,
  file: string,
  options: StartServerOptions = {},
): Promise<Server> {
  const adapters = options.adapters ?? denoAdapters();
  const { config, problems } = await loadConfigText(
    text,
    file,
    { readTextFile: (path) => adapters.files.readTextFile(path), env: adapters.env },
    builtinModules,
  );
  if (!config) throw new Error(`The test config is invalid: ${JSON.stringify(problems)}`);
  const server = new Server({
    adapters,
    options: optionReader,
    fallbackLog: options.fallbackLog ?? (() => {}),
  });
  await server.start(config);
  return server;
}
