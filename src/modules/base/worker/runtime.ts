/**
 * The entry point of a `<load thread="worker">` Web Worker: imports the module, gives it a proxy
 * `ModuleApi` whose calls travel to the main thread as messages (protocol.ts), and runs the
 * handlers it registers on the packets the main thread forwards, in chain order (src/tree/ROUTING.md R9).
 */
import type { Adapters } from "../../../adapters/types.ts";
import type {
  LogLevel,
  ModuleApi,
  Timers,
  XdbClient,
  XdbRange,
} from "../../../server/module_api.ts";
import { appendElement, rangeResult } from "../../../server/xdb_client.ts";
import { makeLogger } from "../../../server/logger.ts";
import { resolvePath } from "../../../server/section.ts";
import type { Handler, HandlerResult, Phase } from "../../../tree/handler.ts";
import { patternCovers } from "../../../tree/delivery_tree.ts";
import { Packet } from "../../../tree/packet.ts";
import type { Element } from "../../../xml/element.ts";
import { loadModuleDefinition, validateModule } from "./definition.ts";
import {
  decodeData,
  decodeElement,
  encodeElement,
  type FromWorker,
  type InitMessage,
  type ToWorker,
  type ToWorkerBatch,
} from "./protocol.ts";
import { describe } from "../../../util/errors.ts";

/** The worker's global scope, as far as this file uses it. */
interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const RESULTS = new Set(["pass", "skip", "done", "error", "unregister"]);

let outbox: FromWorker[] = [];
function post(message: FromWorker): void {
  // One postMessage per tick in each direction: a burst of results costs one structured clone.
  if (outbox.length === 0) queueMicrotask(flush);
  outbox.push(message);
}
function flush(): void {
  const batch = outbox;
  outbox = [];
  scope.postMessage(batch);
}

const handlers = new Map<Phase, Handler[]>();
const hooks = new Map<string, { handler: (data: unknown) => unknown; priority: number }[]>();
const timers = new Map<number, { callback: () => void; repeat: boolean }>();
const xdbWaiting = new Map<
  number,
  { resolve: (xml?: string) => void; reject: (e: Error) => void }
>();
const unloadCallbacks: (() => void | Promise<void>)[] = [];
let nextTimer = 1;
let nextRequest = 1;
let now = 0;
/** The packet whose handlers run now: what they deliver counts one more hop (ROUTING.md R22). */
let current: Packet | undefined;

scope.onmessage = (event: MessageEvent) => {
  const data = event.data as InitMessage | ToWorkerBatch;
  if ("t" in data) {
    start(data).catch((error) => post({ t: "failed", message: describe(error) }));
    return;
  }
  now = data.now;
  for (const message of data.messages) receive(message);
};

async function start(init: InitMessage): Promise<void> {
  now = init.now;
  const config = decodeElement(init.config);
  const definition = await loadModuleDefinition(init.url);
  for (const warning of validateModule(definition, config, init.url)) {
    post({ t: "warning", message: warning });
  }
  const api = makeApi(init, config);
  await definition.register(api);
  post({ t: "ready" });
}

function receive(message: ToWorker): void {
  switch (message.t) {
    case "packet": {
      const packet = new Packet(decodeElement(message.xml), {
        hops: message.hops,
        bounced: message.bounced,
      });
      const result = runPhase(message.phase, packet);
      if (typeof result === "string") post({ t: "result", id: message.id, result });
      else result.then((r) => post({ t: "result", id: message.id, result: r }));
      return;
    }
    case "xdb-reply": {
      const waiting = xdbWaiting.get(message.rid);
      xdbWaiting.delete(message.rid);
      if (!waiting) return;
      if (message.ok) waiting.resolve(message.xml);
      else waiting.reject(new Error(message.error ?? "XDB request failed"));
      return;
    }
    case "timer": {
      const timer = timers.get(message.tid);
      if (!timer) return;
      if (!timer.repeat) timers.delete(message.tid);
      timer.callback();
      return;
    }
    case "event":
      fireLocal(message.event, decodeData(message.data));
      return;
    case "unload":
      unload().then(() => post({ t: "unloaded" }));
      return;
  }
}

/**
 * Runs the handlers of one phase as the main chain would (R9–R15): `pass` and `unregister` go
 * on, anything else stops; a throw, a rejection or a non-word is `error`.
 */
function runPhase(phase: Phase, packet: Packet): HandlerResult | Promise<HandlerResult> {
  const list = [...(handlers.get(phase) ?? [])];
  const step = (index: number): HandlerResult | Promise<HandlerResult> => {
    for (let i = index; i < list.length; i++) {
      let answer: unknown;
      const outer = current;
      current = packet;
      try {
        answer = list[i](packet);
      } catch (error) {
        log("error", `A handler of the worker module threw: ${describe(error)}`);
        return "error";
      } finally {
        current = outer;
      }
      if (answer instanceof Promise) {
        return answer.then(
          (settled) => after(list[i], settled, () => step(i + 1)),
          (error) => {
            log("error", `A handler of the worker module failed: ${describe(error)}`);
            return "error" as const;
          },
        );
      }
      const word = word_(answer);
      if (word === "unregister") remove(phase, list[i]);
      else if (word !== "pass") return word;
    }
    return "pass";
  };
  const after = (
    handler: Handler,
    settled: unknown,
    next: () => HandlerResult | Promise<HandlerResult>,
  ): HandlerResult | Promise<HandlerResult> => {
    const word = word_(settled);
    if (word === "unregister") remove(phase, handler);
    else if (word !== "pass") return word;
    return next();
  };
  return step(0);
}

