"""Stream management (XEP-0198) with slixmpp's xep_0198 plugin: this client (`--jid`) enables
it with resumption; a second client in the same process (`--sender`, same password) writes it
`--count` numbered messages. After the first half arrived, this client's TCP connection is
killed without a word; the sender writes the second half while it is away; the client connects
again, resumes the session (no new bind), and must end up with every message exactly once.
"""
import asyncio
import sys

from common import Client, CheckFailed, FAILED, NO_SESSION, PASSED, TIMEOUT, arguments, check, say

PLUGINS = ("xep_0198",)


def options(parser):
    parser.add_argument("--sender", required=True, help="the sender's bare JID")
    parser.add_argument("--count", type=int, default=20)


class Sender(Client):
    def __init__(self, args, receiver):
        super().__init__(args)
        self.receiver = receiver
        self.ready = asyncio.Event()

    async def scenario(self):
        self.ready.set()
        await asyncio.Event().wait()

    def write(self, first, last):
        for n in range(first, last + 1):
            self.send_message(mto=self.receiver, mbody=f"m{n}", mtype="chat")


class Receiver(Client):
    def __init__(self, args):
        super().__init__(args, plugins=PLUGINS)
        self.bodies = []
        self.arrived = asyncio.Event()
        self.resumed = asyncio.Event()
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("session_resumed", lambda _: self.resumed.set())
        self.add_event_handler("sm_enabled", lambda s: say("enabled resume", s["resume"]))

    def _on_message(self, message):
        if message["body"]:
            self.bodies.append(message["body"])
            self.arrived.set()

    async def until(self, count, what):
        try:
            while len(self.bodies) < count:
                self.arrived.clear()
                await asyncio.wait_for(self.arrived.wait(), self.args.timeout / 3)
        except asyncio.TimeoutError as error:
            raise CheckFailed(f"{what}: got {self.bodies}") from error

    async def scenario(self):
        args = self.args
        half = args.count // 2
        sender_args = type(args)(**{**vars(args), "jid": args.sender, "resource": "sender"})
        sender = Sender(sender_args, self.boundjid.full)
        sender.connect((args.host, args.port), force_starttls=True)
        await asyncio.wait_for(sender.ready.wait(), args.timeout / 3)
        await asyncio.sleep(0.2)  # <enabled/> is in before the first message
        sender.write(1, half)
        await self.until(half, "the first half")
        say("first half", len(self.bodies))
        self.abort()
        say("killed")
        await asyncio.sleep(0.3)
        sender.write(half + 1, args.count)
        await asyncio.sleep(0.3)
        self.connect((args.host, args.port), force_starttls=True)
        try:
            await asyncio.wait_for(self.resumed.wait(), args.timeout / 3)
        except asyncio.TimeoutError as error:
            raise CheckFailed("the session was not resumed") from error
        say("resumed", self.boundjid.full)
        await self.until(args.count, "the second half")
        await asyncio.sleep(0.5)  # nothing more comes: no duplicates
        expected = [f"m{n}" for n in range(1, args.count + 1)]
        check(self.bodies == expected, f"every message once, in order: {self.bodies}")
        say("exactly once", len(self.bodies))
        sender.disconnect(wait=1.0)


def main():
    args = arguments(__doc__, options)
    client = Receiver(args)
    # Unlike common.run(), a dropped connection does not end the script: it is the test.

    def timeout():
        client.finish(TIMEOUT, f"timed out after {args.timeout} s")

    async def scenario_then_stop():
        while client.status is None:
            await asyncio.sleep(0.1)
        client.loop.call_later(1.5, client.loop.stop)

    client.loop.call_later(args.timeout, timeout)
    client.connect((args.host, args.port), force_starttls=True)
    client.loop.create_task(scenario_then_stop())
    client.loop.run_forever()
    sys.exit(client.status if client.status is not None else NO_SESSION)


if __name__ == "__main__":
    main()
