/**
 * The supervisor of `jabberd start --nodes N` (README "Running a farm"): runs N node processes
 * of this same jabberd (`process.selfCommand`, docs/adapters.md) with `JABBERD_NODE` set to each
 * node's id, copies their output line by line with the id in front, restarts a node that dies
 * (after 1 s, doubling up to 30 s; back to 1 s once a node ran for 30 s), passes SIGHUP on, and
 * on stop sends SIGTERM to every node and waits (SIGKILL after a grace period).
 *
 * The first node starts alone and the others once it is up (it writes `NODE_READY_LINE`), so
 * what a first start creates in the shared data folder (certificates, storage schemas) is made
 * once, not raced by N processes.
 */
import type { Adapters, ChildProcess } from "../adapters/types.ts";
import { NODE_READY_LINE } from "./supervised.ts";

export interface SupervisorOptions {
  /** The node ids, one process each. */
  ids: readonly string[];
  /** What follows the executable (`start -c FILE --supervised`). */
  args: readonly string[];
  /** Environment for every node besides `JABBERD_NODE` (`JABBERD_NATS`). */
  env?: Record<string, string>;
  /** The first restart delay, doubled at each quick death (default 1 s). */
  firstDelayMs?: number;
  /** The longest restart delay (default 30 s). */
  maxDelayMs?: number;
  /** A node that ran this long before dying restarts after `firstDelayMs` again (30 s). */
  stableMs?: number;
  /** How long nodes get to stop after SIGTERM before SIGKILL (default 60 s). */
  stopTimeoutMs?: number;
  /** How long the first node may take to be up before the others start anyway (60 s). */
  readyTimeoutMs?: number;
  /** Where the supervisor's own lines go (`notice`, `warn`, `error`). */
  log(type: "notice" | "warn" | "error", text: string): void;
}

/** One node as the supervisor sees it. */
interface NodeState {
  id: string;
  child: ChildProcess | undefined;
  startedAt: number;
  /** The delay before the next restart. */
  delayMs: number;
  restarts: number;
  timer: ReturnType<Adapters["clock"]["setTimeout"]> | undefined;
  /** Settles with true once the running process is up, false when it exits before. */
  up: Promise<boolean>;
}

export class Supervisor {
  #adapters: Adapters;
  #options: Required<Omit<SupervisorOptions, "env">> & { env: Record<string, string> };
  #nodes: NodeState[];
  #stopping: Promise<boolean> | undefined;

