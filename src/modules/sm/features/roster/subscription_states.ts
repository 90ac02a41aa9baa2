/**
 * The presence subscription state machine of RFC 6121 Appendix A, as pure tables: for each
 * subscription stanza (subscribe, subscribed, unsubscribe, unsubscribed), handled outbound (sent
 * by the user, A.2) or inbound (arriving for the user, A.3), whether the server routes or
 * delivers it and what the user's state for that contact becomes; plus pre-approval (§3.4).
 */

/** The subscription attribute of a roster item (RFC 6121 §2.1.2.5). */
export type Subscription = "none" | "to" | "from" | "both";

/** The four subscription stanza types (RFC 6121 §3). */
export type SubscriptionType = "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed";

export const SUBSCRIPTION_TYPES: readonly SubscriptionType[] = [
  "subscribe",
  "subscribed",
  "unsubscribe",
  "unsubscribed",
];

/** The nine defined states of RFC 6121 Appendix A.1, named as the RFC names them. */
export type StateName =
  | "None"
  | "None + Pending Out"
  | "None + Pending In"
  | "None + Pending Out+In"
  | "To"
  | "To + Pending In"
  | "From"
  | "From + Pending Out"
  | "Both";

export const STATE_NAMES: readonly StateName[] = [
  "None",
  "None + Pending Out",
  "None + Pending In",
  "None + Pending Out+In",
  "To",
  "To + Pending In",
  "From",
  "From + Pending Out",
  "Both",
];

/** The state split into what a roster item stores: subscription, ask (pending out), pending in. */
export interface SubscriptionState {
  subscription: Subscription;
  /** The user asked to see the contact's presence and has no answer yet (`ask="subscribe"`). */
  pendingOut: boolean;
  /** The contact asked to see the user's presence and has no answer yet. */
  pendingIn: boolean;
}

/** The RFC's name of a state; flags that cannot go with a subscription are ignored. */
export function stateName(state: SubscriptionState): StateName {
  const { subscription } = state;
  // Pending out means nothing once the user already sees the contact (to/both), pending in
  // nothing once the contact already sees the user (from/both).
  const out = state.pendingOut && (subscription === "none" || subscription === "from");
  const into = state.pendingIn && (subscription === "none" || subscription === "to");
  switch (subscription) {
    case "none":
      return out && into
        ? "None + Pending Out+In"
        : out
        ? "None + Pending Out"
        : into
        ? "None + Pending In"
        : "None";
    case "to":
      return into ? "To + Pending In" : "To";
    case "from":
      return out ? "From + Pending Out" : "From";
    case "both":
      return "Both";
  }
}

/** The stored form of a named state. */
export function stateOf(name: StateName): SubscriptionState {
  switch (name) {
    case "None":
      return { subscription: "none", pendingOut: false, pendingIn: false };
    case "None + Pending Out":
      return { subscription: "none", pendingOut: true, pendingIn: false };
    case "None + Pending In":
      return { subscription: "none", pendingOut: false, pendingIn: true };
    case "None + Pending Out+In":
      return { subscription: "none", pendingOut: true, pendingIn: true };
    case "To":
      return { subscription: "to", pendingOut: false, pendingIn: false };
    case "To + Pending In":
      return { subscription: "to", pendingOut: false, pendingIn: true };
    case "From":
      return { subscription: "from", pendingOut: false, pendingIn: false };
    case "From + Pending Out":
      return { subscription: "from", pendingOut: true, pendingIn: false };
    case "Both":
      return { subscription: "both", pendingOut: false, pendingIn: false };
  }
}

/** One row of a table: route (outbound) or deliver (inbound) the stanza, and the new state. */
export interface Row {
  route: boolean;
  next: StateName;
}

type Table = Record<StateName, Row>;

/** Builds a table from the RFC's rows: `[state, route?, new state or undefined for no change]`. */
function table(rows: [StateName, boolean, StateName?][]): Table {
  const out = {} as Table;
  for (const [state, route, next] of rows) out[state] = { route, next: next ?? state };
  return out;
}

