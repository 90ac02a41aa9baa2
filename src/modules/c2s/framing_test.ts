import assert from "node:assert/strict";
import type { Element } from "../../xml/element.ts";
import type { XmlError } from "../../xml/stream_parser.ts";
import { declareNamespaces, TCP_STARTTLS, WEBSOCKET_FRAMING } from "./framing.ts";

Deno.test("declareNamespaces() declares jabber:client on stanzas and the stream prefix on features", () => {
  assert.equal(
    declareNamespaces("<iq type='result' id='a'/>"),
    "<iq xmlns='jabber:client' type='result' id='a'/>",
  );
  assert.equal(
    declareNamespaces("<message xmlns='jabber:client'><body>x</body></message>"),
    "<message xmlns='jabber:client'><body>x</body></message>",
  );
  assert.equal(
    declareNamespaces(
      "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    ),
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
  );
  assert.equal(
    declareNamespaces("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
  );
  assert.equal(TCP_STARTTLS.frame("<iq/>"), "<iq/>", "TCP keeps what the stream declares");
});

Deno.test("WEBSOCKET_FRAMING.parser() turns <open/> into a header, stanzas into jabber:client, <close/> into the end", () => {
  const events: string[] = [];
  let stanza: Element | undefined;
  const parser = WEBSOCKET_FRAMING.parser({
    onStreamStart: (header) => events.push(`start ${header.attrs.xmlns} ${header.attrs.to}`),
    onStanza: (element) => {
      stanza = element;
      events.push(`stanza ${element.ns}`);
    },
    onStreamEnd: () => events.push("end"),
    onError: (error: XmlError) => events.push(`error ${error.condition}`),
  }, {});
  parser.write("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
  parser.write("<message to='a@b'><body>hi</body></message>");
  parser.write("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  parser.write("<message/>");
  assert.deepEqual(events, [
    "start jabber:client localhost",
    "stanza jabber:client",
    "end",
    "error invalid-xml",
  ]);
  assert.equal(stanza!.getChild("body")!.ns, "jabber:client", "children inherit jabber:client");
});
