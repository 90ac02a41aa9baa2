/**
 * XEP-0163 Personal Eventing Protocol: XEP-0060 publish-subscribe on every local account, for
 * user tune, OMEMO (XEP-0384 device lists and bundles), XEP-0223 private storage and XEP-0402
 * bookmarks (bridged to XEP-0049 `storage:bookmarks` as XEP-0411 asks, bookmarks.ts). This file
 * turns the pubsub iqs into calls on the service (service.ts) and feeds it presence and caps.
 *
 * What is supported, as advertised on the account's disco#info: publish with auto-create and
 * publish-options (access model, max_items with "max", send_last_published_item), retract,
 * retrieve all items, by id or the newest `max_items`, create and configure, delete and purge,
 * access models open, presence (the default), roster and whitelist (owner only), notifications
 * filtered by caps and the last item on presence. Explicit subscriptions (§6.1) are not: PEP
 * clients rely on `+notify` (XEP-0163 §4.3), and a `<subscribe/>` is feature-not-implemented.
 */
import { StanzaError } from "../../../../util/errors.ts";
import {
  NS_BOOKMARKS_COMPAT,
  NS_DISCO_INFO,
  NS_PUBSUB,
  NS_PUBSUB_NODE_CONFIG,
  NS_PUBSUB_OWNER,
  NS_PUBSUB_PUBLISH_OPTIONS,
} from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type {
  OutboundEvent,
  SessionEvent,
  SmFeature,
  StanzaEvent,
  UserEvent,
} from "../../types.ts";
import type { DiscoInfo } from "../advertise.ts";
import { bridgeBookmarks } from "./bookmarks.ts";
import { capsOf } from "./caps.ts";
import { configForm, formFields, formIn, PubsubError } from "./node_config.ts";
import { CAPS_QUERY_ID, PepService } from "./service.ts";

/** `pep-publish`: publish `item` to a node of `owner` as the server (no `pep-published`). */
interface PepPublishEvent {
  owner: string;
  node: string;
  item: Element;
  options?: Map<string, string[]>;
}

/** `pep-items`: the fire answers a promise of the node's items, oldest first ([] if none). */
interface PepItemsEvent {
  owner: string;
  node: string;
}

/** The pubsub features of XEP-0060 §10 this service has (`http://…/pubsub#{name}`). */
const FEATURES = [
  "access-open",
  "access-presence",
  "access-roster",
  "access-whitelist",
  "auto-create",
  "config-node",
  "create-and-configure",
  "create-nodes",
  "delete-items",
  "delete-nodes",
  "filtered-notifications",
  "item-ids",
  "last-published",
  "multi-items",
  "persistent-items",
  "presence-notifications",
  "publish",
  "publish-options",
  "purge-nodes",
  "retract-items",
  "retrieve-items",
];

/** The node a request names; bad-request with nodeid-required when it names none (§7.1.3.3). */
function nodeOf(element: Element): string {
  const node = element.attrs.node;
  if (!node) throw new PubsubError("bad-request", "nodeid-required");
  return node;
}

/** The options of a `<publish-options>` or `<configure>` form (FORM_TYPE checked, §7.1.5). */
function optionsOf(parent: Element | undefined, formType: string) {
  const form = formIn(parent);
  if (!form) return undefined;
  const fields = formFields(form);
  const type = fields.get("FORM_TYPE")?.[0];
  if (type !== undefined && type !== formType) {
    throw new StanzaError("bad-request", `The form's FORM_TYPE must be ${formType}`);
  }
  return fields;
}

