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
