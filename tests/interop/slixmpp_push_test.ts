/**
 * Interop: XEP-0357 push notifications with slixmpp 1.8 over STARTTLS, through
 * `tests/interop/slixmpp/push.py`: a device enables push (with a publish-options secret) and
 * goes offline; the app server, a second slixmpp client at the push address, gets a summary for
 * each message stored for the device, from the account, counting up.
 */
import assert from "node:assert/strict";
import { startServer } from "./harness.ts";
import { needs, slixmpp } from "./peers.ts";
import { slixmppLines } from "./slixmpp_runner.ts";

const PASSWORD = "slixmpp and push";
const NO_CB = "--no-channel-binding";

const peer = await slixmpp();

Deno.test(
  needs(
    peer,
    "slixmpp enables push and its app server gets a summary per offline message",
    async () => {
      const server = await startServer();
      try {
        /** Runs a script as `name@domain`, asserting it passed; its output lines. */
        const script = (file: string, name: string, ...args: string[]) =>
          slixmppLines(server, file, { name, password: PASSWORD, args: [NO_CB, ...args] });
        for (const name of ["pushapp", "pushdevice"]) await script("login.py", name, "--register");
        const lines = await script("push.py", "pushapp", "--device", `pushdevice@${server.domain}`);
        for (const line of ["account push", "enabled", "pushed 1", "pushed 2"]) {
          assert.ok(lines.includes(line), `"${line}" in:\n${lines.join("\n")}`);
        }
      } finally {
        await server.stop();
      }
    },
  ),
);
