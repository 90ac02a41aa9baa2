/**
 * A module for the `<load>`, `<fork>` tests: answers each message with its body prefixed by the
 * `prefix` setting, stores the last body through XDB on `store …`, appends to a keyed log on
 * `log KEY` (answering the newest key, the count, and how many older entries it trimmed), and
 * fails on `crash`.
 */
import { options, string } from "../../../config/options.ts";
import type { ModuleApi, ValidationContext } from "../../../server/module_api.ts";
import { xml } from "../../../xml/element.ts";
import type { Element } from "../../../xml/element.ts";

/** The element is the `<load>` or `<fork>` itself: its own names are accepted too. */
const SETTINGS = options({ prefix: string("echo: ") }, { others: true });

export function validate(element: Element, context: ValidationContext): void {
  SETTINGS.validate(element, context);
}

export function register(api: ModuleApi): void {
  const { prefix } = SETTINGS.read(api.config);
  api.log.info(`echo module up in ${api.id}`);
  api.handle("deliver", async (packet) => {
    const message = packet.element;
    if (message.name !== "message") return "pass";
    const body = message.getChildText("body") ?? "";
    const reply = (text: string) =>
      api.deliver(
        xml(
          "message",
          { to: message.attrs.from ?? "", from: message.attrs.to ?? "" },
          xml("body", {}, text),
        ),
        packet,
      );
    if (body === "crash") {
      // An uncaught error outside any handler: the thread (or process) it runs in dies.
      setTimeout(() => {
        throw new Error("crash requested");
      }, 0);
      return "done";
    }
    if (body === "throw") throw new Error("handler failed on purpose");
    if (body.startsWith("store ")) {
      await api.xdb.set(message.attrs.from ?? "", "test:last", xml("last", {}, body.slice(6)));
      const stored = await api.xdb.get(message.attrs.from ?? "", "test:last");
      reply(`stored ${stored?.text() ?? "nothing"}`);
      return "done";
    }
    if (body.startsWith("log ")) {
      const owner = (message.attrs.from ?? "").split("/")[0];
      const key = body.slice(4);
      await api.xdb.append(owner.split("@")[1], "test:log", [{ owner, key, item: xml("m") }]);
      const newest = await api.xdb.range(owner, "test:log", {
        reverse: true,
        limit: 1,
        count: true,
      });
      const trimmed = await api.xdb.trim(owner, "test:log", { end: key });
      reply(`logged ${newest.items[0]?.key} of ${newest.count}, trimmed ${trimmed}`);
      return "done";
    }
    reply(prefix + body);
    return "done";
  });
}
