/**
 * One node's membership of a farm on NATS (docs/farm.md, ROUTING.md R40–R46): its heartbeat in
 * the nodes bucket, the watched directory (homes, sessions, nodes) in a local cache, packets to
 * and from the other nodes on their subjects, the other nodes' sections as dynamic hosts of the
 * farm section, and what happens when a node is lost.
 */
import type { NatsBucket, NatsLink, NatsMessage, NatsWatch } from "../../adapters/types.ts";
import type { Farm, NodeLoss } from "../../server/farm.ts";
import { type ModuleApi, SERVER_VIEW, type ServerView } from "../../server/module_api.ts";
import { bounceOf } from "../../link/queue.ts";
import type { HandlerResult } from "../../tree/handler.ts";
import { Packet } from "../../tree/packet.ts";
import { describe } from "../../util/errors.ts";
import { KeyedQueue } from "../../util/keyed_queue.ts";
import type { Element } from "../../xml/element.ts";
import type { FarmSettings } from "./config.ts";
import {
  Directory,
  type NodeInfo,
  parsePlacement,
  type Placement,
  placementValue,
} from "./directory.ts";
import { bareKey, escapeKey, FarmNames, fullKey } from "./keys.ts";
import { FarmBatcher } from "./batch.ts";
import { encodeFarmPacket, FarmPacketReader } from "./wire.ts";

/** How long the record that a loss was taken lives (it only has to outlast the loss). */
const LOSS_RECORD_MS = 60 * 60 * 1000;
/** The reply that says "delivered into my tree". */
const ACK = new Uint8Array(0);

type LossListener = (loss: NodeLoss) => void | Promise<void>;
type CutOffListener = () => void;

export class NatsFarm implements Farm {
  readonly node: string;
  readonly directory: Directory;
  readonly #api: ModuleApi;
  readonly #settings: FarmSettings;
  readonly #names: FarmNames;
  /** This run's start; a new value once the others took this node for lost (a new run). */
  #started: number;
  readonly #queue = new KeyedQueue();
  readonly #listeners = new Set<LossListener>();
  /**
   * Losses seen before any session manager listened (while this node starts, its sm comes after
   * the farm section): taken once one does, so the lost sessions' contacts are told (R45).
   */
  #unheard: NodeInfo[] = [];
  readonly #cutOffListeners = new Set<CutOffListener>();
  /** The homes and sessions this run holds: announced again after a NATS outage. */
  readonly #ownHomes = new Set<string>();
  readonly #ownSessions = new Set<string>();
  /** False while the connection to NATS is down: no heartbeats, and nobody is judged lost. */
  #connected = true;
  /** Host (another node's section id) → that node. */
  readonly #routes = new Map<string, string>();
  /** Hosts other nodes share that no local section serves: sent one-of-N on the host subject. */
  readonly #shared = new Set<string>();
  /** Directory writes and loss handling in flight, awaited on stop. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #closers: (() => void)[] = [];
  #link!: NatsLink;
  /** Packets to other nodes, one NATS request per subject and tick (batch.ts, R43). */
  readonly #batcher = new FarmBatcher((subject, data) => this.#request(subject, data));
  #homes!: NatsBucket;
  #sessions!: NatsBucket;
  #nodes!: NatsBucket;
  #losses!: NatsBucket;
  #stopping = false;

  constructor(api: ModuleApi, settings: FarmSettings, node: string) {
    this.#api = api;
    this.#settings = settings;
    this.node = node;
    this.#names = new FarmNames(settings.name);
    this.directory = new Directory(node, settings.ttlMs);
    this.#started = api.timer.now();
  }

