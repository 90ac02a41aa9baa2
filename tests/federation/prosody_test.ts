/**
 * Federation with a real Prosody 0.12 (issue 10): users on our server (two domains) and on
 * Prosody subscribe, see presence, exchange messages (one side offline), a message to a domain
 * that does not exist bounces, a Prosody that dies mid-stream is reconnected, and a restart of
 * our server loses nothing it acknowledged. Server Dialback (XEP-0220) both ways: Prosody does not
 * know the test CA and we list prosody.test as an insecure domain.
 */
import {
  CI,
  loopbackAddresses,
  missing,
  type Ours,
  type Peer,
  startOurs,
  startProsody,
} from "./harness.ts";
import { federationSteps } from "./scenario.ts";
import type { JsClient } from "../interop/xmpp_js.ts";

const [OURS_IP, PROSODY_IP] = loopbackAddresses(2);

const why = await missing("prosody");
if (why && !CI) console.log(`Skipping the Prosody federation test: ${why}`);

Deno.test({
  name: "federation with Prosody: subscriptions, presence, messages, bounces, drops, restarts",
  ignore: why !== undefined && !CI,
  async fn(t) {
    if (why) throw new Error(`The federation peer Prosody is missing under CI=true: ${why}`);
    let ours: Ours | undefined;
    let prosody: Peer | undefined;
    const clients: JsClient[] = [];
    const track = (client: JsClient) => (clients.push(client), client);
    try {
      ours = await startOurs({
        ip: OURS_IP,
        peer: { domain: "prosody.test", ip: PROSODY_IP },
        auth: "dialback",
      });
      prosody = await startProsody({
        domain: "prosody.test",
        ip: PROSODY_IP,
        routes: { "jabberd.test": OURS_IP, "jabberd2.test": OURS_IP },
        secureAuth: false,
      });
      await federationSteps(t, ours, prosody, track, "dialback");
    } catch (error) {
      if (ours) console.log(`--- our log:\n${ours.logs.slice(-60).join("\n")}`);
      if (prosody) console.log(`--- Prosody's log:\n${prosody.log().slice(-8000)}`);
      throw error;
    } finally {
      for (const client of clients) await client.stop();
      await prosody?.stop();
      await ours?.stop();
    }
  },
});
