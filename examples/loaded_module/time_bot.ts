/**
 * A module for `<load>`: a bot at its section's hosts that answers `!time` with the server's
 * time (ISO 8601, UTC) and anything else with a hint. It uses only the module API, so it runs
 * the same in the main thread, with `thread="worker"`, or under `<fork>`.
 */
import { options, string } from "../../src/config/options.ts";
import type { ModuleApi, ValidationContext } from "../../src/server/module_api.ts";
import type { Element } from "../../src/xml/element.ts";
import { xml } from "../../src/xml/element.ts";

/**
 * Its settings: `<greeting>` (or `greeting="…"`). The element is the `<load>` (or `<fork>`) that
 * loads it, so the names that element takes itself (`path`, `thread`, …) are accepted too.
 */
const SETTINGS = options({ greeting: string("Send !time to get the time.") }, { others: true });

/** Runs when the section starts (`check` validates only the <load> element itself). */
export function validate(element: Element, context: ValidationContext): void {
  SETTINGS.validate(element, context);
}

export function register(api: ModuleApi): void {
  const { greeting } = SETTINGS.read(api.config);
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
