/**
 * The status page in a real browser: headless Chromium (Debian `chromium`) loads it from the
 * running server; the DOM it built must say what the admin API says (sessions online, sections),
 * and its screenshot is written to the temp folder as `jabberd-status-page.png`.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { addUser, login } from "../src/modules/c2s/_testing.ts";
import { ADMIN_TOKEN, httpServerConfig, httpUrl } from "../src/modules/http/_testing.ts";
import { testServer } from "../src/server/_testing.ts";
import { chromium, needs } from "./interop/peers.ts";

/** Runs headless Chromium on `url` with `args`; its standard output (bounded to 60 s). */
async function headless(url: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("chromium", {
    args: [
      "--headless",
      "--no-sandbox", // tests run as root in CI
      "--disable-gpu",
      "--no-first-run",
      "--window-size=1000,1300",
      ...args,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  assert.ok(success, `chromium failed: ${decoder.decode(stderr).slice(-500)}`);
  return decoder.decode(stdout);
}

const SCREENSHOT = `${Deno.env.get("TMPDIR") ?? "/tmp"}/jabberd-status-page.png`;

Deno.test(
  needs(
    await chromium(),
    "the status page in Chromium shows the sessions and sections the admin API reports",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "jabberd-status-" });
      const world = await testServer(httpServerConfig("", { kv: `${dir}/jabberd.kv` }), {
        adapters: denoAdapters(),
        file: `${dir}/jabberd.xml`,
      });
      try {
        await addUser(world, "alice");
        await addUser(world, "bob");
        const clients = [await login(world, "alice", "tcp"), await login(world, "bob", "tcp")];
        const status = await (await fetch(`${httpUrl(world)}/admin/status`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })).json();
        const dom = await headless(`${httpUrl(world)}/`, ["--dump-dom"]);
        assert.equal(/<b id="sessions">(\d+)<\/b>/.exec(dom)?.[1], String(status.sessions));
        assert.equal(/<b id="sections">(\d+)<\/b>/.exec(dom)?.[1], String(status.sections.length));
        assert.equal(status.sessions, 2);
        for (const section of status.sections) assert.ok(dom.includes(`${section.id} &lt;`));
        await Deno.remove(SCREENSHOT).catch(() => {});
        await headless(`${httpUrl(world)}/`, [`--screenshot=${SCREENSHOT}`]);
        const png = await Deno.readFile(SCREENSHOT);
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG file");
        const view = new DataView(png.buffer);
        assert.equal(view.getUint32(16), 1000, "as wide as the window");
        for (const client of clients) client.conn.close();
      } finally {
        await world.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  ),
);
