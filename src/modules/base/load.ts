/**
 * `<load>`: brings in a module written outside the server (jabberd 1.4 loaded `.so`s, each on its
 * own thread; DESIGN "Base modules"): dynamic `import()` of an ES module exporting
 * `register(api)`, run in the main thread with the section's own API, or with
 * `thread="worker"` in a Web Worker that gets a proxy API over messages (worker/).
 *
 * ```xml
 * <load>modules/time_bot.ts</load>
 * <load path="modules/busy.ts" thread="worker" restart-delay="1s"><greeting>hi</greeting></load>
 * ```
 *
 * The module's own settings are the element's other attributes and children
 * (`api.options.string("greeting")`). `check` validates only what `<load>` itself says: the
 * module's own `validate(element, context)` runs when the section starts (config validators are
 * synchronous and modules are imported at start), and its problems stop that section with one
 * clear log line.
 */
import type { ModuleApi, ModuleDefinition, ValidationContext } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { loadModuleDefinition, validateModule } from "./worker/definition.ts";
import { WorkerModule } from "./worker/host.ts";
import { parseDuration } from "../../config/units.ts";

/** The attributes `<load>` reads itself; the others belong to the module. */
const DURATIONS = [
  "restart-delay",
  "restart-max",
  "queue-timeout",
  "start-timeout",
  "unload-timeout",
];
const MODULE_FILE = /\.(ts|mts|js|mjs|tsx|jsx)$/;

export const load: ModuleDefinition = {
  element: "load",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    const path = modulePath(element);
    if (path === undefined) {
      context.problem(
        element,
        `<load> names no module; write <load>modules/bot.ts</load> or <load path="modules/bot.ts"/>`,
      );
    } else if (!MODULE_FILE.test(path.split("?")[0])) {
      context.problem(
        element,
        `<load> path "${path}" is not a JavaScript or TypeScript module; name a .ts or .js file`,
      );
    }
    const thread = element.attr("thread");
    if (thread !== undefined && thread !== "main" && thread !== "worker") {
      context.problem(element, `<load thread="${thread}"> is unknown; write "main" or "worker"`);
    }
    validateRestartOptions(element, context, thread === "worker" ? DURATIONS : []);
  },
  async register(api) {
    const url = moduleUrl(api, modulePath(api.config)!);
    if (api.config.attr("thread") === "worker") {
      const worker = new WorkerModule(api, {
        url,
        configDir: api.resolvePath("."),
        restartDelayMs: api.options.duration("restart-delay", 1000)!,
        restartMaxMs: api.options.duration("restart-max", 60_000)!,
        queueLimit: api.options.integer("queue", 1000)!,
        queueTimeoutMs: api.options.duration("queue-timeout", 30_000)!,
        startTimeoutMs: api.options.duration("start-timeout", 30_000)!,
        unloadTimeoutMs: api.options.duration("unload-timeout", 10_000)!,
      });
      await worker.start();
      return;
    }
    const module = await loadModuleDefinition(url);
    for (const warning of validateModule(module, api.config, url)) api.log.warn(warning);
    await module.register(api);
  },
};

/** The module's path as written: the `path` attribute, else the element's own text. */
export function modulePath(element: Element): string | undefined {
  const path = element.attr("path") ?? element.children
    .filter((child): child is string => typeof child === "string").join("").trim();
  return path === "" ? undefined : path;
}

/**
 * The `file:` URL of a module path: relative to the config file's folder, made absolute with the
 * working directory (a relative specifier in `import()` would start from this source file).
 */
export function moduleUrl(api: ModuleApi, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
  const resolved = api.resolvePath(path);
  const absolute = resolved.startsWith("/")
    ? resolved
    : `${api.adapters.process.cwd?.() ?? api.adapters.env("PWD") ?? ""}/${resolved}`;
  return new URL(absolute, "file://").href;
}

/** Checks the restart and queue settings a supervised module (worker, exec, fork) takes. */
export function validateRestartOptions(
  element: Element,
  context: ValidationContext,
  durations: readonly string[] = DURATIONS,
): void {
  for (const name of durations) {
    const value = element.attr(name);
    if (value === undefined) continue;
    try {
      parseDuration(value);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      context.problem(
        element,
        `<${element.local} ${name}="${value}"> is not a duration: ${reason}`,
      );
    }
  }
  const queue = element.attr("queue");
  if (queue !== undefined && !/^\d+$/.test(queue.trim())) {
    context.problem(
      element,
      `<${element.local} queue="${queue}"> must be a whole number of packets, such as 1000`,
    );
  }
}
