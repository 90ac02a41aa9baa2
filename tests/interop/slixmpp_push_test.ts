/**
 * Interop: XEP-0357 push notifications with slixmpp 1.8 over STARTTLS, through
 * `tests/interop/slixmpp/push.py`: a device enables push (with a publish-options secret) and
 * goes offline; the app server, a second slixmpp client at the push address, gets a summary for
 * each message stored for the device, from the account, counting up.
 */
import assert from "node:assert/strict";
import { CA_FILE, startServer } from "./harness.ts";
import { needs, PYTHON, slixmpp } from "./peers.ts";

const SCRIPTS = new URL("./slixmpp/", import.meta.url).pathname;
const PASSWORD = "slixmpp and push";
const TIMEOUT_S = 20;

const peer = await slixmpp();

Deno.test(
  needs(
    peer,
    "slixmpp enables push and its app server gets a summary per offline message",
    async () => {
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
