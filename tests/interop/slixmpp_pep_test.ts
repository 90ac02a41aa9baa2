/**
 * Interop: slixmpp 1.8 (Debian `python3-slixmpp`) with PEP, bookmarks and client state
 * indication (`tests/interop/slixmpp/pep.py`): an OMEMO device list published with open access
 * reaches a contact whose caps want it (last item on presence, then a notification), legacy
 * and XEP-0402 bookmarks convert both ways, XEP-0223 storage round-trips, and an inactive
 * client's chat state is held until a message with a body comes.
 */
import assert from "node:assert/strict";
import { CA_FILE, type InteropServer, startServer } from "./harness.ts";
import { needs, PYTHON, slixmpp } from "./peers.ts";

const SCRIPTS = new URL("./slixmpp/", import.meta.url).pathname;
const PASSWORD = "slixmpp and pep";
const TIMEOUT_S = 20;

const peer = await slixmpp();

/** Runs a script of `tests/interop/slixmpp/` as `name@localhost`; killed if it hangs. */
async function script(server: InteropServer, file: string, name: string, ...args: string[]) {
  const child = new Deno.Command(PYTHON, {
    args: [
      `${SCRIPTS}${file}`,
      ...["--host", server.hostname, "--port", String(server.port), "--ca", CA_FILE],
      ...["--jid", `${name}@${server.domain}`, "--password", PASSWORD],
      ...["--timeout", String(TIMEOUT_S), "--no-channel-binding", ...args],
    ],
    cwd: SCRIPTS,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), (TIMEOUT_S + 15) * 1000);
  try {
    const output = await child.output();
    const decoder = new TextDecoder();
    const stdout = decoder.decode(output.stdout);
    assert.equal(
      output.code,
      0,
      `${file} failed (status ${output.code}):\n${stdout}\n${decoder.decode(output.stderr)}\n` +
        `server log:\n${server.logs.slice(-20).join("\n")}`,
    );
    return stdout.trim().split("\n");
  } finally {
    clearTimeout(killer);
  }
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
