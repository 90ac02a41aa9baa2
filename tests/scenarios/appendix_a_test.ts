/**
 * RFC 6121 Appendix A row by row, driven through the real session manager: for each state of
 * the user (alice) towards a contact and each subscription stanza, the stanza is sent outbound
 * by alice (to bob on the same host, and to carol on a remote server) or inbound to alice (from
 * carol), and the stored states, the routing and the delivery are checked against the tables.
 * The tables themselves are checked against the RFC's text in
 * src/modules/sm/features/subscription_states_test.ts.
 */
import assert from "node:assert/strict";
import { parseRoster, stateOfContact } from "../../src/modules/sm/features/roster/store.ts";
import {
  contactSeesUser,
  INBOUND,
  OUTBOUND,
  STATE_NAMES,
  type StateName,
  stateName,
  stateOf,
  SUBSCRIPTION_TYPES,
  type SubscriptionType,
} from "../../src/modules/sm/features/roster/subscription_states.ts";
import { type Client, REMOTE, type Scenario, scenario } from "./harness.ts";

type Step = ["user" | "contact", SubscriptionType];

/** How the user reaches each state with its contact, from nothing. */
const RECIPES: Record<StateName, Step[]> = {
  "None": [],
  "None + Pending Out": [["user", "subscribe"]],
  "None + Pending In": [["contact", "subscribe"]],
  "None + Pending Out+In": [["user", "subscribe"], ["contact", "subscribe"]],
  "To": [["user", "subscribe"], ["contact", "subscribed"]],
  "To + Pending In": [["user", "subscribe"], ["contact", "subscribed"], ["contact", "subscribe"]],
  "From": [["contact", "subscribe"], ["user", "subscribed"]],
  "From + Pending Out": [["contact", "subscribe"], ["user", "subscribed"], ["user", "subscribe"]],
  "Both": [
    ["user", "subscribe"],
    ["contact", "subscribed"],
    ["contact", "subscribe"],
    ["user", "subscribed"],
  ],
};

/** The contact's view of the relationship the user has in `state`. */
function mirror(state: StateName): StateName {
  const s = stateOf(state);
  const flip = { none: "none", to: "from", from: "to", both: "both" } as const;
  return stateName({
    subscription: flip[s.subscription],
    pendingOut: s.pendingIn,
    pendingIn: s.pendingOut,
  });
}

async function stateBetween(world: Scenario, user: string, contact: string): Promise<StateName> {
  return stateOfContact(parseRoster(await world.storedRoster(user)), contact);
}

const presence = (type: string, to: string) => `<presence type="${type}" to="${to}"/>`;

/**
 * Alice online, in `state` with `carol` on the remote server (reached by RECIPES), and nothing
 * left to read on either side.
 */
async function withRemoteContact(world: Scenario, state: StateName, carol: string) {
  const alice = await online(world, "alice@localhost");
  for (const [who, step] of RECIPES[state]) {
    if (who === "user") await alice.send(presence(step, carol));
    else await world.remoteSends(`<presence type="${step}" from="${carol}" to="alice@localhost"/>`);
  }
  assert.equal(await stateBetween(world, "alice@localhost", carol), state);
  alice.take();
  world.remoteTakes();
  return alice;
}

/** A world where alice (and bob) are online, available and interested in their rosters. */
async function online(world: Scenario, bare: string): Promise<Client> {
  const client = await world.login(`${bare}/res`);
  await client.send(`<iq type="get" id="r"><query xmlns="jabber:iq:roster"/></iq>`);
  await client.send(`<presence/>`);
  client.take();
  return client;
}

