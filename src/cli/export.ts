/**
 * `jabberd export [--host H] [-o FILE]`: writes the accounts of the config's hosts as XEP-0227
 * (xep0227.ts) with their SCRAM credentials in Prosody's form (never a password), roster,
 * pending requests, vCard, private XML and offline messages. Without `-o`, to standard output.
 */
import { exportUser } from "../accounts/portable.ts";
import { listAccounts } from "../accounts/store.ts";
import { hostEnd, hostStart, pieHead, pieTail, userElement } from "../accounts/xep0227.ts";
import { JID } from "../util/jid.ts";
import type { CliContext } from "./context.ts";
import { openStorage } from "./storage.ts";

/** Users serialized per write: bounded memory, few file appends. */
const USERS_PER_WRITE = 200;

export async function runExport(
  flags: Record<string, string | true>,
  option: string | undefined,
  context: CliContext,
): Promise<number> {
  const { adapters } = context;
  const output = flags.output;
  const host = flags.host;
  if (output === true || host === true) {
    adapters.stderr(`Option --${output === true ? "output" : "host"} needs a value\n`);
    return 2;
  }
  const storage = await openStorage(option, adapters);
  if (!storage) return 1;
  const hosts = host !== undefined
    ? host.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "")
    : storage.hosts;
  let buffer = "";
  let first = true;
  const flush = async () => {
    if (output === undefined) adapters.stdout(buffer);
    else await adapters.files.writeTextFile(output, buffer, { append: !first });
    first = false;
    buffer = "";
  };
  let count = 0;
  try {
    buffer += pieHead();
    for (const name of hosts) {
      buffer += hostStart(name);
      const accounts = await listAccounts(storage.xdb, name);
      for (let at = 0; at < accounts.length; at += USERS_PER_WRITE) {
        const batch = accounts.slice(at, at + USERS_PER_WRITE).map((jid) => JID.parse(jid));
        const users = await Promise.all(batch.map((jid) => exportUser(storage.xdb, jid)));
        for (const user of users) {
          if (!user) continue;
          buffer += userElement(user).toString() + "\n";
          count++;
        }
        await flush();
      }
      buffer += hostEnd();
    }
    buffer += pieTail();
    await flush();
  } catch (error) {
    adapters.stderr(`Export failed: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  } finally {
    await storage.stop();
  }
  const where = output === undefined ? "standard output" : output;
  adapters.stderr(`Exported ${count} account(s) of ${hosts.length} host(s) to ${where}\n`);
  return 0;
}
