/**
 * Test support for the log modules: a server (`testServer`) whose one `<log id="elogger">`
 * section takes log packets for every host, with the settings a test writes, and a recorder of
 * the normal packets for `example.org` (what `<to>` sends, as a session manager would get it).
 */
import { testServer } from "../../server/_testing.ts";
import { xml } from "../../xml/element.ts";

export const SECTION_ID = "elogger";

/** `settings`: the section's module elements as config text, such as `<stderr/>`. */
export async function logSection(settings: string) {
  const world = await testServer(
    `<jabberd><log id="${SECTION_ID}"><host/>${settings}</log></jabberd>`,
    {
      memory: { now: Date.UTC(2024, 4, 17, 8, 30, 5) },
    },
  );
  return {
    memory: world.memory,
    router: world.router,
    /** Log packets nobody took (the router's fallback, standard error in the server). */
    fallback: world.fallback,
    /** Normal packets for example.org, as a session manager would get them. */
    delivered: world.collect("sm", ["example.org"]),
    /** Delivers `<log type from>text</log>`. */
    log: (type: string, text: string, from = "example.org") =>
      world.router.deliver(xml("log", { type, from }, text)),
    /** Stops the server: the section flushes and closes what it writes to. */
    stop: () => world.stop(),
  };
}