function word_(answer: unknown): HandlerResult {
  return typeof answer === "string" && RESULTS.has(answer) ? answer as HandlerResult : "error";
}

function remove(phase: Phase, handler: Handler): void {
  const list = handlers.get(phase);
  const index = list?.indexOf(handler) ?? -1;
  if (list && index >= 0) list.splice(index, 1);
}

function fireLocal(event: string, data: unknown): unknown {
  for (const { handler } of [...(hooks.get(event) ?? [])]) {
    const answer = handler(data);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

async function unload(): Promise<void> {
  for (const callback of unloadCallbacks.splice(0).reverse()) {
    try {
      await callback();
    } catch (error) {
      log("error", `An onUnload callback of the worker module failed: ${describe(error)}`);
    }
  }
}

function log(level: LogLevel, text: string, host?: string): void {
  post({ t: "log", level, text, host });
}

function xdbRequest(
  op: Extract<FromWorker, { t: "xdb" }>["op"],
  owner: string,
  ns: string,
  data?: Element,
  match?: string,
  extra: { range?: XdbRange } = {},
): Promise<string | undefined> {
  const rid = nextRequest++;
  return new Promise((resolve, reject) => {
    xdbWaiting.set(rid, { resolve, reject });
    post({ t: "xdb", rid, op, owner, ns, xml: data && encodeElement(data), match, ...extra });
  });
}

function makeApi(init: InitMessage, config: Element): ModuleApi {
  const hosts = [...init.hosts];
  const logger = makeLogger(log);
  const xdb: XdbClient = {
    async get(owner, ns) {
      const xml = await xdbRequest("get", owner, ns);
      return xml === undefined ? undefined : decodeElement(xml);
    },
    async set(owner, ns, data) {
      await xdbRequest("set", owner, ns, data);
    },
    async insert(owner, ns, item, match) {
      await xdbRequest("insert", owner, ns, item, match);
    },
    async remove(owner, ns, match) {
      await xdbRequest("remove", owner, ns, undefined, match);
    },
    async append(host, ns, entries) {
      await xdbRequest("append", host, ns, appendElement(entries));
    },
    async range(owner, ns, range) {
      const xml = await xdbRequest("range", owner, ns, undefined, undefined, { range });
      return rangeResult(xml === undefined ? undefined : decodeElement(xml));
    },
    async trim(owner, ns, range) {
      const xml = await xdbRequest("trim", owner, ns, undefined, undefined, { range });
      return Number(xml);
    },
  };
  const setTimer = (callback: () => void, ms: number, repeat: boolean) => {
    const tid = nextTimer++;
    timers.set(tid, { callback, repeat });
    post({ t: "timer-set", tid, ms, repeat });
    return tid;
  };
  const clearTimer = (tid: number) => {
    if (timers.delete(tid)) post({ t: "timer-clear", tid });
  };
  const timer: Timers = {
    setTimeout: (callback, ms) => setTimer(callback, ms, false),
    setInterval: (callback, ms) => setTimer(callback, ms, true),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    // The main thread's clock as of its last message: close enough, and it follows the adapter.
    now: () => now,
  };
  return {
    id: init.id,
    section: init.section,
    config,
    adapters: unavailableAdapters,
    resolvePath: (path) => resolvePath(init.configDir, path),
    handle(phase, handler) {
      let list = handlers.get(phase);
      if (!list) {
        handlers.set(phase, list = []);
        post({ t: "handle", phase });
      }
      list.push(handler);
    },
    hook(event, handler, priority = 0) {
      let list = hooks.get(event);
      if (!list) {
        hooks.set(event, list = []);
        post({ t: "hook", event, priority });
      }
      list.push({ handler: handler as (data: unknown) => unknown, priority });
      list.sort((a, b) => b.priority - a.priority);
    },
    fire: (event, data) => fireLocal(event, data),
    deliver(what, cause) {
      const packet = what instanceof Packet ? what : undefined;
      const element = packet ? packet.element : what as Element;
      const by = cause ?? current;
      const hops = Math.max(packet?.hops ?? 0, by ? by.hops + 1 : 0);
      post({ t: "deliver", xml: encodeElement(element), hops, bounced: packet?.bounced ?? false });
    },
    addHost(pattern) {
      hosts.push(pattern);
      post({ t: "host-add", pattern });
    },
    removeHost(pattern) {
      const index = hosts.indexOf(pattern);
      if (index >= 0) hosts.splice(index, 1);
      post({ t: "host-remove", pattern });
    },
    get hosts() {
      return [...hosts];
    },
    // The tree lives on the main thread; the worker's own patterns answer without a round trip.
    servesHost: (domain) => hosts.some((pattern) => patternCovers(pattern, domain)),
    routedHosts() {
      throw new Error(
        'A module in a worker thread cannot read the delivery tree; load it without thread="worker"',
      );
    },
    publishAddress() {
      throw new Error('A module in a worker thread cannot listen; load it without thread="worker"');
    },
    // Offers are objects of the main thread (c2s's stream acceptor): they cannot cross threads.
    offer() {
      throw new Error(
        'A module in a worker thread cannot offer objects; load it without thread="worker"',
      );
    },
    offered: () => [],
    addUplink() {
      post({ t: "uplink" });
    },
    xdb,
    log: logger,
    timer,
    onUnload(callback) {
      unloadCallbacks.push(callback);
    },
  };
}

/** The adapters stay on the main thread: sockets and processes cannot cross to a worker. */
const unavailableAdapters = new Proxy({} as Adapters, {
  get(_target, name) {
    throw new Error(
      `api.adapters.${String(name)} is not available to a module in a worker thread; ` +
        `load it without thread="worker"`,
    );
  },
});