export const pep: SmFeature = {
  name: "pep",
  register(sm) {
    const { api } = sm;
    const service = new PepService(sm);
    bridgeBookmarks(sm, service);

    api.hook<DiscoInfo>("disco-info/bare", (info) => {
      info.identities.push(xml("identity", { category: "pubsub", type: "pep" }));
      info.features.add(NS_PUBSUB);
      for (const name of FEATURES) info.features.add(`${NS_PUBSUB}#${name}`);
      info.features.add(NS_BOOKMARKS_COMPAT);
    });

    // ---- The owner's requests (XEP-0060 §7, §8) ----
    api.hook<StanzaEvent>(`iq-set/self/${NS_PUBSUB}:pubsub`, async ({ stanza, to }) => {
      const owner = to.bareString();
      const pubsub = stanza.getChild("pubsub", NS_PUBSUB)!;
      const [request] = pubsub.elements;
      switch (request?.local) {
        case "publish": {
          const node = nodeOf(request);
          const items = request.getChildren("item");
          if (items.length !== 1) throw new PubsubError("bad-request", "item-required");
          if (items[0].elements.length !== 1) {
            throw new PubsubError("bad-request", "invalid-payload", "An item holds one element");
          }
          const options = optionsOf(
            pubsub.getChild("publish-options"),
            NS_PUBSUB_PUBLISH_OPTIONS,
          );
          const id = await service.publish(owner, node, items[0], options);
          // XEP-0398 (avatar_conversion.ts) hooks it; the reply waits for its work.
          const item = xml("item", { id }, ...items[0].elements.map((e) => e.clone()));
          await api.fire("pep-published", { owner, node, item });
          const published = xml("publish", { node }, xml("item", { id }));
          sm.reply(stanza, xml("pubsub", { xmlns: NS_PUBSUB }, published));
          return;
        }
        case "retract": {
          const ids = request.getChildren("item").map((item) => item.attrs.id ?? "");
          if (ids.length !== 1 || ids[0] === "") {
            throw new PubsubError("bad-request", "item-required");
          }
          await service.retract(owner, nodeOf(request), ids[0]);
          sm.reply(stanza);
          return;
        }
        case "create": {
          const options = optionsOf(pubsub.getChild("configure"), NS_PUBSUB_NODE_CONFIG);
          await service.create(owner, nodeOf(request), options);
          sm.reply(stanza);
          return;
        }
        case "subscribe":
        case "unsubscribe":
          throw new StanzaError(
            "feature-not-implemented",
            "PEP notifications follow presence and caps (+notify)",
          );
        default:
          throw new StanzaError("bad-request", "Not a pubsub request this service knows");
      }
    });

    const retrieve = async ({ stanza, to, from }: StanzaEvent) => {
      const request = stanza.getChild("pubsub", NS_PUBSUB)!.getChild("items");
      if (!request) {
        throw new StanzaError("feature-not-implemented", "Only items can be asked for");
      }
      const node = nodeOf(request);
      const ids = request.getChildren("item").map((item) => item.attrs.id ?? "");
      const max = Number(request.attrs.max_items);
      const limit = Number.isInteger(max) && max > 0 ? max : undefined;
      const requester = from?.bareString() ?? "";
      const items = await service.items(to.bareString(), requester, node, ids, limit);
      const answer = xml("items", { node }, ...items.map((item) => item.clone()));
      sm.reply(stanza, xml("pubsub", { xmlns: NS_PUBSUB }, answer));
    };
    api.hook(`iq-get/self/${NS_PUBSUB}:pubsub`, retrieve);
    api.hook(`iq-get/bare/${NS_PUBSUB}:pubsub`, retrieve);
    api.hook(`iq-set/bare/${NS_PUBSUB}:pubsub`, () => {
      throw new StanzaError("forbidden", "Only the account's owner publishes to its PEP nodes");
    });

    api.hook<StanzaEvent>(`iq-get/self/${NS_PUBSUB_OWNER}:pubsub`, async ({ stanza, to }) => {
      const request = stanza.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("configure");
      if (!request) throw new StanzaError("feature-not-implemented");
      const node = nodeOf(request);
      const config = await service.store.config(to.bareString(), node);
      if (!config) throw new StanzaError("item-not-found", "No such node");
      const answer = xml("configure", { node }, configForm(config));
      sm.reply(stanza, xml("pubsub", { xmlns: NS_PUBSUB_OWNER }, answer));
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_PUBSUB_OWNER}:pubsub`, async ({ stanza, to }) => {
      const owner = to.bareString();
      const [request] = stanza.getChild("pubsub", NS_PUBSUB_OWNER)!.elements;
      const node = request ? nodeOf(request) : "";
      if (request?.local === "configure") {
        const form = formIn(request);
        // §8.2.5: a cancelled form changes nothing.
        if (form?.attrs.type !== "cancel") {
          const options = optionsOf(request, NS_PUBSUB_NODE_CONFIG);
          if (!options) throw new StanzaError("bad-request", "A configure request holds a form");
          await service.configure(owner, node, options);
        }
      } else if (request?.local === "delete" || request?.local === "purge") {
        await service.remove(owner, node, request.local === "purge");
      } else throw new StanzaError("feature-not-implemented");
      sm.reply(stanza);
    });
    const ownersOnly = () => {
      throw new StanzaError("forbidden", "Only the account's owner manages its PEP nodes");
    };
    api.hook(`iq-get/bare/${NS_PUBSUB_OWNER}:pubsub`, ownersOnly);
    api.hook(`iq-set/bare/${NS_PUBSUB_OWNER}:pubsub`, ownersOnly);

    // ---- Presence and caps: who wants which notifications (XEP-0163 §4.3) ----
    // Before the presence feature (priority 5) and never taking the stanza.
    api.hook<OutboundEvent>("pre-presence/bare", ({ stanza, origin, to }) => {
      if (to !== undefined) return;
      const owner = origin.jid.bareString();
      service.presence(owner, origin.jid.toString(), stanza, capsOf(stanza));
    }, 10);
    api.hook<StanzaEvent>("presence/bare", ({ stanza, to, from }) => {
      const type = stanza.attrs.type;
      if (!from || from.isBare || (type !== undefined && type !== "unavailable")) return;
      const owner = to.bareString();
      if (from.bareString() === owner) return;
      service.presence(owner, from.toString(), stanza, capsOf(stanza));
    }, 10);
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      service.gone(undefined, session.jid.toString());
    });
    api.hook<StanzaEvent>(`iq-result/host/${CAPS_QUERY_ID}`, ({ stanza, from }) => {
      if (!from) return true;
      return service.capsAnswered(from.toString(), stanza.getChild("query", NS_DISCO_INFO));
    });
    api.hook<StanzaEvent>(`iq-error/host/${CAPS_QUERY_ID}`, ({ from }) => {
      if (from) service.caps.failed(from.toString());
      return true;
    });

    // Other features read and write a user's nodes through events, never importing this one.
    // `pep-publish` publishes without firing `pep-published`, so a conversion does not loop;
    // `options` apply only when it creates the node.
    api.hook<PepPublishEvent>("pep-publish", ({ owner, node, item, options }) =>
      (async () => {
        const config = await service.store.config(owner, node);
        await service.publish(owner, node, item, config ? undefined : options, true);
      })());
    api.hook<PepItemsEvent>("pep-items", async ({ owner, node }) => {
      const config = await service.store.config(owner, node);
      return config ? await service.store.items(owner, node) : [];
    });

    api.hook<UserEvent>("user-deleted", ({ jid }) => {
      service.store.deleteAll(jid.bareString()).catch((error) =>
        api.log.warn(`Removing the PEP nodes of ${jid} failed: ${error}`)
      );
    });
  },
};
