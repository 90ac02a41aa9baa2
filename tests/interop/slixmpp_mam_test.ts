/**
 * Interop: XEP-0313 archives with slixmpp 1.8 (`xep_0313`, `xep_0059`, `xep_0359`) over
 * STARTTLS, through `tests/interop/slixmpp/mam.py`: one user sends while the other is offline,
 * then the other logs in, pages through the archive with RSM, and finds the same stanza-ids on
 * the offline messages.
 */
import assert from "node:assert/strict";
import { CA_FILE, startServer } from "./harness.ts";
import { needs, PYTHON, slixmpp } from "./peers.ts";

const SCRIPTS = new URL("./slixmpp/", import.meta.url).pathname;
const PASSWORD = "slixmpp and deno";
const TIMEOUT_S = 20;

const peer = await slixmpp();

Deno.test(
  needs(peer, "slixmpp sends to an offline user who then pages the archive with MAM", async () => {
    const server = await startServer();
    try {
      /** Runs a script as `name@domain`; killed if it outlives its own timeout by 15 s. */
      const script = async (file: string, name: string, ...args: string[]) => {
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
          const { code, stdout, stderr } = await child.output();
          const text = new TextDecoder().decode(stdout);
          assert.equal(
            code,
            0,
            `${file} failed (status ${code}):\n${text}\n${new TextDecoder().decode(stderr)}\n` +
              `server log:\n${server.logs.slice(-20).join("\n")}`,
          );
          return text.trim().split("\n");
        } finally {
          clearTimeout(killer);
        }
      };
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
