/**
 * The contract between the runtime-free core and a runtime: everything the server needs from the
 * outside world (sockets, datagrams, TLS, processes, workers, KV, DNS, clocks, signals, files).
 * `deno/` implements it on Deno, `memory/` in-process for tests.
 */

/** A socket address. */
export interface Address {
  hostname: string;
  port: number;
}

/** A certificate and its key, PEM encoded. */
export interface CertificatePair {
  cert: string;
  key: string;
}

/** How a TLS server presents itself: a default certificate and others chosen by SNI name. */
export interface ServerTlsOptions {
  /** Used when the client sends no SNI or an unknown one. */
  default: CertificatePair;
  /** Certificates by host name (lower case); a `*.domain` key matches one label. */
  byName?: Record<string, CertificatePair>;
  /** ALPN protocols offered (for XEP-0368 direct TLS: "xmpp-client", "xmpp-server"). */
  alpnProtocols?: string[];
  /**
   * Asks the client for a certificate (s2s SASL EXTERNAL, XEP-0178). Any certificate, or none, is
   * accepted: the caller checks `tls.peerCertificate` itself.
   */
  requestCertificate?: boolean;
}

/** How a TLS client checks the server. */
export interface ClientTlsOptions {
  /** The name sent as SNI and checked against the certificate. */
  serverName: string;
  /** Extra trusted CA certificates (PEM). */
  caCerts?: string[];
  alpnProtocols?: string[];
  /** A certificate to present to the server (s2s SASL EXTERNAL, XEP-0178). */
  certificate?: CertificatePair;
  /**
   * `false` accepts any server certificate; the caller then checks `tls.peerCertificate`
   * itself (s2s, whose trust rules are per domain). Default true.
   */
  verify?: boolean;
}

/** What the TLS layer knows about an established TLS session. */
export interface TlsInfo {
  /** The SNI name the client asked for (server side), if any. */
  serverName?: string;
  /** DER bytes of the certificate this side presented (for tls-server-end-point), if known. */
  localCertificate?: Uint8Array;
  /** DER bytes of the peer's certificate, if it presented one. */
  peerCertificate?: Uint8Array;
  /** The negotiated ALPN protocol, if any. */
  alpnProtocol?: string;
}

/**
 * A byte stream, event driven (no `for await`: it costs memory per connection). Writes are
 * buffered and coalesced by the adapter; `onData` callbacks are invoked in order.
 */
export interface Connection {
  readonly remote: Address;
  readonly local: Address;
  /** True once the stream runs over TLS (direct TLS or after `startTls`). */
  readonly secure: boolean;
  /** Present when secure. */
  readonly tls: TlsInfo | undefined;
  /** Sets the data callback (replacing any previous one). */
  onData(callback: (chunk: Uint8Array) => void): void;
  /** Called once when the stream ends, with the error that ended it if any. */
  onClose(callback: (error?: Error) => void): void;
  write(data: string | Uint8Array): void;
  /** Stops `onData` until `resume()` (backpressure, or before a TLS upgrade). */
  pause(): void;
  resume(): void;
  /**
   * Upgrades this accepted connection to TLS as the server (XMPP STARTTLS): call after writing
   * `<proceed/>`; resolves once the handshake is done. No data is delivered in between.
   */
  startTlsServer(options: ServerTlsOptions): Promise<void>;
  /** Upgrades this outgoing connection to TLS as the client. */
  startTlsClient(options: ClientTlsOptions): Promise<void>;
  /** Flushes pending writes, then closes. */
  close(): void;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  /** When set, every accepted connection is TLS from the first byte (direct TLS). */
  tls?: ServerTlsOptions;
  /**
   * Shares the port with other listeners that set it too, in this or other processes (Linux
   * SO_REUSEPORT: the kernel spreads new connections over them): the nodes of
   * `jabberd start --nodes N`. A runtime that cannot rejects the listen with a sentence.
   */
  reusePort?: boolean;
}

export interface Listener {
  readonly address: Address;
  close(): Promise<void>;
}

export interface ConnectOptions {
  hostname: string;
  port: number;
  /** When set, TLS from the first byte. */
  tls?: ClientTlsOptions;
  /** Gives up after this many milliseconds (default 10 s). */
  timeoutMs?: number;
}

