/** Tests of the `/upload` routes on their own: reading bodies within a limit, and no store. */
import assert from "node:assert/strict";
import type { UploadPut, UploadStore } from "../../server/upload_store.ts";
import { readLimited, uploadRoutes } from "./upload.ts";

function stream(chunks: number[]): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks.length) return controller.close();
      controller.enqueue(new Uint8Array(chunks[pulled++]));
    },
  });
  return { body, pulled: () => pulled };
}

Deno.test("readLimited() reads a whole body within the limit", async () => {
  const { body } = stream([3, 4]);
  assert.equal((await readLimited(body, 7)).length, 7);
  assert.equal((await readLimited(null, 7)).length, 0);
});

Deno.test("readLimited() stops reading once the body is past the limit", async () => {
  const { body, pulled } = stream([4, 4, 4, 4, 4]);
  const data = await readLimited(body, 5);
  assert.equal(data.length, 8);
  assert.ok(pulled() < 5, `read ${pulled()} chunks of 5`);
});

Deno.test("uploadRoutes() answers 404 without a store, and passes a PUT to the store", async () => {
  const env = { info: { remote: { hostname: "127.0.0.1", port: 1 } } };
  let stores: UploadStore[] = [];
  const app = uploadRoutes(() => stores);
  const none = await app.request("/s1/a.txt", { method: "PUT", body: "abc" }, env);
  assert.equal(none.status, 404);
  await none.body?.cancel();
  const seen: { slot: string; name: string; put: UploadPut; body: Uint8Array }[] = [];
  stores = [{
    async put(slot, name, put) {
      seen.push({ slot, name, put, body: await put.body(10) });
      return { status: 201, text: "Created" };
    },
    get: () => Promise.resolve(undefined),
  }];
  const ok = await app.request("/s1/a%20b.txt", {
    method: "PUT",
    body: "abc",
    headers: { authorization: "Bearer t", "content-type": "text/plain" },
  }, env);
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get("access-control-allow-origin"), "*");
  await ok.body?.cancel();
  assert.equal(seen[0].slot, "s1");
  assert.equal(seen[0].name, "a b.txt");
  assert.equal(seen[0].put.authorization, "Bearer t");
  assert.equal(seen[0].put.contentType, "text/plain");
  assert.equal(new TextDecoder().decode(seen[0].body), "abc");
  const missing = await app.request("/s1/a%20b.txt", {}, env);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});
