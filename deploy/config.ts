/**
 * The config deploy/main.ts runs when `JABBERD_CONFIG` names no file (deploy/README.md): no TCP
 * listener and no `<listen>` (deno serve owns the socket), WebSocket only (Deploy terminates TLS
 * in front). It passes the config check for Deploy (src/config/runtime_check.ts).
 */
export const DEPLOY_CONFIG = `<jabberd>
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      <domain>\${JABBERD_HOST:-localhost}</domain>
      <tcp enabled="false"/>
    </c2s>
  </service>
  <service id="sessions">
    <host>\${JABBERD_HOST:-localhost}</host>
    <sm xmlns="jabberd:config:sm"/>
  </service>
  <service id="http">
    <http xmlns="jabberd:config:http">
      <websocket consider-secure="true"/>
    </http>
  </service>
  <xdb id="xdb"><host/><kv>deno-deploy</kv></xdb>
</jabberd>`;
