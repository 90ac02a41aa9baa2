#!/usr/bin/env python3
"""An external XEP-0114 component in Python (slixmpp ComponentXMPP) for jabberd's <accept>.

It echoes every chat message back to its sender and answers XEP-0092 software version queries.
Usage: echo_component.py NAME SECRET HOST PORT   (for example: echo.localhost s3cret 127.0.0.1 5347)
It prints "ready" on stdout once the handshake succeeded, and "failed" if the server refused it.
"""
import sys

from slixmpp.componentxmpp import ComponentXMPP


class EchoComponent(ComponentXMPP):
    def __init__(self, name, secret, host, port):
        super().__init__(name, secret, host, port)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0092")
        self["xep_0092"].software_name = "echo component"
        self["xep_0092"].version = "1.0"
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("stream_error", self.on_failed)
        self.add_event_handler("disconnected", lambda _: self.loop.stop())

    def on_start(self, _event):
        print("ready", flush=True)

    def on_failed(self, error):
        print("failed", error["condition"], flush=True)
        self.disconnect()

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            msg.reply("echo: " + msg["body"]).send()


if __name__ == "__main__":
    name, secret, host, port = sys.argv[1:5]
    component = EchoComponent(name, secret, host, int(port))
    component.connect()
    component.loop.run_forever()
