/** A module for the `<load>` tests whose own validator refuses a missing `color` setting. */
import { options, string } from "../../../config/options.ts";
import type { ModuleApi, ValidationContext } from "../../../server/module_api.ts";
import type { Element } from "../../../xml/element.ts";

const SETTINGS = options({ color: string().required('a color, such as color="red"') }, {
  others: true,
});

export function validate(element: Element, context: ValidationContext): void {
  SETTINGS.validate(element, context);
}

export function register(api: ModuleApi): void {
  api.log.info(`picky module sees ${SETTINGS.read(api.config).color}`);
}
