/** The help text of each command. */

export const USAGE =
  `jabberd for Deno: a Jabber/XMPP server built on the Jabber II component architecture

Usage: jabberd <command> [options]

Commands:
  start     Run the server
  status    Say whether the server runs (from its pidfile; with the admin API, who is online)
  sessions  List the sessions online (through the http component's admin API)
  stop      Stop the running server (SIGTERM to the pid in its pidfile)
  reload    Make the running server re-read its config (SIGHUP)
  check     Validate a config file and report every problem
  tree      Print the delivery tree a config builds
  user      Add, delete, re-password or list accounts
  import    Import accounts from XEP-0227 files (ejabberd, Prosody)
  export    Export accounts as a XEP-0227 file
  version   Print the version

Options:
  -c, --config FILE   The config file (default: $JABBERD_CONFIG, else the embedded default)
  -h, --help          Help for a command (jabberd start --help)
`;

export const COMMAND_HELP: Record<string, string> = {
  start: `Usage: jabberd start [-c FILE] [--keep-going] [--nodes N|auto]

Runs the server. The config is FILE, else $JABBERD_CONFIG, else the embedded default config
(localhost, XDB in ./data); the log says which. The whole file is validated before anything
starts. A listener that cannot bind its port stops the start with exit code 1;
--keep-going starts without it instead.

The process id goes to the config's <pidfile> (default data/jabberd.pid beside the config, or
in the working folder for the embedded default); jabberd status, stop and reload read it. A
pidfile whose process is gone is replaced; one whose process runs stops this start.

Signals:
  SIGTERM, SIGINT  stop cleanly: listeners closed, queued XDB writes flushed
  SIGHUP           re-read the config: a bad file changes nothing and says why; a good one
                   starts new sections, stops removed ones and restarts changed ones

A farm on one machine (README "Running a farm"): --nodes N, or <farm nodes="N|auto"> in the
config ("auto": one node per core), makes this process a supervisor that runs N nodes of the
same config, with JABBERD_NODE=n1…nN in their environment, sharing the listening ports
(SO_REUSEPORT, Linux). It restarts a node that dies (after 1 s, doubling up to 30 s), passes
SIGHUP on, stops every node (SIGTERM) on SIGTERM or SIGINT, and exits 0 once all have stopped
(1 when one had to be killed after 60 s). The first node starts alone, the others once it is
up. When the config's
<farm><nats> names no NATS server that answers on this machine, it starts nats-server there
(its store in the data folder's nats/), gives the nodes its URL as JABBERD_NATS and stops it
last. --nodes 1 runs one node under the supervisor; --nodes 0 ignores <farm nodes>.
`,
  status: `Usage: jabberd status [-c FILE]

Says whether the server of that config runs, from its pidfile: "running as pid N since …"
(exit 0), a stale pidfile (exit 1) or "not running" (exit 3). When the config has an <http>
component with <admin token>, it adds what the admin API says: sessions, connections, sections.
`,
  sessions: `Usage: jabberd sessions [-c FILE]

Lists the sessions online (JID, transport, address, since when), asking the running server's
admin API: the config needs <http xmlns="jabberd:config:http"> with <admin token="…"/>, and
its first plain <listen> is where it asks (loopback, which the admin API allows by default).
`,
  stop: `Usage: jabberd stop [-c FILE]

Sends SIGTERM to the server named by the config's pidfile and waits (30 s at most) until it has
stopped cleanly. Exits 0 when it stopped or was not running.
`,
  reload: `Usage: jabberd reload [-c FILE]

Sends SIGHUP to the server named by the config's pidfile: it re-reads its config, and its log
says what changed. Exits 1 when the server is not running.
`,
  check: `Usage: jabberd check [-c FILE] [--runtime deno|deploy]

Validates the config (includes, \${VAR} substitution, every section and module setting, the
certificate and key files it names) and prints every problem as file:line:column: sentence.
Paths of files are relative to the folder of the config file, as when the server starts.
Exits 1 when there is an error, 0 otherwise (warnings are printed but do not fail).

  --runtime deploy   check for Deno Deploy (deploy/main.ts under deno serve): also refuses
                     what it cannot run (TCP listeners, s2s, <exec>, file logs, ...)
  --runtime deno     check for a self-hosted jabberd start (the default)
`,
  tree: `Usage: jabberd tree [-c FILE]

Builds the delivery tree the config describes, without opening sockets or writing files (the
files the config names are read), and prints it: packet kind → host → instances → their
handlers in phase order. A section that fails to start is listed at the end with its error,
and the exit code is then 1.
`,
  user: `Usage: jabberd user add JID [--password P] [--force] [-c FILE]
       jabberd user passwd JID [--password P] [-c FILE]
       jabberd user del JID [-c FILE]
       jabberd user list [HOST] [-c FILE]

Manages accounts in the storage the config names (its <xdb> sections, started in-process; run
it while the server is stopped when the storage is a local file another process holds).

  add      create JID; fails when it exists
  passwd   set a new password for JID
  del      delete JID and everything it stored (roster, vCard, offline messages, ...)
  list     print the accounts of HOST, else of every host the config serves

add refuses an address whose host the config does not serve (a typo would make an account
nobody can log in to); --force creates it anyway.

Without --password, on a terminal the password is asked twice and not shown; otherwise it is
read from standard input (its first line), so a script can write:
echo "$PASSWORD" | jabberd user add alice@localhost. Passwords are stored only as SCRAM
credentials (SHA-1 and SHA-256) with the config's <c2s><scram iterations> (default 10000).
`,
  import: `Usage: jabberd import FILE... [-c FILE]

Creates the accounts of XEP-0227 files, as ejabberd (ejabberdctl export_piefxis: give the main
file; its xi:include host files are read from its folder) and Prosody (prosody-migrator with a
xep0227 output: one file per user, give them all) write them, or as jabberd export writes them:
credentials, roster and pending subscription requests, vCard, private XML, offline messages.
Accounts that already exist are skipped. Privacy lists, PEP and archives are not imported.

Plain-text passwords become SCRAM credentials (SHA-1 and SHA-256, PBKDF2 with the config's
iteration count). SCRAM credentials are taken as they are: an account exported with
SCRAM-SHA-1 only logs in with SCRAM-SHA-1 or PLAIN until its password changes.
On a terminal a progress bar is drawn on standard error.
`,
  export: `Usage: jabberd export [--host HOST[,HOST...]] [-o FILE] [-c FILE]

Writes the accounts of HOST (else of every host the config serves) as one XEP-0227 file, to
FILE or standard output: SCRAM credentials in Prosody's <scram-credentials> form (never a
password), roster, pending subscription requests, vCard, private XML and offline messages.
`,
  version: `Usage: jabberd version

Prints the name and version.
`,
};
