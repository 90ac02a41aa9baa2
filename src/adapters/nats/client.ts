/**
 * The NATS adapter on the npm `@nats-io` clients (docs/adapters.md, docs/farm.md): core NATS
 * subjects through `@nats-io/transport-node`, JetStream KV buckets through `@nats-io/kv`. Runtime
 * neutral like `../postgres/`: the Deno adapters load it only when a `<farm>` connects.
 */
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import type {
  NatsAdapter,
  NatsBucket,
  NatsBucketChange,
  NatsBucketEntry,
  NatsConnectOptions,
  NatsLink,
  NatsMessage,
  NatsWatch,
} from "../types.ts";

const decoder = new TextDecoder();

export class NatsClientAdapter implements NatsAdapter {
  async connect(options: NatsConnectOptions): Promise<NatsLink> {
    const connection = await connect({
      servers: options.servers,
      name: options.name,
      // The farm notices a lost server through its own heartbeats; reconnect for as long as
      // the node runs (a NATS restart must not end the farm).
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Without it every request builds two Error objects (stack traces) up front in case it
      // fails: about a tenth of a forwarding node's CPU (bench/README.md "Farm"). A failed
      // request still says why (no responders, timeout); only the caller's stack is missing.
      noAsyncTraces: true,
    });
    return new ClientLink(connection);
  }
}

/** Requests awaiting their reply on this link's inbox, by token (`ClientLink.request`). */
interface Replies {
  prefix: string;
  next: number;
  waiting: Map<string, { resolve(data: Uint8Array | undefined): void; deadline: number }>;
  sweeper: ReturnType<typeof setInterval> | undefined;
  stop(): void;
}

class ClientLink implements NatsLink {
  readonly #connection: NatsConnection;
  readonly #kvm: Kvm;
  #replies: Replies | undefined;

  constructor(connection: NatsConnection) {
    this.#connection = connection;
    this.#kvm = new Kvm(connection);
  }

  publish(subject: string, data: Uint8Array): void {
    this.#connection.publish(subject, data);
  }

  subscribe(
    subject: string,
    onMessage: (message: NatsMessage) => void,
    options: { queue?: string } = {},
  ): () => void {
    const subscription = this.#connection.subscribe(subject, {
      queue: options.queue,
      callback: (error, message) => {
        if (error) return;
        onMessage({
          subject: message.subject,
          data: message.data,
          respond: (data) => void message.respond(data),
        });
      },
    });
    return () => subscription.unsubscribe();
  }

  /**
   * A publish with a reply subject on this link's own inbox, answered by the first reply, or
   * undefined when nobody took it: the server's "no responders" status (a reply with code 503
   * and no data), no reply within `timeoutMs`, or the link closed. Not the client's
   * `request()`: that builds an Error per request even when it succeeds, and a timer each
   * (docs/runtime-notes.md "NATS"); here one subscription and one sweeping timer serve all.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined> {
    const replies = this.#replies ??= this.#openReplies(timeoutMs);
    const token = String(replies.next++);
    return new Promise((resolve, reject) => {
      replies.waiting.set(token, { resolve, deadline: Date.now() + timeoutMs });
      try {
        this.#connection.publish(subject, data, { reply: replies.prefix + token });
      } catch (error) {
        replies.waiting.delete(token);
        reject(error);
      }
    });
  }

  #openReplies(timeoutMs: number): Replies {
    const prefix = `${createInbox()}.`;
    const waiting: Replies["waiting"] = new Map();
    const subscription = this.#connection.subscribe(`${prefix}*`, {
      callback: (error, message) => {
        if (error) return;
        const token = message.subject.slice(prefix.length);
        const entry = waiting.get(token);
        if (!entry) return;
        waiting.delete(token);
        const noResponders = message.data.length === 0 && message.headers?.code === 503;
        entry.resolve(noResponders ? undefined : message.data);
      },
    });
    // One timer for every request: a quarter of the first request's timeout (the farm always
    // asks with its ttl), so a request is given up at most that much late.
    const sweeper = setInterval(() => {
      const now = Date.now();
      for (const [token, entry] of waiting) {
        if (entry.deadline > now) continue;
        waiting.delete(token);
        entry.resolve(undefined);
      }
    }, Math.max(10, Math.min(1000, timeoutMs / 4)));
    return {
      prefix,
      next: 0,
      waiting,
      sweeper,
      stop: () => {
        clearInterval(sweeper);
        subscription.unsubscribe();
        for (const entry of waiting.values()) entry.resolve(undefined);
        waiting.clear();
      },
    };
  }

  async bucket(name: string, options: { maxAgeMs?: number } = {}): Promise<NatsBucket> {
    const kv = await this.#kvm.create(name, {
      history: 1,
      ...(options.maxAgeMs !== undefined ? { ttl: options.maxAgeMs } : {}),
    });
    return new ClientBucket(kv);
  }

  onStatus(listener: (status: "disconnected" | "reconnected") => void): () => void {
    let listening = true;
    (async () => {
      for await (const status of this.#connection.status()) {
        if (!listening) break;
        if (status.type === "disconnect") listener("disconnected");
        else if (status.type === "reconnect") listener("reconnected");
      }
    })().catch(() => {});
    return () => {
      listening = false;
    };
  }

  async close(): Promise<void> {
    this.#replies?.stop();
    this.#replies = undefined;
    if (this.#connection.isClosed()) return;
    await this.#connection.drain().catch(() => this.#connection.close());
  }
}

/** JetStream's answer when an expected revision does not match (a compare-and-set lost). */
function isWrongRevision(error: unknown): boolean {
  const text = String((error as Error)?.message ?? error);
  return /wrong last sequence|key exists/i.test(text);
}

