/** Small validators several modules share, so their sentences read the same everywhere. */
import type { ValidationContext } from "../server/module_api.ts";
import type { Element } from "../xml/element.ts";

/** For switches such as `<null/>` and `<stderr/>`: the element must be empty. */
export function expectEmpty(element: Element, context: ValidationContext): void {
  if (element.children.length > 0) context.problem(element, `<${element.name}/> takes no content`);
}
