"""The subscription handshake both ways (RFC 6121 §3.1) with `--peer`, a contact driven by the
test: subscribes to the peer, approves the peer's request (slixmpp's auto-authorize), and waits
until the roster says `both` and the peer's presence has arrived. Then removes nothing: the
test checks the peer's side."""
from common import Client, arguments, check, run, say


def options(parser):
    parser.add_argument("--peer", required=True, help="the contact's bare JID")


class Roster(Client):
    def __init__(self, args):
        super().__init__(args)
        self.auto_authorize = True  # answer the peer's subscribe with subscribed
        self.auto_subscribe = False  # the peer asks on its own

    def subscription(self):
        roster = self.client_roster
        return roster[self.args.peer]["subscription"] if self.args.peer in roster else "none"

    async def scenario(self):
        peer = self.args.peer
        await self.get_roster(timeout=self.args.timeout / 2)
        self.send_presence()
        both = self.receive("roster_update", lambda _: self.subscription() == "both",
                            f"a roster with {peer} in subscription both")
        available = self.receive("presence_available",
                                 lambda p: p["from"].bare == peer, f"available presence of {peer}")
        self.send_presence(pto=peer, ptype="subscribe")
        say("subscribe-sent", peer)
        if self.subscription() != "both":
            await both
        else:
            both.cancel()
        say("subscription", self.subscription())
        await available
        say("available", peer)
        # The server's copy agrees with slixmpp's view: a roster get without `ver` (XEP-0237),
        # so the whole roster comes back rather than "no change".
        iq = self.Iq()
        iq["type"] = "get"
        iq.enable("roster")
        roster = await iq.send(timeout=self.args.timeout / 2)
        items = {str(jid): item for jid, item in roster["roster"]["items"].items()}
        check(peer in items, f"the roster has {peer}: {items}")
        check(items[peer]["subscription"] == "both", f"roster item: {items[peer]}")


if __name__ == "__main__":
    run(Roster(arguments(__doc__, options)))