  constructor(adapters: Adapters, options: SupervisorOptions) {
    this.#adapters = adapters;
    this.#options = {
      env: {},
      firstDelayMs: 1000,
      maxDelayMs: 30_000,
      stableMs: 30_000,
      stopTimeoutMs: 60_000,
      readyTimeoutMs: 60_000,
      ...options,
    };
    this.#nodes = options.ids.map((id) => ({
      id,
      child: undefined,
      startedAt: 0,
      delayMs: this.#options.firstDelayMs,
      restarts: 0,
      timer: undefined,
      up: Promise.resolve(false),
    }));
  }

  /** The process ids of the nodes running now, by node id. */
  get pids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const node of this.#nodes) if (node.child) pids.set(node.id, node.child.pid);
    return pids;
  }

  /** How many times each node was restarted, by node id. */
  get restarts(): Map<string, number> {
    return new Map(this.#nodes.map((node) => [node.id, node.restarts]));
  }

  /**
   * Starts the first node, then the others once it is up (or after `readyTimeoutMs`); resolves
   * with true when every node is up. Throws when the first cannot be spawned at all.
   */
  async start(): Promise<boolean> {
    const [first, ...others] = this.#nodes;
    this.#spawn(first);
    if (!await this.#within(first.up)) {
      this.#options.log("warn", `Node ${first.id} is not up yet: starting the others anyway`);
    }
    for (const node of others) {
      if (!this.#stopping) this.#spawn(node);
    }
    const up = await Promise.all(this.#nodes.map((node) => this.#within(node.up)));
    return up.every(Boolean);
  }

  /** `up`, or false after `readyTimeoutMs`. */
  #within(up: Promise<boolean>): Promise<boolean> {
    const { clock } = this.#adapters;
    let timer: ReturnType<typeof clock.setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(false), this.#options.readyTimeoutMs);
    });
    return Promise.race([up, late]).finally(() => clock.clearTimeout(timer!));
  }

  /** Passes a signal the nodes handle themselves (SIGHUP: re-read the config) to each. */
  signal(signal: "SIGHUP"): void {
    for (const node of this.#nodes) node.child?.kill(signal);
  }

  /**
   * Stops every node (SIGTERM, then SIGKILL after the grace period) and resolves once all have
   * exited: true when all stopped by themselves. Calling it again returns the same promise.
   */
  stop(): Promise<boolean> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<boolean> {
    const { clock } = this.#adapters;
    let clean = true;
    await Promise.all(this.#nodes.map(async (node) => {
      if (node.timer !== undefined) clock.clearTimeout(node.timer);
      node.timer = undefined;
      const child = node.child;
      if (!child) return;
      child.kill("SIGTERM");
      const killer = clock.setTimeout(() => {
        clean = false;
        this.#options.log(
          "warn",
          `Node ${node.id} (pid ${child.pid}) did not stop within ` +
            `${this.#options.stopTimeoutMs / 1000} s of SIGTERM: killing it`,
        );
        child.kill("SIGKILL");
      }, this.#options.stopTimeoutMs);
      await child.exited;
      clock.clearTimeout(killer);
    }));
    return clean;
  }

  #spawn(node: NodeState): void {
    const { process, clock } = this.#adapters;
    const command = process.selfCommand([...this.#options.args]);
    const child = process.spawn(command.command, {
      args: command.args,
      env: { ...this.#options.env, JABBERD_NODE: node.id },
    });
    node.child = child;
    node.startedAt = clock.now();
    const up = Promise.withResolvers<boolean>();
    node.up = up.promise;
    const stdout = this.#lines(node.id, (line) => {
      // The node's word that it runs is for the supervisor only.
      if (line === `[${node.id}] ${NODE_READY_LINE}\n`) up.resolve(true);
      else this.#adapters.stdout(line);
    });
    const stderr = this.#lines(node.id, (line) => this.#adapters.stderr(line));
    child.onStdout(stdout);
    child.onStderr(stderr);
    this.#options.log("notice", `Started node ${node.id} (pid ${child.pid})`);
    child.exited.then((code) => {
      // `exited` comes after the last output: a last line without "\n" is written now.
      stdout.flush();
      stderr.flush();
      up.resolve(false);
      this.#exited(node, child, code);
    });
  }

  #exited(node: NodeState, child: ChildProcess, code: number): void {
    if (node.child !== child) return;
    node.child = undefined;
    if (this.#stopping) {
      this.#options.log("notice", `Node ${node.id} (pid ${child.pid}) stopped with code ${code}`);
      return;
    }
    const { clock } = this.#adapters;
    const { firstDelayMs, maxDelayMs, stableMs } = this.#options;
    // A node that had been running a while died of something new: restart it quickly.
    if (clock.now() - node.startedAt >= stableMs) node.delayMs = firstDelayMs;
    const delay = node.delayMs;
    node.delayMs = Math.min(delay * 2, maxDelayMs);
    this.#options.log(
      "error",
      `Node ${node.id} (pid ${child.pid}) exited with code ${code}; restarting it in ` +
        `${delay / 1000} s`,
    );
    node.timer = clock.setTimeout(() => {
      node.timer = undefined;
      if (this.#stopping) return;
      node.restarts++;
      try {
        this.#spawn(node);
      } catch (error) {
        // Not even spawned (the executable went away): try again later, never give up silently.
        this.#options.log("error", `Node ${node.id} could not be started: ${error}`);
        this.#exitedLater(node);
      }
    }, delay);
  }

  /** Schedules another attempt after a failed spawn, with the same backoff. */
  #exitedLater(node: NodeState): void {
    const delay = node.delayMs;
    node.delayMs = Math.min(delay * 2, this.#options.maxDelayMs);
    node.timer = this.#adapters.clock.setTimeout(() => {
      node.timer = undefined;
      if (this.#stopping) return;
      try {
        this.#spawn(node);
      } catch {
        this.#exitedLater(node);
      }
    }, delay);
  }

  /** A chunk callback that writes whole lines, each prefixed with `[id] `; `flush` the rest. */
  #lines(id: string, write: (line: string) => void) {
    const decoder = new TextDecoder();
    let partial = "";
    const onChunk = (chunk: Uint8Array) => {
      const text = partial + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      partial = lines.pop()!;
      for (const line of lines) write(`[${id}] ${line}\n`);
    };
    return Object.assign(onChunk, {
      flush() {
        if (partial !== "") write(`[${id}] ${partial}\n`);
        partial = "";
      },
    });
  }
}
