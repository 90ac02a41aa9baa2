#!/usr/bin/env python3
"""An echo bot for jabberd's <exec>: reads the server's XML stream (jabber:component:exec) on
stdin and answers every chat message with the same body; writes a line to stderr (the server's
log) when it starts. Standard library only (expat parses the stream incrementally)."""
import os
import sys
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

out = sys.stdout


def send(text):
    out.write(text)
    out.flush()


class Bot:
    def __init__(self):
        self.depth = 0
        self.stanza = None
        self.attrs = {}
        self.body = None

    def start(self, name, attrs):
        self.depth += 1
        if self.depth == 2:
            self.stanza, self.attrs, self.body = name, dict(attrs), None
        elif self.depth == 3 and name == "body":
            self.body = ""

    def text(self, data):
        if self.depth == 3 and self.body is not None:
            self.body += data

    def end(self, name):
        if self.depth == 2 and self.stanza == "message":
            self.answer()
        self.depth -= 1
        if self.depth == 0:
            sys.exit(0)  # the server closed the stream

    def answer(self):
        attrs = self.attrs
        if attrs.get("type") == "error" or self.body is None or "from" not in attrs:
            return
        if self.body == "exit":
            os._exit(3)
        send("<message to=%s from=%s><body>%s</body></message>" % (
            quoteattr(attrs["from"]), quoteattr(attrs.get("to", "")), escape(self.body)))


def main():
    send("<stream:stream xmlns='jabber:component:exec' "
         "xmlns:stream='http://etherx.jabber.org/streams'>")
    print("echo bot started, pid %d" % os.getpid(), file=sys.stderr, flush=True)
    bot = Bot()
    parser = expat.ParserCreate()
    parser.StartElementHandler = bot.start
    parser.EndElementHandler = bot.end
    parser.CharacterDataHandler = bot.text
    stdin = sys.stdin.buffer
    while True:
        data = stdin.read1(65536)
        if not data:
            break
        parser.Parse(data, False)


if __name__ == "__main__":
    main()
