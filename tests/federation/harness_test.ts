/**
 * The federation harness itself: throwaway Prosody and ejabberd start, their users register and
 * log in, and the two federate with each other through the harness's pinned routes (Prosody's
 * plugin, ejabberd's inetrc hosts table), with SASL EXTERNAL on certificates from the test CA.
 * This proves the peers and the routing before our server is put between them.
 */
import {
  CI,
  loopbackAddresses,
  missing,
  type Peer,
  startEjabberd,
  startProsody,
} from "./harness.ts";
import { messagesBothWays, newUser, offlineMessage, subscribeBothWays } from "./scenario.ts";

const why = (await missing("prosody")) ?? (await missing("ejabberd"));
if (why && !CI) console.log(`Skipping the federation harness test: ${why}`);

Deno.test({
  name: "harness: Prosody and ejabberd federate through the pinned routes",
  ignore: why !== undefined && !CI,
  async fn() {
    if (why) throw new Error(`A federation peer is missing under CI=true: ${why}`);
    const peers: Peer[] = [];
    const [prosodyIp, ejabberdIp] = loopbackAddresses(2);
    try {
      peers.push(
        await startProsody({
          domain: "prosody.test",
          ip: prosodyIp,
          routes: { "ejabberd.test": ejabberdIp },
          secureAuth: true,
        }),
      );
      peers.push(
        await startEjabberd({
          domain: "ejabberd.test",
          ip: ejabberdIp,
          routes: { "prosody.test": prosodyIp },
          secureAuth: true,
        }),
      );
      const [prosody, ejabberd] = peers;
      const alice = await newUser(prosody, "alice");
      const bob = await newUser(ejabberd, "bob");
      try {
        await subscribeBothWays(alice, bob);
        await messagesBothWays(alice, bob);
        const bobAgain = await offlineMessage(alice, bob, ejabberd);
        await bobAgain.stop();
      } finally {
        await alice.stop();
        await bob.stop();
      }
    } catch (error) {
      for (const peer of peers) console.log(`--- ${peer.name} log:\n${peer.log().slice(-6000)}`);
      throw error;
    } finally {
      for (const peer of peers) await peer.stop();
    }
  },
});
