/**
 * The slots of an XEP-0363 upload service and their files: a slot (§4) is granted within the size
 * limit and the user's quota, its file is written once by a `PUT` carrying the slot's token,
 * served to any `GET`, and deleted with its slot when it expires. Slots are kept in XDB under the
 * service's host, files through the file adapter, named by slot id only.
 */
import type { FileAdapter } from "../../adapters/types.ts";
import type { XdbClient } from "../../server/module_api.ts";
import type { UploadAnswer, UploadPut, UploadStore } from "../../server/upload_store.ts";
import { StanzaError } from "../../util/errors.ts";
import { KeyedQueue } from "../../util/keyed_queue.ts";
import { NS_HTTP_UPLOAD, NS_UPLOAD_SLOTS } from "../../util/ns.ts";
import { Element, xml } from "../../xml/element.ts";

export interface SlotSettings {
  maxSize: number;
  quota: number;
  /** How long a slot and its file live, in ms. */
  expire: number;
  /**
   * The URL the http section serves `/upload` under, without a final slash: undefined while no
   * http listener is known.
   */
  url(): string | undefined;
  /** The folder of the files. */
  dir: string;
}

/** What a granted slot tells the client (XEP-0363 §4). */
export interface Slot {
  put: string;
  get: string;
  token: string;
}

/** `not-acceptable` with the limit (XEP-0363 §5 "file-too-large"). */
export class FileTooLarge extends StanzaError {
  readonly maxSize: number;

  constructor(maxSize: number) {
    super("not-acceptable", `The file is larger than ${maxSize} bytes`, "modify");
    this.maxSize = maxSize;
  }

  override toElement(by?: string): Element {
    const error = super.toElement(by);
    error.append(
      xml(
        "file-too-large",
        { xmlns: NS_HTTP_UPLOAD },
        xml("max-file-size", {}, String(this.maxSize)),
      ),
    );
    return error;
  }
}

function randomHex(bytes: number): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class UploadSlots implements UploadStore {
  readonly #settings: SlotSettings;
  readonly #xdb: XdbClient;
  readonly #files: FileAdapter;
  readonly #now: () => number;
  /** The XDB owner of the slot list: the service's host. */
  readonly #owner: string;
  /** One change at a time: a quota is checked and a slot added without another in between. */
  readonly queue = new KeyedQueue();

  constructor(
    settings: SlotSettings,
    parts: { xdb: XdbClient; files: FileAdapter; now: () => number; owner: string },
  ) {
    this.#settings = settings;
    this.#xdb = parts.xdb;
    this.#files = parts.files;
    this.#now = parts.now;
    this.#owner = parts.owner;
  }

  /** Grants a slot to `user` (a bare JID), or throws the error to answer with. */
  request(user: string, name: string, size: number, type: string): Promise<Slot> {
    if (size > this.#settings.maxSize) {
      return Promise.reject(new FileTooLarge(this.#settings.maxSize));
    }
    const base = this.#settings.url();
    if (!base) {
      return Promise.reject(
        new StanzaError("service-unavailable", "No http listener serves uploads"),
      );
    }
    return this.queue.run("", async () => {
      const now = this.#now();
      const used = (await this.#slots())
        .filter((s) => s.attrs.user === user && Number(s.attrs.expires) > now)
        .reduce((sum, s) => sum + Number(s.attrs.size), 0);
      if (used + size > this.#settings.quota) {
        throw new StanzaError(
          "resource-constraint",
          `The upload quota of ${this.#settings.quota} bytes would be exceeded`,
          "wait",
        );
      }
      const id = randomHex(16);
      const token = randomHex(16);
      const expires = String(now + this.#settings.expire);
      const attrs = { id, user, name, size: String(size), type, expires, token };
      await this.#xdb.insert(this.#owner, NS_UPLOAD_SLOTS, xml("slot", attrs), `slot?id=${id}`);
      const url = `${base}/${id}/${encodeURIComponent(name)}`;
      return { put: url, get: url, token };
    });
  }

  put(id: string, name: string, request: UploadPut): Promise<UploadAnswer | undefined> {
    return this.queue.run("", async () => {
      const slot = await this.#slot(id);
      if (!slot) return undefined;
      if (slot.attrs.name !== name) return { status: 404, text: "No such file" };
      if (request.authorization !== `Bearer ${slot.attrs.token}`) {
        return { status: 403, text: "The slot's token is missing or wrong" };
      }
      if (slot.attrs.uploaded) return { status: 409, text: "The file was uploaded already" };
      const size = Number(slot.attrs.size);
      if (request.contentLength !== undefined && request.contentLength !== size) {
        return { status: 413, text: `The slot is for ${size} bytes` };
      }
      if (slot.attrs.type && request.contentType && request.contentType !== slot.attrs.type) {
        return { status: 400, text: `The slot is for ${slot.attrs.type}` };
      }
      const body = await request.body(size);
      if (body.length !== size) return { status: 413, text: `The slot is for ${size} bytes` };
      await this.#files.mkdir(this.#settings.dir);
      await this.#files.writeFile(this.#path(id), body);
      slot.attrs.uploaded = "true";
      await this.#xdb.insert(this.#owner, NS_UPLOAD_SLOTS, slot, `slot?id=${id}`);
      return { status: 201, text: "Created" };
    });
  }

  async get(
    id: string,
    name: string,
  ): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string } | undefined> {
    const slot = await this.#slot(id);
    if (!slot?.attrs.uploaded || slot.attrs.name !== name) return undefined;
    const body = await this.#files.readFile(this.#path(id));
    return { body, contentType: slot.attrs.type || "application/octet-stream" };
  }

  /** Deletes the expired slots and their files; resolves to how many. */
  sweep(): Promise<number> {
    return this.queue.run("", async () => {
      const now = this.#now();
      const expired = (await this.#slots()).filter((s) => Number(s.attrs.expires) <= now);
      for (const slot of expired) {
        await this.#files.remove(this.#path(slot.attrs.id));
        await this.#xdb.remove(this.#owner, NS_UPLOAD_SLOTS, `slot?id=${slot.attrs.id}`);
      }
      return expired.length;
    });
  }

  async #slots(): Promise<Element[]> {
    const list = await this.#xdb.get(this.#owner, NS_UPLOAD_SLOTS);
    return list?.elements.filter((e) => e.is("slot")) ?? [];
  }

  /** A slot that has not expired (one not swept yet is gone too). */
  async #slot(id: string): Promise<Element | undefined> {
    const slot = (await this.#slots()).find((s) => s.attrs.id === id);
    return slot && Number(slot.attrs.expires) > this.#now() ? slot : undefined;
  }

  #path(id: string): string {
    return `${this.#settings.dir}/${id}`;
  }
}
