/**
 * `<echo/>`: answers every message with a body sent to its section's hosts with the same body,
 * from the address it was sent to: a peer to try clients, components and links against. The
 * base-module example of docs/CONTRIBUTING.md; tests/contributing_example_test.ts runs it.
 */
import { expectEmpty } from "../../src/config/validators.ts";
import type { ModuleDefinition } from "../../src/server/module_api.ts";
import { xml } from "../../src/xml/element.ts";

export const echo: ModuleDefinition = {
  element: "echo",
  sections: ["service"],
  validate: expectEmpty,
  register(api) {
    api.handle("deliver", (packet) => {
      const message = packet.element;
      if (packet.kind !== "normal" || !message.is("message")) return "pass";
      const body = message.getChildText("body");
      // Never answer an error (RFC 6120 §8.3.1), nor what has nobody to answer to.
      if (message.attrs.type === "error" || !message.attrs.from || body === undefined) {
        return "done";
      }
      const from = message.attrs.to ?? api.id;
      const type = message.attrs.type ?? "normal";
      // The packet as cause: two echoes talking to each other stop at the hop limit (R22).
      api.deliver(
        xml("message", { to: message.attrs.from, from, type }, xml("body", {}, body)),
        packet,
      );
      return "done";
    });
  },
};
