/**
 * Test support for the MUC service: a server (`testServer`) with a `<muc>` section on
 * `conference.localhost` and XDB in memory that survives `restart()`, a recorder standing in for
 * the users of `localhost`, and helpers to send stanzas as XML text and take what each user got.
 */
import { testServer, type TestServerOptions, waitFor } from "../../server/_testing.ts";
import type { Packet } from "../../tree/packet.ts";
import { NS_DATA_FORMS, NS_MUC, NS_MUC_OWNER, NS_MUC_USER } from "../../util/ns.ts";
import { parseDocument } from "../../xml/document.ts";
import type { Element } from "../../xml/element.ts";

export const SERVICE = "conference.localhost";
export const ROOM = `room@${SERVICE}`;

/** Parses one element written as XML text. */
export function parse(text: string): Element {
  return parseDocument(text, "test").root;
}

/**
 * The `<muc>` section with `settings` inside; `component` replaces it whole (a `<load>`); `kv` is
 * where XDB lies (in memory unless the test runs on the Deno adapters).
 */
export function mucConfig(settings = "", component?: string, kv = "data/muc.kv"): string {
  return `<jabberd>
    <service id="muc"><host>${SERVICE}</host>
      ${component ?? `<muc xmlns="jabberd:config:muc">${settings}</muc>`}
    </service>
    <xdb id="xdb"><host/><kv>${kv}</kv></xdb>
  </jabberd>`;
}

export class MucTester implements AsyncDisposable {
  readonly world: Awaited<ReturnType<typeof testServer>>;
  /** What reached `localhost` and was not taken yet. */
  readonly inbox: Packet[];

  constructor(world: Awaited<ReturnType<typeof testServer>>) {
    this.world = world;
    this.inbox = world.collect("users", ["localhost"]);
  }

  /** Sends one stanza written as XML and waits until the server is quiet. */
  async send(text: string): Promise<void> {
    this.world.router.deliver(parse(text));
    await this.world.settle(10);
  }

  /** Removes and returns what reached `to` (a full JID), oldest first. */
  take(to: string): Element[] {
    const taken: Element[] = [];
    for (let i = 0; i < this.inbox.length;) {
      if (this.inbox[i].element.attrs.to === to) {
        taken.push(...this.inbox.splice(i, 1).map((p) => p.element));
      } else i++;
    }
    return taken;
  }

  /** Waits until `to` got `count` stanzas, then takes them (for a section in a worker). */
  async wait(to: string, count: number): Promise<Element[]> {
    await waitFor(
      () => this.inbox.filter((p) => p.element.attrs.to === to).length >= count,
      `${count} stanzas for ${to}`,
    );
    return this.take(to);
  }

  /** `user` (a full JID) enters `room` as `nick`; returns what it got. */
  async join(user: string, nick: string, room = ROOM, inner = ""): Promise<Element[]> {
    await this.send(
      `<presence from="${user}" to="${room}/${nick}"><x xmlns="${NS_MUC}">${inner}</x></presence>`,
    );
    return this.take(user);
  }

  /** `user` creates `room` as `nick` and configures it with `fields` (var → value). */
  async create(
    user: string,
    nick: string,
    fields: Record<string, string> = {},
    room = ROOM,
  ): Promise<Element[]> {
    const joined = await this.join(user, nick, room);
    const values = Object.entries(fields).map(([name, value]) =>
      `<field var="${name}"><value>${value}</value></field>`
    ).join("");
    await this.send(
      `<iq type="set" id="create" from="${user}" to="${room}"><query xmlns="${NS_MUC_OWNER}">
        <x xmlns="${NS_DATA_FORMS}" type="submit">${values}</x></query></iq>`,
    );
    const answer = this.take(user);
    if (answer[0]?.attrs.type !== "result") throw new Error(`Creating failed: ${answer[0]}`);
    return joined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.world.stop();
  }
}

export async function mucTester(config = mucConfig(), options: TestServerOptions = {}) {
  return new MucTester(await testServer(config, options));
}

/** The status codes of a stanza's `muc#user` extension. */
export function codes(stanza: Element | undefined): number[] {
  return (stanza?.getChild("x", NS_MUC_USER)?.getChildren("status") ?? [])
    .map((s) => Number(s.attrs.code));
}

/** The `muc#user` item of a presence. */
export function item(stanza: Element | undefined): Record<string, string> {
  return stanza?.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs ?? {};
}

/** The defined condition of an error stanza. */
export function condition(stanza: Element | undefined): string | undefined {
  return stanza?.getChild("error")?.elements[0]?.local;
}
