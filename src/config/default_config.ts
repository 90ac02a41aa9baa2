/**
 * The embedded default config (docs/architecture.md "The config file"): what runs when neither
 * `start -c FILE` nor `$JABBERD_CONFIG` names a file. It serves `localhost`, keeps XDB in
 * `./data/` and logs to standard error; `jabberd.example.xml` explains every element.
 */

/** How the embedded config is named in messages; relative paths in it resolve from the cwd. */
export const DEFAULT_CONFIG_PATH = "(default config)";

export const DEFAULT_CONFIG = `<jabberd>

  <!-- Client connections: 5222 with STARTTLS, 5223 with direct TLS (XEP-0368). With no
       <certificate>, a CA and a certificate for localhost are made under ./data/certs. -->
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      <domain>localhost</domain>
      <listen port="5222"/>
      <listen port="5223" tls="direct"/>
      <!-- In-band registration (XEP-0077), only from this machine. -->
      <register from="127.0.0.0/8 ::1/128"/>
    </c2s>
  </service>

  <!-- The session manager for localhost: sessions, rosters, presence, offline messages. -->
  <service id="sessions">
    <host>localhost</host>
    <sm xmlns="jabberd:config:sm"/>
  </service>

  <!-- Group chat (XEP-0045) on conference.localhost: anyone may create rooms. -->
  <service id="muc">
    <host>conference.localhost</host>
    <muc xmlns="jabberd:config:muc"/>
  </service>

  <!-- The web edge, on this machine only: the status page at http://localhost:5280/, XMPP over
       WebSocket and BOSH for browser clients (found through /.well-known/host-meta, XEP-0156)
       and Prometheus metrics. Loopback traffic never leaves the machine, so plain ws:// and
       http:// count as encrypted here; behind a proxy that ends TLS, keep consider-secure. -->
  <service id="http">
    <http xmlns="jabberd:config:http">
      <listen ip="127.0.0.1" port="5280"/>
      <websocket consider-secure="true"/>
      <bosh consider-secure="true"/>
    </http>
  </service>

  <!-- Storage for every host, in a Deno KV file. -->
  <xdb id="xdb">
    <host/>
    <kv>./data/jabberd.kv</kv>
  </xdb>

  <!-- Every log line of every host, to standard error. -->
  <log id="elogger">
    <host/>
    <logtype min="info"/>
    <format>%d [%t] (%h): %s</format>
    <stderr/>
  </log>

</jabberd>
`;
