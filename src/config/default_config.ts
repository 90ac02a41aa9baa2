/**
 * The embedded default config (DESIGN "The config file" and "Defaults"): what runs when neither
 * `start -c FILE` nor `$JABBERD_CONFIG` names a file. It serves `localhost`, keeps XDB in
 * `./data/` and logs to standard error; `jabberd.example.xml` explains every element.
 */

/** How the embedded config is named in messages; relative paths in it resolve from the cwd. */
export const DEFAULT_CONFIG_PATH = "(default config)";

export const DEFAULT_CONFIG = `<jabberd>

  <!-- The session manager and client connections for localhost. -->
  <service id="sessions">
    <host>localhost</host>
    <!-- Session manager: <sm xmlns="jabberd:config:sm"/> goes here once it exists. -->
    <!-- Client connections: <c2s xmlns="jabberd:config:c2s"/> go here once they exist. -->
  </service>

  <!-- Storage for every host, in a Deno KV file. -->
  <xdb id="xdb">
    <host/>
    <kv>./data/jabberd.kv</kv>
  </xdb>

  <!-- Every log line of every host, to standard error. -->
  <log id="elogger">
    <host/>
    <logtype/>
    <format>%d [%t] (%h): %s</format>
    <stderr/>
  </log>

</jabberd>
`;
