/** The `<stream:features/>` c2s announces at each stage of negotiation (RFC 6120 §4.3.2). */
import { NS_CSI } from "../../util/ns.ts";
import { Element } from "../../xml/element.ts";

export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";
export const NS_SASL_CB = "urn:xmpp:sasl-cb:0";

export interface FeatureState {
  /** STARTTLS can still be offered (plain TCP listener, not yet secure). */
  starttls: boolean;
  /** TLS is mandatory before authentication. */
  tlsRequired: boolean;
  /** Mechanisms offered now (empty: no SASL yet, TLS first). */
  mechanisms: readonly string[];
  /** Advertise `tls-server-end-point` (XEP-0440). */
  channelBinding: boolean;
  /** Offer XEP-0077 registration. */
  register: boolean;
  /** Authenticated: offer bind and the legacy session. */
  authenticated: boolean;
  /** Offer XEP-0198 stream management (with the authenticated features). */
  streamManagement?: boolean;
}

export function streamFeatures(state: FeatureState): Element {
  const features = new Element("stream:features");
  if (state.authenticated) {
    features.c("bind", { xmlns: NS_BIND }).up();
    // RFC 6121 dropped the session iq; old clients still send it, so it is offered as optional.
    features.c("session", { xmlns: NS_SESSION }).c("optional").up().up();
    // The session manager keeps roster versions (XEP-0237) and pre-approvals (RFC 6121 §3.4).
    features.c("ver", { xmlns: "urn:xmpp:features:rosterver" }).up();
    features.c("sub", { xmlns: "urn:xmpp:features:pre-approval" }).up();
    // XEP-0352: the nonzas are passed on to the session manager, which holds stanzas back.
    features.c("csi", { xmlns: NS_CSI }).up();
    if (state.streamManagement) features.c("sm", { xmlns: "urn:xmpp:sm:3" }).up();
    return features;
  }
  if (state.starttls) {
    const starttls = features.c("starttls", { xmlns: NS_TLS });
    if (state.tlsRequired) starttls.c("required");
  }
  if (state.mechanisms.length > 0) {
    const mechanisms = features.c("mechanisms", { xmlns: NS_SASL });
    for (const name of state.mechanisms) mechanisms.c("mechanism").t(name).up();
    if (state.channelBinding) {
      features.c("sasl-channel-binding", { xmlns: NS_SASL_CB })
        .c("channel-binding", { type: "tls-server-end-point" });
    }
  }
  if (state.register) features.c("register", { xmlns: "http://jabber.org/features/iq-register" });
  return features;
}
