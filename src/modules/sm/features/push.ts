/**
 * XEP-0357 Push Notifications (§5 enabling, §6 disabling, §7 publishing, §8 errors): a client
 * registers its app server's pubsub node (`<enable jid node>`, with an optional publish-options
 * form); when a message arrives that the client will not see at once, the account publishes a
 * `urn:xmpp:push:summary` notification to that node as an iq set from the user's bare JID
 * (§7's example), and the app server wakes the device.
 *
 * When: a message stored offline (the `message/offline-stored` event: every registration of the
 * account), and a message with a body or an encrypted payload for a session that said XEP-0352
 * `<inactive/>` (the registrations made from that session's resource). The summary carries the
 * count of messages pushed since that resource was last bound or active, the last sender and,
 * only with `<push body="true"/>` in `<sm>` (a body passes through the app server's operator),
 * the last body.
 *
 * Registrations are stored per account in XDB (`urn:xmpp:push:0`, one `<registration jid node
 * resource>` each, the form inside). The app server's answers come back to the account as
 * `iq-result/bare/push` and `iq-error/bare/push`; those of one app server to one account are
 * matched to registrations in the order the pushes went out. `MAX_ERRORS` errors in a row
 * disable a registration (§8: the app server no longer knows the node, or is gone).
 */
import { boolean, options } from "../../../config/options.ts";
import { xdbMatch } from "../../../server/xdb_client.ts";
import { describe, StanzaError } from "../../../util/errors.ts";
import { JID } from "../../../util/jid.ts";
import {
  NS_DATA_FORMS,
  NS_PUBSUB,
  NS_PUBSUB_PUBLISH_OPTIONS,
  NS_PUSH,
  NS_PUSH_SUMMARY,
} from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { Session, SessionEvent, SmApi, SmFeature, StanzaEvent, UserEvent } from "../types.ts";
import { bareText, fullText } from "../sessions.ts";
import { advertise } from "./advertise.ts";

/** The id of every push iq; answers are told apart by who sends them to whom. */
export const PUSH_ID = "push";
/** Errors in a row from the app server after which a registration is removed. */
export const MAX_ERRORS = 3;
/** Pushes awaiting an answer per app server and account; older ones are forgotten. */
const MAX_PENDING = 50;
/**
 * The session data key the csi feature sets while a session is inactive (csi.ts `STATE`): a
 * feature reads another's state through `session.data`, never through an import.
 */
const CSI_INACTIVE = "csi";

/** `<push body="true"/>` in `<sm>`: whether summaries carry the message's body. */
const PUSH = options({ body: boolean(false) });

/** One stored registration. */
interface Registration {
  jid: string;
  node: string;
  /** The resource of the session that enabled it. */
  resource: string;
  /** The publish-options form (§5), as given. */
  form: Element | undefined;
}

function readRegistration(element: Element): Registration {
  return {
    jid: element.attrs.jid ?? "",
    node: element.attrs.node ?? "",
    resource: element.attrs.resource ?? "",
    form: element.getChild("x", NS_DATA_FORMS),
  };
}

/** True for a message a person would want to be woken for. */
export function worthPushing(message: Element): boolean {
  const type = message.attrs.type;
  if (type === "error" || type === "headline") return false;
  return message.getChild("body") !== undefined || message.getChild("encrypted") !== undefined;
}

function field(name: string, value: string, type?: string): Element {
  return xml("field", type ? { var: name, type } : { var: name }, xml("value", {}, value));
}

/** The iq set of §7 publishing one summary to a registration's node. */
export function notification(
  owner: string,
  registration: Registration,
  summary: { count: number; sender?: string; body?: string },
): Element {
  const form = xml(
    "x",
    { xmlns: NS_DATA_FORMS, type: "submit" },
    field("FORM_TYPE", NS_PUSH_SUMMARY, "hidden"),
    field("message-count", String(summary.count)),
  );
  if (summary.sender !== undefined) form.append(field("last-message-sender", summary.sender));
  if (summary.body !== undefined) form.append(field("last-message-body", summary.body));
  const pubsub = xml(
    "pubsub",
    { xmlns: NS_PUBSUB },
    xml(
      "publish",
      { node: registration.node },
      xml("item", {}, xml("notification", { xmlns: NS_PUSH }, form)),
    ),
  );
  if (registration.form) pubsub.append(xml("publish-options", {}, registration.form.clone()));
  return xml("iq", { type: "set", id: PUSH_ID, from: owner, to: registration.jid }, pubsub);
}

