"""Logs in over STARTTLS (RFC 6120 §5) and SASL (§6), optionally registering in-band first
(XEP-0077 §3.1), and checks the SASL mechanism used (`--mechanism`, e.g. SCRAM-SHA-256)."""
from slixmpp.exceptions import IqError

from common import Client, NO_SESSION, arguments, check, run, say


def options(parser):
    parser.add_argument("--register", action="store_true", help="register the account first")
    parser.add_argument("--mechanism", help="the SASL mechanism that must be used")


class Login(Client):
    def __init__(self, args):
        super().__init__(args, plugins=("xep_0030", "xep_0004", "xep_0066", "xep_0077"))
        if args.register:
            self["xep_0077"].force_registration = True
            self.add_event_handler("register", self._register)
            # slixmpp 1.8 queues every stanza but bind/session until the session starts, which
            # holds back its own XEP-0077 iqs before SASL; let them through while registering.
            self._always_send_everything = True
        else:
            self["xep_0077"].create_account = False

    async def _register(self, _form):
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        try:
            await iq.send()
            say("registered", self.boundjid.bare)
            self._always_send_everything = False
        except IqError as error:
            condition = error.iq["error"]["condition"]
            say("register-error", condition)
            self.finish(NO_SESSION, f"registration refused: {condition}")

    async def scenario(self):
        mechanism = self["feature_mechanisms"].mech.name
        if self.args.mechanism:
            check(mechanism == self.args.mechanism,
                  f"logged in with {mechanism}, not {self.args.mechanism}")
        tls = self.transport.get_extra_info("ssl_object")
        check(tls is not None, "the stream is encrypted")


if __name__ == "__main__":
    run(Login(arguments(__doc__, options)))
