/**
 * `<load>`: brings in a module written outside the server (jabberd 1.4 loaded `.so`s, each on its
 * own thread; docs/architecture.md "Base modules"): dynamic `import()` of an ES module exporting
 * `register(api)`, run in the main thread with the section's own API, or with
 * `thread="worker"` in a Web Worker that gets a proxy API over messages (worker/).
 *
 * ```xml
 * <load>modules/time_bot.ts</load>
 * <load path="modules/busy.ts" thread="worker" restart-delay="1s"><greeting>hi</greeting></load>
 * ```
 *
 * The module's own settings are the element's other attributes and children, which it reads with
 * its own `options({ … })` schema (examples/loaded_module/). `check` validates only what `<load>`
 * itself says: the module's own `validate(element, context)` runs when the section starts (config
 * validators are synchronous and modules are imported at start), and its problems stop that
 * section with one clear log line.
 */
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { loadModuleDefinition, validateModule } from "./worker/definition.ts";
import { WorkerModule } from "./worker/host.ts";
import { duration, integer, oneOf, options } from "../../config/options.ts";

/** The restart and queue settings of a supervised module: here, and in exec.ts and fork.ts. */
export const RESTART_OPTIONS = {
  "restart-delay": duration(1000),
  "restart-max": duration(60_000),
  queue: integer(1000, { min: 0 }),
  "queue-timeout": duration(30_000),
};

/** What `<load>` reads itself (`path` too, by `modulePath`); the other names are the module's. */
const LOAD = options({
  thread: oneOf(["main", "worker"], "main"),
  ...RESTART_OPTIONS,
  "start-timeout": duration(30_000),
  "unload-timeout": duration(10_000),
}, { others: true });

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
    LOAD.validate(element, context);
  },
  async register(api) {
    const url = moduleUrl(api, modulePath(api.config)!);
    const settings = LOAD.read(api.config);
    if (settings.thread === "worker") {
      const worker = new WorkerModule(api, {
        url,
        configDir: api.resolvePath("."),
        restartDelayMs: settings["restart-delay"],
        restartMaxMs: settings["restart-max"],
        queueLimit: settings.queue,
        queueTimeoutMs: settings["queue-timeout"],
        startTimeoutMs: settings["start-timeout"],
        unloadTimeoutMs: settings["unload-timeout"],
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
