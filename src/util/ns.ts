/** XML namespace names used across the server, one constant each (RFC 6120, RFC 6121, XEPs). */

export const NS_CLIENT = "jabber:client";
export const NS_SERVER = "jabber:server";
export const NS_COMPONENT_ACCEPT = "jabber:component:accept";
export const NS_COMPONENT_CONNECT = "jabber:component:connect";
export const NS_COMPONENT_EXEC = "jabber:component:exec";
export const NS_STREAM = "http://etherx.jabber.org/streams";
export const NS_STREAMS_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";
export const NS_STANZAS_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** The namespace of the jabberd config file's own elements (sections, base modules). */
export const NS_CONFIG = "jabberd:config";

// Session manager features (sm features helper).
export const NS_VCARD = "vcard-temp";
export const NS_VCARD_UPDATE = "vcard-temp:x:update";
export const NS_PRIVATE = "jabber:iq:private";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_VERSION = "jabber:iq:version";
export const NS_TIME = "urn:xmpp:time";
export const NS_LAST = "jabber:iq:last";
export const NS_PING = "urn:xmpp:ping";
export const NS_BLOCKING = "urn:xmpp:blocking";
export const NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors";
export const NS_CARBONS = "urn:xmpp:carbons:2";
export const NS_FORWARD = "urn:xmpp:forward:0";
export const NS_HINTS = "urn:xmpp:hints";
export const NS_REGISTER = "jabber:iq:register";
export const NS_ROSTER = "jabber:iq:roster";

// Session manager core (sm core helper).
export const NS_DELAY = "urn:xmpp:delay";
export const NS_OFFLINE = "jabber:x:offline";
export const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
export const NS_SM_CONFIG = "jabberd:config:sm";

// Roster, subscriptions and presence (roster/presence helper).
export const NS_ROSTER_VER = "urn:xmpp:features:rosterver";
export const NS_PRE_APPROVAL = "urn:xmpp:features:pre-approval";
/** Pending inbound subscription requests, kept beside the roster items in `jabber:iq:roster`. */
export const NS_ROSTER_PENDING = "jabberd:roster:pending";

// Message archives (XEP-0313), stanza ids (XEP-0359), result set paging (XEP-0059).
export const NS_MAM = "urn:xmpp:mam:2";
/** XEP-0313 §7: before-id, after-id, ids, flip-page and metadata. */
export const NS_MAM_EXTENDED = "urn:xmpp:mam:2#extended";
export const NS_SID = "urn:xmpp:sid:0";
export const NS_RSM = "http://jabber.org/protocol/rsm";
/** XDB, owned by a host: the accounts of that host with an archive, for the retention sweep. */
export const NS_MAM_OWNERS = "jabberd:mam:owners";

// PEP and publish-subscribe on the account (XEP-0163, XEP-0060), caps, bookmarks, CSI.
export const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
export const NS_PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner";
export const NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event";
export const NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors";
export const NS_PUBSUB_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options";
export const NS_PUBSUB_NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config";
export const NS_DATA_FORMS = "jabber:x:data";
export const NS_CAPS = "http://jabber.org/protocol/caps";
export const NS_BOOKMARKS = "urn:xmpp:bookmarks:1";
export const NS_BOOKMARKS_COMPAT = "urn:xmpp:bookmarks:1#compat";
export const NS_BOOKMARKS_LEGACY = "storage:bookmarks";
export const NS_CSI = "urn:xmpp:csi:0";

// Push notifications (XEP-0357) and external service discovery (XEP-0215).
export const NS_PUSH = "urn:xmpp:push:0";
/** The FORM_TYPE of a push notification's summary (XEP-0357 §7). */
export const NS_PUSH_SUMMARY = "urn:xmpp:push:summary";
export const NS_EXTDISCO = "urn:xmpp:extdisco:2";

// Multi-User Chat (XEP-0045) and what it uses (muc component helper).
export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin";
export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
/** The FORM_TYPE of the room configuration form (XEP-0045 §10.2). */
export const NS_MUC_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
/** The FORM_TYPE of the extended room information in disco#info (XEP-0045 §6.4). */
export const NS_MUC_ROOMINFO = "http://jabber.org/protocol/muc#roominfo";
export const NS_MUC_CONFIG = "jabberd:config:muc";
/** XDB: one persistent room (configuration, affiliations, subject), owned by the room's JID. */
export const NS_MUC_ROOM = "jabberd:muc:room";
/** XDB: the persistent rooms of a MUC service, owned by the service's domain. */
export const NS_MUC_ROOMS = "jabberd:muc:rooms";
// XEP-0004 Data Forms: NS_DATA_FORMS above (shared by PEP and MUC).

// Federation (s2s helper): server streams, STARTTLS, SASL, dialback (RFC 6120, XEP-0220).
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const NS_DIALBACK = "jabber:server:dialback";
/** The stream feature that says dialback (with errors) is offered (XEP-0220 §2.4). */
export const NS_DIALBACK_FEATURE = "urn:xmpp:features:dialback";
export const NS_S2S_CONFIG = "jabberd:config:s2s";
/** XEP-0363 HTTP File Upload. */
export const NS_HTTP_UPLOAD = "urn:xmpp:http:upload:0";
export const NS_UPLOAD_CONFIG = "jabberd:config:upload";
/** Where the upload section keeps its slots in XDB (owner: the upload host). */
export const NS_UPLOAD_SLOTS = "jabberd:upload:slots";
