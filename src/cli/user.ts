/**
 * `jabberd user add|del|passwd|list`: manages accounts in the config's storage (issue 3,
 * "Accounts"). Passwords come from `--password`, from a hidden prompt asked twice when standard
 * input is a terminal (as `prosodyctl adduser` does), or from standard input's first line, and
 * are stored only as SCRAM credentials (src/accounts/store.ts).
 */
import { createAccount, deleteAccount, listAccounts, setPassword } from "../accounts/store.ts";
import { StanzaError } from "../util/errors.ts";
import { JID } from "../util/jid.ts";
import type { CliContext } from "./context.ts";
import { openStorage, type Storage } from "./storage.ts";

const USAGE =
  "Usage: jabberd user add|del|passwd JID [--password P] [--force] | user list [HOST]\n";

export async function runUser(
  rest: string[],
  flags: Record<string, string | true>,
  option: string | undefined,
  context: CliContext,
): Promise<number> {
  const { adapters } = context;
  const [action, target, ...extra] = rest;
  const needsJid = action === "add" || action === "del" || action === "passwd";
  if (
    (!needsJid && action !== "list") || (needsJid && target === undefined) || extra.length > 0
  ) {
    adapters.stderr(USAGE);
    return 2;
  }
  let jid: JID | undefined;
  if (needsJid) {
    jid = JID.tryParse(target!);
    if (!jid || jid.local === "" || jid.resource !== "") {
      adapters.stderr(`"${target}" is not an account address; write it as user@host\n`);
      return 2;
    }
  }
  let password: string | undefined;
  if (action === "add" || action === "passwd") {
    password = await readPassword(flags.password, context);
    if (password === undefined) return 2;
  }
  const storage = await openStorage(option, adapters);
  if (!storage) return 1;
  try {
    return await act(action, jid, password, target, flags.force === true, storage, context);
  } catch (error) {
    adapters.stderr(`${describe(error, jid)}\n`);
    return 1;
  } finally {
    await storage.stop();
  }
}

async function act(
  action: string,
  jid: JID | undefined,
  password: string | undefined,
  host: string | undefined,
  force: boolean,
  storage: Storage,
  { adapters }: CliContext,
): Promise<number> {
  const { xdb, iterations } = storage;
  if (jid && !storage.serves(jid.domain)) {
    if (action === "add" && !force) {
      adapters.stderr(
        `The config serves no host "${jid.domain}", so nobody could log in as ` +
          `${jid.bareString()}; check the address, or give --force to create it anyway\n`,
      );
      return 1;
    }
    adapters.stderr(`Warning: the config serves no host "${jid.domain}"\n`);
  }
  switch (action) {
    case "add":
      await createAccount(xdb, jid!, password!, { iterations });
      adapters.stdout(`Created ${jid!.bareString()}\n`);
      return 0;
    case "passwd":
      await setPassword(xdb, jid!, password!, { iterations });
      adapters.stdout(`Changed the password of ${jid!.bareString()}\n`);
      return 0;
    case "del":
      await deleteAccount(xdb, jid!);
      adapters.stdout(`Deleted ${jid!.bareString()} and everything it stored\n`);
      return 0;
    default: {
      const hosts = host !== undefined ? [host.toLowerCase()] : storage.hosts;
      for (const name of hosts) {
        // Sorted: the stored order is the order writes landed, which a person cannot use.
        const accounts = (await listAccounts(xdb, name)).sort();
        for (const account of accounts) adapters.stdout(`${account}\n`);
      }
      return 0;
    }
  }
}

/**
 * `--password P`; else, on a terminal, a hidden prompt asked twice; else the first line of
 * standard input (a script's `echo "$PASSWORD" | jabberd user add …`).
 */
async function readPassword(
  flag: string | true | undefined,
  context: CliContext,
): Promise<string | undefined> {
  const { adapters } = context;
  if (typeof flag === "string") return flag;
  if (context.stdinIsTerminal) {
    const password = await adapters.readHiddenLine("Password: ");
    if (password === undefined) return undefined;
    if (password === "") {
      adapters.stderr("The password is empty; nothing changed\n");
      return undefined;
    }
    const again = await adapters.readHiddenLine("Password again: ");
    if (again === undefined) return undefined;
    if (again !== password) {
      adapters.stderr("The passwords do not match; nothing changed\n");
      return undefined;
    }
    return password;
  }
  if (!context.readStdinLine) {
    adapters.stderr("Give the password with --password P (no standard input here)\n");
    return undefined;
  }
  const password = (await context.readStdinLine()).replace(/\r?\n$/, "");
  if (password === "") {
    adapters.stderr("The password is empty; give one with --password or on stdin\n");
    return undefined;
  }
  return password;
}

function describe(error: unknown, jid: JID | undefined): string {
  const who = jid?.bareString() ?? "";
  if (error instanceof StanzaError) {
    switch (error.condition) {
      case "conflict":
        return `The account ${who} already exists`;
      case "item-not-found":
        return `There is no account ${who}`;
      case "not-acceptable":
        return "The password is empty or has characters a password may not have";
    }
  }
  return `Failed: ${error instanceof Error ? error.message : String(error)}`;
}
