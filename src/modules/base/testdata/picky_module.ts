/** A module for the `<load>` tests whose own validator refuses a missing `color` setting. */
import type { ModuleApi, ValidationContext } from "../../../server/module_api.ts";
import type { Element } from "../../../xml/element.ts";

export function validate(element: Element, context: ValidationContext): void {
  if (!element.attr("color")) context.problem(element, 'give a color, such as color="red"');
}

export function register(api: ModuleApi): void {
  api.log.info(`picky module sees ${api.options.string("color")}`);
}
