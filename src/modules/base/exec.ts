/**
 * `<exec>`: runs a program and exchanges packets with it over its stdin and stdout (jabberd 1.4's
 * exec; docs/architecture.md "Base modules"), as an XML stream in the `jabber:component:exec` namespace: the
 * server writes its `<stream:stream>` header first, the program answers with its own, then both
 * send stanzas. The program is a component: message, presence and iq only, `from` its section's
 * hosts. Its stderr goes to the log; it is restarted with backoff when it exits, and stopped when
 * it floods or writes what is not well-formed.
 *
 * ```xml
 * <exec>python3 bot.py</exec>
 * <exec program="./bot.sh" restart-delay="1s" max-bytes="1MiB" max-packets="1000">
 *   <arg>--verbose</arg>
 * </exec>
 * ```
 *
 * Paths are relative to the config file's folder, which is also the program's working folder.
 */
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import { errorReply, StanzaError } from "../../util/errors.ts";
import { NS_COMPONENT_EXEC } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import { RESTART_OPTIONS } from "./load.ts";
import { addressAllowed, checkComponentStanza } from "../../link/component_rules.ts";
import { decodePacket } from "../../link/wire.ts";
import { ProcessLink, type ProcessLinkOptions } from "./process_link.ts";
import { integer, options, size } from "../../config/options.ts";

/** The restart, queue and flood settings of a supervised program: `<exec>` and `<fork>`. */
export const SUPERVISION_OPTIONS = {
  ...RESTART_OPTIONS,
  "max-bytes": size(4 * 1024 * 1024),
  "max-packets": integer(5000, { min: 0 }),
};

/** `program` and the `<arg>`s are read by `commandLine`. */
const EXEC = options(SUPERVISION_OPTIONS, { others: ["program", "arg"] });

export const exec: ModuleDefinition = {
  element: "exec",
  sections: ["service"],
  validate(element, context) {
    const command = commandLine(element);
    if (!command) {
      context.problem(
        element,
        `<exec> names no program; write <exec>python3 bot.py</exec> or ` +
          `<exec program="./bot.sh"><arg>…</arg></exec>`,
      );
    } else if (element.attr("program") !== undefined && element.text().trim() !== "") {
      context.problem(
        element,
        `<exec program="…"> takes its arguments as <arg> children, not as text`,
      );
    }
    EXEC.validate(element, context);
  },
  register(api) {
    const [program, ...args] = commandLine(api.config)!;
    const label = `Program ${[program, ...args].join(" ")}`;
    const link: ProcessLink = new ProcessLink(api, {
      ...supervisionOptions(api),
      label,
      command: program.includes("/") ? api.resolvePath(program) : program,
      args,
      cwd: api.resolvePath("."),
      header: { xmlns: NS_COMPONENT_EXEC, from: api.id, id: `exec-${api.id}` },
      carryHops: false,
      onElement: (element) => inbound(api, link, label, element),
    });
    api.handle("deliver", (packet) => {
      if (packet.kind !== "normal") return "pass";
      link.send(packet);
      return "done";
    });
    api.onUnload(() => link.stop());
    link.start();
  },
};

/** The restart, queue and flood settings shared by `<exec>` and `<fork>`. */
export function supervisionOptions(api: ModuleApi): Pick<
  ProcessLinkOptions,
  | "restartDelayMs"
  | "restartMaxMs"
  | "queueMax"
  | "queueAgeMs"
  | "maxBytesPerSecond"
  | "maxPacketsPerSecond"
> {
  // `read` checks no names, so `<fork>`'s element (with its module's settings) reads the same.
  const settings = EXEC.read(api.config);
  return {
    restartDelayMs: settings["restart-delay"],
    restartMaxMs: settings["restart-max"],
    queueMax: settings.queue,
    queueAgeMs: settings["queue-timeout"],
    maxBytesPerSecond: settings["max-bytes"],
    maxPacketsPerSecond: settings["max-packets"],
  };
}

/** What the program sent: a stanza from one of its hosts goes into the tree. */
function inbound(api: ModuleApi, link: ProcessLink, label: string, element: Element): void {
  checkComponentStanza(element);
  const from = element.attrs.from;
  if (from === undefined || !addressAllowed(from, [...api.hosts, api.id])) {
    api.log.warn(`${label} tried to send from ${from ?? "nowhere"}, which is not one of its hosts`);
    const reply = errorReply(
      element,
      new StanzaError("forbidden", `A program may send only from its own hosts`),
    );
    if (reply && reply.attrs.to !== undefined) link.reply(reply);
    return;
  }
  api.deliver(decodePacket(element, false));
}

/** The program and its arguments: `program` plus `<arg>`s, or the text split on spaces. */
export function commandLine(element: Element): string[] | undefined {
  const program = element.attr("program");
  if (program !== undefined) {
    if (program.trim() === "") return undefined;
    return [program, ...element.getChildren("arg").map((arg) => arg.text())];
  }
  const words = element.children
    .filter((child): child is string => typeof child === "string")
    .join("").trim().split(/\s+/).filter((word) => word !== "");
  return words.length > 0 ? words : undefined;
}
