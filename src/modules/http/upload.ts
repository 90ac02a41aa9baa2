/**
 * `/upload/<slot>/<name>`: the files of XEP-0363 slots (§5), `PUT` with the slot's token and
 * `GET` by anyone holding the URL, kept by the upload sections that offer `UPLOAD_STORE`. CORS
 * allows both from web clients (Converse.js uploads from the browser).
 */
import type { UploadStore } from "../../server/upload_store.ts";
import type { HttpEnv } from "./app.ts";
import { Hono } from "./hono.ts";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, PUT, OPTIONS",
  "access-control-allow-headers": "Authorization, Content-Type",
};

/** Reads a body, stopping once it is longer than `limit` bytes. */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = body.getReader();
  while (length <= limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  if (length > limit) await reader.cancel();
  const data = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return data;
}

/** The routes, over the stores offered at the time of each request (`api.offered`). */
export function uploadRoutes(stores: () => UploadStore[]): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.options("/:slot/:name", (c) => c.body(null, 204, CORS));
  app.put("/:slot/:name", async (c) => {
    const request = c.req.raw;
    const length = request.headers.get("content-length");
    for (const store of stores()) {
      const answer = await store.put(c.req.param("slot"), c.req.param("name"), {
        authorization: request.headers.get("authorization") ?? undefined,
        contentLength: length === null ? undefined : Number(length),
        contentType: request.headers.get("content-type") ?? undefined,
        body: (limit) => readLimited(request.body, limit),
      });
      if (answer) return c.text(`${answer.text}\n`, answer.status as 201, CORS);
    }
    return c.text("No such upload slot\n", 404, CORS);
  });
  app.get("/:slot/:name", async (c) => {
    for (const store of stores()) {
      const file = await store.get(c.req.param("slot"), c.req.param("name"));
      if (file) {
        return c.body(file.body, 200, {
          ...CORS,
          "content-type": file.contentType,
          // Shown inline only when harmless; the rest is downloaded (XEP-0363 §10).
          "content-disposition": /^(image|audio|video)\//.test(file.contentType)
            ? "inline"
            : "attachment",
          "x-content-type-options": "nosniff",
        });
      }
    }
    return c.text("No such file\n", 404, CORS);
  });
  return app;
}
