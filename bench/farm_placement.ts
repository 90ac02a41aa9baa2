/**
 * Which node process accepted each client connection, when several share one port with
 * SO_REUSEPORT (the kernel picks, by a hash of the addresses): the server end of a loopback TCP
 * connection is a line of Linux's /proc/net/tcp (proc(5): local and remote address, inode), and
 * the process holding that socket has it among its /proc/PID/fd links (`socket:[inode]`).
 * Used by bench/farm.ts and tests/farm_nodes_test.ts.
 */

/** Socket inode of the server end of each connection to `serverPort`, by the client's port. */
function serverEnds(serverPort: number): Map<number, string> {
  const ends = new Map<number, string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = parseInt(fields[1].split(":").pop()!, 16);
      const remotePort = parseInt(fields[2].split(":").pop()!, 16);
      // The inode is 0 for a connection in TIME_WAIT: nobody holds it any more.
      if (localPort === serverPort && fields[9] !== "0") ends.set(remotePort, fields[9]);
    }
  }
  return ends;
}

/** The socket inodes each process holds. */
function socketsOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const target = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
      if (target.startsWith("socket:[")) inodes.add(target.slice(8, -1));
    } catch {
      // Closed while we looked.
    }
  }
  return inodes;
}

/**
 * For each client port (the local port of a client's connection to `serverPort`), the pid among
 * `pids` that holds the server end, or undefined when none does (not accepted yet, or closed).
 */
export function nodesOfClients(
  serverPort: number,
  clientPorts: readonly number[],
  pids: readonly number[],
): (number | undefined)[] {
  const ends = serverEnds(serverPort);
  const holders = pids.map((pid) => ({ pid, sockets: socketsOf(pid) }));
  return clientPorts.map((port) => {
    const inode = ends.get(port);
    return inode === undefined ? undefined : holders.find((h) => h.sockets.has(inode))?.pid;
  });
}
