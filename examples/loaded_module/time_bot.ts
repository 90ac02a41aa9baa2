/**
 * A module for `<load>`: a bot at its section's hosts that answers `!time` with the server's
 * time (ISO 8601, UTC) and anything else with a hint. It uses only the module API, so it runs
 * the same in the main thread, with `thread="worker"`, or under `<fork>`.
 */
import type { ModuleApi, ValidationContext } from "../../src/server/module_api.ts";
import type { Element } from "../../src/xml/element.ts";
import { xml } from "../../src/xml/element.ts";

/** Runs when the section starts (`check` validates only the <load> element itself). */
export function validate(element: Element, context: ValidationContext): void {
  const greeting = element.getChildText("greeting") ?? element.attr("greeting");
  if (greeting !== undefined && greeting.trim() === "") {
    context.problem(element, "greeting is empty; leave it out or write some text");
  }
}

export function register(api: ModuleApi): void {
  const greeting = api.options.string("greeting", "Send !time to get the time.")!;
  api.handle("deliver", (packet) => {
    const message = packet.element;
    if (message.name !== "message" || message.attrs.type === "error") return "pass";
    const body = message.getChildText("body");
    if (body === undefined || !message.attrs.from) return "done";
    const answer = body.trim() === "!time" ? new Date(api.timer.now()).toISOString() : greeting;
    api.deliver(
      xml(
        "message",
        {
          to: message.attrs.from,
          from: message.attrs.to ?? api.id,
          type: message.attrs.type ?? "chat",
        },
        xml("body", {}, answer),
      ),
      packet,
    );
    return "done";
  });
  api.log.info(`time bot answers at ${api.hosts.join(", ")}`);
}
