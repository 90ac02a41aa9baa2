"""Push notifications (XEP-0357) with two slixmpp clients in one process: the device (`--device`,
same password), which enables push and goes offline, and the app server (`--jid`), a client
whose full JID is the push service's address, which answers the publish like a pubsub service.
slixmpp 1.8 has no xep_0357 plugin, so the `<enable>` is written by hand.

1. The device's account advertises urn:xmpp:push:0 (disco#info of its bare JID).
2. The device enables push to the app server's full JID, node "device-1", with a secret in the
   publish-options form, then disconnects.
3. The app server sends the device's account a message: the server stores it offline and
   publishes a summary to the app server, from the account, which the app server answers.
4. A second message: the summary counts two.
"""
import asyncio
import copy
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from common import Client, arguments, check, run, say

PUSH = "urn:xmpp:push:0"
PUBSUB = "http://jabber.org/protocol/pubsub"
DATA = "jabber:x:data"
PLUGINS = ("xep_0030", "xep_0004")


def options(parser):
    parser.add_argument("--device", required=True, help="the device's bare JID")


class Device(Client):
    """Logs in, enables push to `app`, says so, and goes away."""

    def __init__(self, args, app):
        super().__init__(args, plugins=PLUGINS)
        self.app = app
        self.enabled = asyncio.Event()

    async def scenario(self):
        timeout = self.args.timeout / 4
        info = await self["xep_0030"].get_info(jid=self.boundjid.bare, timeout=timeout)
        features = info["disco_info"]["features"]
        check(PUSH in features, f"urn:xmpp:push:0 among the account's features: {features}")
        say("account push")
        iq = self.Iq()
        iq["type"] = "set"
        enable = ET.SubElement(iq.xml, f"{{{PUSH}}}enable", {"jid": self.app, "node": "device-1"})
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden",
                       value="http://jabber.org/protocol/pubsub#publish-options")
        form.add_field(var="secret", value="s3cr3t")
        enable.append(form.xml)
        await iq.send(timeout=timeout)
        say("enabled")
        self.enabled.set()
        await asyncio.Event().wait()


class AppServer(Client):
    def __init__(self, args, device_args):
        super().__init__(args, plugins=PLUGINS)
        self.device_args = device_args
        self.pushes = asyncio.Queue()
        self.register_handler(Callback(
            "push publish",
            MatchXPath(f"{{{self.default_ns}}}iq/{{{PUBSUB}}}pubsub"),
            self._on_publish,
        ))

    def _on_publish(self, iq):
        if iq["type"] != "set":
            return
        self.pushes.put_nowait(iq)
        iq.reply(clear=True).send()

    async def scenario(self):
        timeout = self.args.timeout / 4
        device = Device(self.device_args, self.boundjid.full)
        device.connect((self.args.host, self.args.port), force_starttls=True)
        await asyncio.wait_for(device.enabled.wait(), timeout)
        gone = asyncio.Event()
        device.add_event_handler("disconnected", lambda _: gone.set())
        device.disconnect(wait=1.0)
        await asyncio.wait_for(gone.wait(), timeout)
        # Time for the server to end the closed session (loopback: a few milliseconds).
        await asyncio.sleep(0.5)
        owner = self.device_args.jid
        for count in ("1", "2"):
            self.send_message(mto=owner, mbody=f"wake up {count}", mtype="chat")
            iq = await asyncio.wait_for(self.pushes.get(), timeout)
            check(str(iq["from"]) == owner, f"the push comes from the account: {iq['from']}")
            publish = iq.xml.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish")
            check(publish is not None and publish.get("node") == "device-1",
                  f"published to the node: {ET.tostring(iq.xml)}")
            fields = {}
            for field in publish.iter(f"{{{DATA}}}field"):
                fields[field.get("var")] = field.findtext(f"{{{DATA}}}value")
            check(fields.get("FORM_TYPE") == "urn:xmpp:push:summary", f"a summary: {fields}")
            check(fields.get("message-count") == count, f"count {count}: {fields}")
            check(fields.get("last-message-sender") == self.boundjid.full, f"the sender: {fields}")
            secret = [f.findtext(f"{{{DATA}}}value")
                      for f in iq.xml.iter(f"{{{DATA}}}field") if f.get("var") == "secret"]
            check(secret == ["s3cr3t"], f"the publish-options secret: {secret}")
            say("pushed", count)


def main():
    args = arguments(__doc__, options)
    device_args = copy.copy(args)
    device_args.jid = args.device
    device_args.resource = "phone"
    run(AppServer(args, device_args))


if __name__ == "__main__":
    main()
