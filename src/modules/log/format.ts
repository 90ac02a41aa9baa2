/**
 * `<format>%d: [%t] (%h): %s</format>` in a `<log>` section (jabberd 1.4's base_format): the
 * template every sink of the section writes its lines with. `%d` is the date (ISO 8601, UTC, from
 * the section's clock), `%h` the host the line is about, `%t` the type, `%s` the text, `%%` a
 * percent sign. Sinks ask for the line by firing the section event `log-format` (line.ts); this
 * module answers it. Without a `<format>` the section uses `%d %h %t %s`.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import { fieldsOf, FORMAT_EVENT, FormatError, formatLine, parseFormat } from "./line.ts";

export const formatModule: ModuleDefinition = {
  element: "format",
  sections: ["log"],
  validate(element, context) {
    const template = element.text();
    if (template.trim() === "") {
      context.problem(element, "<format> is empty; write a template such as %d %h %t %s");
      return;
    }
    try {
      parseFormat(template);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      context.problem(element, error.message);
    }
  },
  register(api) {
    const parts = parseFormat(api.config.text());
    // Several sinks of one section ask for the same packet's line one after the other: format it
    // once. Packets are immutable once delivered, so the packet object is a safe key.
    let lastPacket: Packet | undefined;
    let lastLine = "";
    api.hook<Packet>(FORMAT_EVENT, (packet) => {
      if (packet !== lastPacket) {
        lastLine = formatLine(parts, fieldsOf(packet, api.timer.now()));
        lastPacket = packet;
      }
      return lastLine;
    });
  },
};