  /** Connects, loads the directory, subscribes and sends the first heartbeat. */
  async start(): Promise<void> {
    const api = this.#api;
    this.#link = await api.adapters.nats.connect({
      servers: this.#settings.servers,
      name: `jabberd ${this.node}`,
    });
    this.#closers.push(this.#link.onStatus((status) => this.#onStatus(status)));
    // Before the watches register other nodes' sections as hosts of this section.
    api.handle("deliver", (packet) => this.#toOtherNode(packet));
    try {
      [this.#homes, this.#sessions, this.#nodes, this.#losses] = await Promise.all([
        this.#link.bucket(this.#names.homes),
        this.#link.bucket(this.#names.sessions),
        this.#link.bucket(this.#names.nodes, { maxAgeMs: this.#settings.ttlMs }),
        this.#link.bucket(this.#names.losses, { maxAgeMs: LOSS_RECORD_MS }),
      ]);
      const watches: NatsWatch[] = await Promise.all([
        this.#homes.watch((change) => this.directory.applyHome(change)),
        this.#sessions.watch((change) => this.directory.applySession(change)),
        this.#nodes.watch((change) => {
          const event = this.directory.applyNode(change, api.timer.now());
          if (!event) return;
          if (event.kind === "lost") this.#onLost(event.info, change.value === undefined);
          else this.#route(event.info);
        }),
        // Another node took this run for lost (it was cut off from NATS for a ttl): R45.
        this.#losses.watch((change) => {
          if (change.value !== undefined && change.key === this.#lossKey) {
            this.#cutOff(this.#started);
          }
        }),
      ]);
      for (const watch of watches) this.#closers.push(() => watch.stop());
      await Promise.all(watches.map((watch) => watch.ready));
      this.#subscribe(this.#names.node(this.node));
      this.#subscribe(this.#names.all);
      for (const host of this.#settings.share) {
        this.#subscribe(this.#names.host(host), { queue: this.#names.host(host) });
      }
      await this.#heartbeat();
    } catch (error) {
      await this.#link.close().catch(() => {});
      throw error;
    }
    api.timer.setInterval(() => {
      // Cut off from NATS, this node sees no heartbeat and cannot judge the others.
      if (!this.#connected) return;
      this.#track(this.#heartbeat());
      for (const lost of this.directory.expire(api.timer.now())) this.#onLost(lost, false);
    }, this.#settings.heartbeatMs);
  }

  homeOf(bare: string): string | undefined {
    return this.directory.homeOf(bare);
  }

  claim(bare: string): Promise<string> {
    return this.#queue.run(bare, async () => {
      const key = bareKey(bare);
      // A few rounds at most: each lost round means another node wrote the key meanwhile.
      for (let round = 0; round < 8; round++) {
        const created = await this.#homes.create(key, this.#value);
        if (created !== undefined) return this.#placed(bare, created);
        const entry = await this.#homes.get(key);
        if (!entry) continue;
        const home = parsePlacement(entry.value, entry.revision);
        if (home.node !== this.node && this.directory.isAlive(home.node)) {
          const known = this.directory.homes.get(bare);
          if (!known || known.revision <= home.revision) this.directory.homes.set(bare, home);
          return home.node;
        }
        // Ours (written again, so a release still waiting on the older revision fails) or a
        // lost node's, which counts as free (ROUTING.md R41).
        const updated = await this.#homes.update(key, this.#value, entry.revision);
        if (updated !== undefined) return this.#placed(bare, updated);
      }
      throw new Error(`The home of ${bare} kept changing: gave up claiming it`);
    });
  }

  release(bare: string): Promise<void> {
    this.#ownHomes.delete(bare);
    return this.#track(this.#queue.run(bare, async () => {
      const key = bareKey(bare);
      const entry = await this.#homes.get(key);
      if (entry?.value !== this.#value) return;
      if (await this.#homes.delete(key, entry.revision)) {
        if (this.directory.homes.get(bare)?.revision === entry.revision) {
          this.directory.homes.delete(bare);
        }
      }
    }));
  }

  sessionOpened(full: string): void {
    this.#ownSessions.add(full);
    this.#track(
      this.#queue.run(`/${full}`, () => this.#sessions.put(fullKey(full), this.#value)),
    );
  }

  sessionClosed(full: string): void {
    this.#ownSessions.delete(full);
    this.#track(this.#queue.run(`/${full}`, async () => {
      const key = fullKey(full);
      const entry = await this.#sessions.get(key);
      if (entry?.value === this.#value) await this.#sessions.delete(key, entry.revision);
    }));
  }

  async forward(node: string, what: Packet | Element): Promise<boolean> {
    if (node === this.node || !this.directory.isAlive(node) || this.#stopping) return false;
    if (await this.#batcher.send(this.#names.node(node), what)) return true;
    // Nobody subscribes to its subject any more: it is gone, whatever its heartbeat says.
    if (this.directory.suspect(node)) {
      this.#api.log.notice(`farm: node ${node} did not answer; routing around it`);
      this.#unroute(node);
    }
    return false;
  }

  /** Sends a packet to every node's tree, this one's included (farm-wide events). */
  broadcast(what: Packet | Element): void {
    this.#link.publish(this.#names.all, encodeFarmPacket(what));
  }

  onNodeLost(listener: LossListener): () => void {
    this.#listeners.add(listener);
    const unheard = this.#unheard;
    this.#unheard = [];
    for (const info of unheard) this.#takeLossLater(info);
    return () => this.#listeners.delete(listener);
  }

  onCutOff(listener: CutOffListener): () => void {
    this.#cutOffListeners.add(listener);
    return () => this.#cutOffListeners.delete(listener);
  }

  /**
   * A clean stop (ROUTING.md R46): after the sections behind it stopped, its directory entries
   * and its heartbeat entry are deleted, so the others take over at once.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    const { packets, batches } = this.#batcher.stats;
    if (batches > 0) {
      this.#api.log.info(`farm: forwarded ${packets} packets in ${batches} NATS requests`);
    }
    await this.#settled();
    const own = (map: Map<string, Placement>) =>
      [...map].filter(([, at]) => at.node === this.node && at.started === this.#started);
    try {
      await Promise.all([
        ...own(this.directory.sessions).map(([full, at]) =>
          this.#sessions.delete(fullKey(full), at.revision)
        ),
        ...own(this.directory.homes).map(([bare, at]) =>
          this.#homes.delete(bareKey(bare), at.revision)
        ),
      ]);
      await this.#nodes.delete(escapeKey(this.node));
    } catch (error) {
      this.#api.log.warn(`farm: cleaning the directory on stop failed: ${describe(error)}`);
    }
    for (const close of this.#closers.splice(0)) close();
    await this.#link.close();
  }

  /** What this node writes in the homes and sessions buckets: its id and this run's start. */
  get #value(): string {
    return placementValue(this.node, this.#started);
  }

  /** The key of the record that some node took the loss of this run (`#takeLoss`). */
  get #lossKey(): string {
    return `${escapeKey(this.node)}.${this.#started}`;
  }

  /** Notes in the cache a home this node just wrote, unless a newer revision is known. */
  #placed(bare: string, revision: number): string {
    this.#ownHomes.add(bare);
    const known = this.directory.homes.get(bare);
    if (!known || known.revision <= revision) {
      this.directory.homes.set(bare, { node: this.node, started: this.#started, revision });
    }
    return this.node;
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopping) return;
    const info: NodeInfo = {
      id: this.node,
      sections: this.#localSections(),
      shared: this.#settings.share,
      started: this.#started,
    };
    await this.#nodes.put(escapeKey(this.node), JSON.stringify(info));
  }

  /**
   * The ids of this node's service sections, which the other nodes route here: read from the
   * config file (the farm section's siblings), so they are known before those sections start.
   */
  #localSections(): string[] {
    const root = this.#api.config.parent?.parent;
    if (!root) {
      const view = this.#api.offered<ServerView>(SERVER_VIEW)[0]?.value;
      return (view?.sections() ?? []).filter((section) => section.kind === "service")
        .map((section) => section.id).filter((id) => id !== this.#api.id);
    }
    return root.elements.filter((section) => section.local === "service")
      .map((section) => section.attrs.id).filter((id) => id !== undefined && id !== this.#api.id);
  }

  /** Every section id of this node's config, lowercased: hosts the other nodes never take. */
  #configuredIds(): Set<string> {
    const root = this.#api.config.parent?.parent;
    const ids = (root?.elements ?? []).map((section) => section.attrs.id)
      .filter((id) => id !== undefined).map((id) => id.toLowerCase());
    return new Set([...ids, ...this.#api.routedHosts()]);
  }

  #subscribe(subject: string, options?: { queue?: string }): void {
    const reader = new FarmPacketReader();
    const stop = this.#link.subscribe(
      subject,
      (message) => this.#receive(message, reader),
      options,
    );
    this.#closers.push(stop);
  }

  /**
   * One batch's request (batch.ts): true once the receiver acknowledged it; false when nobody
   * answered ("no responders", or no answer within the ttl) or sending failed.
   */
  async #request(subject: string, data: Uint8Array): Promise<boolean> {
    try {
      return await this.#link.request(subject, data, this.#settings.ttlMs) !== undefined;
    } catch (error) {
      this.#api.log.warn(`farm: sending on ${subject} failed: ${describe(error)}`);
      return false;
    }
  }

  /**
   * A message from another node: its packets (one or a batch) into this node's tree in order,
   * then one acknowledgement for all of them (ROUTING.md R43). A malformed message's complete
   * packets before the fault are delivered; the rest is logged and dropped, and still
   * acknowledged, so the sender does not take this node for gone.
   */
  #receive(message: NatsMessage, reader: FarmPacketReader): void {
    const { packets, error } = reader.readAll(message.data);
    for (const packet of packets) this.#api.deliver(packet);
    if (error) {
      this.#api.log.warn(
        `farm: dropped a malformed packet on ${message.subject}: ${describe(error)}`,
      );
    }
    message.respond(ACK);
  }

  /**
   * The farm section's handler: packets for another node's section or a shared host. Taken at
   * once and sent without waiting for the acknowledgement, so packets of one sender to one
   * recipient are pipelined (NATS keeps their order); one nobody acknowledges bounces (R43).
   */
  #toOtherNode(packet: Packet): HandlerResult {
    const node = this.#routes.get(packet.host);
    let sent: Promise<boolean>;
    if (node !== undefined) sent = this.forward(node, packet);
    else if (this.#shared.has(packet.host)) {
      sent = this.#batcher.send(this.#names.host(packet.host), packet);
    } else return "pass";
    sent.then((delivered) => {
      if (delivered) return;
      const bounce = bounceOf(packet, "service-unavailable");
      if (bounce) this.#api.deliver(bounce, packet);
    });
    return "done";
  }

  /** Routes another live node's sections and shared hosts to it (ROUTING.md R44). */
  #route(info: NodeInfo): void {
    const local = this.#configuredIds();
    for (const [host, node] of this.#routes) {
      if (node === info.id && !info.sections.includes(host)) {
        this.#routes.delete(host);
        this.#api.removeHost(host);
      }
    }
    for (const section of info.sections) {
      const host = section.toLowerCase();
      if (this.#routes.has(host) || local.has(host)) continue;
      this.#routes.set(host, info.id);
      this.#api.addHost(host);
    }
    for (const host of info.shared) {
      if (this.#shared.has(host) || local.has(host) || this.#settings.share.includes(host)) {
        continue;
      }
      this.#shared.add(host);
      this.#api.addHost(host);
    }
  }

  #unroute(node: string): void {
    for (const [host, owner] of this.#routes) {
      if (owner !== node) continue;
      this.#routes.delete(host);
      this.#api.removeHost(host);
    }
    // A shared host stays while another live node still shares it.
    const still = new Set(this.directory.others().flatMap((info) => info.shared));
    for (const host of this.#shared) {
      if (still.has(host)) continue;
      this.#shared.delete(host);
      this.#api.removeHost(host);
    }
  }

  /**
   * A node is lost (ROUTING.md R45): its hosts leave the tree and its homes count as free at
   * once; after a crash, the one node that creates the loss record first tells the listeners
   * (the session manager sends unavailable presence for its sessions) and deletes its entries.
   * After a clean stop (`clean`: its entry deleted) the node did all of that itself.
   */
  #onLost(info: NodeInfo, clean: boolean): void {
    this.#unroute(info.id);
    this.#api.log.notice(`farm: node ${info.id} ${clean ? "left" : "is lost"}`);
    if (clean || this.#stopping) return;
    // A node without a session manager listening could win the loss and tell nobody: it leaves
    // the loss to the others until its own sm listens.
    if (this.#listeners.size === 0) this.#unheard.push(info);
    else this.#takeLossLater(info);
  }

  #takeLossLater(info: NodeInfo): void {
    this.#track(
      this.#takeLoss(info).catch((error) =>
        this.#api.log.error(`farm: handling the loss of ${info.id} failed: ${describe(error)}`)
      ),
    );
  }

  /**
   * The connection to NATS dropped or is back (docs/farm.md "Failures"). While it is down this
   * node neither heartbeats nor judges the others; once back, every known node gets a ttl to
   * heartbeat again, and this node announces itself, its homes and its sessions again, unless
   * the others took it for lost meanwhile (then `#cutOff`).
   */
  #onStatus(status: "disconnected" | "reconnected"): void {
    if (this.#stopping) return;
    if (status === "disconnected") {
      if (this.#connected) this.#api.log.warn("farm: the connection to NATS dropped");
      this.#connected = false;
      return;
    }
    this.#connected = true;
    this.directory.grace(this.#api.timer.now());
    this.#api.log.notice("farm: connected to NATS again; announcing this node again");
    this.#track(this.#announceAgain());
  }

  async #announceAgain(): Promise<void> {
    const run = this.#started;
    if (await this.#losses.get(this.#lossKey)) {
      this.#cutOff(run);
      return;
    }
    await this.#heartbeat();
    const value = this.#value;
    // Only what is missing is written: an entry another node wrote meanwhile is not overwritten.
    await Promise.all([
      ...[...this.#ownHomes].map(async (bare) => {
        if (!await this.#homes.get(bareKey(bare))) await this.#homes.create(bareKey(bare), value);
      }),
      ...[...this.#ownSessions].map(async (full) => {
        if (!await this.#sessions.get(fullKey(full))) {
          await this.#sessions.create(fullKey(full), value);
        }
      }),
    ]);
  }

  /**
   * The other nodes took this run for lost (it was cut off from NATS longer than the ttl): they
   * told its users' contacts those users went offline, deleted its entries and may have given
   * its users homes elsewhere. As a cluster node that was partitioned away does (docs/farm.md
   * "Failures"), it ends its sessions so the clients log in again, and heartbeats as a new run,
   * so the entries of the lost run are never taken for its current ones.
   */
  #cutOff(run: number): void {
    // Once per lost run: the watch and the check after a reconnect may both see the record.
    if (this.#stopping || run !== this.#started) return;
    this.#started = Math.max(this.#api.timer.now(), run + 1);
    this.#api.log.warn(
      `farm: the other nodes took this node for lost; ending its ${this.#ownSessions.size} ` +
        `sessions and joining again as a new run`,
    );
    this.#ownHomes.clear();
    this.#ownSessions.clear();
    for (const listener of this.#cutOffListeners) {
      try {
        listener();
      } catch (error) {
        this.#api.log.error(`farm: a cut-off listener failed: ${describe(error)}`);
      }
    }
    this.#track(this.#heartbeat());
  }

  async #takeLoss(info: NodeInfo): Promise<void> {
    const record = `${escapeKey(info.id)}.${info.started}`;
    if (await this.#losses.create(record, this.node) === undefined) return;
    const loss: NodeLoss = {
      node: info.id,
      sessions: this.directory.sessionsOn(info.id, info.started),
    };
    this.#api.log.notice(
      `farm: took the loss of node ${info.id} (${loss.sessions.length} sessions)`,
    );
    for (const listener of this.#listeners) {
      try {
        await listener(loss);
      } catch (error) {
        this.#api.log.error(`farm: a node-lost listener failed: ${describe(error)}`);
      }
    }
    const deletes: Promise<boolean>[] = [];
    for (const bare of this.directory.homesOn(info.id, info.started)) {
      const at = this.directory.homes.get(bare)!;
      deletes.push(this.#homes.delete(bareKey(bare), at.revision));
    }
    for (const full of loss.sessions) {
      const at = this.directory.sessions.get(full)!;
      deletes.push(this.#sessions.delete(fullKey(full), at.revision));
    }
    await Promise.all(deletes);
  }

  /** Keeps `work` until it settles (stop waits for it); a failure is logged, never thrown. */
  #track(work: Promise<unknown>): Promise<void> {
    const tracked = work.then(() => {}, (error) => {
      this.#api.log.warn(`farm: a directory write failed: ${describe(error)}`);
    });
    this.#pending.add(tracked);
    tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }

  async #settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
