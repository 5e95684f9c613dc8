/**
 * The descriptor under a `Deno.Listener`, which Deno does not expose: on
 * Linux it is the descriptor of this process (`/proc/self/fd`) whose socket
 * inode is a TCP socket listening on the listener's port
 * (`/proc/self/net/tcp`, `tcp6`: every socket of the network namespace, so
 * the match on this process's own descriptors is what makes it ours).
 *
 * @module
 */
import { deno } from "./deno_types.ts";

const LISTEN_STATE = "0A";

/** Inodes of the namespace's TCP sockets listening on `port`. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text: string;
    try {
      text = deno.readTextFileSync(table);
    } catch {
      continue; // No IPv6, or no /proc.
    }
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      if (fields[3] === LISTEN_STATE && localPort === port && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * This process's descriptors that are TCP sockets listening on `port`, in
 * descriptor order; empty off Linux or without read permission on `/proc`.
 */
function listeningDescriptors(port: number): number[] {
  if (deno.build.os !== "linux") return [];
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const found: number[] = [];
  try {
    for (const entry of deno.readDirSync("/proc/self/fd")) {
      let target: string;
      try {
        target = deno.readLinkSync(`/proc/self/fd/${entry.name}`);
      } catch {
        continue; // Closed since the directory was read.
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) found.push(Number(entry.name));
    }
  } catch {
    return [];
  }
  return found.sort((a, b) => a - b);
}

/** The descriptor of the one TCP socket of this process listening on `port`; `undefined` when none or several. */
export function soleListeningDescriptor(port: number): number | undefined {
  const found = listeningDescriptors(port);
  return found.length === 1 ? found[0] : undefined;
}
