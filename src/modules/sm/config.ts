/**
 * The settings of `<sm xmlns="jabberd:config:sm">`: admin JIDs, the offline quota (XEP-0160), the
 * message of the day and the features switched off, read once into a typed `SmConfig` and
 * checked by `validateSmConfig` so `jabberd check` reports every mistake with a sentence.
 */
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

const SETTINGS = new Set(["admin", "offline", "motd", "disable"]);
const QUOTA = /^\d+$/;

/**
 * Reads the `<sm>` element (assumed valid: `validateSmConfig` ran before the server started).
 * Features read it from `sm.api.config` the same way: `readSmConfig(sm.api.config).motd`.
 */
export function readSmConfig(element: Element): SmConfig {
  const admins = new Set<string>();
  for (const admin of element.getChildren("admin")) {
    const jid = JID.tryParse(admin.text().trim());
    if (jid) admins.add(jid.bareString());
  }
  const quota = element.getChild("offline")?.attr("quota");
  const motd = element.getChild("motd")?.text().trim();
  return {
    admins,
    offlineQuota: quota !== undefined && QUOTA.test(quota) ? Number(quota) : DEFAULT_OFFLINE_QUOTA,
    motd: motd ? motd : undefined,
    disabled: new Set(element.getChildren("disable").map((d) => d.text().trim())),
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
  const features = featureList.map((feature) => feature.name);
  const owners = new Map<string, SmFeature>();
  for (const feature of featureList) {
    for (const setting of feature.settings ?? []) owners.set(setting, feature);
  }
  const known = [...SETTINGS, ...owners.keys()].map((name) => `<${name}>`).join(", ");
  for (const name of Object.keys(element.attrs)) {
    if (name === "xmlns" || name.startsWith("xmlns:")) continue;
    context.problem(element, `<sm> takes no attribute "${name}"; remove it`);
  }
  for (const child of element.elements) {
    const owner = owners.get(child.local);
    if (owner) {
      owner.validate?.(child, context);
      continue;
    }
    if (!SETTINGS.has(child.local)) {
      context.problem(child, `<sm> has no setting <${child.local}>; use ${known}`);
      continue;
    }
    const text = child.text().trim();
    switch (child.local) {
      case "admin": {
        const jid = JID.tryParse(text);
        if (!jid || jid.local === "") {
          context.problem(child, `<admin> must hold a user's JID such as "admin@example.org"`);
        } else if (!jid.isBare) {
          context.warning(child, `<admin> "${text}" has a resource, which is ignored`);
        }
        break;
      }
      case "offline": {
        const quota = child.attr("quota");
        if (quota !== undefined && !QUOTA.test(quota)) {
          context.problem(
            child,
            `<offline quota="${quota}"> must be a whole number of messages (0 turns storage off)`,
          );
        }
        for (const name of Object.keys(child.attrs)) {
          if (name !== "quota") context.problem(child, `<offline> takes only the quota attribute`);
        }
        break;
      }
      case "motd":
        if (text === "") context.problem(child, "<motd> is empty; write the message or remove it");
        break;
      case "disable":
        if (!features.includes(text)) {
          const known = features.length > 0 ? features.join(", ") : "none";
          context.problem(
            child,
            `<disable> names an unknown feature "${text}"; the features are: ${known}`,
          );
        }
        break;
    }
  }
  if (element.getChildren("offline").length > 1) {
    context.problem(element, "<sm> has more than one <offline>; keep one");
  }
  if (element.getChildren("motd").length > 1) {
    context.problem(element, "<sm> has more than one <motd>; keep one");
  }
}
