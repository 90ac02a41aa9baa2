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
