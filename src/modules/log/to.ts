/**
 * `<to>admin@example.org</to>` in a `<log>` section (jabberd 1.4's base_to): sends each line as a
 * chat message (RFC 6121 §5.2.2) `from` the section id, so an operator's client shows the log.
 *
 * Loops are the danger: delivering the message may make other components log, and those lines
 * come back here. Three guards:
 * - this module never logs anything itself;
 * - a line logged while this module is delivering (synchronously, during `api.deliver`) is
 *   written by the section's other sinks but not sent;
 * - at most {@link BURST} messages per {@link WINDOW_MS} (a window on the section clock): lines
 *   beyond are counted, and the next message sent says how many were left out. This bounds
 *   loops through asynchronous deliveries too (s2s logging a connection it opened later).
 * A bounce of a message sent here (`type="error"`, back to the section id) is taken silently:
 * reporting it would be a log line about a log line.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { JID } from "../../util/jid.ts";
import { xml } from "../../xml/element.ts";
import { describe } from "../../util/errors.ts";
import { registerSink } from "./line.ts";

/** Messages sent per window at most. */
export const BURST = 20;
export const WINDOW_MS = 10_000;

export const toModule: ModuleDefinition = {
  element: "to",
  sections: ["log"],
  validate(element, context) {
    const address = element.text().trim();
    if (address === "") {
      context.problem(element, "<to> needs an address, such as <to>admin@example.org</to>");
      return;
    }
    try {
      JID.parse(address);
    } catch (error) {
      context.problem(element, `<to> is not a valid address: ${describe(error)}`);
    }
  },
  register(api) {
    const to = JID.parse(api.config.text().trim()).toString();
    let delivering = false;
    let windowStart = -Infinity;
    let sent = 0;
    let skipped = 0;
    registerSink(api, (line) => {
      if (delivering) return;
      const now = api.timer.now();
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        sent = 0;
      }
      if (sent >= BURST) {
        skipped++;
        return;
      }
      sent++;
      const body = skipped > 0 ? `(${skipped} earlier lines not sent) ${line}` : line;
      skipped = 0;
      delivering = true;
      try {
        api.deliver(
          xml("message", { to, from: api.id, type: "chat" }, xml("body", {}, body)),
        );
      } finally {
        delivering = false;
      }
    });
    api.handle("deliver", (packet) => {
      const element = packet.element;
      const bounce = packet.kind === "normal" && element.name === "message" &&
        element.attrs.type === "error";
      return bounce ? "done" : "pass";
    });
  },
};
