/**
 * The XEP-0004 data forms the MUC service sends and reads: fields with their type, label and
 * values, and the values of a submitted form by field name.
 */
import { NS_DATA_FORMS } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";

export interface FieldSpec {
  type?: string;
  label?: string;
  values?: readonly string[];
  /** `[value, label]` pairs of a list field. */
  options?: readonly (readonly [string, string])[];
}

/** A `<field var>` with its type, label, values and options. */
export function field(name: string, spec: FieldSpec): Element {
  const attrs: Record<string, string> = { var: name };
  if (spec.type) attrs.type = spec.type;
  if (spec.label) attrs.label = spec.label;
  const element = xml("field", attrs);
  for (const [value, label] of spec.options ?? []) {
    element.append(xml("option", { label }, xml("value", {}, value)));
  }
  for (const value of spec.values ?? []) element.append(xml("value", {}, value));
  return element;
}

/** A form of `type` (form, result, submit) whose FORM_TYPE is `formType`. */
export function form(type: string, formType: string, fields: Element[], title?: string): Element {
  const x = xml("x", { xmlns: NS_DATA_FORMS, type });
  if (title) x.append(xml("title", {}, title));
  x.append(field("FORM_TYPE", { type: "hidden", values: [formType] }), ...fields);
  return x;
}

/** The values of a submitted form, by field name. */
export function formValues(x: Element): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const f of x.getChildren("field")) {
    if (f.attrs.var === undefined) continue;
    values.set(f.attrs.var, f.getChildren("value").map((v) => v.text()));
  }
  return values;
}

/** XEP-0004 §3.3 booleans: "1" and "true" are true. */
export function formBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return value === "1" || value === "true";
}
