/**
 * What the tests' throwaway peer servers (nats/_testing.ts, postgres/_testing.ts) share: a free
 * loopback port and a program looked up on PATH (and in the sbin folders Debian installs
 * daemons to, which a non-login PATH may lack).
 */

/** A port nothing listens on now on `hostname`: the kernel's pick for port 0, released at once. */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The path of `name` in `extra` folders (first) or on PATH, /usr/sbin, /usr/bin; else none. */
export async function findProgram(
  name: string,
  extra: readonly string[] = [],
): Promise<string | undefined> {
  const path = (Deno.env.get("PATH") ?? "").split(":");
  for (const folder of [...extra, ...path, "/usr/sbin", "/usr/bin"]) {
    if (!folder) continue;
    try {
      if ((await Deno.stat(`${folder}/${name}`)).isFile) return `${folder}/${name}`;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}