export interface NetAdapter {
  listen(options: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener>;
  connect(options: ConnectOptions): Promise<Connection>;
}

/** What an HTTP handler knows about the connection a request came on. */
export interface HttpRequestInfo {
  readonly remote: Address;
  /** True when the request came over TLS (https, wss). */
  readonly secure: boolean;
}

export type HttpHandler = (
  request: Request,
  info: HttpRequestInfo,
) => Response | Promise<Response>;

export interface HttpServeOptions {
  hostname: string;
  port: number;
  /** When set, HTTPS with the default certificate (the http component's TLS listener). */
  tls?: ServerTlsOptions;
  /** Shares the port with other servers that set it too, as `ListenOptions.reusePort`. */
  reusePort?: boolean;
}

export interface HttpServer {
  readonly address: Address;
  /**
   * Set when the runtime serves the requests itself instead of listening on `address` (which
   * then means nothing): who does, for the log, such as "deno serve".
   */
  readonly servedBy?: string;
  /** Stops accepting requests and closes the listening socket. */
  close(): Promise<void>;
}

/**
 * A WebSocket the server accepted (RFC 6455), event driven like `Connection`. Sends made before
 * the handshake finished are kept and sent once it has.
 */
export interface ServerWebSocket {
  /** The subprotocol the server answered with (RFC 6455 §4.2.2), "" for none. */
  readonly protocol: string;
  /** Sets the message callback: one call per message, text as a string. */
  onMessage(callback: (data: string | Uint8Array) => void): void;
  /** Called once when the socket is closed, by either side. */
  onClose(callback: () => void): void;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface HttpAdapter {
  /** Serves HTTP on an address: every request goes to `handler`. */
  serve(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer>;
  /** Makes an HTTP request as a client (`jabberd status` asking the admin API). */
  fetch(input: string, init?: RequestInit): Promise<Response>;
  /**
   * Accepts a WebSocket upgrade request (RFC 6455 §4.2): the response the handler returns and
   * the socket. `protocol` is the subprotocol to answer with; the caller checked it was offered.
   */
  upgradeWebSocket(
    request: Request,
    options: { protocol?: string },
  ): { response: Response; socket: ServerWebSocket };
}

/** A child process with piped standard streams. */
export interface ChildProcess {
  readonly pid: number;
  onStdout(callback: (chunk: Uint8Array) => void): void;
  onStderr(callback: (chunk: Uint8Array) => void): void;
  writeStdin(data: string | Uint8Array): void;
  /** Resolves with the exit code (or signal number + 128) when the process ends. */
  readonly exited: Promise<number>;
  /** SIGHUP and SIGINT are for a child that handles them (the nodes of a supervisor). */
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGHUP" | "SIGINT"): void;
}

export interface SpawnOptions {
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** A program and its arguments, ready for `spawn()`. */
export interface CommandLine {
  command: string;
  args: string[];
}

export interface ProcessAdapter {
  spawn(command: string, options?: SpawnOptions): ChildProcess;
  /**
   * How to run this same jabberd again with `args` (the child of `<fork>`): under `deno run`
   * the runtime with `run -A main.ts` before them, in a compiled binary the binary itself.
   */
  selfCommand(args: string[]): CommandLine;
  /** This process's id (syslog's PROCID). */
  pid(): number;
  /** Its memory in bytes: resident set and the JavaScript heap in use (`/metrics`). */
  memory(): { rss: number; heapUsed: number };
  /** This machine's name, or undefined when it cannot be read (syslog's HOSTNAME). */
  hostname(): string | undefined;
  /** The working directory, to turn a relative path into a file URL (`<load>`'s `import()`). */
  cwd?(): string;
}

/** A UDP socket (RFC 768), for syslog over UDP (RFC 5426). */
export interface DatagramSocket {
  /** The address it is bound to (the port the system chose when 0 was asked). */
  readonly address: Address;
  /** Sends one datagram; rejects when it cannot leave (an unknown host name, too large). */
  send(data: string | Uint8Array, to: Address): Promise<void>;
  close(): Promise<void>;
}

export interface DatagramAdapter {
  /**
   * Opens a UDP socket bound to `address` (`0.0.0.0` or `::` with port 0 to only send). With
   * `onMessage` it receives, and keeps the process alive until closed; without, it never does.
   */
  bind(
    address: Address,
    onMessage?: (data: Uint8Array, from: Address) => void,
  ): Promise<DatagramSocket>;
}

/** A running Web Worker as its starter sees it: the message port, errors and the off switch. */
export interface WorkerHandle {
  /** Sends a structured-cloneable message; throws at once for one that cannot be cloned. */
  postMessage(message: unknown): void;
  /** Sets the callback for the worker's messages (replacing any previous one). */
  onMessage(callback: (data: unknown) => void): void;
  /**
   * Sets the callback for an uncaught error in the worker (its module failing to load
   * included). The error ends the worker only: never the process.
   */
  onError(callback: (message: string) => void): void;
  /** Sets the callback for a message from the worker that could not be deserialized. */
  onMessageError(callback: () => void): void;
  terminate(): void;
}

export interface WorkerAdapter {
  /** Starts a module worker running `url` (a `file:` URL). */
  start(url: string): WorkerHandle;
}

/** A KV key, as Deno KV has them. */
export type KvKey = readonly (string | number | bigint | boolean | Uint8Array)[];

export interface KvEntry<T = unknown> {
  key: KvKey;
  value: T | null;
  /** null when the key does not exist. */
  versionstamp: string | null;
}

export interface KvListSelector {
  prefix?: KvKey;
  start?: KvKey;
  end?: KvKey;
}

export interface KvListOptions {
  limit?: number;
  reverse?: boolean;
}

/** A batch of mutations applied all at once, failing if a check does not hold. */
export interface KvAtomic {
  check(key: KvKey, versionstamp: string | null): KvAtomic;
  set(key: KvKey, value: unknown): KvAtomic;
  delete(key: KvKey): KvAtomic;
  commit(): Promise<{ ok: boolean }>;
}

/** The subset of Deno KV the server uses; values are structured-cloneable. */
export interface KvStore {
  get<T = unknown>(key: KvKey): Promise<KvEntry<T>>;
  /** At most 10 keys, as Deno KV. */
  getMany<T = unknown>(keys: KvKey[]): Promise<KvEntry<T>[]>;
  list<T = unknown>(selector: KvListSelector, options?: KvListOptions): AsyncIterable<KvEntry<T>>;
  atomic(): KvAtomic;
  close(): void;
}

export interface KvOpenOptions {
  /** The most connections a store on a database server keeps (its pool); files ignore it. */
  connections?: number;
}

export interface KvAdapter {
  /**
   * `path` is a file, `:memory:`, a remote KV URL passed through to the runtime, or a
   * `postgres://` URL (`src/adapters/postgres/`).
   */
  open(path: string, options?: KvOpenOptions): Promise<KvStore>;
}

export interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsAdapter {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolveAddresses(name: string): Promise<string[]>;
}

export type TimerId = number;

/** Time, behind an interface so tests can move it by hand. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(callback: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
}

export type SignalName = "SIGTERM" | "SIGINT" | "SIGHUP";

export interface SignalAdapter {
  /** Listens for a signal; returns a function that stops listening. */
  on(signal: SignalName, callback: () => void): () => void;
}

export interface FileAdapter {
  readTextFile(path: string): Promise<string>;
  /** `mode` sets the permissions of a file it creates (`0o600` for private keys). */
  writeTextFile(
    path: string,
    text: string,
    options?: { append?: boolean; mode?: number },
  ): Promise<void>;
  /** Size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Bytes of a file, for binary files (XEP-0363 uploads). */
  readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Deletes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
}

/**
 * What a runtime can do, declared by its adapter set so the config check refuses, with a
 * sentence, what the runtime cannot run (src/config/runtime_check.ts). Each flag says whether
 * the adapters offer that part of the contract; a runtime that lacks one throws when it is used.
 */
export interface RuntimeCapabilities {
  /** Named in the sentences: "Deno Deploy". */
  name: string;
  /** TCP listeners and outgoing connections (`net`): c2s on TCP, s2s, `<accept>`, `<connect>`. */
  tcp: boolean;
  /** UDP (`datagrams`): `<syslog>` over UDP. */
  udp: boolean;
  /** Child processes (`process.spawn`): `<exec>`, `<fork>`. */
  processes: boolean;
  /** Web Workers (`workers`): `<load thread="worker">`. */
  workers: boolean;
  /** Files that are still there after a restart (`files`): file logs, uploads. */
  files: boolean;
  /**
   * Whether `http.serve` binds the address it is given. False when the runtime serves HTTP
   * itself (`deno serve`, Deno Deploy) and hands every request to the one handler.
   */
  httpListen: boolean;
}

/** Everything the core gets from its runtime, bundled so it is passed in one argument. */
export interface Adapters {
  /**
   * What this runtime cannot do, for the config check; absent: everything in this contract
   * (the Deno and memory adapters).
   */
  runtime?: RuntimeCapabilities;
  net: NetAdapter;
  /** HTTP and WebSocket serving (the http component). */
  http: HttpAdapter;
  datagrams: DatagramAdapter;
  process: ProcessAdapter;
  workers: WorkerAdapter;
  kv: KvAdapter;
  /** NATS for the farm (docs/farm.md): subjects and JetStream KV buckets. */
  nats: NatsAdapter;
  dns: DnsAdapter;
  clock: Clock;
  signals: SignalAdapter;
  files: FileAdapter;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Writes a line (already terminated) to standard error / standard output. */
  stderr(text: string): void;
  stdout(text: string): void;
  /**
   * Writes `prompt` to standard error and reads one line typed on the terminal without showing
   * it (a password for `jabberd user add`); undefined when the person gives up (Ctrl-C, or
   * Ctrl-D on an empty line). Only for when standard input is a terminal.
   */
  readHiddenLine(prompt: string): Promise<string | undefined>;
}

/**
 * NATS, the engine the farm runs on (docs/farm.md): core publish, subscribe and request on
 * subjects, and JetStream KV buckets for the session directory. Only what the farm uses.
 */
export interface NatsAdapter {
  /** Connects to a NATS server (one URL or several of one cluster), or rejects with why not. */
  connect(options: NatsConnectOptions): Promise<NatsLink>;
}

export interface NatsConnectOptions {
  /** `nats://host:port` URLs. */
  servers: string[];
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
}

/** One connection to NATS. */
export interface NatsLink {
  publish(subject: string, data: Uint8Array): void;
  /**
   * Calls `onMessage` for each message on `subject`, in order. With `queue`, each message goes
   * to one subscriber of that queue group (one-of-N); without, to every subscriber. Returns the
   * function that unsubscribes.
   */
  subscribe(
    subject: string,
    onMessage: (message: NatsMessage) => void,
    options?: { queue?: string },
  ): () => void;
  /**
   * Sends `data` and waits for one reply: the reply's bytes, or undefined when nobody listens on
   * the subject ("no responders", known at once) or nobody answered within `timeoutMs`.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined>;
  /** Opens a KV bucket, making it when missing; `maxAgeMs` makes entries expire. */
  bucket(name: string, options?: { maxAgeMs?: number }): Promise<NatsBucket>;
  /**
   * Calls `listener` when the connection to the server drops and when it is back (the client
   * reconnects by itself; docs/farm.md "Failures"). Returns the function that stops listening.
   */
  onStatus(listener: (status: "disconnected" | "reconnected") => void): () => void;
  /** Sends what is buffered and stops; the subscriptions end. */
  close(): Promise<void>;
}

export interface NatsMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Answers a request (nothing happens for a plain publish). */
  respond(data: Uint8Array): void;
}

/** One value of a bucket, with the revision that wrote it. */
export interface NatsBucketEntry {
  key: string;
  value: string;
  revision: number;
}

/** One change a watch reports: a value written, or (`value` undefined) a key deleted. */
export interface NatsBucketChange {
  key: string;
  value: string | undefined;
  revision: number;
  /** When the server stored the change, in ms since the epoch. */
  created: number;
}

/** A JetStream KV bucket. Keys are NATS key characters only (`[-/_=.A-Za-z0-9]`). */
export interface NatsBucket {
  get(key: string): Promise<NatsBucketEntry | undefined>;
  put(key: string, value: string): Promise<number>;
  /** Writes only when the key holds nothing: its revision, or undefined when it holds a value. */
  create(key: string, value: string): Promise<number | undefined>;
  /** Writes only when the key is still at `revision`: the new revision, or undefined. */
  update(key: string, value: string, revision: number): Promise<number | undefined>;
  /** Deletes (only when still at `revision`, if given); false when it had changed. */
  delete(key: string, revision?: number): Promise<boolean>;
  /**
   * Reports the current value of every key, then every change, to `onChange`, in order.
   * `ready` resolves once the current values were reported; `stop` ends the watch.
   */
  watch(onChange: (change: NatsBucketChange) => void): Promise<NatsWatch>;
}

export interface NatsWatch {
  readonly ready: Promise<void>;
  stop(): void;
}
