/** XDB's KvStore on PostgreSQL, for nodes that share their data (README "Storage on PostgreSQL"). */
export { MIGRATIONS, openPostgresKv, type PostgresKvOptions, PostgresKvStore } from "./kv.ts";
