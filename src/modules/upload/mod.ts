/**
 * `<upload xmlns="jabberd:config:upload">` in a `<service>`: an XEP-0363 HTTP File Upload service
 * for the section's hosts. It grants slots (§4) and answers disco#info with its size limit (§3);
 * the http section serves the files under `/upload/…` through the store this section offers
 * (`UPLOAD_STORE`), and a timer deletes expired slots with their files.
 *
 * ```xml
 * <service id="upload">
 *   <host>upload.localhost</host>
 *   <upload xmlns="jabberd:config:upload" max-size="10MiB" quota="100MiB" expire="7d"
 *           url="https://files.example.org/upload" dir="uploads"/>
 * </service>
 * ```
 *
 * It runs only in-process, beside an http section of the same config (placement.ts: the http
 * section reaches the files through an in-memory offer); `jabberd check` says so.
 *
 * Without `url`, slots point at the first http listener of this server (fine on one machine;
 * behind a proxy or for other machines, say the public URL). Quotas count a user's slots that
 * have not expired, uploaded or not.
 */
import { duration, options, size, string } from "../../config/options.ts";
import {
  type ModuleApi,
  type ModuleDefinition,
  SERVER_VIEW,
  type ServerView,
} from "../../server/module_api.ts";
import { UPLOAD_STORE } from "../../server/upload_store.ts";
import type { HandlerResult } from "../../tree/handler.ts";
import type { Packet } from "../../tree/packet.ts";
import { describe, errorReply, StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { NS_DATA_FORMS, NS_DISCO_INFO, NS_HTTP_UPLOAD, NS_UPLOAD_CONFIG } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { checkUploadPlacement, refuseOutOfProcess } from "./placement.ts";
import { UploadSlots } from "./slots.ts";

const UPLOAD = options({
  "max-size": size(10 * 1024 * 1024, { positive: true }),
  quota: size(100 * 1024 * 1024, { positive: true }),
  expire: duration(7 * 24 * 3600_000, { positive: true }),
  /** How often expired slots are looked for. */
  sweep: duration(3600_000, { positive: true }),
  /** The public URL of `/upload`; without it, the first http listener of this server's. */
  url: string(),
  dir: string("uploads"),
});

export function register(api: ModuleApi): void {
  refuseOutOfProcess(api.config);
  const settings = UPLOAD.read(api.config);
  const slots = new UploadSlots({
    maxSize: settings["max-size"],
    quota: settings.quota,
    expire: settings.expire,
    url: () => settings.url?.replace(/\/+$/, "") ?? listenerUrl(api),
    dir: api.resolvePath(settings.dir),
  }, {
    xdb: api.xdb,
    files: api.adapters.files,
    now: () => api.timer.now(),
    owner: api.hosts[0] ?? api.id,
  });
  api.offer(UPLOAD_STORE, slots);
  api.timer.setInterval(() => {
    slots.sweep().catch((error) =>
      api.log.error(`upload: sweeping expired files failed: ${describe(error)}`)
    );
  }, Math.min(settings.sweep, settings.expire));
  api.handle("deliver", (packet) => deliver(api, slots, settings["max-size"], packet));
  api.onUnload(() => slots.queue.idle());
}

export const uploadModule: ModuleDefinition = {
  element: NS_UPLOAD_CONFIG,
  sections: ["service"],
  validate(element, context) {
    UPLOAD.validate(element, context);
    checkUploadPlacement(element, context);
  },
  register,
};

function deliver(
  api: ModuleApi,
  slots: UploadSlots,
  maxSize: number,
  packet: Packet,
): HandlerResult | Promise<HandlerResult> {
  const stanza = packet.element;
  if (packet.kind !== "normal" || !api.servesHost(packet.host)) return "pass";
  const type = stanza.attrs.type;
  const from = JID.tryParse(stanza.attrs.from ?? "");
  if (type === "result" || type === "error" || !from || stanza.local === "presence") return "done";
  const payload = stanza.local === "iq" ? stanza.elements[0] : undefined;
  if (type === "get" && payload?.is("query", NS_DISCO_INFO) && !payload.attrs.node) {
    reply(api, packet, serviceInfo(maxSize));
    return "done";
  }
  if (type !== "get" || !payload?.is("request", NS_HTTP_UPLOAD)) {
    answer(api, packet, new StanzaError("service-unavailable"));
    return "done";
  }
  const name = payload.attrs.filename ?? "";
  const size = Number(payload.attrs.size);
  if (name === "" || name.includes("/") || !Number.isSafeInteger(size) || size < 0) {
    answer(api, packet, new StanzaError("bad-request", "A request needs a filename and a size"));
    return "done";
  }
  const user = from.bareString();
  return slots.request(user, name, size, payload.attrs["content-type"] ?? "").then(
    (slot) => {
      const put = xml("put", { url: slot.put });
      put.append(xml("header", { name: "Authorization" }, `Bearer ${slot.token}`));
      reply(
        api,
        packet,
        xml("slot", { xmlns: NS_HTTP_UPLOAD }, put, xml("get", { url: slot.get })),
      );
      return "done" as const;
    },
    (error) => {
      if (!(error instanceof StanzaError)) {
        api.log.error(`upload: granting a slot to ${user} failed: ${describe(error)}`);
      }
      answer(
        api,
        packet,
        error instanceof StanzaError ? error : new StanzaError("internal-server-error"),
      );
      return "done" as const;
    },
  );
}

function reply(api: ModuleApi, packet: Packet, payload: Element): void {
  const stanza = packet.element;
  const attrs: Record<string, string> = { type: "result", id: stanza.attrs.id ?? "" };
  if (stanza.attrs.from) attrs.to = stanza.attrs.from;
  if (stanza.attrs.to) attrs.from = stanza.attrs.to;
  api.deliver(xml("iq", attrs, payload), packet);
}

function answer(api: ModuleApi, packet: Packet, error: StanzaError): void {
  const reply = errorReply(packet.element, error);
  if (reply) api.deliver(reply, packet);
}

/** `/upload` on the first http(s) listener of this server (for a server without `url`). */
function listenerUrl(api: ModuleApi): string | undefined {
  const addresses = api.offered<ServerView>(SERVER_VIEW)[0]?.value.addresses() ?? [];
  const listener = addresses.find((a) => a.name === "https" || a.name === "http");
  if (!listener) return undefined;
  const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  return `${listener.name}://${host}:${listener.port}/upload`;
}

/** disco#info with the size limit (XEP-0363 §3, XEP-0128 extended info). */
function serviceInfo(maxSize: number): Element {
  return xml(
    "query",
    { xmlns: NS_DISCO_INFO },
    xml("identity", { category: "store", type: "file", name: "HTTP File Upload" }),
    xml("feature", { var: NS_DISCO_INFO }),
    xml("feature", { var: NS_HTTP_UPLOAD }),
    xml(
      "x",
      { xmlns: NS_DATA_FORMS, type: "result" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, NS_HTTP_UPLOAD)),
      xml("field", { var: "max-file-size" }, xml("value", {}, String(maxSize))),
    ),
  );
}
