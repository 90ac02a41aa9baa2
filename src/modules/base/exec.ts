/**
 * `<exec>`: runs a program and exchanges packets with it over its stdin and stdout (jabberd 1.4's
 * exec; DESIGN "Base modules"), as an XML stream in the `jabber:component:exec` namespace: the
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
import { validateRestartOptions } from "./load.ts";
import { addressAllowed, checkComponentStanza } from "./link/component_rules.ts";
import { decodePacket } from "./link/wire.ts";
import { ProcessLink, type ProcessLinkOptions } from "./process_link.ts";
import { parseSize } from "../../config/units.ts";

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
    for (const child of element.elements) {
      if (child.local !== "arg") {
        context.problem(child, `<exec> holds only <arg> elements, not <${child.name}>`);
      }
    }
    validateRestartOptions(element, context);
    const bytes = element.attr("max-bytes");
    if (bytes !== undefined) {
      try {
        parseSize(bytes);
      } catch (error) {
        context.problem(element, `<exec max-bytes="${bytes}"> is not a size: ${reason(error)}`);
      }
    }
    const packets = element.attr("max-packets");
    if (packets !== undefined && !/^\d+$/.test(packets.trim())) {
      context.problem(element, `<exec max-packets="${packets}"> must be a whole number`);
    }
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
  return {
    restartDelayMs: api.options.duration("restart-delay", 1000)!,
    restartMaxMs: api.options.duration("restart-max", 60_000)!,
    queueMax: api.options.integer("queue", 1000)!,
    queueAgeMs: api.options.duration("queue-timeout", 30_000)!,
    maxBytesPerSecond: api.options.size("max-bytes", 4 * 1024 * 1024)!,
    maxPacketsPerSecond: api.options.integer("max-packets", 5000)!,
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

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
