/**
 * Federation with a real ejabberd 23.01 (issue 10): users on our server (two domains) and on
 * ejabberd subscribe, see presence, exchange messages (one side offline), a message to a domain
 * that does not exist bounces, an ejabberd that dies mid-stream is reconnected, and a restart of
 * our server loses nothing it acknowledged. SASL EXTERNAL (XEP-0178) both ways: both sides trust
 * the test CA that signed the other's certificate.
 */
import {
  CI,
  loopbackAddresses,
  missing,
  type Ours,
  type Peer,
  startEjabberd,
  startOurs,
} from "./harness.ts";
import { federationSteps } from "./scenario.ts";
import type { JsClient } from "../interop/xmpp_js.ts";

const [OURS_IP, EJABBERD_IP] = loopbackAddresses(2);

const why = await missing("ejabberd");
if (why && !CI) console.log(`Skipping the ejabberd federation test: ${why}`);

Deno.test({
  name: "federation with ejabberd: subscriptions, presence, messages, bounces, drops, restarts",
  ignore: why !== undefined && !CI,
  async fn(t) {
    if (why) throw new Error(`The federation peer ejabberd is missing under CI=true: ${why}`);
    let ours: Ours | undefined;
    let ejabberd: Peer | undefined;
    const clients: JsClient[] = [];
    const track = (client: JsClient) => (clients.push(client), client);
    try {
      ours = await startOurs({
        ip: OURS_IP,
        peer: { domain: "ejabberd.test", ip: EJABBERD_IP },
        auth: "external",
      });
      ejabberd = await startEjabberd({
        domain: "ejabberd.test",
        ip: EJABBERD_IP,
        routes: { "jabberd.test": OURS_IP, "jabberd2.test": OURS_IP },
        secureAuth: true,
      });
      await federationSteps(t, ours, ejabberd, track, "SASL EXTERNAL");
    } catch (error) {
      if (ours) console.log(`--- our log:\n${ours.logs.slice(-60).join("\n")}`);
      if (ejabberd) console.log(`--- ejabberd's log:\n${ejabberd.log().slice(-8000)}`);
      throw error;
    } finally {
      for (const client of clients) await client.stop();
      await ejabberd?.stop();
      await ours?.stop();
    }
  },
});
