/**
 * Interop: XEP-0313 archives with slixmpp 1.8 (`xep_0313`, `xep_0059`, `xep_0359`) over
 * STARTTLS, through `tests/interop/slixmpp/mam.py`: one user sends while the other is offline,
 * then the other logs in, pages through the archive with RSM, and finds the same stanza-ids on
 * the offline messages.
 */
import assert from "node:assert/strict";
import { startServer } from "./harness.ts";
import { needs, slixmpp } from "./peers.ts";
import { slixmppLines } from "./slixmpp_runner.ts";

const PASSWORD = "slixmpp and deno";
const NO_CB = "--no-channel-binding";

const peer = await slixmpp();

Deno.test(
  needs(peer, "slixmpp sends to an offline user who then pages the archive with MAM", async () => {
    const server = await startServer();
    try {
      /** Runs a script as `name@domain`, asserting it passed; its output lines. */
      const script = (file: string, name: string, ...args: string[]) =>
        slixmppLines(server, file, { name, password: PASSWORD, args: [NO_CB, ...args] });
      for (const name of ["mamsender", "mamreader"]) await script("login.py", name, "--register");
      const sent = await script("mam.py", "mamsender", "--send-to", `mamreader@${server.domain}`);
      assert.ok(sent.includes("archived 7"), sent.join("\n"));
      const read = await script(
        "mam.py",
        "mamreader",
        "--fetch-from",
        `mamsender@${server.domain}`,
      );
      assert.ok(read.includes("fetched 7") && read.includes("offline 7"), read.join("\n"));
    } finally {
      await server.stop();
    }
  }),
);
