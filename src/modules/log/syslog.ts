/**
 * `<syslog facility="local0" host="127.0.0.1" port="514" protocol="udp"/>` in a `<log>` section:
 * sends each line to a syslog server as an RFC 5424 message (§6: `<PRI>1 TIMESTAMP HOSTNAME
 * APP-NAME PROCID MSGID SD MSG`), over UDP (RFC 5426) or TCP with octet-counting framing (RFC
 * 6587 §3.4.1).
 *
 * Defaults: facility `local0`, host `127.0.0.1`, port 514, protocol `udp`. The local syslog
 * socket `/dev/log` is a Unix datagram socket that Deno cannot open, so the default is the UDP
 * port of a local syslog daemon (rsyslog: `module(load="imudp") input(type="imudp"
 * port="514")`). MSG is the section's formatted line; APP-NAME is `jabberd`.
 *
 * Levels map to RFC 5424 §6.2.1 severities one to one: debug 7, info 6, notice 5, warn 4,
 * error 3, alert 1 (jabberd's alert means "action must be taken immediately", syslog's Alert).
 *
 * Written here rather than with `@logtape/syslog` (1.3.10), after trying it: LogTape has no
 * notice or alert level, so two of our six levels would get a wrong severity (alert could only
 * be `fatal`, i.e. Emergency, which many syslog setups broadcast to every terminal); and a failed
 * send (an unresolvable host) rejects a promise nobody can catch, which ends a Deno process, and
 * leaves its sink dead for every later line. The format is one line of code; UDP goes through
 * `api.adapters.datagrams`, TCP through `api.adapters.net`.
 */
import type { Connection, DatagramAdapter, NetAdapter } from "../../adapters/types.ts";
import type { LogLevel, ModuleDefinition } from "../../server/module_api.ts";
import { describe } from "../../util/errors.ts";
import { oneOf, options, port, string } from "../../config/options.ts";
import { registerSink } from "./line.ts";

/** RFC 5424 §6.2.1 facility codes, by the names syslog.conf uses. */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** RFC 5424 §6.2.1 severities for our levels. */
export const SEVERITIES: Readonly<Record<LogLevel, number>> = {
  debug: 7,
  info: 6,
  notice: 5,
  warn: 4,
  error: 3,
  alert: 1,
};

export interface SyslogHeader {
  facility: number;
  /** This machine's name, or `-` (RFC 5424 NILVALUE) when unknown. */
  hostname: string;
  appName: string;
  procId: string;
}

/** One RFC 5424 message; a type we do not know is sent as notice. */
export function formatSyslog(
  header: SyslogHeader,
  type: string,
  time: number,
  message: string,
): string {
  const severity = SEVERITIES[type as LogLevel] ?? SEVERITIES.notice;
  const priority = header.facility * 8 + severity;
  const timestamp = new Date(time).toISOString();
  return `<${priority}>1 ${timestamp} ${header.hostname} ${header.appName} ${header.procId} - - ` +
    message;
}

/** Where messages go. `send` never throws: failures go to the error callback. */
interface Transport {
  send(message: string): void;
  close(): Promise<void>;
}

function udpTransport(
  datagrams: DatagramAdapter,
  host: string,
  port: number,
  onError: (error: unknown) => void,
): Transport {
  // A send-only socket of the family of the server's address (a name is looked up as IPv4).
  const socket = datagrams.bind({ hostname: host.includes(":") ? "::" : "0.0.0.0", port: 0 });
  socket.catch(onError);
  const to = { hostname: host, port };
  return {
    // Callbacks on one promise run in the order they were added: the lines stay in order.
    send: (message) => void socket.then((opened) => opened.send(message, to)).catch(onError),
    close: () => socket.then((opened) => opened.close(), () => {}),
  };
}

/** Lines queued while a TCP connection opens; beyond this they are dropped. */
const TCP_QUEUE_LIMIT = 1000;
/** After a failed connection, lines are dropped for this long before trying again. */
const TCP_RETRY_MS = 10_000;

function tcpTransport(
  net: NetAdapter,
  now: () => number,
  host: string,
  port: number,
  onError: (error: unknown) => void,
): Transport {
  const encoder = new TextEncoder();
  let connection: Connection | undefined;
  let connecting: Promise<void> | undefined;
  let queue: string[] = [];
  let retryAt = 0;
  let closed = false;
  // RFC 6587 §3.4.1: the length in octets, a space, then the message.
  const frame = (message: string) => `${encoder.encode(message).length} ${message}`;
  const connect = async () => {
    try {
      const opened = await net.connect({ hostname: host, port });
      if (closed) return opened.close();
      opened.onClose(() => {
        if (connection === opened) connection = undefined;
      });
      connection = opened;
      for (const message of queue) opened.write(frame(message));
    } catch (error) {
      retryAt = now() + TCP_RETRY_MS;
      onError(error);
    } finally {
      queue = [];
      connecting = undefined;
    }
  };
  return {
    send(message) {
      if (connection) return connection.write(frame(message));
      if (connecting) {
        if (queue.length < TCP_QUEUE_LIMIT) queue.push(message);
        return;
      }
      if (now() < retryAt) return;
      queue.push(message);
      connecting = connect();
    },
    async close() {
      closed = true;
      await connecting;
      connection?.close();
    },
  };
}

/** RFC 5424 §6.2.4: printable US-ASCII without spaces, at most 255 characters, else `-`. */
function machineName(hostname: string | undefined): string {
  return hostname?.replace(/[^\x21-\x7e]/g, "").slice(0, 255) || "-";
}

/** `<syslog>`'s settings, all attributes (or child elements of those names). */
const SYSLOG = options({
  facility: oneOf(Object.keys(FACILITIES), "local0"),
  host: string("127.0.0.1"),
  port: port(514),
  protocol: oneOf(["udp", "tcp"], "udp"),
});

export const syslogModule: ModuleDefinition = {
  element: "syslog",
  sections: ["log"],
  validate(element, context) {
    SYSLOG.validate(element, context);
  },
  register(api) {
    const { facility, host, port, protocol } = SYSLOG.read(api.config);
    const header: SyslogHeader = {
      facility: FACILITIES[facility],
      hostname: machineName(api.adapters.process.hostname()),
      appName: "jabberd",
      procId: String(api.adapters.process.pid()),
    };
    let failed = false;
    const onError = (error: unknown) => {
      // Once, on standard error: never through api.log, which would come back here.
      if (failed) return;
      failed = true;
      api.adapters.stderr(`Cannot send to syslog at ${host}:${port}: ${describe(error)}\n`);
    };
    const transport = protocol === "tcp"
      ? tcpTransport(api.adapters.net, () => api.timer.now(), host, port, onError)
      : udpTransport(api.adapters.datagrams, host, port, onError);
    registerSink(api, (line, packet) => {
      transport.send(
        formatSyslog(header, packet.element.attrs.type ?? "", api.timer.now(), line),
      );
    });
    api.onUnload(() => transport.close());
  },
};
