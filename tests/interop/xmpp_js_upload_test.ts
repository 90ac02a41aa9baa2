/**
 * Interop of XEP-0363 HTTP File Upload on real sockets: the real `@xmpp/client` finds the
 * service in disco, asks for a slot, and `fetch` puts the file on the http section's listener
 * and gets it back, as Conversations or Converse.js do.
 */
import assert from "node:assert/strict";
import { startServer } from "./harness.ts";
import { connect, register, xml } from "./xmpp_js.ts";
import { NS_DISCO_ITEMS, NS_STANZAS_ERRORS } from "../../src/util/ns.ts";

const NS_UPLOAD = "urn:xmpp:http:upload:0";
const PASSWORD = "files over http";
const SERVICES = `<service id="upload">
    <host>upload.localhost</host>
    <upload xmlns="jabberd:config:upload" max-size="64KiB" dir="uploads"/>
  </service>
  <service id="http">
    <http xmlns="jabberd:config:http"><listen port="0" ip="127.0.0.1"/></http>
  </service>`;

Deno.test("xmpp.js finds the upload service, gets a slot, and fetch puts and gets the file", async () => {
  const s = await startServer({ services: SERVICES });
  try {
    await register(s, "uploader", PASSWORD);
    const js = await connect(s, { username: "uploader", password: PASSWORD, resource: "js" });
    try {
      const items = await js.request(
        xml(
          "iq",
          { type: "get", to: "localhost" },
          xml("query", {
            xmlns: "http://jabber.org/protocol/disco#items",
          }),
        ),
      );
      const jids = items.getChild("query", NS_DISCO_ITEMS)!.getChildren("item", NS_DISCO_ITEMS).map(
        (i) => i.attrs.jid,
      );
      assert.ok(jids.includes("upload.localhost"), `disco#items lists ${jids.join(", ")}`);
      const info = await js.request(
        xml(
          "iq",
          { type: "get", to: "upload.localhost" },
          xml("query", {
            xmlns: "http://jabber.org/protocol/disco#info",
          }),
        ),
      );
      assert.ok(
        info.getChild("query")!.getChildren("feature").some((f) => f.attrs.var === NS_UPLOAD),
      );
      const content = new TextEncoder().encode("a picture, say\n".repeat(100));
      const reply = await js.request(
        xml(
          "iq",
          { type: "get", to: "upload.localhost" },
          xml("request", {
            xmlns: NS_UPLOAD,
            filename: "pic ture.txt",
            size: String(content.length),
            "content-type": "text/plain",
          }),
        ),
      );
      const slot = reply.getChild("slot", NS_UPLOAD)!;
      const put = slot.getChild("put")!;
      const header = put.getChild("header")!;
      assert.equal(header.attrs.name, "Authorization");
      const url = put.attrs.url!;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/upload\/[0-9a-f]{32}\/pic%20ture\.txt$/);
      const stored = await fetch(url, {
        method: "PUT",
        body: content,
        headers: { authorization: header.text(), "content-type": "text/plain" },
      });
      assert.equal(stored.status, 201, await stored.text());
      const got = await fetch(slot.getChild("get")!.attrs.url!);
      assert.equal(got.status, 200);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), content);
      const files = [...Deno.readDirSync(`${s.dataDir}/uploads`)];
      assert.equal(files.length, 1);

      const large = await js.exchange(
        xml(
          "iq",
          { type: "get", to: "upload.localhost" },
          xml("request", {
            xmlns: NS_UPLOAD,
            filename: "big.bin",
            size: String(65 * 1024),
          }),
        ),
      );
      // xmpp.js rejects with the `<error>` element of the error reply.
      assert.ok(large.is("error"), large.toString());
      assert.ok(large.getChild("not-acceptable", NS_STANZAS_ERRORS));
      const limit = large.getChild("file-too-large", NS_UPLOAD)?.getChildText("max-file-size");
      assert.equal(limit, String(64 * 1024));
    } finally {
      await js.stop();
    }
  } finally {
    await s.stop();
  }
});
