"""Message Archive Management (XEP-0313, paged with XEP-0059, ids of XEP-0359): with `--send-to`,
sends `--count` chat messages to that bare JID and checks its own archive holds them; with
`--fetch-from`, a user who was offline pages through the archive with that peer three messages
at a time, checks every message came in order, then sends presence and checks the offline
messages carry the stanza-ids the archive gave."""
from common import Client, arguments, check, run, say


def options(parser):
    parser.add_argument("--send-to", help="a bare JID to send the messages to")
    parser.add_argument("--fetch-from", help="the bare JID whose messages to fetch")
    parser.add_argument("--count", type=int, default=7)


def bodies(count):
    return [f"archived {n}" for n in range(count)]


class Mam(Client):
    def __init__(self, args):
        super().__init__(args, plugins=("xep_0030", "xep_0059", "xep_0313", "xep_0359"))

    async def archived(self, peer):
        """Every archived message with `peer`, oldest first, fetched in pages of three."""
        found = []
        async for result in self["xep_0313"].iterate(with_jid=peer, rsm={"max": 3}):
            forwarded = result["mam_result"]["forwarded"]
            found.append((result["mam_result"]["id"], forwarded["stanza"]["body"]))
        return found

    async def scenario(self):
        args = self.args
        info = await self["xep_0030"].get_info(jid=self.boundjid.bare)
        check("urn:xmpp:mam:2" in info["disco_info"]["features"], "the account offers MAM")
        if args.send_to:
            for body in bodies(args.count):
                self.send_message(mto=args.send_to, mbody=body, mtype="chat")
            found = await self.archived(args.send_to)
            say("archived", len(found))
            check([body for _, body in found] == bodies(args.count), f"own archive: {found}")
            return
        found = await self.archived(args.fetch_from)
        say("fetched", len(found))
        check([body for _, body in found] == bodies(args.count), f"fetched {found}")
        ids = [archive_id for archive_id, _ in found]
        check(len(set(ids)) == len(ids), "archive ids are distinct")
        offline = []
        done = self.loop.create_future()

        def on_message(message):
            if message["body"].startswith("archived "):
                offline.append(message["stanza_id"]["id"])
                if len(offline) == args.count and not done.done():
                    done.set_result(True)

        self.add_event_handler("message", on_message)
        self.send_presence()
        await done
        say("offline", len(offline))
        check(offline == ids, f"offline stanza-ids {offline} differ from the archive's {ids}")


if __name__ == "__main__":
    run(Mam(arguments(__doc__, options)))
