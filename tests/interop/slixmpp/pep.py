"""PEP (XEP-0163 on XEP-0060), bookmarks (XEP-0048 over XEP-0049 and XEP-0223, converted to
XEP-0402 by XEP-0411) and client state indication (XEP-0352), with two slixmpp clients in one
process: the owner (`--jid`) and a contact (`--contact`, same password) with no roster link.

1. The owner's account advertises pubsub/pep and publish-options (disco#info of its bare JID).
2. The owner publishes an OMEMO device list (XEP-0384) with `pubsub#access_model=open`.
3. The contact says it wants device lists (`+notify` in its XEP-0115 caps) and sends the owner
   directed presence: the server asks its caps and sends the last device list; a second publish
   reaches it as a notification; it reads the owner's open bundle.
4. The owner stores legacy bookmarks in private XML and finds them as XEP-0402 items, publishes
   a XEP-0402 bookmark and finds it in private XML, and round-trips XEP-0223 storage.
5. The contact goes inactive: a chat state from the owner is held (not seen for a second), then
   a message with a body brings both, the chat state first.
"""
import asyncio
import copy
import xml.etree.ElementTree as ET

from slixmpp.jid import JID
from slixmpp.plugins.xep_0048 import Bookmarks

from common import Client, arguments, check, run, say

AXOLOTL = "eu.siacs.conversations.axolotl"
DEVICELIST = AXOLOTL + ".devicelist"
BUNDLE = AXOLOTL + ".bundles:1"
BOOKMARKS = "urn:xmpp:bookmarks:1"
CHATSTATES = "http://jabber.org/protocol/chatstates"
PLUGINS = ("xep_0030", "xep_0004", "xep_0060", "xep_0163", "xep_0115", "xep_0048", "xep_0049",
           "xep_0223", "xep_0352", "xep_0085")


def options(parser):
    parser.add_argument("--contact", required=True, help="the contact's bare JID")


def device_list(*ids):
    element = ET.Element(f"{{{AXOLOTL}}}list")
    for device in ids:
        ET.SubElement(element, f"{{{AXOLOTL}}}device", {"id": str(device)})
    return element


class Contact(Client):
    """Logs in, then waits for the owner to drive it (its scenario never ends on its own)."""

    def __init__(self, args):
        super().__init__(args, plugins=PLUGINS)
        self.ready = asyncio.Event()
        self.devices = asyncio.Queue()
        self.messages = asyncio.Queue()
        self.add_event_handler("pubsub_publish", self._on_publish)
        # Messages with a body, and chat states (slixmpp's "message" is for bodies only).
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("chatstate", lambda m: self.messages.put_nowait(m))

    def _on_publish(self, message):
        items = message["pubsub_event"]["items"]
        if items["node"] != DEVICELIST:
            return
        # The XML, not the stanza: iterating the stanza here would reset slixmpp's own loop
        # over the same items (ElementBase keeps one iteration index).
        for found in items.xml.iter(f"{{{AXOLOTL}}}list"):
            ids = [d.get("id") for d in found.findall(f"{{{AXOLOTL}}}device")]
            self.devices.put_nowait(" ".join(ids))

    async def scenario(self):
        self["xep_0030"].add_feature(DEVICELIST + "+notify")
        await self["xep_0115"].update_caps(broadcast=False)
        self.ready.set()
        await asyncio.Event().wait()


