"""Group chat (XEP-0045) with slixmpp's xep_0045: joins `--room` as `--nick` asking for history,
checks the history message `--history` came with the room's XEP-0203 delay, that the occupant
`--peer-nick` is there, and the subject ended the join; then says `--send` to the room, waits
for `--expect` from `--peer-nick`, pings its own occupant address (XEP-0410) and leaves."""
from common import Client, arguments, check, run, say


def options(parser):
    parser.add_argument("--room", required=True)
    parser.add_argument("--nick", required=True)
    parser.add_argument("--peer-nick", required=True)
    parser.add_argument("--history", required=True)
    parser.add_argument("--send", required=True)
    parser.add_argument("--expect", required=True)


class Muc(Client):
    def __init__(self, args):
        super().__init__(args, plugins=("xep_0045", "xep_0199", "xep_0203"))

    async def scenario(self):
        args = self.args
        muc = self["xep_0045"]
        reply = self.receive(
            "groupchat_message",
            lambda m: m["body"] == args.expect and m["from"].resource == args.peer_nick,
            f'"{args.expect}" from {args.peer_nick}')
        self.send_presence()
        own, subject, occupants, history = await muc.join_muc_wait(
            args.room, args.nick, maxstanzas=5, timeout=args.timeout / 2)
        codes = sorted(int(s) for s in own["muc"]["status_codes"])
        say("joined", own["from"].full, "codes", *codes)
        check(110 in codes, f"the own presence has no status 110: {own}")
        say("subject", repr(subject["subject"]))
        nicks = sorted(p["from"].resource for p in occupants)
        say("occupants", *nicks)
        check(args.peer_nick in nicks, f"{args.peer_nick} is not among {nicks}")
        bodies = [m["body"] for m in history]
        say("history", *bodies)
        check(args.history in bodies, f'"{args.history}" is not in the history {bodies}')
        self.send_message(mto=args.room, mbody=args.send, mtype="groupchat")
        message = await reply
        say("received", message["from"].full, message["body"])
        pong = await self["xep_0199"].send_ping(f"{args.room}/{args.nick}", timeout=args.timeout / 2)
        say("self-ping", pong["type"])
        muc.leave_muc(args.room, args.nick)


if __name__ == "__main__":
    run(Muc(arguments(__doc__, options)))
