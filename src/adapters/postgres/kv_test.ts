/**
 * Runs the KvStore and XdbStore conformance suites on PostgreSQL, one throwaway server for all
 * (each store in its own schema, through the URL's `search_path`), then what only PostgreSQL has:
 * schema migrations, the connection pool, and two nodes racing on one key.
 */

import assert from "node:assert/strict";
import { kvConformance } from "../kv_conformance.ts";
import { xdbStoreConformance } from "../../modules/xdb/store_conformance.ts";
import { MIGRATIONS, openPostgresKv, type PostgresKvStore } from "./kv.ts";
import { startPostgres } from "./_testing.ts";
import { denoAdapters } from "../deno/mod.ts";
import { testServer } from "../../server/_testing.ts";
import { xml } from "../../xml/element.ts";

const server = await startPostgres();

if (typeof server === "string") {
  Deno.test({ name: `KvStore (PostgreSQL) skipped: ${server}`, ignore: true, fn() {} });
} else {
  // Stops the server even when a filter leaves out the last test.
  globalThis.addEventListener("unload", () => server.stop());

  let schemas = 0;
  /** A store in a new, empty schema; or, given `schema`, in that one. */
  const open = async (
    schema = `s${++schemas}`,
    query: Record<string, string> = {},
    connections?: number,
  ): Promise<PostgresKvStore> => {
    await server.psql(`create schema if not exists ${schema}`);
    return await openPostgresKv(server.url({ search_path: schema, ...query }), { connections });
  };

  kvConformance("PostgreSQL", () => open());

  // The XDB suite opens stores by name; a name is one schema, the same each time.
  const named = new Map<string, string>();
  const cases = xdbStoreConformance("PostgreSQL", (name) => {
    if (!named.has(name)) named.set(name, `x${named.size + 1}`);
    return open(named.get(name));
  }, { durable: true });
  for (const c of cases) Deno.test(c.name, c.fn);

  Deno.test("openPostgresKv() migrates a new schema once, and reopening applies nothing", async () => {
    const first = await open("migrated");
    first.close();
    await first.ended();
    const again = await open("migrated");
    again.close();
    await again.ended();
    const versions = await server.psql("select version from migrated.jabberd_schema_version");
    assert.equal(versions, MIGRATIONS.map((_, index) => index + 1).join("\n"));
    assert.equal(
      await server.psql("select to_regclass('migrated.jabberd_kv') is not null"),
      "t",
    );
  });

  Deno.test("openPostgresKv() applies each migration once when nodes start together", async () => {
    await server.psql("create schema together");
    const stores = await Promise.all(
      [1, 2, 3, 4].map(() => openPostgresKv(server.url({ search_path: "together" }))),
    );
    for (const store of stores) store.close();
    await Promise.all(stores.map((store) => store.ended()));
    assert.equal(
      await server.psql("select count(*) from together.jabberd_schema_version"),
      String(MIGRATIONS.length),
    );
  });

  Deno.test("openPostgresKv() refuses a schema newer than it knows", async () => {
    const store = await open("newer");
    store.close();
    await store.ended();
    await server.psql("insert into newer.jabberd_schema_version (version) values (99)");
    await assert.rejects(open("newer"), {
      message: `The PostgreSQL schema is at version 99, newer than this jabberd knows ` +
        `(${MIGRATIONS.length}): upgrade jabberd`,
    });
  });

  /** Connections open now from pools whose URL gave them this application name. */
  const connections = async (name: string) =>
    Number(
      await server.psql(`select count(*) from pg_stat_activity where application_name = '${name}'`),
    );

  Deno.test("PostgresKvStore pools at most `connections` connections, or the URL's max", async () => {
    for (
      const [schema, query, limit] of [
        ["pool_option", { application_name: "pool_option" }, 2],
        ["pool_url", { application_name: "pool_url", max: "3" }, undefined],
      ] as const
    ) {
      const store = await open(schema, query, limit);
      try {
        // 40 reads at once keep every connection busy, so the pool opens all it may.
        const reads = Array.from({ length: 40 }, (_, i) => store.getMany([["k", i]]));
        await Promise.all(reads);
        assert.equal(await connections(schema), limit ?? 3);
      } finally {
        store.close();
        await store.ended();
      }
    }
  });

  Deno.test("PostgresKvStore lets one of two nodes create a missing key, not both", async () => {
    await server.psql("create schema race");
    const nodes = await Promise.all(
      [1, 2].map(() => openPostgresKv(server.url({ search_path: "race" }))),
    );
    try {
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all(
          nodes.map((node, index) =>
            node.atomic().check(["lock", round], null).set(["lock", round], index).set(
              ["count", round, index],
              1,
            ).commit()
          ),
        );
        assert.equal(results.filter((result) => result.ok).length, 1, `round ${round}`);
        const winner = results.findIndex((result) => result.ok);
        assert.equal((await nodes[1 - winner].get(["lock", round])).value, winner);
        const counted = [];
        for await (const entry of nodes[0].list({ prefix: ["count", round] })) {
          counted.push(entry.key);
        }
        assert.deepEqual(counted, [["count", round, winner]]);
      }
    } finally {
      for (const node of nodes) node.close();
      await Promise.all(nodes.map((node) => node.ended()));
    }
  });

  Deno.test("PostgresKvStore list() pages through more rows than one batch, both ways", async () => {
    const store = await open();
    try {
      for (let part = 0; part < 3; part++) {
        const atomic = store.atomic();
        for (let i = part * 500; i < (part + 1) * 500; i++) atomic.set(["p", i], i);
        await atomic.commit();
      }
      const forward = [];
      for await (const entry of store.list<number>({ prefix: ["p"] })) forward.push(entry.value);
      assert.deepEqual(forward, Array.from({ length: 1500 }, (_, i) => i));
      const backward = [];
      for await (
        const entry of store.list<number>({ prefix: ["p"] }, { reverse: true, limit: 1200 })
      ) {
        backward.push(entry.value);
      }
      assert.deepEqual(backward, Array.from({ length: 1200 }, (_, i) => 1499 - i));
    } finally {
      store.close();
      await store.ended();
    }
  });

  Deno.test("<kv connections> on a postgres:// URL lets two servers share one XDB", async () => {
    await server.psql("create schema shared");
    const config = `<jabberd><xdb id="xdb"><host>example.org</host>
      <kv connections="2">${
      server.url({ search_path: "shared", application_name: "shared" }).replaceAll("&", "&amp;")
    }</kv>
    </xdb></jabberd>`;
    const adapters = denoAdapters();
    await using one = await testServer(config, { adapters });
    await using two = await testServer(config, { adapters });
    const roster = "jabber:iq:roster";
    await one.xdb.set("alice@example.org", roster, xml("query", { xmlns: roster }));
    await two.xdb.insert("alice@example.org", roster, xml("item", { jid: "bob@example.org" }));
    const got = await one.xdb.get("alice@example.org", roster);
    assert.deepEqual(got?.elements.map((item) => item.attrs.jid), ["bob@example.org"]);
    assert.ok(await connections("shared") <= 4);
  });

  // Registered last, so it runs after the rest (tests of one file run in order).
  Deno.test("KvStore (PostgreSQL) suite stops its server", async () => {
    server.stop();
    await assert.rejects(openPostgresKv(server.url()), { code: "ECONNREFUSED" });
  });
}
