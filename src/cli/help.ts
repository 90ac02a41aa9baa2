/** The help text of each command. */

export const USAGE =
  `jabberd for Deno: a Jabber/XMPP server built on the Jabber II component architecture

Usage: jabberd <command> [options]

Commands:
  start     Run the server
  check     Validate a config file and report every problem
  tree      Print the delivery tree a config builds
  version   Print the version

Options:
  -c, --config FILE   The config file (default: $JABBERD_CONFIG, else the embedded default)
  -h, --help          Help for a command (jabberd start --help)
`;

export const COMMAND_HELP: Record<string, string> = {
  start: `Usage: jabberd start [-c FILE]

Runs the server. The config is FILE, else $JABBERD_CONFIG, else the embedded default config
(localhost, XDB in ./data); the log says which. The whole file is validated before anything
starts.

Signals:
  SIGTERM, SIGINT  stop cleanly: listeners closed, queued XDB writes flushed
  SIGHUP           re-read the config: a bad file changes nothing and says why; a good one
                   starts new sections, stops removed ones and restarts changed ones
`,
  check: `Usage: jabberd check [-c FILE]

Validates the config (includes, \${VAR} substitution, every section and module setting) and
prints every problem as file:line:column: sentence. Exits 1 when there is an error, 0 otherwise
(warnings are printed but do not fail).
`,
  tree: `Usage: jabberd tree [-c FILE]

Builds the delivery tree the config describes, without opening sockets or files, and prints
it: packet kind → host → instances → their handlers in phase order.
`,
  version: `Usage: jabberd version

Prints the name and version.
`,
};
