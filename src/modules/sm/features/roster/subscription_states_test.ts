import assert from "node:assert/strict";
import {
  decideInbound,
  decideOutbound,
  INBOUND,
  OUTBOUND,
  STATE_NAMES,
  type StateName,
  stateName,
  stateOf,
  SUBSCRIPTION_TYPES,
  type SubscriptionType,
} from "./subscription_states.ts";

/**
 * RFC 6121 Appendix A.2 and A.3 as printed: "existing state | route? | new state", where "no"
 * route and "no state change" are written as the RFC writes them.
 */
const RFC: Record<"outbound" | "inbound", Record<SubscriptionType, string>> = {
  outbound: {
    subscribe: `
      None                  | yes | None + Pending Out
      None + Pending Out    | yes | no state change
      None + Pending In     | yes | None + Pending Out+In
      None + Pending Out+In | yes | no state change
      To                    | yes | no state change
      To + Pending In       | yes | no state change
      From                  | yes | From + Pending Out
      From + Pending Out    | yes | no state change
      Both                  | yes | no state change`,
    unsubscribe: `
      None                  | yes | no state change
      None + Pending Out    | yes | None
      None + Pending In     | yes | no state change
      None + Pending Out+In | yes | None + Pending In
      To                    | yes | None
      To + Pending In       | yes | None + Pending In
      From                  | yes | no state change
      From + Pending Out    | yes | From
      Both                  | yes | From`,
    subscribed: `
      None                  | no  | no state change
      None + Pending Out    | no  | no state change
      None + Pending In     | yes | From
      None + Pending Out+In | yes | From + Pending Out
      To                    | no  | no state change
      To + Pending In       | yes | Both
      From                  | no  | no state change
      From + Pending Out    | no  | no state change
      Both                  | no  | no state change`,
    unsubscribed: `
      None                  | no  | no state change
      None + Pending Out    | no  | no state change
      None + Pending In     | yes | None
      None + Pending Out+In | yes | None + Pending Out
      To                    | no  | no state change
      To + Pending In       | yes | To
      From                  | yes | None
      From + Pending Out    | yes | None + Pending Out
      Both                  | yes | To`,
  },
  inbound: {
    subscribe: `
      None                  | yes | None + Pending In
      None + Pending Out    | yes | None + Pending Out+In
      None + Pending In     | no  | no state change
      None + Pending Out+In | no  | no state change
      To                    | yes | To + Pending In
      To + Pending In       | no  | no state change
      From                  | no  | no state change
      From + Pending Out    | no  | no state change
      Both                  | no  | no state change`,
    unsubscribe: `
      None                  | no  | no state change
      None + Pending Out    | no  | no state change
      None + Pending In     | yes | None
      None + Pending Out+In | yes | None + Pending Out
      To                    | no  | no state change
      To + Pending In       | yes | To
      From                  | yes | None
      From + Pending Out    | yes | None + Pending Out
      Both                  | yes | To`,
    subscribed: `
      None                  | no  | no state change
      None + Pending Out    | yes | To
      None + Pending In     | no  | no state change
      None + Pending Out+In | yes | To + Pending In
      To                    | no  | no state change
      To + Pending In       | no  | no state change
      From                  | no  | no state change
      From + Pending Out    | yes | Both
      Both                  | no  | no state change`,
    unsubscribed: `
      None                  | no  | no state change
      None + Pending Out    | yes | None
      None + Pending In     | no  | no state change
      None + Pending Out+In | yes | None + Pending In
      To                    | yes | None
      To + Pending In       | yes | None + Pending In
      From                  | no  | no state change
      From + Pending Out    | yes | From
      Both                  | yes | From`,
  },
};

function rows(text: string): { state: StateName; route: boolean; next: StateName }[] {
  return text.trim().split("\n").map((line) => {
    const [state, route, next] = line.split("|").map((cell) => cell.trim());
    return {
      state: state as StateName,
      route: route === "yes",
      next: (next === "no state change" ? state : next) as StateName,
    };
  });
}

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

