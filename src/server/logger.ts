/** A `Logger` (module_api.ts) over one function that writes a line at a level. */
import type { Logger, LogLevel } from "./module_api.ts";

export function makeLogger(log: (level: LogLevel, text: string, host?: string) => void): Logger {
  return {
    log,
    debug: (text, host) => log("debug", text, host),
    info: (text, host) => log("info", text, host),
    notice: (text, host) => log("notice", text, host),
    warn: (text, host) => log("warn", text, host),
    error: (text, host) => log("error", text, host),
    alert: (text, host) => log("alert", text, host),
  };
}
