/**
 * `jabberd import FILE…`: reads XEP-0227 files (ejabberd's `export_piefxis`, Prosody's migrator,
 * our `export`) and creates their accounts with roster, vCard, private XML and offline messages.
 *
 * Speed: deriving credentials from a plain-text password is PBKDF2 twice (SHA-1 and SHA-256) at
 * the configured iteration count, a few milliseconds each; WebCrypto runs them off the main
 * thread, so several users are derived at once and the XDB writes of many users are merged into
 * few commits by the store. Imported SCRAM credentials need no derivation at all.
 */
import { listAccounts } from "../accounts/store.ts";
import { accountJid, credentialsOf, importUser } from "../accounts/portable.ts";
import { type PieUser, readPie } from "../accounts/xep0227.ts";
import type { CliContext } from "./context.ts";
import { ProgressBar } from "./progress.ts";
import { openStorage, type Storage } from "./storage.ts";

/** Users derived and written at once: enough to keep every core busy with PBKDF2. */
const CONCURRENCY = 16;

export async function runImport(
  files: string[],
  option: string | undefined,
  context: CliContext,
): Promise<number> {
  const { adapters } = context;
  if (files.length === 0) {
    adapters.stderr("Usage: jabberd import FILE… (see jabberd import --help)\n");
    return 2;
  }
  // Read everything first: a broken file stops the import before anything is written.
  const users: PieUser[] = [];
  let warnings = 0;
  try {
    for (const file of files) {
      const io = {
        readTextFile: (path: string) => adapters.files.readTextFile(path),
        warn: (message: string) => {
          warnings++;
          adapters.stderr(`Warning: ${message}\n`);
        },
      };
      for await (const user of readPie(file, io)) users.push(user);
    }
  } catch (error) {
    adapters.stderr(`Cannot import: ${error instanceof Error ? error.message : error}\n`);
    return 1;
  }
  const storage = await openStorage(option, adapters);
  if (!storage) return 1;
  try {
    return await importAll(users, storage, context, warnings);
  } finally {
    await storage.stop();
  }
}

async function importAll(
  users: PieUser[],
  storage: Storage,
  context: CliContext,
  warnings: number,
): Promise<number> {
  const { adapters } = context;
  const started = adapters.clock.now();
  const progress = new ProgressBar({
    write: adapters.stderr,
    terminal: context.stderrIsTerminal ?? false,
    label: "Importing",
    unit: "accounts",
    now: () => adapters.clock.now(),
  });
  progress.setTotal(users.length);

  /** The stored accounts of each host, read once per host. */
  const existing = new Map<string, Promise<Set<string>>>();
  const claimed = new Set<string>();
  const failures: string[] = [];
  const ignored = new Map<string, number>();
  let imported = 0;
  let skipped = 0;
  let sha1Only = 0;

  /** Whether the account is new: not stored, and not earlier in the same files. */
  const isNew = async (user: PieUser): Promise<boolean> => {
    const jid = accountJid(user);
    const bare = jid.bareString();
    // Claimed before anything is awaited, so that the first file naming an account wins,
    // whatever order storage answers in.
    if (claimed.has(bare)) return false;
    claimed.add(bare);
    let accounts = existing.get(jid.domain);
    if (!accounts) {
      accounts = listAccounts(storage.xdb, jid.domain).then((list) => new Set(list));
      existing.set(jid.domain, accounts);
    }
    return !(await accounts).has(bare);
  };

  const importOne = async (user: PieUser) => {
    try {
      if (!(await isNew(user))) {
        skipped++;
        failures.push(`${user.name}@${user.host} already exists; skipped`);
        return;
      }
      const credentials = await credentialsOf(user, storage.iterations);
      await importUser(storage.xdb, user, credentials, { now: adapters.clock.now() });
      imported++;
      if (credentials.scram.every((entry) => entry.hash === "SHA-1")) sha1Only++;
      for (const what of user.ignored) ignored.set(what, (ignored.get(what) ?? 0) + 1);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(`${user.name}@${user.host}: ${reason}`);
    } finally {
      progress.advance();
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < users.length) await importOne(users[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, users.length) }, worker));
  await storage.stop(); // flushes queued writes before the time is taken
  progress.finish();

  const seconds = (adapters.clock.now() - started) / 1000;
  for (const failure of failures) adapters.stderr(`${failure}\n`);
  for (const [what, count] of ignored) {
    adapters.stderr(`Not imported (unsupported here): ${what} of ${count} account(s)\n`);
  }
  if (sha1Only > 0) {
    adapters.stderr(
      `${sha1Only} account(s) came with SCRAM-SHA-1 credentials only: they log in with ` +
        "SCRAM-SHA-1 or PLAIN, and get SCRAM-SHA-256 when their password is next changed\n",
    );
  }
  const failed = failures.length - skipped;
  const rate = seconds > 0 ? ` (${Math.round(imported / seconds)}/s)` : "";
  adapters.stdout(
    `Imported ${imported} account(s) in ${seconds.toFixed(1)} s${rate}; ` +
      `${skipped} already existed, ${failed} failed, ${warnings} warning(s)\n`,
  );
  return failed > 0 ? 1 : 0;
}