for (const direction of ["outbound", "inbound"] as const) {
  const tables = direction === "outbound" ? OUTBOUND : INBOUND;
  const section = direction === "outbound" ? "A.2" : "A.3";
  for (const type of SUBSCRIPTION_TYPES) {
    Deno.test(`RFC 6121 ${section} ${direction} "${type}" follows the RFC row by row`, async (t) => {
      const expected = rows(RFC[direction][type]);
      assert.deepEqual(expected.map((row) => row.state), STATE_NAMES);
      for (const row of expected) {
        await t.step(`${row.state} → ${row.route ? "yes" : "no"}, ${row.next}`, () => {
          assert.deepEqual(tables[type][row.state], { route: row.route, next: row.next });
        });
      }
    });
  }
}

Deno.test("stateName() and stateOf() name each of the nine states of A.1 both ways", () => {
  for (const name of STATE_NAMES) assert.equal(stateName(stateOf(name)), name);
  // A flag that cannot go with the subscription is ignored rather than inventing a state.
  assert.equal(stateName({ subscription: "both", pendingOut: true, pendingIn: true }), "Both");
  assert.equal(stateName({ subscription: "to", pendingOut: true, pendingIn: false }), "To");
  assert.equal(
    stateName({ subscription: "from", pendingOut: false, pendingIn: true }),
    "From",
  );
});

Deno.test("OUTBOUND and INBOUND keep both ends consistent for every routed stanza", () => {
  // If the user is in `state` and the contact in its mirror image, a stanza the user's server
  // routes leaves the contact's server in the mirror of the user's new state.
  for (const type of SUBSCRIPTION_TYPES) {
    for (const state of STATE_NAMES) {
      const out = OUTBOUND[type][state];
      if (!out.route) continue;
      const contact = INBOUND[type][mirror(state)];
      assert.equal(mirror(contact.next), out.next, `${type} from ${state}`);
    }
  }
});

Deno.test("decideOutbound() keeps a 'subscribed' the table does not route as a pre-approval", () => {
  for (const state of ["None", "None + Pending Out", "To"] as StateName[]) {
    assert.deepEqual(decideOutbound("subscribed", state, false), {
      route: false,
      next: state,
      approved: true,
      autoReply: false,
    });
  }
  // Already subscribed: nothing to pre-approve (§3.4.1).
  for (const state of ["From", "From + Pending Out", "Both"] as StateName[]) {
    assert.equal(decideOutbound("subscribed", state, false).approved, false);
  }
  // A routed "subscribed" answers the pending request: no pre-approval left over.
  assert.deepEqual(decideOutbound("subscribed", "None + Pending In", true), {
    route: true,
    next: "From",
    approved: false,
    autoReply: false,
  });
});

Deno.test("decideOutbound() lets 'unsubscribed' cancel a pre-approval", () => {
  assert.deepEqual(decideOutbound("unsubscribed", "None", true), {
    route: false,
    next: "None",
    approved: false,
    autoReply: false,
  });
  // Other stanzas keep it.
  assert.equal(decideOutbound("subscribe", "None", true).approved, true);
  assert.equal(decideOutbound("unsubscribe", "To", true).approved, true);
});

Deno.test("decideInbound() answers a pre-approved 'subscribe' itself and moves to From", () => {
  const cases: [StateName, StateName][] = [
    ["None", "From"],
    ["None + Pending Out", "From + Pending Out"],
    ["To", "Both"],
  ];
  for (const [state, next] of cases) {
    assert.deepEqual(decideInbound("subscribe", state, true), {
      route: false,
      next,
      approved: false,
      autoReply: true,
    });
  }
  // Without pre-approval the request is delivered and becomes pending in.
  assert.deepEqual(decideInbound("subscribe", "None", false), {
    route: true,
    next: "None + Pending In",
    approved: false,
    autoReply: false,
  });
});

Deno.test("decideInbound() auto-replies 'subscribed' when the contact is already subscribed", () => {
  for (const state of ["From", "From + Pending Out", "Both"] as StateName[]) {
    assert.deepEqual(decideInbound("subscribe", state, false), {
      route: false,
      next: state,
      approved: false,
      autoReply: true,
    });
  }
  // A repeated request while one is pending is neither delivered nor answered.
  assert.equal(decideInbound("subscribe", "None + Pending In", false).autoReply, false);
});
