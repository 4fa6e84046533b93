// What an application cluster leaves behind once stopped: its processes (found by the cluster's
// own folder on their command line) and its REST port.
import { readdir, readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';

/** Process ids whose command line names the cluster's folder. */
export async function processesOf(clusterDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg.includes(clusterDir))) pids.push(Number(entry));
  }
  return pids;
}

/** Whether anything still listens at the URL's host and port. */
export const portOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