class Owner(Client):
    def __init__(self, args, contact):
        super().__init__(args, plugins=PLUGINS)
        self.contact = contact

    def open_access(self):
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden",
                       value="http://jabber.org/protocol/pubsub#publish-options")
        form.add_field(var="pubsub#access_model", value="open")
        return form

    async def scenario(self):
        timeout = self.args.timeout / 4
        contact = self.contact
        own = self.boundjid.bare

        info = await self["xep_0030"].get_info(jid=own, timeout=timeout)
        identities = [(c, t) for c, t, *_ in info["disco_info"]["identities"]]
        features = info["disco_info"]["features"]
        check(("pubsub", "pep") in identities, f"a pubsub/pep identity: {identities}")
        check("http://jabber.org/protocol/pubsub#publish-options" in features,
              f"publish-options among the features: {features}")
        say("account pubsub/pep")

        await self["xep_0060"].publish(None, DEVICELIST, id="current", payload=device_list(1),
                                       options=self.open_access(), timeout=timeout)
        await self["xep_0060"].publish(None, BUNDLE, id="current",
                                       payload=ET.Element(f"{{{AXOLOTL}}}bundle"),
                                       options=self.open_access(), timeout=timeout)
        say("published devicelist 1")

        await asyncio.wait_for(contact.ready.wait(), timeout)
        contact.send_presence(pto=own)
        last = await asyncio.wait_for(contact.devices.get(), timeout)
        check(last == "1", f"the last device list on presence: {last}")
        say("contact last", last)
        await self["xep_0060"].publish(None, DEVICELIST, id="current", payload=device_list(1, 2),
                                       options=self.open_access(), timeout=timeout)
        notified = await asyncio.wait_for(contact.devices.get(), timeout)
        check(notified == "1 2", f"the new device list: {notified}")
        say("contact notified", notified)
        bundle = await contact["xep_0060"].get_items(JID(own), BUNDLE, timeout=timeout)
        check(len(bundle["pubsub"]["items"]) == 1, f"the bundle: {bundle}")
        say("contact bundle", bundle["pubsub"]["items"]["node"])

        await self.bookmarks(timeout)
        await self.client_state(timeout)

    async def bookmarks(self, timeout):
        legacy = Bookmarks()
        legacy.add_conference("old@conference.localhost", "slix", name="Old", autojoin=True)
        await self["xep_0048"].set_bookmarks(legacy, method="xep_0049", timeout=timeout)
        items = await self["xep_0060"].get_items(None, BOOKMARKS, timeout=timeout)
        ids = [item["id"] for item in items["pubsub"]["items"]]
        check(ids == ["old@conference.localhost"], f"XEP-0402 items from private XML: {ids}")
        say("bookmarks 411 to 402", *ids)

        conference = ET.Element(f"{{{BOOKMARKS}}}conference", {"name": "New", "autojoin": "true"})
        ET.SubElement(conference, f"{{{BOOKMARKS}}}nick").text = "slix"
        await self["xep_0060"].publish(None, BOOKMARKS, id="new@conference.localhost",
                                       payload=conference, timeout=timeout)
        stored = await self["xep_0048"].get_bookmarks(method="xep_0049", timeout=timeout)
        jids = sorted(str(c["jid"]) for c in stored["private"]["bookmarks"]["conferences"])
        check(jids == ["new@conference.localhost", "old@conference.localhost"],
              f"private XML from XEP-0402: {jids}")
        say("bookmarks 402 to 411", *jids)

        pep = Bookmarks()
        pep.add_conference("pep@conference.localhost", "slix", name="Pep")
        await self["xep_0048"].set_bookmarks(pep, method="xep_0223", timeout=timeout)
        back = await self["xep_0048"].get_bookmarks(method="xep_0223", timeout=timeout)
        item = back["pubsub"]["items"]["substanzas"][0]
        check("pep@conference.localhost" in str(item), f"XEP-0223 storage: {back}")
        say("bookmarks 223")

    async def client_state(self, timeout):
        contact = self.contact
        check(contact["xep_0352"].enabled, "the server offers csi")
        contact["xep_0352"].send_inactive()
        await asyncio.sleep(0.3)
        while not contact.messages.empty():
            contact.messages.get_nowait()
        state = self.make_message(mto=contact.boundjid.full, mtype="chat")
        state["chat_state"] = "composing"
        state.send()
        try:
            early = await asyncio.wait_for(contact.messages.get(), 1.0)
            check(False, f"a chat state reached an inactive client: {early}")
        except asyncio.TimeoutError:
            say("csi held")
        self.send_message(mto=contact.boundjid.full, mbody="wake up", mtype="chat")
        first = await asyncio.wait_for(contact.messages.get(), timeout)
        second = await asyncio.wait_for(contact.messages.get(), timeout)
        check(first["chat_state"] == "composing" and second["body"] == "wake up",
              f"the held chat state, then the body: {first} {second}")
        say("csi flushed in order")


def main():
    args = arguments(__doc__, options)
    contact_args = copy.copy(args)
    contact_args.jid = args.contact
    contact_args.resource = "contact"
    contact = Contact(contact_args)
    contact.connect((args.host, args.port), force_starttls=True)
    run(Owner(args, contact))


if __name__ == "__main__":
    main()