for (const type of SUBSCRIPTION_TYPES) {
  Deno.test(`Appendix A.2 outbound "${type}" between two users of one host`, async (t) => {
    for (const state of STATE_NAMES) {
      await t.step(`alice in "${state}" sends ${type} to bob`, async () => {
        const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
        try {
          const alice = await online(world, "alice@localhost");
          const bob = await online(world, "bob@localhost");
          for (const [who, step] of RECIPES[state]) {
            if (who === "user") await alice.send(presence(step, "bob@localhost"));
            else await bob.send(presence(step, "alice@localhost"));
          }
          assert.equal(await stateBetween(world, "alice@localhost", "bob@localhost"), state);
          alice.take();
          bob.take();

          await alice.send(presence(type, "bob@localhost"));
          const row = OUTBOUND[type][state];
          const next = await stateBetween(world, "alice@localhost", "bob@localhost");
          assert.equal(next, row.next);
          // Bob's server ends in the mirror image: both ends agree.
          assert.equal(await stateBetween(world, "bob@localhost", "alice@localhost"), mirror(next));
          const delivered = row.route && INBOUND[type][mirror(state)].route;
          const got = bob.take().filter((l) => l === `presence ${type} from alice@localhost`);
          assert.equal(got.length, delivered ? 1 : 0);
        } finally {
          await world.stop();
        }
      });
    }
  });

  Deno.test(`Appendix A.2 outbound "${type}" to a contact on another server`, async (t) => {
    for (const state of STATE_NAMES) {
      await t.step(`alice in "${state}" sends ${type} to carol@${REMOTE}`, async () => {
        const carol = `carol@${REMOTE}`;
        const world = await scenario({ users: ["alice@localhost"] });
        try {
          const alice = await withRemoteContact(world, state, carol);

          await alice.send(presence(type, `${carol}/phone`));
          const row = OUTBOUND[type][state];
          assert.equal(await stateBetween(world, "alice@localhost", carol), row.next);
          // Routed stamped with alice's bare JID, to carol's bare JID (§3.1.2).
          const routed = world.remoteTakes().filter((l) =>
            l === `presence ${type} from alice@localhost to ${carol}`
          );
          assert.equal(routed.length, row.route ? 1 : 0);
          // A push exactly when the item alice's clients see changed.
          const before = stateOf(state);
          const after = stateOf(row.next);
          const changed = before.subscription !== after.subscription ||
            before.pendingOut !== after.pendingOut ||
            (type === "subscribed" && !row.route && !contactSeesUser(state));
          const pushes = alice.take().filter((l) => l.startsWith("roster push"));
          assert.equal(pushes.length, changed ? 1 : 0, pushes.join("; "));
        } finally {
          await world.stop();
        }
      });
    }
  });

  Deno.test(`Appendix A.3 inbound "${type}" from a contact on another server`, async (t) => {
    for (const state of STATE_NAMES) {
      await t.step(`alice in "${state}" receives ${type} from carol@${REMOTE}`, async () => {
        const carol = `carol@${REMOTE}`;
        const world = await scenario({ users: ["alice@localhost"] });
        try {
          const alice = await withRemoteContact(world, state, carol);

          await world.remoteSends(
            `<presence type="${type}" from="${carol}/phone" to="alice@localhost"/>`,
          );
          const row = INBOUND[type][state];
          assert.equal(await stateBetween(world, "alice@localhost", carol), row.next);
          const lines = alice.take();
          // Delivered from carol's bare JID (§3.1.3), or not at all.
          assert.equal(
            lines.filter((l) => l === `presence ${type} from ${carol}`).length,
            {
              true: 1,
              false: 0,
            }[`${row.route}`],
          );
          const before = stateOf(state);
          const after = stateOf(row.next);
          const changed = before.subscription !== after.subscription ||
            before.pendingOut !== after.pendingOut;
          assert.equal(lines.filter((l) => l.startsWith("roster push")).length, changed ? 1 : 0);
          // A.3.1's footnote: a subscribe from someone already subscribed is answered by the
          // server.
          const autoReply = type === "subscribe" && contactSeesUser(state);
          const replies = world.remoteTakes().filter((l) =>
            l === `presence subscribed from alice@localhost to ${carol}`
          );
          assert.equal(replies.length, autoReply ? 1 : 0);
        } finally {
          await world.stop();
        }
      });
    }
  });
}
