/**
 * Keeps one known driver bug from ending the process (docs/runtime-notes.md "PostgreSQL").
 *
 * npm `postgres` 3.4.9 defers small writes to a `setImmediate`; when the server closes the
 * connection before it runs, `nextWrite` (src/connection.js) calls `write` on the socket it has
 * set to null. That TypeError comes from the timer, so no caller can catch it: by default it ends
 * the process. This module keeps exactly that error in (a TypeError about reading `write` of
 * null, thrown inside the postgres package): it wraps the global `setImmediate` the driver
 * schedules with, and listens for the process's `error` and `unhandledrejection` events. It logs
 * the error once and tells the pools (`onDriverFault`), which then replace themselves: the
 * connection it came from may be wedged (its write timer is never reset, so later writes on it
 * are never sent). Any other error passes through untouched and still ends the process.
 */

type FaultListener = (error: Error) => void;

const listeners = new Set<FaultListener>();
let installed = false;
let logged = false;

/** Whether `error` is the driver's write-after-close TypeError, thrown in the postgres package. */
export function isDriverWriteBug(error: unknown): error is Error {
  if (!(error instanceof TypeError)) return false;
  if (!/null.*\bwrite\b|\bsocket\.write\b/.test(error.message)) return false;
  const stack = error.stack ?? "";
  // The package's path: `…/postgres/3.4.9/src/connection.js` in Deno's npm cache,
  // `…/node_modules/postgres/src/connection.js` in a node_modules folder.
  return /[\\/]postgres[\\/](\d[^\\/]*[\\/])?(cjs[\\/]|cf[\\/])?src[\\/]connection\.js/.test(stack);
}

/**
 * Calls `listener` each time the driver bug is caught; returns the call that stops it. The first
 * call installs the process-level listeners.
 */
export function onDriverFault(listener: FaultListener): () => void {
  install();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function install(): void {
  if (installed) return;
  installed = true;
  // The driver schedules its write with the global `setImmediate`, looked up at each call. Under
  // Deno an error thrown by an immediate callback also breaks the runtime's queue of immediates
  // (the next turn fails with "reading '_idleNext'", outside the driver), so catching it in the
  // `error` event is too late: the callback itself is wrapped, and only this error is kept in.
  const original = globalThis.setImmediate;
  const guarded = (callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    original((...given: unknown[]) => {
      try {
        callback(...given);
      } catch (error) {
        if (!isDriverWriteBug(error)) throw error;
        caught(error);
      }
    }, ...args);
  // Keeps what hangs on the function (`util.promisify.custom`, `__promisify__`).
  for (const key of Reflect.ownKeys(original)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    Object.defineProperty(guarded, key, Object.getOwnPropertyDescriptor(original, key)!);
  }
  globalThis.setImmediate = guarded as typeof setImmediate;
  // A second net, should the error come some other way (another runtime's timers).
  globalThis.addEventListener("error", (event) => {
    if (isDriverWriteBug(event.error)) {
      event.preventDefault();
      caught(event.error);
    }
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (isDriverWriteBug(event.reason)) {
      event.preventDefault();
      caught(event.reason);
    }
  });
}

function caught(error: Error): void {
  if (!logged) {
    logged = true;
    console.error(
      "postgres: caught the driver's write-after-close error (npm postgres 3.4.9, upstream " +
        "porsager/postgres#1208); the pool is replaced. Logged once per process:\n" + error.stack,
    );
  }
  for (const listener of listeners) {
    try {
      listener(error);
    } catch (failure) {
      console.error(`postgres: a driver-fault listener failed: ${failure}`);
    }
  }
}
