/**
 * The SQLite job store's side of several nodes (jobStore.ts): the change feed's lease (one row,
 * `feed_lease`) and the node registry (`nodes`, one row per node id). Each function is one
 * statement or one transaction on the store's connection, timed by the store's clock (`now`, ms).
 */
import type Database from 'better-sqlite3';
import type { FeedLease, NodeRecord, NodeRegistration } from './jobStore';
import { FORGET_NODES_AFTER_MS } from './jobStore';

interface FeedLeaseRow {
  owner: string;
  since: number;
  expires_at: number;
}

interface NodeRow {
  node_id: string;
  boot_id: string;
  host: string;
  version: string;
  started_at: number;
  last_heartbeat_at: number;
  expires_at: number;
  stopped_at: number | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Takes the lease when it is free, run out, or already `owner`'s (then extends it); true when `owner` holds it now. */
export function acquireFeedLease(db: Database.Database, owner: string, leaseMs: number, now: number): boolean {
  const info = db
    .prepare(
      `INSERT INTO feed_lease (id, owner, since, expires_at) VALUES (1, @owner, @now, @expires)
       ON CONFLICT (id) DO UPDATE SET
         since = CASE WHEN feed_lease.owner = excluded.owner THEN feed_lease.since ELSE excluded.since END,
         owner = excluded.owner,
         expires_at = excluded.expires_at
       WHERE feed_lease.owner = excluded.owner OR feed_lease.expires_at <= excluded.since`,
    )
    .run({ owner, now, expires: now + leaseMs });
  return info.changes === 1;
}

export function renewFeedLease(db: Database.Database, owner: string, leaseMs: number, now: number): boolean {
  return db.prepare('UPDATE feed_lease SET expires_at = @expires WHERE id = 1 AND owner = @owner').run({ owner, expires: now + leaseMs }).changes === 1;
}

export function releaseFeedLease(db: Database.Database, owner: string): void {
  db.prepare('DELETE FROM feed_lease WHERE id = 1 AND owner = ?').run(owner);
}

export function getFeedLease(db: Database.Database, now: number): FeedLease | undefined {
  const row = db.prepare('SELECT owner, since, expires_at FROM feed_lease WHERE id = 1 AND expires_at > ?').get(now) as FeedLeaseRow | undefined;
  return row ? { owner: row.owner, since: iso(row.since), expiresAt: iso(row.expires_at) } : undefined;
}

/** Registers or renews the node (a new boot id starts its record again), and forgets nodes long gone. */
export function nodeHeartbeat(db: Database.Database, node: NodeRegistration, ttlMs: number, now: number): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO nodes (node_id, boot_id, host, version, started_at, last_heartbeat_at, expires_at, stopped_at)
       VALUES (@nodeId, @bootId, @host, @version, @now, @now, @expires, NULL)
       ON CONFLICT (node_id) DO UPDATE SET
         started_at = CASE WHEN nodes.boot_id = excluded.boot_id THEN nodes.started_at ELSE excluded.started_at END,
         boot_id = excluded.boot_id, host = excluded.host, version = excluded.version,
         last_heartbeat_at = excluded.last_heartbeat_at, expires_at = excluded.expires_at, stopped_at = NULL`,
    ).run({ ...node, now, expires: now + ttlMs });
    db.prepare('DELETE FROM nodes WHERE last_heartbeat_at < ?').run(now - FORGET_NODES_AFTER_MS);
  }).immediate();
}

export function nodeStopped(db: Database.Database, nodeId: string, bootId: string, now: number): void {
  db.prepare('UPDATE nodes SET stopped_at = @now, expires_at = MIN(expires_at, @now) WHERE node_id = @nodeId AND boot_id = @bootId').run({ nodeId, bootId, now });
}

export function listNodes(db: Database.Database, now: number): NodeRecord[] {
  // One read transaction: the nodes, the lease and the running jobs as of one moment.
  return db.transaction(() => {
    const rows = db.prepare('SELECT * FROM nodes ORDER BY node_id').all() as NodeRow[];
    const lease = getFeedLease(db, now);
    const running = db.prepare("SELECT id, lease_owner FROM jobs WHERE state = 'running' ORDER BY id").all() as Array<{ id: number; lease_owner: string }>;
    return rows.map((row) => {
      const owner = `${row.node_id}/${row.boot_id}`;
      const record: NodeRecord = {
        nodeId: row.node_id,
        bootId: row.boot_id,
        host: row.host,
        version: row.version,
        startedAt: iso(row.started_at),
        lastHeartbeatAt: iso(row.last_heartbeat_at),
        live: row.stopped_at === null && row.expires_at > now,
        followsFeed: lease?.owner === owner,
        runningJobIds: running.filter((job) => job.lease_owner === owner).map((job) => job.id),
      };
      if (row.stopped_at !== null) record.stoppedAt = iso(row.stopped_at);
      return record;
    });
  })();
}
