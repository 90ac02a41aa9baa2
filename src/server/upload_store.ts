/**
 * What an upload section offers the http section (`api.offer(UPLOAD_STORE, …)`): the files of
 * its XEP-0363 slots, so the http section serves `PUT` and `GET` under `/upload/<slot>/<name>`
 * without importing the upload module (docs/module-api.md, `offer`).
 */

export const UPLOAD_STORE = "upload-store";

/** A `PUT` as the store judges it: headers first, the body read only when they pass. */
export interface UploadPut {
  /** The `Authorization` header, carrying the slot's token (XEP-0363 §4 `<header>`). */
  readonly authorization: string | undefined;
  readonly contentLength: number | undefined;
  readonly contentType: string | undefined;
  /** Reads the body, stopping past `limit` bytes (what it returns is then longer than that). */
  body(limit: number): Promise<Uint8Array>;
}

/** An HTTP answer: the status and a line of text saying why. */
export interface UploadAnswer {
  readonly status: number;
  readonly text: string;
}

export interface UploadStore {
  /** Stores a slot's file; undefined when `slot` is not one of this store's. */
  put(slot: string, name: string, request: UploadPut): Promise<UploadAnswer | undefined>;
  /** A stored file; undefined when there is none (unknown, not uploaded yet, or expired). */
  get(
    slot: string,
    name: string,
  ): Promise<{ body: Uint8Array<ArrayBuffer>; contentType: string } | undefined>;
}
