/**
 * `<kv>` in an `<xdb>` section: stores XDB in a KV store (docs/architecture.md "Storage: XDB on Deno KV") and
 * answers the section's xdb packets (get, a get of several namespaces, set, insert, remove) from it.
 *
 * The text says where: a file path (relative to the config file's folder; its folder is created),
 * `:memory:` (lost at exit), a remote KV URL (`https://…`, Deno KV Connect, which reads its
 * token from `DENO_KV_ACCESS_TOKEN`), or a PostgreSQL URL (`postgres://user@host/database`, the
 * store several nodes share: README "Storage on PostgreSQL"), whose pool holds at most
 * `connections` connections. URLs are passed through unchanged to the KV adapter; no Deno KV
 * Connect server could be run where this was written, so that path is untested here.
 *
 * After a get it fires `xdb-loaded`, after a committed write `xdb-changed` (request.ts), so that
 * `<cache>` stays right. Unloading flushes queued writes, then closes the store.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { rangeElement } from "../../server/xdb_client.ts";
import type { Packet } from "../../tree/packet.ts";
import { type Element, Element as XmlElement } from "../../xml/element.ts";
import {
  errorResult,
  manyReply,
  readRequest,
  resultReply,
  XDB_CHANGED,
  XDB_LOADED,
  type XdbChangedEvent,
  type XdbLoadedEvent,
} from "./request.ts";
import { XdbStore } from "./store.ts";
import { integer, options } from "../../config/options.ts";

const KV = options({ connections: integer(undefined, { min: 1, max: 1000 }) });

/** Where `<kv>` stores, or a sentence saying what is wrong with the element. */
export function kvLocation(
  element: Element,
): { kind: "file" | "memory" | "url" | "postgres"; path: string } | string {
  const path = element.text().trim();
  if (element.elements.length > 0) {
    return "<kv> takes only text: a file path, :memory:, an https:// KV URL or a postgres:// URL";
  }
  if (path === "") {
    return "<kv> needs a place to store: a file path such as ./data/xdb.sqlite3, :memory:, an " +
      "https:// KV URL or a postgres:// URL";
  }
  if (path === ":memory:") return { kind: "memory", path };
  if (/^https?:\/\//i.test(path)) return { kind: "url", path };
  if (/^postgres(ql)?:\/\//i.test(path)) {
    if (!URL.canParse(path)) {
      // Not quoted back: the URL may hold a password.
      return "<kv> has a postgres:// URL that does not parse; write " +
        "postgres://user:password@host:port/database";
    }
    const max = new URL(path).searchParams.get("max");
    if (max !== null && !/^[1-9][0-9]*$/.test(max)) {
      return `<kv> URL has max=${max}; write a positive whole number of connections`;
    }
    return { kind: "postgres", path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return `<kv> cannot use "${path}"; write a file path, :memory:, an https:// KV URL or a ` +
      "postgres:// URL";
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
    const location = kvLocation(element);
    if (typeof location === "string") context.problem(element, location);
    const { connections } = KV.validate(element, context);
    if (connections !== undefined && typeof location !== "string" && location.kind !== "postgres") {
      context.problem(
        element,
        "<kv> connections is the pool size of a postgres:// store; a Deno KV store has no pool",
      );
    }
  },
  async register(api) {
    const location = kvLocation(api.config);
    if (typeof location === "string") throw new Error(location);
    const { connections } = KV.read(api.config);
    let path = location.path;
    if (location.kind === "file") {
      path = api.resolvePath(path);
      const slash = path.lastIndexOf("/");
      if (slash > 0) await api.adapters.files.mkdir(path.slice(0, slash));
    }
    const store = new XdbStore(await api.adapters.kv.open(path, { connections }));
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
          case "many": {
            // One batch of KV reads for all (store.ts); each namespace is announced as if read
            // alone, so `<cache>` keeps every one of them.
            const namespaces = request.namespaces!;
            const data = await store.getMany(owner, namespaces);
            for (let i = 0; i < namespaces.length; i++) {
              api.fire<XdbLoadedEvent>(XDB_LOADED, {
                packet,
                owner,
                ns: namespaces[i],
                data: data[i],
              });
            }
            reply = manyReply(element, namespaces, data);
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
          case "append":
            await store.append(ns, request.entries!);
            reply = resultReply(element);
            break;
          case "range":
            reply = resultReply(element, rangeElement(await store.range(owner, ns, request.range)));
            break;
          case "trim": {
            const count = await store.trim(owner, ns, request.range);
            reply = resultReply(element, new XmlElement("trimmed", { count: String(count) }));
            break;
          }
        }
        // Keyed logs are not elements: `<cache>` has nothing of theirs to keep right.
        if (
          request.action !== "get" && request.action !== "many" && request.range === undefined &&
          !request.entries
        ) {
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
