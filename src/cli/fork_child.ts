/**
 * `jabberd fork-child` (hidden): the child side of `<fork>` (src/modules/base/fork.ts). Runs one
 * module in a section of its own tree and speaks a node link stream over stdin/stdout: packets
 * from the parent go into the tree, and everything the module sends that is not for its own
 * hosts (replies, xdb requests, log lines) goes back to the parent, with hop counts.
 *
 * When the parent's header offers acknowledgements (src/tree/ROUTING.md R48), this side takes the
 * offer in its own header and answers `<a xmlns='jabberd:link' h='N'/>` after each read, N being
 * the packets delivered into its tree so far; what the parent wrote and this process never
 * acknowledged goes again to the next child when this one dies.
 */
import { advertiseAcksAttrs, advertisesAcks, Receiver } from "../link/acks.ts";
import { loadModuleDefinition, validateModule } from "../modules/base/worker/definition.ts";
import { StreamLink } from "../link/stream_link.ts";
import { decodePacket, encodePacket, linkHeaderAttrs, NS_NODE_LINK } from "../link/wire.ts";
import type { SectionKind } from "../server/module_api.ts";
import { Section } from "../server/section.ts";
import { UPLINK } from "../tree/delivery_tree.ts";
import { PACKET_KINDS } from "../tree/packet.ts";
import { Router } from "../tree/router.ts";
import { parseFragment } from "../xml/stream_parser.ts";
import type { CliContext } from "./context.ts";

const PARENT = "jabberd-parent";

export async function runForkChild(
  flags: Record<string, string | true>,
  context: CliContext,
): Promise<number> {
  const { adapters } = context;
  const flag = (name: string) => typeof flags[name] === "string" ? flags[name] as string : "";
  if (!context.readStdin || !flag("module") || !flag("id")) {
    adapters.stderr("fork-child is started by <fork>; it needs --module, --id and stdin\n");
    return 2;
  }
  const router = new Router({
    fallbackLog: (packet) => adapters.stderr(`${packet.element.text()}\n`),
  });
  let ended!: () => void;
  const done = new Promise<void>((resolve) => ended = resolve);
  let dataCallback: ((chunk: Uint8Array) => void) | undefined;
  let closeCallback: ((error?: Error) => void) | undefined;
  // Counts the parent's packets when its header offers acknowledgements (R48); the stream id is
  // the one the parent's header names. This process reads one stream only: no receipt to tell.
  const receiver = new Receiver();
  let counting: string | undefined;
  const link = new StreamLink({
    onData: (callback) => dataCallback = callback,
    onClose: (callback) => closeCallback = callback,
    write: (data) =>
      adapters.stdout(typeof data === "string" ? data : new TextDecoder().decode(data)),
    close: () => ended(),
  }, {
    onHeader(header) {
      if (advertisesAcks(header) && header.attrs.id) {
        counting = header.attrs.id;
        receiver.begin(counting, (data) => link.send(data));
      }
    },
    onElement: (element) => {
      router.deliver(decodePacket(element, true));
      // Counted once delivered into the tree: acknowledged, it is this process's to handle.
      if (counting !== undefined) receiver.took(counting);
    },
    onEnd: () => ended(),
  });
  context.readStdin((chunk) => dataCallback?.(chunk), () => closeCallback?.());
  // Whatever the module sends that its own section does not serve goes to the parent.
  const chain = router.addInstance(PARENT, []);
  for (const kind of PACKET_KINDS) router.tree.insert(kind, UPLINK, PARENT);
  // What the module sends while it registers waits for our stream header.
  let early: string[] | undefined = [];
  chain.add("deliver", (packet) => {
    const text = encodePacket(packet, true);
    if (early) early.push(text);
    else link.send(text);
    return "done";
  }, "parent");

  const kind = (flag("kind") || "service") as SectionKind;
  const section = new Section({
    id: flag("id"),
    kind,
    router,
    adapters,
    configDir: flag("dir") || ".",
  });
  try {
    const element = parseFragment(flag("element") || "<fork/>");
    const hosts = flag("hosts").split(",").filter((host) => host !== "");
    await section.load({
      element: "hosts",
      sections: [kind],
      register: (api) => hosts.forEach((host) => api.addHost(host)),
    }, element);
    const url = flag("module");
    await section.load({
      element: "fork",
      sections: [kind],
      async register(api) {
        const module = await loadModuleDefinition(url);
        for (const warning of validateModule(module, api.config, url)) api.log.warn(warning);
        await module.register(api);
      },
    }, element);
  } catch (error) {
    adapters.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  // Our header only now: the parent sends what it queued once the module is ready. It always takes
  // up acknowledgements; the parent counts only when it offered them too (R48).
  link.open({
    xmlns: NS_NODE_LINK,
    from: flag("id"),
    ...linkHeaderAttrs(),
    ...advertiseAcksAttrs(),
  });
  for (const text of early) link.send(text);
  early = undefined;
  await done;
  await section.stop();
  await router.idle();
  return 0;
}
