/**
 * The settings of `<sm xmlns="jabberd:config:sm">`: admin JIDs, the offline quota (XEP-0160), the
 * message of the day and the features switched off, read once into a typed `SmConfig` and
 * checked by `validateSmConfig` so `jabberd check` reports every mistake with a sentence.
 */
import { integer, list, oneOf, options, string, value } from "../../config/options.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import type { SmFeature } from "./types.ts";
import { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";

/** How many messages one user may have waiting when `<offline quota>` is not given. */
export const DEFAULT_OFFLINE_QUOTA = 1000;

export interface SmConfig {
  /** The bare JIDs of `<admin>`, normalized (`admin@localhost`). */
  readonly admins: ReadonlySet<string>;
  /** Messages stored per offline user (`<offline quota>`); 0 turns offline storage off. */
  readonly offlineQuota: number;
  /** The message of the day (`<motd>`), sent by the announce feature; undefined for none. */
  readonly motd: string | undefined;
  /** Feature names from `<disable>`. */
  readonly disabled: ReadonlySet<string>;
}

/** A user's JID (no resource, or a warning says it is ignored), read as the bare JID. */
function adminJid(text: string): string {
  const jid = JID.tryParse(text);
  if (!jid || jid.local === "") {
    throw new Error(`"${text}" is not a user's JID; write one such as admin@example.org`);
  }
  return jid.bareString();
}

/** `<disable>` takes any name here; `validateSmConfig` knows the features and checks it. */
const SM_OPTIONS = {
  admin: list(value(adminJid)),
  offline: options({ quota: integer(DEFAULT_OFFLINE_QUOTA, { min: 0 }) }),
  motd: string(),
  disable: list(string()),
};
const SM = options(SM_OPTIONS);

/**
 * Reads the `<sm>` element (assumed valid: `validateSmConfig` ran before the server started).
 * Features read it from `sm.api.config` the same way: `readSmConfig(sm.api.config).motd`.
 */
export function readSmConfig(element: Element): SmConfig {
  const { admin, offline, motd, disable } = SM.read(element);
  return {
    admins: new Set(admin),
    offlineQuota: offline.quota,
    motd,
    disabled: new Set(disable),
  };
}

/**
 * Reports every problem of an `<sm>` element. `features` are what `<disable>` may name; their
 * own settings (`SmFeature.settings`) are accepted here and checked by the feature.
 */
export function validateSmConfig(
  element: Element,
  context: ValidationContext,
  featureList: readonly SmFeature[],
): void {
  const owners = new Map<string, SmFeature>();
  for (const feature of featureList) {
    for (const setting of feature.settings ?? []) owners.set(setting, feature);
  }
  const features = featureList.map((feature) => feature.name);
  options(
    { ...SM_OPTIONS, disable: list(oneOf(features)) },
    { others: [...owners.keys()] },
  ).validate(element, context);
  for (const child of element.elements) {
    owners.get(child.local)?.validate?.(child, context);
    const jid = child.local === "admin" ? JID.tryParse(child.text().trim()) : undefined;
    if (jid && !jid.isBare) {
      context.warning(child, `<admin> "${child.text().trim()}" has a resource, which is ignored`);
    }
  }
}
