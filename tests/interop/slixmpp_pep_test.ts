/**
 * Interop: slixmpp 1.8 (Debian `python3-slixmpp`) with PEP, bookmarks and client state
 * indication (`tests/interop/slixmpp/pep.py`): an OMEMO device list published with open access
 * reaches a contact whose caps want it (last item on presence, then a notification), legacy
 * and XEP-0402 bookmarks convert both ways, XEP-0223 storage round-trips, and an inactive
 * client's chat state is held until a message with a body comes.
 */
import assert from "node:assert/strict";
import { type InteropServer, startServer } from "./harness.ts";
import { needs, slixmpp } from "./peers.ts";
import { slixmppLines } from "./slixmpp_runner.ts";

const PASSWORD = "slixmpp and pep";
const NO_CB = "--no-channel-binding";

const peer = await slixmpp();

/** Runs a script as `name@localhost`, asserting it passed; its output lines. */
function script(server: InteropServer, file: string, name: string, ...args: string[]) {
  return slixmppLines(server, file, { name, password: PASSWORD, args: [NO_CB, ...args] });
}

Deno.test(
  needs(
    peer,
    "slixmpp publishes an OMEMO device list a contact with +notify caps receives, converts bookmarks and holds stanzas while inactive",
    async () => {
      const server = await startServer();
      try {
        await script(server, "login.py", "slixowner", "--register");
        await script(server, "login.py", "slixcontact", "--register");
        const lines = await script(
          server,
          "pep.py",
          "slixowner",
          "--contact",
          "slixcontact@localhost",
        );
        for (
          const line of [
            "account pubsub/pep",
            "contact last 1",
            "contact notified 1 2",
            `contact bundle eu.siacs.conversations.axolotl.bundles:1`,
            "bookmarks 411 to 402 old@conference.localhost",
            "bookmarks 402 to 411 new@conference.localhost old@conference.localhost",
            "bookmarks 223",
            "csi held",
            "csi flushed in order",
          ]
        ) assert.ok(lines.includes(line), `"${line}" in:\n${lines.join("\n")}`);
      } finally {
        await server.stop();
      }
    },
  ),
);
