/**
 * What every log sink shares (jabberd 1.4's log sections, docs/architecture.md "Base modules"): the `%d %h %t
 * %s` line template, how a sink gets a packet's line, and how it joins the section's chain.
 *
 * How the modules of one `<log>` section cooperate, without importing each other:
 *
 * - `<logtype>` puts a `precond` filter on the chain that answers `skip` for unwanted types.
 * - Each sink (`<stderr/>`, `<stdout/>`, `<file>`, `<to>`, `<syslog>`) puts two handlers on the
 *   chain through {@link registerSink}: a `predeliver` one that writes the line and answers
 *   `pass` (so every sink of the section sees the packet), and a `deliver` one that answers
 *   `done` (the first of those ends the chain). A section with no sink takes nothing, so the
 *   router's fallback (standard error) still gets the line.
 * - A sink gets its line from {@link lineOf}: it fires the section event `log-format` with the
 *   packet; `<format>` hooks that event and answers the formatted line. Without a `<format>`
 *   nobody answers and the line uses {@link DEFAULT_FORMAT}.
 *
 * These handlers look only at `log` packets: the section id is routable for every kind, so
 * normal packets (bounces of what `<to>` sent) reach the same chain.
 */
import type { ModuleApi } from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import { describe } from "../../util/errors.ts";

/** The line when the section has no `<format>`: date, host, type, text. */
export const DEFAULT_FORMAT = "%d %h %t %s";

/** The section event a sink fires to get a packet's line; `<format>` answers it. */
export const FORMAT_EVENT = "log-format";

/** A parsed template: literal text, or one of the fields `%d`, `%h`, `%t`, `%s`. */
export type FormatPart = string | { field: "d" | "h" | "t" | "s" };

/** What a line is made of. */
export interface LogFields {
  /** Milliseconds since the epoch, written as ISO 8601 in UTC. */
  time: number;
  /** The `from` of the log packet: the host (or address) the line is about. */
  host: string;
  /** The log packet's `type`: debug, info, notice, warn, error, alert. */
  type: string;
  text: string;
}

/** Thrown by {@link parseFormat} for a template it cannot use. */
export class FormatError extends Error {}

const FIELDS = new Set(["d", "h", "t", "s"]);

/**
 * Parses a template: `%d` date, `%h` host, `%t` type, `%s` text, `%%` a percent sign. Any other
 * `%x`, or a `%` at the end, throws a {@link FormatError}.
 */
export function parseFormat(template: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let literal = "";
  for (let i = 0; i < template.length; i++) {
    const char = template[i];
    if (char !== "%") {
      literal += char;
      continue;
    }
    const next = template[i + 1];
    i++;
    if (next === "%") {
      literal += "%";
    } else if (next !== undefined && FIELDS.has(next)) {
      if (literal) parts.push(literal);
      literal = "";
      parts.push({ field: next as "d" | "h" | "t" | "s" });
    } else if (next === undefined) {
      throw new FormatError("The format ends with a lone %; write %% for a percent sign");
    } else {
      throw new FormatError(
        `Unknown field %${next} in the format; use %d (date), %h (host), %t (type), ` +
          `%s (text) or %% (a percent sign)`,
      );
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/**
 * Writes a line from a parsed template. Line breaks and other control characters in the host,
 * type and text are escaped (`\n`, `\r`, `\u001b`…), so one log packet is always one line and a
 * text cannot forge the lines after it.
 */
export function formatLine(parts: readonly FormatPart[], fields: LogFields): string {
  let line = "";
  for (const part of parts) {
    if (typeof part === "string") {
      line += part;
      continue;
    }
    switch (part.field) {
      case "d":
        line += new Date(fields.time).toISOString();
        break;
      case "h":
        line += escapeControls(fields.host);
        break;
      case "t":
        line += escapeControls(fields.type);
        break;
      case "s":
        line += escapeControls(fields.text);
        break;
    }
  }
  return line;
}

// Every C0 control character and DEL; a tab stays as it is.
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

function escapeControls(text: string): string {
  return text.replace(CONTROLS, (char) => {
    if (char === "\n") return "\\n";
    if (char === "\r") return "\\r";
    return "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0");
  });
}

/** The fields of a log packet at a given time (missing attributes become `-`). */
export function fieldsOf(packet: Packet, time: number): LogFields {
  const element = packet.element;
  return {
    time,
    host: element.attrs.from || "-",
    type: element.attrs.type || "-",
    text: element.text(),
  };
}

const DEFAULT_PARTS = parseFormat(DEFAULT_FORMAT);

/** The line a sink writes for a packet: `<format>`'s answer, else the default template. */
export function lineOf(api: ModuleApi, packet: Packet): string {
  const line = api.fire(FORMAT_EVENT, packet);
  if (typeof line === "string") return line;
  return formatLine(DEFAULT_PARTS, fieldsOf(packet, api.timer.now()));
}

/**
 * Joins a sink to its section's chain (see the file comment): `write` gets each log packet's
 * line and the packet; a throw there is reported on standard error and the other sinks go on.
 */
export function registerSink(
  api: ModuleApi,
  write: (line: string, packet: Packet) => void,
): void {
  api.handle("predeliver", (packet) => {
    if (packet.kind !== "log") return "pass";
    try {
      write(lineOf(api, packet), packet);
    } catch (error) {
      // Never through api.log: a failing sink would log about itself forever.
      api.adapters.stderr(
        `Log sink <${api.config.name}> of ${api.id} failed: ${describe(error)}\n`,
      );
    }
    return "pass";
  });
  api.handle("deliver", (packet) => packet.kind === "log" ? "done" : "pass");
}

/** An error's message, for reports on standard error. */
