/**
 * The runtimes a config can be checked for by name (`jabberd check --runtime NAME`) and what
 * each can do (docs/adapters.md "runtime"). The Deploy adapter set (deploy/adapters.ts) declares
 * the same value, imported from here, so the command line and deploy/main.ts check alike
 * without the CLI importing deploy/.
 */
import type { RuntimeCapabilities } from "../adapters/types.ts";

/** Deno Deploy, and `deno serve` running deploy/main.ts: HTTP, KV and timers only. */
export const DEPLOY_RUNTIME: RuntimeCapabilities = {
  name: "Deno Deploy",
  tcp: false,
  udp: false,
  processes: false,
  workers: false,
  files: false,
  httpListen: false,
};

/**
 * By `--runtime` name. `deno` (self-hosted `jabberd start`) can do everything the adapter
 * contract offers, which an absent `runtime` means.
 */
export const RUNTIMES: Record<string, RuntimeCapabilities | undefined> = {
  deno: undefined,
  deploy: DEPLOY_RUNTIME,
};
