/**
 * `<logtype>` in a `<log>` section (jabberd 1.4's base_logtype): which log types the section
 * takes; a `precond` filter answers `skip` for the others.
 *
 * - `<logtype>warn</logtype>`: that type. The text may list several (`warn error alert`, spaces
 *   or commas), and a section may hold several `<logtype>` elements: the section takes a packet
 *   when any of them accepts it.
 * - `<logtype min="notice"/>`: that level and every more severe one (`LOG_LEVELS` order:
 *   debug, info, notice, warn, error, alert). `min` and listed types may be combined.
 * - `<logtype/>`: every type (as jabberd 1.4's empty `<logtype/>`).
 *
 * Several elements cooperate through the section event `log-accepts`: each hooks it and answers
 * true for what it accepts, and each one's filter asks the event, so every filter of the section
 * answers the same and unloading one element leaves the others working.
 */
import { LOG_LEVELS, type LogLevel, type ModuleDefinition } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import type { Packet } from "../../tree/packet.ts";

const ACCEPTS_EVENT = "log-accepts";

/** The types a `<logtype>` element accepts, or a sentence saying what is wrong. */
export function acceptedTypes(element: Element): Set<string> | string {
  const listed = element.text().split(/[\s,]+/).filter((word) => word !== "");
  const min = element.attrs.min;
  const accepted = new Set<string>();
  for (const word of listed) {
    if (!isLevel(word)) return unknownLevel(word);
    accepted.add(word);
  }
  if (min !== undefined) {
    if (!isLevel(min)) return unknownLevel(min);
    for (const level of LOG_LEVELS.slice(LOG_LEVELS.indexOf(min))) accepted.add(level);
  }
  if (listed.length === 0 && min === undefined) {
    for (const level of LOG_LEVELS) accepted.add(level);
  }
  return accepted;
}

function isLevel(word: string): word is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(word);
}

function unknownLevel(word: string): string {
  return `Unknown log type "${word}"; use one of ${LOG_LEVELS.join(", ")}`;
}

export const logtypeModule: ModuleDefinition = {
  element: "logtype",
  sections: ["log"],
  validate(element, context) {
    const accepted = acceptedTypes(element);
    if (typeof accepted === "string") context.problem(element, accepted);
  },
  register(api) {
    const accepted = acceptedTypes(api.config);
    if (typeof accepted === "string") throw new Error(accepted);
    api.hook<Packet>(ACCEPTS_EVENT, (packet) => {
      return accepted.has(packet.element.attrs.type ?? "") ? true : undefined;
    });
    api.handle("precond", (packet) => {
      if (packet.kind !== "log") return "pass";
      return api.fire(ACCEPTS_EVENT, packet) === true ? "pass" : "skip";
    });
  },
};
