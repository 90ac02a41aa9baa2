"""Shared ground of the slixmpp interop scripts: arguments, STARTTLS with the test CA, a hard
timeout, and exit statuses the Deno tests check (tests/interop/slixmpp_test.ts).

Exit statuses: 0 passed, 1 a check failed, 2 the timeout fired, 3 connection or login failed,
4 bad arguments. The last line on standard error says why a script failed.
"""
import argparse
import asyncio
import logging
import ssl
import sys

import slixmpp

PASSED, FAILED, TIMEOUT, NO_SESSION = 0, 1, 2, 3


class CheckFailed(Exception):
    """A check of the server's behaviour did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def arguments(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True, help="the CA that signed the server certificate")
    parser.add_argument("--jid", required=True, help="the bare JID to log in as")
    parser.add_argument("--password", required=True)
    parser.add_argument("--resource", default="slixmpp")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--no-channel-binding", action="store_true",
                        help="use SCRAM without -PLUS and tell the server so (gs2 flag n)")
    if extra:
        extra(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    return args


def say(*words):
    """One line on standard output, flushed at once: the Deno side reads it as it comes."""
    print(*words, flush=True)


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that runs `scenario()` once the session starts and exits with a status."""

    def __init__(self, args, plugins=()):
        super().__init__(f"{args.jid}/{args.resource}", args.password)
        self.args = args
        self.status = None
        # Certificates are verified (slixmpp's default context) against the test CA only.
        self.ca_certs = args.ca
        check(self.ssl_context.verify_mode == ssl.CERT_REQUIRED, "slixmpp verifies certificates")
        if args.no_channel_binding:
            self._without_channel_binding()
        for plugin in plugins:
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("failed_all_auth", lambda _: self.finish(NO_SESSION, "authentication failed"))
        self.add_event_handler("failed_auth", lambda s: say("sasl-failure", s["condition"]))
        self.add_event_handler("connection_failed", lambda e: self.finish(NO_SESSION, f"connection failed: {e}"))

    def _without_channel_binding(self):
        """slixmpp 1.8 binds -PLUS to tls-unique only, and otherwise sends the gs2 flag "y";
        this makes it send "n" and skip -PLUS, like a client without channel binding."""
        mechanisms = self["feature_mechanisms"]
        default = mechanisms.sasl_callback

        def credentials(required, optional):
            values = default(required, optional)
            if "channel_binding" in values:
                values["channel_binding"] = None
            return values

        mechanisms.sasl_callback = credentials
        mechanisms.use_mechs = {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}

    async def _on_session_start(self, _event):
        try:
            say("mechanism", self["feature_mechanisms"].mech.name)
            tls = self.transport.get_extra_info("ssl_object") if self.transport else None
            say("tls", tls.version() if tls else "none")
            say("jid", self.boundjid.full)
            await self.scenario()
            self.finish(PASSED)
        except CheckFailed as failure:
            self.finish(FAILED, str(failure))
        except slixmpp.exceptions.IqError as error:
            self.finish(FAILED, f"unexpected iq error: {error.iq}")
        except slixmpp.exceptions.IqTimeout as error:
            self.finish(FAILED, f"an iq got no answer: {error.iq}")
        except Exception as error:  # pylint: disable=broad-except
            self.finish(FAILED, f"{type(error).__name__}: {error}")

    async def scenario(self):
        """What the script checks once logged in."""

    def finish(self, status, reason=""):
        if self.status is not None:
            return
        self.status = status
        if reason:
            print(f"FAIL: {reason}", file=sys.stderr, flush=True)
        self.disconnect(wait=1.0)
        self.loop.call_later(3.0, self.loop.stop)  # in case the disconnect hangs

    def receive(self, event, match, what, timeout=None):
        """Starts listening at once for an event whose payload matches, and returns an
        awaitable of that payload (bounded: it fails with CheckFailed after the timeout)."""
        future = self.loop.create_future()

        def handler(payload):
            if not future.done() and match(payload):
                future.set_result(payload)

        self.add_event_handler(event, handler)

        async def wait():
            try:
                return await asyncio.wait_for(future, timeout or self.args.timeout / 2)
            except asyncio.TimeoutError as error:
                raise CheckFailed(f"did not receive {what}") from error
            finally:
                self.del_event_handler(event, handler)

        return asyncio.ensure_future(wait())


def run(client):
    """Connects over STARTTLS, runs the scenario under the timeout, and exits with the status."""
    args = client.args
    client.add_event_handler("disconnected", lambda _: client.loop.call_soon(client.loop.stop))

    def timeout():
        client.finish(TIMEOUT, f"timed out after {args.timeout} s")

    client.loop.call_later(args.timeout, timeout)
    client.connect((args.host, args.port), force_starttls=True)
    client.loop.run_forever()
    sys.exit(client.status if client.status is not None else NO_SESSION)
