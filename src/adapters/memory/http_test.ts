import assert from "node:assert/strict";
import { MemoryHttp } from "./http.ts";

Deno.test("MemoryHttp.fetch() reaches the handler with the caller's address, and refuses a closed port", async () => {
  const http = new MemoryHttp();
  const server = await http.serve(
    { hostname: "127.0.0.1", port: 0 },
    (request, info) =>
      new Response(`${new URL(request.url).pathname} from ${info.remote.hostname}`),
  );
  const url = `http://127.0.0.1:${server.address.port}/x`;
  assert.equal(await (await http.fetch(url, {}, "192.0.2.1")).text(), "/x from 192.0.2.1");
  await assert.rejects(
    http.serve({ hostname: "127.0.0.1", port: server.address.port }, () => new Response()),
    /already in use/,
  );
  await server.close();
  await assert.rejects(http.fetch(url), /Connection refused/);
});

Deno.test("MemoryHttp.connectWebSocket() pairs two sockets through the handler's upgrade", async () => {
  const http = new MemoryHttp();
  const received: string[] = [];
  const server = await http.serve({ hostname: "127.0.0.1", port: 0 }, (request) => {
    if (!request.headers.get("sec-websocket-protocol")?.includes("xmpp")) {
      return new Response("no", { status: 400 });
    }
    const { response, socket } = http.upgradeWebSocket(request, { protocol: "xmpp" });
    socket.onMessage((data) => socket.send(`echo ${data}`));
    return response;
  });
  const url = `ws://127.0.0.1:${server.address.port}/`;
  await assert.rejects(http.connectWebSocket(url, ["chat"]), /HTTP 400/);
  const client = await http.connectWebSocket(url, ["xmpp"]);
  assert.equal(client.protocol, "xmpp");
  client.onMessage((data) => received.push(String(data)));
  let closed = false;
  client.onClose(() => closed = true);
  client.send("a");
  client.send("b");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(received, ["echo a", "echo b"]);
  client.peer!.close(1000, "bye");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(closed, true);
  assert.deepEqual(client.closedWith, { code: 1000, reason: "bye" });
});
