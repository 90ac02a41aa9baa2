/**
 * Imports a module file for `<load>` (docs/module-api.md) and runs its own validator: the
 * same steps in the main thread, in a worker and in a `<fork>` child.
 */
import type { ModuleApi, ValidationContext } from "../../../server/module_api.ts";
import type { Element } from "../../../xml/element.ts";
import { describe } from "../../../util/errors.ts";

/** What a loaded module file must provide: `register`, and optionally `validate`. */
export interface LoadedModule {
  register(api: ModuleApi): void | Promise<void>;
  validate?(element: Element, context: ValidationContext): void;
}

/**
 * Imports the file at `url` (a `file:` URL) and returns its `register`/`validate`, taken from its
 * named exports or from a default export holding them (a `ModuleDefinition`).
 */
export async function loadModuleDefinition(url: string): Promise<LoadedModule> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(url);
  } catch (error) {
    throw new Error(`Cannot import ${url}: ${describe(error)}`);
  }
  const fallback = namespace.default as Record<string, unknown> | undefined;
  const register = namespace.register ?? fallback?.register;
  const validate = namespace.validate ?? fallback?.validate;
  if (typeof register !== "function") {
    throw new Error(`${url} does not export a register(api) function`);
  }
  if (validate !== undefined && typeof validate !== "function") {
    throw new Error(`${url} exports a validate that is not a function`);
  }
  return {
    register: register as LoadedModule["register"],
    validate: validate as LoadedModule["validate"],
  };
}

/**
 * Runs the module's own validator on its `<load>` element. `check` cannot run it (validators are
 * synchronous and the module is imported only at start), so its problems stop the start of the
 * section here, all of them in one message; its warnings are returned for the log.
 */
export function validateModule(module: LoadedModule, config: Element, url: string): string[] {
  if (!module.validate) return [];
  const problems: string[] = [];
  const warnings: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: (_at, message) => warnings.push(message),
  };
  try {
    module.validate(config, context);
  } catch (error) {
    problems.push(`its validate() threw: ${describe(error)}`);
  }
  if (problems.length > 0) {
    throw new Error(`The settings for ${url} are not usable: ${problems.join("; ")}`);
  }
  return warnings.map((warning) => `${url}: ${warning}`);
}