/** RFC 6121 A.2: outbound subscription stanzas (sent by the user to the contact). */
export const OUTBOUND: Record<SubscriptionType, Table> = {
  // A.2.1
  subscribe: table([
    ["None", true, "None + Pending Out"],
    ["None + Pending Out", true],
    ["None + Pending In", true, "None + Pending Out+In"],
    ["None + Pending Out+In", true],
    ["To", true],
    ["To + Pending In", true],
    ["From", true, "From + Pending Out"],
    ["From + Pending Out", true],
    ["Both", true],
  ]),
  // A.2.2
  unsubscribe: table([
    ["None", true],
    ["None + Pending Out", true, "None"],
    ["None + Pending In", true],
    ["None + Pending Out+In", true, "None + Pending In"],
    ["To", true, "None"],
    ["To + Pending In", true, "None + Pending In"],
    ["From", true],
    ["From + Pending Out", true, "From"],
    ["Both", true, "From"],
  ]),
  // A.2.3
  subscribed: table([
    ["None", false],
    ["None + Pending Out", false],
    ["None + Pending In", true, "From"],
    ["None + Pending Out+In", true, "From + Pending Out"],
    ["To", false],
    ["To + Pending In", true, "Both"],
    ["From", false],
    ["From + Pending Out", false],
    ["Both", false],
  ]),
  // A.2.4
  unsubscribed: table([
    ["None", false],
    ["None + Pending Out", false],
    ["None + Pending In", true, "None"],
    ["None + Pending Out+In", true, "None + Pending Out"],
    ["To", false],
    ["To + Pending In", true, "To"],
    ["From", true, "None"],
    ["From + Pending Out", true, "None + Pending Out"],
    ["Both", true, "To"],
  ]),
};

/** RFC 6121 A.3: inbound subscription stanzas (sent by the contact to the user). */
export const INBOUND: Record<SubscriptionType, Table> = {
  // A.3.1 (From, From + Pending Out and Both: not delivered, the server answers "subscribed")
  subscribe: table([
    ["None", true, "None + Pending In"],
    ["None + Pending Out", true, "None + Pending Out+In"],
    ["None + Pending In", false],
    ["None + Pending Out+In", false],
    ["To", true, "To + Pending In"],
    ["To + Pending In", false],
    ["From", false],
    ["From + Pending Out", false],
    ["Both", false],
  ]),
  // A.3.2
  unsubscribe: table([
    ["None", false],
    ["None + Pending Out", false],
    ["None + Pending In", true, "None"],
    ["None + Pending Out+In", true, "None + Pending Out"],
    ["To", false],
    ["To + Pending In", true, "To"],
    ["From", true, "None"],
    ["From + Pending Out", true, "None + Pending Out"],
    ["Both", true, "To"],
  ]),
  // A.3.3
  subscribed: table([
    ["None", false],
    ["None + Pending Out", true, "To"],
    ["None + Pending In", false],
    ["None + Pending Out+In", true, "To + Pending In"],
    ["To", false],
    ["To + Pending In", false],
    ["From", false],
    ["From + Pending Out", true, "Both"],
    ["Both", false],
  ]),
  // A.3.4
  unsubscribed: table([
    ["None", false],
    ["None + Pending Out", true, "None"],
    ["None + Pending In", false],
    ["None + Pending Out+In", true, "None + Pending In"],
    ["To", true, "None"],
    ["To + Pending In", true, "None + Pending In"],
    ["From", false],
    ["From + Pending Out", true, "From"],
    ["Both", true, "From"],
  ]),
};

/** True when the contact already receives the user's presence (from/both). */
export function contactSeesUser(state: StateName): boolean {
  return state === "From" || state === "From + Pending Out" || state === "Both";
}

/** What the server does with one subscription stanza, pre-approval included. */
export interface Decision extends Row {
  /** The approved flag (RFC 6121 §3.4) of the roster item afterwards. */
  approved: boolean;
  /**
   * Inbound only: the server answers the contact with "subscribed" itself, because the contact
   * already has a subscription (A.3.1's footnote) or the user pre-approved it (§3.4).
   */
  autoReply: boolean;
}

/**
 * Outbound handling (A.2) with pre-approval (§3.4.1): a "subscribed" the table does not route,
 * sent while the contact does not yet see the user's presence, is kept as a pre-approval
 * instead; an "unsubscribed" the table does not route cancels a pre-approval.
 */
export function decideOutbound(
  type: SubscriptionType,
  state: StateName,
  approved: boolean,
): Decision {
  const row = OUTBOUND[type][state];
  let keep = approved && !contactSeesUser(row.next);
  if (type === "subscribed" && !row.route && !contactSeesUser(state)) keep = true;
  if (type === "unsubscribed") keep = false;
  return { ...row, approved: keep, autoReply: false };
}

/**
 * Inbound handling (A.3) with pre-approval (§3.4.2): a "subscribe" the table would deliver is
 * answered "subscribed" by the server when the user pre-approved it, and the state moves as if
 * the user had sent that "subscribed" (A.2.3 applied after A.3.1).
 */
export function decideInbound(
  type: SubscriptionType,
  state: StateName,
  approved: boolean,
): Decision {
  const row = INBOUND[type][state];
  if (type === "subscribe") {
    if (row.route && approved) {
      const next = OUTBOUND.subscribed[row.next].next;
      return { route: false, next, approved: false, autoReply: true };
    }
    return { ...row, approved, autoReply: contactSeesUser(state) };
  }
  return { ...row, approved: approved && !contactSeesUser(row.next), autoReply: false };
}
