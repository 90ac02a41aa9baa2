/**
 * `<kv>` in an `<xdb>` section: stores XDB in a KV store (docs/architecture.md "Storage: XDB on Deno KV") and
 * answers the section's xdb packets (get, set, insert, remove) from it.
 *
 * The text says where: a file path (relative to the config file's folder; its folder is created),
 * `:memory:` (lost at exit), or a remote KV URL (`https://…`, Deno KV Connect, which reads its
 * token from `DENO_KV_ACCESS_TOKEN`). Remote URLs are passed through unchanged to the KV adapter;
 * no KV server could be run where this was written, so that path is untested here.
 *
 * After a get it fires `xdb-loaded`, after a committed write `xdb-changed` (request.ts), so that
 * `<cache>` stays right. Unloading flushes queued writes, then closes the store.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import type { Element } from "../../xml/element.ts";
import {
  errorResult,
  readRequest,
  resultReply,
  XDB_CHANGED,
  XDB_LOADED,
  type XdbChangedEvent,
  type XdbLoadedEvent,
} from "./request.ts";
import { XdbStore } from "./store.ts";

/** Where `<kv>` stores, or a sentence saying what is wrong with the element. */
export function kvLocation(
  element: Element,
): { kind: "file" | "memory" | "url"; path: string } | string {
  const path = element.text().trim();
  if (element.elements.length > 0) {
    return "<kv> takes only text: a file path, :memory: or an https:// KV URL";
  }
  if (path === "") {
    return "<kv> needs a place to store: a file path such as ./data/xdb.sqlite3, :memory: or an " +
      "https:// KV URL";
  }
  if (path === ":memory:") return { kind: "memory", path };
  if (/^https?:\/\//i.test(path)) return { kind: "url", path };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return `<kv> cannot use "${path}"; write a file path, :memory: or an https:// KV URL`;
  }
  if (path.endsWith("/") || path.endsWith("\\") || path.includes("\u0000")) {
    return `<kv> path "${path}" must name a file (such as ./data/xdb.sqlite3), not a folder`;
  }
  return { kind: "file", path };
}

export const kvModule: ModuleDefinition = {
  element: "kv",
  sections: ["xdb"],
  validate(element, context) {
    for (const name of Object.keys(element.attrs)) {
      if (name === "xmlns" || name.startsWith("xmlns:")) continue;
      context.problem(element, `<kv> has no attribute "${name}"; write the store's path as text`);
    }
    const location = kvLocation(element);
    if (typeof location === "string") context.problem(element, location);
  },
  async register(api) {
    const location = kvLocation(api.config);
    if (typeof location === "string") throw new Error(location);
    let path = location.path;
    if (location.kind === "file") {
      path = api.resolvePath(path);
      const slash = path.lastIndexOf("/");
      if (slash > 0) await api.adapters.files.mkdir(path.slice(0, slash));
    }
    const store = new XdbStore(await api.adapters.kv.open(path));
    api.onUnload(() => store.close());

    // The handler takes the packet at once and replies when the store is done. The store keeps
    // each element's operations in order by itself, so the router need not hold the next request
    // back until this one commits, which would undo the batching of hot writes.
    api.handle("deliver", (packet) => {
      if (packet.kind !== "xdb") return "pass";
      void answer(packet);
      return "done";
    });

    async function answer(packet: Packet): Promise<void> {
      const element = packet.element;
      let reply: Element;
      try {
        const request = readRequest(packet)!;
        const { owner, ns } = request;
        switch (request.action) {
          case "get": {
            const data = await store.get(owner, ns);
            api.fire<XdbLoadedEvent>(XDB_LOADED, { packet, owner, ns, data });
            reply = resultReply(element, data);
            break;
          }
          case "set":
            await store.set(owner, ns, request.data);
            reply = resultReply(element);
            break;
          case "insert":
            await store.insert(owner, ns, request.data!, request.match);
            reply = resultReply(element);
            break;
          case "remove":
            await store.remove(owner, ns, request.match!);
            reply = resultReply(element);
            break;
        }
        if (request.action !== "get") {
          api.fire<XdbChangedEvent>(XDB_CHANGED, { packet, request });
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        api.log.warn(`XDB ${element.attrs.type} for ${element.attrs.to} failed: ${reason}`);
        reply = errorResult(element, reason);
      }
      if (reply.attrs.to) api.deliver(reply, packet);
      else api.log.warn(`Dropped the XDB reply to a request without from: ${element}`);
    }
  },
};
