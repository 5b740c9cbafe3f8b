/**
 * Who this node is, across restarts, and which life of it is running now.
 *
 * The node id is kept in the data directory (`node-id`, made once: the host name and a random
 * part), so a restarted node, a new container on the same volume included, knows its earlier
 * lives. Each start draws a new boot id. The worker's lease owner is `<node id>/<boot id>`: at
 * start the node frees every running job whose owner is an earlier life of the same node id
 * (JobStore.releaseEarlierLives), instead of waiting for their leases to run out.
 *
 * One data directory belongs to one running node. `node-life.json` names the life that uses it;
 * when that life is another process still alive on this host, nothing is freed (its jobs are not
 * dead) and the node says so: such jobs come back only when their leases run out.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logging/logger';

export const NODE_ID_FILE = 'node-id';
export const NODE_LIFE_FILE = 'node-life.json';
const NODE_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

export interface NodeIdentity {
  nodeId: string;
  bootId: string;
  /** The worker's lease owner: `<nodeId>/<bootId>`. */
  owner: string;
  /** What every owner of this node begins with: `<nodeId>/`. */
  ownerPrefix: string;
  /** Whether jobs of earlier lives may be freed now (no other live process uses the data directory). */
  mayFreeEarlierLives: boolean;
}

interface NodeLife {
  host: string;
  pid: number;
  bootId: string;
}

/** Reads the node id, or makes one (host name and a random part) the first time. */
export function readOrCreateNodeId(dataDir: string): string {
  const file = path.join(dataDir, NODE_ID_FILE);
  if (!existsSync(file)) {
    const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 60) || 'node';
    try {
      writeFileSync(file, `${host}-${randomBytes(4).toString('hex')}\n`, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      // Another process made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const nodeId = readFileSync(file, 'utf8').trim();
  if (!NODE_ID_PATTERN.test(nodeId)) throw new Error(`${file}: not a node id (letters, digits, '.', '_', '-'; at most 100)`);
  return nodeId;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The life recorded in the data directory, when it is another process still alive on this host. */
function otherLiveProcess(file: string): NodeLife | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const life = JSON.parse(readFileSync(file, 'utf8')) as NodeLife;
    const other = life.host === os.hostname() && life.pid !== process.pid && Number.isInteger(life.pid) && life.pid > 0 && processAlive(life.pid);
    return other ? life : undefined;
  } catch {
    return undefined;
  }
}

/** This start's identity; records this life in the data directory. */
export function startNodeLife(dataDir: string, logger: Logger): NodeIdentity {
  const nodeId = readOrCreateNodeId(dataDir);
  const bootId = randomBytes(4).toString('hex');
  const lifeFile = path.join(dataDir, NODE_LIFE_FILE);
  const other = otherLiveProcess(lifeFile);
  if (other) {
    logger.warn('another live process uses this data directory (one node per data directory); jobs of earlier lives come back when their leases run out', { pid: other.pid, dataDir });
  } else {
    writeFileSync(lifeFile, JSON.stringify({ host: os.hostname(), pid: process.pid, bootId } satisfies NodeLife) + '\n');
  }
  return { nodeId, bootId, owner: `${nodeId}/${bootId}`, ownerPrefix: `${nodeId}/`, mayFreeEarlierLives: other === undefined };
}
