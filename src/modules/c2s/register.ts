/**
 * In-band registration before authentication (XEP-0077 §3.1): the form and account creation,
 * allowed only from the configured address ranges and at most `rate` per address per window
 * (XEP-0077 §9.3). Changing the password and cancelling happen after login, in the sm.
 */
import { accountExists, createAccount } from "../../accounts/store.ts";
import type { Logger, XdbClient } from "../../server/module_api.ts";
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { inRanges } from "../../util/cidr.ts";
import type { RegisterConfig } from "./config.ts";
import { SlidingWindow } from "../../util/limits.ts";

export const NS_REGISTER = "jabber:iq:register";
export const NS_REGISTER_FEATURE = "http://jabber.org/features/iq-register";

export class Registration {
  readonly #config: RegisterConfig;
  readonly #window: SlidingWindow;
  readonly #xdb: XdbClient;
  readonly #iterations: number;
  readonly #log: Logger;

  constructor(config: RegisterConfig, xdb: XdbClient, iterations: number, log: Logger) {
    this.#config = config;
    this.#window = new SlidingWindow(config.rate, config.per);
    this.#xdb = xdb;
    this.#iterations = iterations;
    this.#log = log;
  }

  /** True when clients from `address` may register (and so see the stream feature). */
  allowed(address: string): boolean {
    return inRanges(address, this.#config.from);
  }

  /**
   * Answers a `jabber:iq:register` iq from an unauthenticated client at `address` on `domain`:
   * the form for a get, a new account for a set. Throws StanzaError for the error reply.
   */
  async handle(iq: Element, address: string, domain: string, now: number): Promise<Element> {
    if (!this.allowed(address)) {
      throw new StanzaError("not-allowed", "Registration is not open from your address");
    }
    const type = iq.attrs.type;
    const result = new Element("iq", {
      type: "result",
      ...(iq.attrs.id ? { id: iq.attrs.id } : {}),
    });
    if (type === "get") {
      result.c("query", { xmlns: NS_REGISTER })
        .c("instructions").t("Choose a username and password to register with this server.").up()
        .c("username").up()
        .c("password").up();
      return result;
    }
    if (type !== "set") throw new StanzaError("bad-request");
    const query = iq.getChild("query", NS_REGISTER)!;
    if (query.getChild("remove")) {
      throw new StanzaError("not-authorized", "Log in to cancel a registration");
    }
    const username = query.getChildText("username")?.trim() ?? "";
    const password = query.getChildText("password") ?? "";
    if (username === "" || password === "") {
      throw new StanzaError("not-acceptable", "Both username and password are required");
    }
    let jid: JID;
    try {
      jid = new JID(username, domain);
    } catch {
      throw new StanzaError("jid-malformed", "That username is not allowed");
    }
    // A taken name is `conflict` whatever the window says, and costs the address nothing.
    if (await accountExists(this.#xdb, jid)) {
      throw new StanzaError("conflict", "The account already exists");
    }
    if (!this.#window.tryRecord(address, now)) {
      const { rate, per } = this.#config;
      this.#log.notice(
        `c2s: refused a registration from ${address}: ${rate} registrations in ` +
          `${shortDuration(per)} from one address (limit <register rate per>)`,
      );
      throw new StanzaError("resource-constraint", "Too many registrations; try again later");
    }
    await createAccount(this.#xdb, jid, password, { iterations: this.#iterations });
    this.#log.info(`c2s: registered ${jid} from ${address}`);
    return result;
  }
}

/** A window in config units: `10m`, `90s`, `1h`. */
function shortDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