class ClientBucket implements NatsBucket {
  readonly #kv: KV;

  constructor(kv: KV) {
    this.#kv = kv;
  }

  async get(key: string): Promise<NatsBucketEntry | undefined> {
    const entry = await this.#kv.get(key);
    if (!entry || entry.operation !== "PUT") return undefined;
    return { key, value: decoder.decode(entry.value), revision: entry.revision };
  }

  put(key: string, value: string): Promise<number> {
    return this.#kv.put(key, value);
  }

  async create(key: string, value: string): Promise<number | undefined> {
    try {
      return await this.#kv.create(key, value);
    } catch (error) {
      if (isWrongRevision(error)) return undefined;
      throw error;
    }
  }

  async update(key: string, value: string, revision: number): Promise<number | undefined> {
    try {
      return await this.#kv.update(key, value, revision);
    } catch (error) {
      if (isWrongRevision(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string, revision?: number): Promise<boolean> {
    try {
      await this.#kv.delete(key, revision !== undefined ? { previousSeq: revision } : undefined);
      return true;
    } catch (error) {
      if (isWrongRevision(error)) return false;
      throw error;
    }
  }

  async watch(onChange: (change: NatsBucketChange) => void): Promise<NatsWatch> {
    const iterator = await this.#kv.watch();
    // How many current values come first: the watch's consumer knew it when it was made (the
    // client reads it the same way to mark later entries `isUpdate`). A bucket without values
    // is ready at once.
    const consumer = (iterator as unknown as {
      _data?: { info(cached: boolean): Promise<{ num_pending: number }> };
    })._data;
    const pending = consumer ? (await consumer.info(true)).num_pending : 0;
    let seen = 0;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => markReady = resolve);
    if (pending === 0) markReady();
    (async () => {
      for await (const entry of iterator) {
        onChange({
          key: entry.key,
          value: entry.operation === "PUT" ? decoder.decode(entry.value) : undefined,
          revision: entry.revision,
          created: entry.created.getTime(),
        });
        if (++seen >= pending || entry.isUpdate) markReady();
      }
    })().catch(() => {}).finally(markReady);
    return { ready, stop: () => iterator.stop() };
  }
}
