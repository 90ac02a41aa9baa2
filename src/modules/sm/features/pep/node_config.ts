/**
 * The configuration of one PEP node (XEP-0060 §16.4.4 `pubsub#node_config`, XEP-0163 §4.1.1
 * defaults): reading it from a data form (publish-options §7.1.5, create-and-configure §8.1.3,
 * configure §8.2.4), checking publish-options as preconditions, writing the configure form, and
 * storing it as the attributes of the node's index entry.
 *
 * Choices where the XEPs leave room: `max_items` defaults to 1 (XEP-0163: a node keeps its last
 * item) and `max` means `MAX_ITEMS`; `persist_items` is always true here (items are stored in
 * XDB), so either value is accepted; options we do not act on (title, type, notify_*) are kept
 * only as far as the form needs them; an unknown option in publish-options is ignored rather
 * than failing the publish, as Prosody does for the options clients send along.
 */
import { StanzaError } from "../../../../util/errors.ts";
import { NS_DATA_FORMS, NS_PUBSUB_ERRORS, NS_PUBSUB_NODE_CONFIG } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";

export type AccessModel = "open" | "presence" | "roster" | "whitelist";
const ACCESS_MODELS: readonly AccessModel[] = ["open", "presence", "roster", "whitelist"];

/** The most items one node keeps: what `pubsub#max_items` "max" means. */
export const MAX_ITEMS = 1000;

export interface NodeConfig {
  access: AccessModel;
  maxItems: number;
  /** Roster groups whose members may read a node of access model `roster`. */
  groups: string[];
  /** XEP-0060 `send_last_published_item`: false for "never" (bookmarks, §4.3 of XEP-0402). */
  sendLast: boolean;
}

export const DEFAULT_CONFIG: Readonly<NodeConfig> = {
  access: "presence",
  maxItems: 1,
  groups: [],
  sendLast: true,
};

/** A stanza error with a pubsub application condition (XEP-0060 §7.1.3, §7.1.5, §6.5.9). */
export class PubsubError extends StanzaError {
  readonly pubsubCondition: string;

  constructor(condition: StanzaError["condition"], pubsubCondition: string, text?: string) {
    super(condition, text);
    this.pubsubCondition = pubsubCondition;
  }

  override toElement(by?: string): Element {
    const error = super.toElement(by);
    error.append(xml(this.pubsubCondition, { xmlns: NS_PUBSUB_ERRORS }));
    return error;
  }
}

/** The fields of a submitted form: var → values. */
export function formFields(form: Element | undefined): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const field of form?.getChildren("field") ?? []) {
    const name = field.attrs.var;
    if (name) fields.set(name, field.getChildren("value").map((value) => value.text().trim()));
  }
  return fields;
}

/** The data form inside `parent` (`<publish-options>`, `<configure>`), if any. */
export function formIn(parent: Element | undefined): Element | undefined {
  return parent?.getChild("x", NS_DATA_FORMS);
}

function parseMaxItems(value: string): number {
  if (value === "max") return MAX_ITEMS;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new StanzaError("not-acceptable", `pubsub#max_items must be "max" or at least 1`);
  }
  const count = Number(value);
  if (count > MAX_ITEMS) {
    throw new StanzaError("not-acceptable", `pubsub#max_items is at most ${MAX_ITEMS} here`);
  }
  return count;
}

function parseAccess(value: string): AccessModel {
  if (!(ACCESS_MODELS as readonly string[]).includes(value)) {
    throw new StanzaError(
      "not-acceptable",
      `pubsub#access_model must be one of ${ACCESS_MODELS.join(", ")}`,
    );
  }
  return value as AccessModel;
}

/** `base` changed by the options a form sets; a value we cannot take is not-acceptable. */
export function applyForm(base: Readonly<NodeConfig>, fields: Map<string, string[]>): NodeConfig {
  const config: NodeConfig = { ...base, groups: [...base.groups] };
  const one = (name: string) => fields.get(name)?.[0];
  const access = one("pubsub#access_model");
  if (access !== undefined) config.access = parseAccess(access);
  const max = one("pubsub#max_items");
  if (max !== undefined) config.maxItems = parseMaxItems(max);
  const groups = fields.get("pubsub#roster_groups_allowed");
  if (groups !== undefined) config.groups = groups.filter((group) => group !== "");
  const sendLast = one("pubsub#send_last_published_item");
  if (sendLast !== undefined) config.sendLast = sendLast !== "never";
  return config;
}

/**
 * XEP-0060 §7.1.5: publish-options on a node that exists are preconditions. A mismatch is
 * conflict with `precondition-not-met`; the client may then reconfigure the node (OMEMO clients
 * do, to make their bundles open) and publish again.
 */
export function checkPreconditions(config: Readonly<NodeConfig>, fields: Map<string, string[]>) {
  const wanted = applyForm(config, fields);
  const access = fields.has("pubsub#access_model") && wanted.access !== config.access;
  const max = fields.has("pubsub#max_items") && wanted.maxItems !== config.maxItems;
  if (access || max) {
    const what = access ? `access model is ${config.access}` : `max_items is ${config.maxItems}`;
    throw new PubsubError("conflict", "precondition-not-met", `The node's ${what}`);
  }
}

/** The configure form of a node (§8.2.1), with its current values. */
export function configForm(config: Readonly<NodeConfig>): Element {
  const field = (name: string, type: string, ...values: string[]) =>
    xml("field", { var: name, type }, ...values.map((value) => xml("value", {}, value)));
  const access = field("pubsub#access_model", "list-single", config.access);
  for (const model of ACCESS_MODELS) access.append(xml("option", {}, xml("value", {}, model)));
  return xml(
    "x",
    { xmlns: NS_DATA_FORMS, type: "form" },
    field("FORM_TYPE", "hidden", NS_PUBSUB_NODE_CONFIG),
    access,
    field("pubsub#max_items", "text-single", String(config.maxItems)),
    field("pubsub#persist_items", "boolean", "true"),
    field("pubsub#roster_groups_allowed", "list-multi", ...config.groups),
    field(
      "pubsub#send_last_published_item",
      "list-single",
      config.sendLast ? "on_sub_and_presence" : "never",
    ),
  );
}

/** The config as stored: attributes and `<group>` children of the node's index entry. */
export function storeConfig(entry: Element, config: Readonly<NodeConfig>): Element {
  entry.attrs.access = config.access;
  entry.attrs.max = String(config.maxItems);
  if (!config.sendLast) entry.attrs.last = "never";
  for (const group of config.groups) entry.append(xml("group", {}, group));
  return entry;
}

/** The config of a stored index entry (anything unreadable falls back to the default). */
export function readConfig(entry: Element): NodeConfig {
  const access = entry.attrs.access as AccessModel;
  const max = Number(entry.attrs.max);
  return {
    access: ACCESS_MODELS.includes(access) ? access : DEFAULT_CONFIG.access,
    maxItems: Number.isInteger(max) && max >= 1 ? Math.min(max, MAX_ITEMS) : 1,
    groups: entry.getChildren("group").map((group) => group.text()),
    sendLast: entry.attrs.last !== "never",
  };
}
