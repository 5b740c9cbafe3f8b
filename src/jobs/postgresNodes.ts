/**
 * The PostgreSQL job store's side of several nodes (jobStore.ts): the change feed's lease (one
 * row, `feed_lease`) and the node registry (`nodes`, one row per node id). Timed by the database
 * server's clock (`@now`, see postgresSql.ts), like the job leases.
 *
 * Two nodes asking for the feed lease at once: `INSERT ... ON CONFLICT DO UPDATE ... WHERE` locks
 * the row, and the second statement re-reads it after the first committed, so it sees a lease that
 * is held and takes nothing.
 */
import type { FeedLease, NodeRecord, NodeRegistration } from './jobStore';
import { FORGET_NODES_AFTER_MS } from './jobStore';
import type { PgDatabase } from './postgresSql';

const PLUS_MS = (name: string): string => `@now + @${name}::double precision * interval '1 millisecond'`;

interface FeedLeaseRow {
  owner: string;
  since: Date;
  expires_at: Date;
}

interface NodeRow {
  node_id: string;
  boot_id: string;
  host: string;
  version: string;
  started_at: Date;
  last_heartbeat_at: Date;
  live: boolean;
  stopped_at: Date | null;
  follows_feed: boolean;
}

export async function acquireFeedLease(db: PgDatabase, owner: string, leaseMs: number): Promise<boolean> {
  const changed = await db.statement().run(
    `INSERT INTO feed_lease (id, owner, since, expires_at) VALUES (1, @owner, @now, ${PLUS_MS('leaseMs')})
     ON CONFLICT (id) DO UPDATE SET
       since = CASE WHEN feed_lease.owner = EXCLUDED.owner THEN feed_lease.since ELSE EXCLUDED.since END,
       owner = EXCLUDED.owner,
       expires_at = EXCLUDED.expires_at
     WHERE feed_lease.owner = EXCLUDED.owner OR feed_lease.expires_at <= EXCLUDED.since`,
    { owner, leaseMs },
  );
  return changed === 1;
}

export async function renewFeedLease(db: PgDatabase, owner: string, leaseMs: number): Promise<boolean> {
  return (await db.statement().run(`UPDATE feed_lease SET expires_at = ${PLUS_MS('leaseMs')} WHERE id = 1 AND owner = @owner`, { owner, leaseMs })) === 1;
}

export async function releaseFeedLease(db: PgDatabase, owner: string): Promise<void> {
  await db.statement().run('DELETE FROM feed_lease WHERE id = 1 AND owner = @owner', { owner });
}

export async function getFeedLease(db: PgDatabase): Promise<FeedLease | undefined> {
  const rows = await db.statement().rows<FeedLeaseRow>('SELECT owner, since, expires_at FROM feed_lease WHERE id = 1 AND expires_at > @now');
  return rows[0] ? { owner: rows[0].owner, since: rows[0].since.toISOString(), expiresAt: rows[0].expires_at.toISOString() } : undefined;
}

/** Registers or renews the node (a new boot id starts its record again), and forgets nodes long gone. */
export async function nodeHeartbeat(db: PgDatabase, node: NodeRegistration, ttlMs: number): Promise<void> {
  await db.transaction(async (op) => {
    await op.run(
      `INSERT INTO nodes (node_id, boot_id, host, version, started_at, last_heartbeat_at, expires_at, stopped_at)
       VALUES (@nodeId, @bootId, @host, @version, @now, @now, ${PLUS_MS('ttlMs')}, NULL)
       ON CONFLICT (node_id) DO UPDATE SET
         started_at = CASE WHEN nodes.boot_id = EXCLUDED.boot_id THEN nodes.started_at ELSE EXCLUDED.started_at END,
         boot_id = EXCLUDED.boot_id, host = EXCLUDED.host, version = EXCLUDED.version,
         last_heartbeat_at = EXCLUDED.last_heartbeat_at, expires_at = EXCLUDED.expires_at, stopped_at = NULL`,
      { nodeId: node.nodeId, bootId: node.bootId, host: node.host, version: node.version, ttlMs },
    );
    await op.run(`DELETE FROM nodes WHERE last_heartbeat_at < @now - @forgetMs::double precision * interval '1 millisecond'`, { forgetMs: FORGET_NODES_AFTER_MS });
  });
}

export async function nodeStopped(db: PgDatabase, nodeId: string, bootId: string): Promise<void> {
  await db.statement().run('UPDATE nodes SET stopped_at = @now, expires_at = LEAST(expires_at, @now) WHERE node_id = @nodeId AND boot_id = @bootId', { nodeId, bootId });
}

export async function listNodes(db: PgDatabase): Promise<NodeRecord[]> {
  return db.transaction(async (op) => {
    const rows = await op.rows<NodeRow>(
      `SELECT n.*, (n.stopped_at IS NULL AND n.expires_at > @now) AS live,
              EXISTS (SELECT 1 FROM feed_lease f WHERE f.id = 1 AND f.owner = n.node_id || '/' || n.boot_id AND f.expires_at > @now) AS follows_feed
       FROM nodes n ORDER BY n.node_id`,
    );
    const running = await op.rows<{ id: number; lease_owner: string }>("SELECT id, lease_owner FROM jobs WHERE state = 'running' ORDER BY id");
    return rows.map((row) => {
      const owner = `${row.node_id}/${row.boot_id}`;
      const record: NodeRecord = {
        nodeId: row.node_id,
        bootId: row.boot_id,
        host: row.host,
        version: row.version,
        startedAt: row.started_at.toISOString(),
        lastHeartbeatAt: row.last_heartbeat_at.toISOString(),
        live: row.live,
        followsFeed: row.follows_feed,
        runningJobIds: running.filter((job) => job.lease_owner === owner).map((job) => job.id),
      };
      if (row.stopped_at !== null) record.stoppedAt = row.stopped_at.toISOString();
      return record;
    });
  });
}
