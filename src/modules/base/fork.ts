/**
 * `<fork>`: runs a module (as `<load>` would) in a child jabberd process (jabberd 1.4's "pipe +
 * child process, with `<load>` for stability"; docs/architecture.md, base modules), so its crash
 * never touches the server. The child is `jabberd fork-child` (src/cli/fork_child.ts), started
 * through the process adapter's `selfCommand()` so that it works under `deno run` and in a
 * compiled binary alike; packets of every kind travel over its stdin/stdout as a node link
 * stream with hop counts (link/wire.ts), its `api.xdb` requests are answered through this
 * section's XDB client and its log lines join this server's log. It is restarted with backoff
 * when it dies; packets for it meanwhile wait (bounded) and are delivered after the restart or
 * bounced. The child acknowledges what it took (src/tree/ROUTING.md R48), so what it had not
 * acknowledged when it died is written again to the restarted child.
 *
 * ```xml
 * <service id="bot"><host>bot.example.org</host>
 *   <fork path="modules/bot.ts" restart-delay="1s"><greeting>hi</greeting></fork>
 * </service>
 * ```
 *
 * Put `<host>` before `<fork>`: the child serves the hosts the section has when it starts.
 */
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { Element as XmlElement } from "../../xml/element.ts";
import { supervisionOptions } from "./exec.ts";
import { decodePacket, linkHeaderAttrs, NS_NODE_LINK } from "../../link/wire.ts";
import { load, modulePath, moduleUrl } from "./load.ts";
import { ProcessLink } from "./process_link.ts";

export const fork: ModuleDefinition = {
  element: "fork",
  sections: ["service"],
  validate(element, context) {
    if (element.attr("thread") !== undefined) {
      context.problem(element, `<fork> runs its module in a child process; it takes no thread`);
    }
    // The same path and restart settings as <load>.
    load.validate?.(element, {
      problem: (at, message) => context.problem(at, message.replaceAll("<load", "<fork")),
      warning: (at, message) => context.warning(at, message.replaceAll("<load", "<fork")),
    });
  },
  register(api) {
    const path = modulePath(api.config)!;
    const url = moduleUrl(api, path);
    // This jabberd again (`deno run … main.ts` or the compiled binary), as `fork-child`; the
    // arguments are read at each start, so a restart gets the section's hosts of that moment.
    const child = () =>
      api.adapters.process.selfCommand([
        "fork-child",
        `--module=${url}`,
        `--id=${api.id}`,
        `--kind=${api.section}`,
        `--dir=${api.resolvePath(".")}`,
        `--hosts=${api.hosts.join(",")}`,
        `--element=${api.config.toString()}`,
      ]);
    const link: ProcessLink = new ProcessLink(api, {
      ...supervisionOptions(api),
      label: `Forked module ${path}`,
      command: child().command,
      args: () => child().args,
      header: { xmlns: NS_NODE_LINK, from: api.id, ...linkHeaderAttrs() },
      carryHops: true,
      // The child is jabberd: it acknowledges, so a packet written as it dies goes to its
      // successor (src/tree/ROUTING.md R48).
      acks: true,
      onElement: (element) => inbound(api, link, element),
    });
    api.handle("deliver", (packet) => {
      link.send(packet);
      return "done";
    });
    api.onUnload(() => link.stop());
    link.start();
  },
};

/**
 * What the child sent: its own XDB requests are answered here, through the section's client
 * (the reply to the section id would otherwise be taken by the section itself); the rest goes
 * into the tree as it is, as on a node link.
 */
function inbound(api: ModuleApi, link: ProcessLink, element: Element): void {
  const packet = decodePacket(element, true);
  if (packet.kind === "xdb" && element.attrs.from === api.id) {
    answerXdb(api, link, element);
    return;
  }
  api.deliver(packet);
}

function answerXdb(api: ModuleApi, link: ProcessLink, request: Element): void {
  const owner = request.attrs.to ?? "";
  const ns = request.attrs.ns ?? "";
  const data = request.elements[0];
  const action = request.attrs.action;
  const match = request.attrs.match;
  const work: Promise<Element | undefined | void> = request.attrs.type === "get"
    ? api.xdb.get(owner, ns)
    : action === "insert" && data
    ? api.xdb.insert(owner, ns, data, match)
    : action === "remove"
    ? api.xdb.remove(owner, ns, match ?? "")
    : api.xdb.set(owner, ns, data);
  const reply = (type: string, children: (Element | string)[]) =>
    link.reply(
      new XmlElement("xdb", {
        type,
        to: request.attrs.from ?? "",
        from: owner,
        ns,
        id: request.attrs.id ?? "",
      }, children),
    );
  work.then(
    (result) => reply("result", result ? [result] : []),
    (error) =>
      reply("error", [
        new XmlElement("error", {}, [error instanceof Error ? error.message : String(error)]),
      ]),
  );
}
