/**
 * Interop: XEP-0198 stream management with slixmpp 1.8's xep_0198 plugin over STARTTLS, through
 * `tests/interop/slixmpp/sm.py`: a client whose TCP connection is killed mid-stream connects
 * again, resumes its session and gets every message exactly once, in order.
 */
import assert from "node:assert/strict";
import { startServer } from "./harness.ts";
import { needs, slixmpp } from "./peers.ts";
import { slixmppLines } from "./slixmpp_runner.ts";

const PASSWORD = "slixmpp and sm";
const NO_CB = "--no-channel-binding";

const peer = await slixmpp();

Deno.test(
  needs(
    peer,
    "slixmpp killed mid-stream resumes its session and gets every message exactly once",
    async () => {
      const server = await startServer();
      try {
        const script = (file: string, name: string, ...args: string[]) =>
          slixmppLines(server, file, { name, password: PASSWORD, args: [NO_CB, ...args] });
        for (const name of ["smphone", "smsender"]) await script("login.py", name, "--register");
        const lines = await script("sm.py", "smphone", "--sender", `smsender@${server.domain}`);
        for (const line of ["enabled resume True", "killed", "exactly once 20"]) {
          assert.ok(lines.includes(line), `"${line}" in:\n${lines.join("\n")}`);
        }
        assert.ok(lines.includes("resumed smphone@localhost/slixmpp"), lines.join("\n"));
      } finally {
        await server.stop();
      }
    },
  ),
);
