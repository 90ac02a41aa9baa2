"""Chat (RFC 6121 §5): sends `--send` to `--peer`, then waits for a chat message back whose body
is `--expect`, and checks it is addressed to this resource's full JID."""
from common import Client, arguments, check, run, say


def options(parser):
    parser.add_argument("--peer", required=True, help="a bare or full JID to write to")
    parser.add_argument("--send", required=True)
    parser.add_argument("--expect", required=True)


class Chat(Client):
    async def scenario(self):
        args = self.args
        reply = self.receive("message", lambda m: m["body"] == args.expect,
                             f'the reply "{args.expect}"')
        self.send_presence()
        self.send_message(mto=args.peer, mbody=args.send, mtype="chat")
        say("sent", args.send)
        message = await reply
        say("received", message["from"].full, message["body"])
        check(message["to"].full == self.boundjid.full, f"the reply went to {message['to']}")
        check(message["type"] == "chat", f"the reply's type is {message['type']}")


if __name__ == "__main__":
    run(Chat(arguments(__doc__, options)))
