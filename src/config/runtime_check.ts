/**
 * What the runtime cannot run, refused before anything starts (docs/architecture.md "The config
 * file", "The runtime boundary"): the adapter set declares its `RuntimeCapabilities`
 * (src/adapters/types.ts) and the config check compares every module of the config against
 * them, one sentence per refusal saying what to write instead, at the element concerned.
 *
 * The needs are listed here, by config element, rather than by each module: they are facts of
 * the config file's format (`<exec>` starts a program whatever its settings), and one table is
 * where a new runtime's author reads what the config may ask of it. A module added later that
 * needs more than the main thread, KV and `http.serve` adds its line.
 */
import type { RuntimeCapabilities } from "../adapters/types.ts";
import type { Element } from "../xml/element.ts";
import { boolean, oneOf, options } from "./options.ts";
import type { Sink } from "./option_kinds.ts";
import type { SectionConfig } from "./validate.ts";

/** A refusal: where, and the sentence. */
export interface Refusal {
  at: Element;
  message: string;
}

/** Reads settings that the module's own validator already checked: nothing is reported twice. */
const QUIET: Sink = { checkNames: false, problem() {}, warning() {} };

const C2S_TCP = options({ tcp: options({ enabled: boolean(true) }) }, { others: true });
const LOAD_THREAD = options({ thread: oneOf(["main", "worker"], "main") }, { others: true });
const SYSLOG_PROTOCOL = options({ protocol: oneOf(["udp", "tcp"], "udp") }, { others: true });

type Rule = (element: Element, runtime: RuntimeCapabilities) => Refusal[];

/** One refusal at `element` when the runtime lacks `has`. */
const needs =
  (has: (runtime: RuntimeCapabilities) => boolean, sentence: Sentence): Rule =>
  (element, runtime) => has(runtime) ? [] : [{ at: element, message: sentence(runtime.name) }];

type Sentence = (runtime: string) => string;

/** What each config element needs beyond the main thread, KV and the runtime's HTTP. */
const RULES: Record<string, Rule> = {
  exec: needs(
    (r) => r.processes,
    (name) =>
      `<exec> starts a program, and ${name} cannot start processes; run the component in ` +
      `the server with <load path="…"> instead, or keep <exec> on a self-hosted jabberd`,
  ),
  fork: needs(
    (r) => r.processes,
    (name) =>
      `<fork> runs its module in a child process, and ${name} cannot start processes; ` +
      `write <load path="…"> instead to run it in the server itself`,
  ),
  load(element, runtime) {
    if (runtime.workers || LOAD_THREAD.validate(element, QUIET).thread !== "worker") return [];
    return [{
      at: element,
      message: `<load thread="worker"> runs its module in a Web Worker, which ${runtime.name} ` +
        `does not offer; remove thread="worker" to run it in the main thread`,
    }];
  },
  file: needs(
    (r) => r.files,
    (name) =>
      `<file> writes log lines to a file, and ${name} keeps no files; log with <stderr/> ` +
      `instead (${name} collects standard error in its own log)`,
  ),
  syslog(element, runtime) {
    const { protocol } = SYSLOG_PROTOCOL.validate(element, QUIET);
    if (protocol === "udp" ? runtime.udp : runtime.tcp) return [];
    return [{
      at: element,
      message: `<syslog> sends log lines over ${protocol.toUpperCase()}, which ${runtime.name} ` +
        `cannot do; log with <stderr/> instead (${runtime.name} collects standard error)`,
    }];
  },
  accept: needs(
    (r) => r.tcp,
    (name) =>
      `<accept> listens on a TCP port, and ${name} cannot listen on TCP; remove it (run the ` +
      `component in the server with <load path="…">, or keep <accept> on a self-hosted jabberd)`,
  ),
  connect: needs(
    (r) => r.tcp,
    (name) =>
      `<connect> dials a TCP port, and ${name} cannot open TCP connections; remove it (run the ` +
      `component in the server with <load path="…">, or keep <connect> on a self-hosted jabberd)`,
  ),
  farm: needs(
    (r) => r.tcp,
    (name) =>
      `<farm> joins the other nodes through NATS over TCP, which ${name} cannot open; remove ` +
      `it: on Deno Deploy the isolates already share sessions through Deno KV (deploy/isolates.ts)`,
  ),
  "jabberd:config:s2s": needs(
    (r) => r.tcp,
    (name) =>
      `Federation (s2s) needs TCP on port 5269, which ${name} cannot listen on; remove this ` +
      `<s2s> (the server then serves its own domains only), or run s2s on a self-hosted jabberd`,
  ),
  "jabberd:config:c2s"(element, runtime) {
    if (runtime.tcp || !C2S_TCP.validate(element, QUIET).tcp.enabled) return [];
    const listens = element.getChildren("listen");
    const sentence = `<c2s> listens for clients on TCP` +
      (listens.length > 0 ? "" : " (ports 5222 and 5223 unless told otherwise)") +
      `, which ${runtime.name} cannot do; write <tcp enabled="false"/> in <c2s> instead ` +
      `${listens.length > 0 ? "of <listen> " : ""}so clients come over WebSocket or BOSH ` +
      `through the <http> section`;
    return listens.length > 0
      ? listens.map((listen) => ({ at: listen, message: sentence }))
      : [{ at: element, message: sentence }];
  },
  "jabberd:config:http"(element, runtime) {
    if (runtime.httpListen) return [];
    return element.getChildren("listen").map((listen) => ({
      at: listen,
      message: `${runtime.name} serves HTTP itself (deno serve), so <listen> binds nothing; ` +
        `remove it: requests come on the address given to deno serve (on Deploy, the ` +
        `project's URL)`,
    }));
  },
  "jabberd:config:upload": needs(
    (r) => r.files,
    (name) =>
      `<upload> keeps uploaded files in a directory, and ${name} keeps no files; remove this ` +
      `section, or serve uploads from a self-hosted jabberd`,
  ),
};

/** Every module of `sections` that `runtime` cannot run, in config order. */
export function checkRuntime(
  sections: readonly SectionConfig[],
  runtime: RuntimeCapabilities,
): Refusal[] {
  const refusals: Refusal[] = [];
  for (const section of sections) {
    for (const { definition, element } of section.modules) {
      refusals.push(...(RULES[definition.element]?.(element, runtime) ?? []));
    }
  }
  return refusals;
}