export const push: SmFeature = {
  name: "push",
  settings: ["push"],
  validate(setting, context) {
    PUSH.validate(setting, context);
  },
  register(sm: SmApi) {
    const { api } = sm;
    const withBody = PUSH.read(api.config.getChild("push")).body;
    advertise(sm, "bare", NS_PUSH);

    /** Messages pushed per `owner/resource` since that resource was last bound or active. */
    const counts = new Map<string, number>();
    /** Errors in a row per registration (`owner jid node`). */
    const errors = new Map<string, number>();
    /** Registrations (their nodes) awaiting an answer, per `owner appServer`, oldest first. */
    const pending = new Map<string, string[]>();

    const registrationsOf = async (owner: string): Promise<Registration[]> => {
      const stored = await api.xdb.get(owner, NS_PUSH);
      return (stored?.getChildren("registration") ?? []).map(readRegistration);
    };
    const remove = (owner: string, { jid, node }: { jid: string; node: string }) =>
      api.xdb.remove(owner, NS_PUSH, xdbMatch("registration", { jid, node }));

    /** Publishes a summary of `message` to the registrations `wanted` selects. */
    const publish = async (
      owner: string,
      message: Element,
      wanted: (registration: Registration) => boolean,
    ) => {
      for (const registration of (await registrationsOf(owner)).filter(wanted)) {
        const countKey = `${owner}/${registration.resource}`;
        const count = (counts.get(countKey) ?? 0) + 1;
        counts.set(countKey, count);
        const body = withBody ? message.getChildText("body") : undefined;
        sm.route(notification(owner, registration, { count, sender: message.attrs.from, body }));
        const waiting = `${owner} ${registration.jid}`;
        const nodes = pending.get(waiting) ?? [];
        nodes.push(registration.node);
        if (nodes.length > MAX_PENDING) nodes.shift();
        pending.set(waiting, nodes);
      }
    };
    /** Starts a publish without holding up the message's delivery; failures are logged. */
    const publishSoon = (...args: Parameters<typeof publish>) => {
      publish(...args).catch((error) =>
        api.log.warn(`A push notification for ${args[0]} failed: ${describe(error)}`)
      );
    };

    // ---- Enabling and disabling (§5, §6) ----
    api.hook<StanzaEvent>(`iq-set/self/${NS_PUSH}:enable`, async ({ stanza, to, origin }) => {
      const enable = stanza.getChild("enable", NS_PUSH)!;
      const jid = JID.tryParse(enable.attrs.jid ?? "");
      const node = enable.attrs.node;
      if (!jid) throw new StanzaError("bad-request", "<enable> needs the app server's jid");
      if (!node) throw new StanzaError("bad-request", "<enable> needs a node");
      const form = enable.getChild("x", NS_DATA_FORMS);
      const formType = form?.getChildren("field").find((f) => f.attrs.var === "FORM_TYPE");
      if (form && formType?.getChildText("value") !== NS_PUBSUB_PUBLISH_OPTIONS) {
        throw new StanzaError("bad-request", "The form's FORM_TYPE must be publish-options");
      }
      const attrs = { jid: jid.toString(), node, resource: origin?.jid.resource ?? "" };
      const registration = xml("registration", attrs);
      if (form) registration.append(form.clone());
      await api.xdb.insert(
        to.bareString(),
        NS_PUSH,
        registration,
        xdbMatch("registration", { jid: attrs.jid, node }),
      );
      errors.delete(`${to.bareString()} ${attrs.jid} ${node}`);
      sm.reply(stanza);
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_PUSH}:disable`, async ({ stanza, to }) => {
      const disable = stanza.getChild("disable", NS_PUSH)!;
      const jid = JID.tryParse(disable.attrs.jid ?? "")?.toString();
      if (!jid) throw new StanzaError("bad-request", "<disable> needs the app server's jid");
      const node = disable.attrs.node;
      const owner = to.bareString();
      // Without a node, every registration with that app server goes (§6).
      for (const registration of await registrationsOf(owner)) {
        if (registration.jid === jid && (node === undefined || registration.node === node)) {
          await remove(owner, registration);
        }
      }
      sm.reply(stanza);
    });

    // ---- When to push (§7) ----
    api.hook<StanzaEvent>("message/offline-stored", ({ stanza, to }) => {
      if (worthPushing(stanza)) publishSoon(to.bareString(), stanza, () => true);
      return undefined;
    });
    const inactive = (session: Session | undefined): session is Session =>
      session !== undefined && session.data.has(CSI_INACTIVE);
    /** Pushes for the devices of `resources`; the message goes on being delivered. */
    const forInactive = (owner: string, stanza: Element, resources: ReadonlySet<string>) => {
      if (!worthPushing(stanza)) return;
      publishSoon(owner, stanza, (registration) => resources.has(registration.resource));
    };
    // Before csi (5) and the delivery (-1), taking nothing. No session inactive (the common
    // case): nothing is made per message, not even an array.
    api.hook<StanzaEvent>("message/full", ({ stanza, to }) => {
      const session = sm.sessions.get(fullText(to));
      if (inactive(session)) forInactive(bareText(to), stanza, new Set([session.jid.resource]));
      return undefined;
    }, 6);
    api.hook<StanzaEvent>("message/bare", ({ stanza, to }) => {
      const owner = bareText(to);
      let resources: Set<string> | undefined;
      for (const session of sm.sessions.ofUser(owner)) {
        if (!inactive(session) || !session.available || session.priority < 0) continue;
        (resources ??= new Set()).add(session.jid.resource);
      }
      if (resources) forInactive(owner, stanza, resources);
      return undefined;
    }, 6);

    // The count starts again once the device has seen its messages.
    const seen = ({ session }: SessionEvent) => {
      counts.delete(`${session.jid.bareString()}/${session.jid.resource}`);
      return undefined;
    };
    api.hook<SessionEvent>("resource-bind", seen);
    api.hook<SessionEvent>(`nonza/urn:xmpp:csi:0:active`, seen, 10);

    // ---- The app server's answers (§8) ----
    const answered = (owner: string, appServer: string): string | undefined => {
      const nodes = pending.get(`${owner} ${appServer}`);
      const node = nodes?.shift();
      if (nodes?.length === 0) pending.delete(`${owner} ${appServer}`);
      return node;
    };
    api.hook<StanzaEvent>(`iq-result/bare/${PUSH_ID}`, ({ to, from }) => {
      const owner = to.bareString();
      const appServer = from?.toString() ?? "";
      const node = answered(owner, appServer);
      if (node === undefined) return undefined;
      errors.delete(`${owner} ${appServer} ${node}`);
      return true;
    });
    api.hook<StanzaEvent>(`iq-error/bare/${PUSH_ID}`, ({ to, from }) => {
      const owner = to.bareString();
      const appServer = from?.toString() ?? "";
      const node = answered(owner, appServer);
      if (node === undefined) return undefined;
      const key = `${owner} ${appServer} ${node}`;
      const count = (errors.get(key) ?? 0) + 1;
      if (count < MAX_ERRORS) {
        errors.set(key, count);
        return true;
      }
      errors.delete(key);
      api.log.info(`Push to ${appServer} node ${node} for ${owner} disabled after ${count} errors`);
      // The promise covers the removal: what the account receives next is pushed without it.
      return remove(owner, { jid: appServer, node });
    });

    api.hook<UserEvent>("user-deleted", ({ jid }) => {
      api.xdb.set(jid.bareString(), NS_PUSH, undefined).catch((error) =>
        api.log.warn(`Removing the push registrations of ${jid} failed: ${describe(error)}`)
      );
      return undefined;
    });
  },
};
