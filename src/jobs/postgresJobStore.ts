/**
 * The job store on PostgreSQL, for several nodes on one database (`pg`, a pool of a few
 * connections). Every method is one transaction: a single statement, or BEGIN ... COMMIT.
 *
 * What makes it safe with many writers at once (SQLite has one writer at a time; PostgreSQL does not):
 * - claim is one statement: `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING *`,
 *   so two nodes never get the same job and neither waits for the other's row;
 * - enqueue is `INSERT ... ON CONFLICT (study_uid, fingerprint) DO NOTHING`, then reads the job
 *   that won: the same content enqueued by two nodes at once gives one job;
 * - the change cursor only moves forward (`GREATEST`), unless a page says Orthanc's log restarted;
 *   change-feed pages are committed one at a time (an advisory lock);
 * - old intake events are pruned with SKIP LOCKED, so pruning never waits for another writer.
 *
 * Time is the database server's (`now()`, see postgresSql.ts): production never passes a clock.
 */
import { parseIntoClientConfig } from 'pg-connection-string';
import type { ClientConfig } from 'pg';
import { ConfigError } from '../errors';
import type {
  ChangesPageCommit,
  ClaimOptions,
  EnqueueRequest,
  EnqueueResult,
  FeedLease,
  IntakeEvent,
  Job,
  JobPage,
  JobReason,
  JobState,
  JobStore,
  JsonValue,
  ListJobsQuery,
  NodeRecord,
  NodeRegistration,
  RecordedIntakeEvent,
} from './jobStore';
import { JOB_STATES } from './jobStore';
import * as nodes from './postgresNodes';
import { CHANGES_PAGE_LOCK, MAX_INTAKE_EVENTS, migrate, rowToIntakeEvent, rowToJob, type IntakeEventRow, type JobRow } from './postgresSchema';
import { openPool, PgDatabase, type Operation } from './postgresSql';

export interface PostgresJobStoreOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]` (also `postgresql://`). */
  url: string;
  /** The password, when it is not in the URL (e.g. read from a file); without either, pg uses PGPASSWORD or ~/.pgpass. */
  password?: string;
  /** Connections in the pool; default 4. */
  poolSize?: number;
  /** Tests only: a clock in place of the database server's now(). Production leaves it out. */
  now?: () => Date;
}

/** `PostgreSQL HOST:PORT/DATABASE`: what readiness and logs show; never the user's password. */
export function describePostgres(config: ClientConfig): string {
  return `PostgreSQL ${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? config.user ?? ''}`;
}

/** An error's message without anything from the connection settings (pg's messages carry none); AggregateError lists its parts. */
function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(messageOf).join('; ');
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

const FINISHED = `lease_owner = NULL, lease_expires_at = NULL, not_before = NULL, finished_at = @now, updated_at = @now`;

export class PostgresJobStore implements JobStore {
  private closed = false;

  private constructor(
    private readonly db: PgDatabase,
    readonly description: string,
  ) {}

  /** Connects, brings the schema up to date (once, whoever starts first) and returns the store; a clear error when it cannot. */
  static async open(options: PostgresJobStoreOptions): Promise<PostgresJobStore> {
    let config: ClientConfig;
    try {
      config = parseIntoClientConfig(options.url);
    } catch {
      // The parser's message may quote the URL, and with it the password.
      throw new ConfigError('jobs.databaseUrl: not a PostgreSQL URL (expected postgres://USER@HOST:PORT/DATABASE)');
    }
    if (options.password !== undefined) config.password = options.password;
    const description = describePostgres(config);
    const pool = openPool({ ...config, max: options.poolSize ?? 4 });
    try {
      const client = await pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`job store ${description}: ${messageOf(err)}`);
    }
    return new PostgresJobStore(new PgDatabase(pool, options.now), description);
  }

  private async insertEvent(op: Operation, event: IntakeEvent): Promise<void> {
    await op.run(
      `INSERT INTO intake_events (at, source, outcome, orthanc_study_id, study_uid, job_id, message)
       VALUES (@now, @source, @outcome, @orthancStudyId, @studyUid, @jobId, @message)`,
      {
        source: event.source,
        outcome: event.outcome,
        orthancStudyId: event.orthancStudyId,
        studyUid: event.studyInstanceUID,
        jobId: event.jobId,
        message: event.message,
      },
    );
    await op.run(
      `DELETE FROM intake_events WHERE id IN (
         SELECT id FROM intake_events WHERE id <= (SELECT MAX(id) FROM intake_events) - @keep FOR UPDATE SKIP LOCKED)`,
      { keep: MAX_INTAKE_EVENTS },
    );
  }

  /** Insert-or-recognise, inside the caller's transaction. */
  private async enqueueIn(op: Operation, request: EnqueueRequest): Promise<EnqueueResult> {
    const key = { studyUid: request.studyInstanceUID, fingerprint: request.fingerprint };
    const inserted = await op.rows<JobRow>(
      `INSERT INTO jobs (study_uid, fingerprint, orthanc_study_id, source, state, attempts, not_before, created_at, updated_at)
       VALUES (@studyUid, @fingerprint, @orthancStudyId, @source, 'queued', 0, @notBefore, @now, @now)
       ON CONFLICT (study_uid, fingerprint) DO NOTHING
       RETURNING *`,
      { ...key, orthancStudyId: request.orthancStudyId, source: request.source, notBefore: request.notBefore },
    );
    // Nothing inserted: the job exists (perhaps committed by another node a moment ago; this statement sees it).
    const row = inserted[0] ?? (await op.rows<JobRow>('SELECT * FROM jobs WHERE study_uid = @studyUid AND fingerprint = @fingerprint', key))[0];
    const created = inserted.length === 1;
    const outcome = created ? 'enqueued' : 'recognised';
    await this.insertEvent(op, { source: request.source, outcome, orthancStudyId: request.orthancStudyId, studyInstanceUID: request.studyInstanceUID, jobId: row.id });
    return { job: rowToJob(row), created };
  }

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.db.transaction((op) => this.enqueueIn(op, request));
  }

  commitChangesPage(page: ChangesPageCommit): Promise<EnqueueResult[]> {
    return this.db.transaction(async (op) => {
      // One page at a time: two pages enqueueing the same studies in another order cannot deadlock.
      await op.rows('SELECT pg_advisory_xact_lock(@lock)', { lock: CHANGES_PAGE_LOCK });
      const results: EnqueueResult[] = [];
      for (const request of page.enqueues) results.push(await this.enqueueIn(op, request));
      for (const event of page.events) await this.insertEvent(op, event);
      const seq = page.restart ? 'EXCLUDED.seq' : 'GREATEST(change_cursor.seq, EXCLUDED.seq)';
      await op.run(
        `INSERT INTO change_cursor (id, seq, updated_at) VALUES (1, @seq, @now)
         ON CONFLICT (id) DO UPDATE SET seq = ${seq}, updated_at = EXCLUDED.updated_at`,
        { seq: page.cursor },
      );
      return results;
    });
  }

  async getChangeCursor(): Promise<number> {
    const rows = await this.db.statement().rows<{ seq: number }>('SELECT seq FROM change_cursor WHERE id = 1');
    return rows[0]?.seq ?? 0;
  }

  recordIntakeEvent(event: IntakeEvent): Promise<void> {
    return this.db.transaction((op) => this.insertEvent(op, event));
  }

  async listIntakeEvents(limit = 100): Promise<RecordedIntakeEvent[]> {
    const rows = await this.db.statement().rows<IntakeEventRow>('SELECT * FROM intake_events ORDER BY id DESC LIMIT @limit', {
      limit: Math.max(1, Math.min(1000, Math.floor(limit))),
    });
    return rows.map(rowToIntakeEvent);
  }

  async claim(options: ClaimOptions): Promise<Job | undefined> {
    const rows = await this.db.statement().rows<JobRow>(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = @owner,
         lease_expires_at = @now + @leaseMs::double precision * interval '1 millisecond',
         started_at = @now, finished_at = NULL, updated_at = @now
       WHERE id = (
         SELECT id FROM jobs
         WHERE state IN ('queued', 'running')
           AND ((state = 'queued' AND (not_before IS NULL OR not_before <= @now)) OR (state = 'running' AND lease_expires_at <= @now))
         ORDER BY COALESCE(not_before, created_at), id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      { owner: options.owner, leaseMs: options.leaseMs },
    );
    return rows.length === 1 ? rowToJob(rows[0]) : undefined;
  }

  /** Runs `UPDATE jobs SET <set>` on the job only while `owner` holds its lease; true when it did. */
  private async whileLeased(id: number, owner: string, set: string, values: Record<string, unknown> = {}): Promise<boolean> {
    const changed = await this.db.statement().run(`UPDATE jobs SET ${set} WHERE id = @id AND state = 'running' AND lease_owner = @owner`, { ...values, id, owner });
    return changed === 1;
  }

  heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.whileLeased(id, owner, `lease_expires_at = @now + @leaseMs::double precision * interval '1 millisecond', updated_at = @now`, { leaseMs });
  }

  recordProgress(id: number, owner: string, progress: { selection?: JsonValue; timingsMs?: Record<string, number> }): Promise<boolean> {
    return this.whileLeased(
      id,
      owner,
      `selection = COALESCE(@selection::jsonb, selection),
       timings = COALESCE(COALESCE(timings, '{}'::jsonb) || @timings::jsonb, timings),
       updated_at = @now`,
      {
        selection: progress.selection === undefined ? null : JSON.stringify(progress.selection),
        timings: progress.timingsMs === undefined ? null : JSON.stringify(progress.timingsMs),
      },
    );
  }

  complete(id: number, owner: string, result: { outcome?: JsonValue; resultUids?: string[]; timingsMs?: Record<string, number> }): Promise<boolean> {
    return this.whileLeased(
      id,
      owner,
      `state = 'done', ${FINISHED}, reason_code = NULL, reason_message = NULL,
       outcome = @outcome::jsonb, result_uids = @resultUids::jsonb, timings = COALESCE(timings, '{}'::jsonb) || @timings::jsonb`,
      {
        outcome: result.outcome === undefined ? null : JSON.stringify(result.outcome),
        resultUids: JSON.stringify(result.resultUids ?? []),
        timings: JSON.stringify(result.timingsMs ?? {}),
      },
    );
  }

  async markSuperseded(id: number, by: JsonValue): Promise<boolean> {
    const changed = await this.db.statement().run(
      `UPDATE jobs SET outcome = jsonb_set(outcome, '{results,supersededBy}', @by::jsonb), updated_at = @now
       WHERE id = @id AND state = 'done' AND jsonb_typeof(outcome->'results') = 'object' AND outcome->'results'->'supersededBy' IS NULL`,
      { id, by: JSON.stringify(by) },
    );
    return changed === 1;
  }

  skip(id: number, owner: string, reason: JobReason): Promise<boolean> {
    return this.whileLeased(id, owner, `state = 'skipped', ${FINISHED}, reason_code = @code, reason_message = @message`, { ...reason });
  }

  deadLetter(id: number, owner: string, reason: JobReason): Promise<boolean> {
    return this.whileLeased(id, owner, `state = 'failed', ${FINISHED}, reason_code = @code, reason_message = @message`, { ...reason });
  }

  retry(id: number, owner: string, reason: JobReason, notBefore: Date): Promise<boolean> {
    return this.whileLeased(
      id,
      owner,
      `state = 'queued', lease_owner = NULL, lease_expires_at = NULL, not_before = @notBefore, updated_at = @now, reason_code = @code, reason_message = @message`,
      { notBefore, code: reason.code, message: reason.message },
    );
  }

  release(id: number, owner: string): Promise<boolean> {
    return this.whileLeased(id, owner, `state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL, updated_at = @now`);
  }

  async releaseEarlierLives(ownerPrefix: string, currentOwner: string, reason: JobReason): Promise<Job[]> {
    if (ownerPrefix.length === 0) throw new RangeError('ownerPrefix must not be empty');
    const rows = await this.db.statement().rows<JobRow>(
      `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, not_before = NULL,
         reason_code = @code, reason_message = @message, updated_at = @now
       WHERE state = 'running' AND starts_with(lease_owner, @prefix) AND lease_owner <> @current
       RETURNING *`,
      { prefix: ownerPrefix, current: currentOwner, code: reason.code, message: reason.message },
    );
    return rows.sort((a, b) => a.id - b.id).map(rowToJob);
  }

  async requeue(id: number): Promise<{ job: Job; requeued: boolean } | undefined> {
    const op = this.db.statement();
    const requeued = await op.rows<JobRow>(
      `UPDATE jobs SET state = 'queued', attempts = 0, not_before = NULL, lease_owner = NULL, lease_expires_at = NULL,
         started_at = NULL, finished_at = NULL, reason_code = NULL, reason_message = NULL,
         selection = NULL, timings = NULL, outcome = NULL, result_uids = NULL, updated_at = @now
       WHERE id = @id AND state IN ('done', 'skipped', 'failed')
       RETURNING *`,
      { id },
    );
    if (requeued.length === 1) return { job: rowToJob(requeued[0]), requeued: true };
    const job = await this.get(id);
    return job ? { job, requeued: false } : undefined;
  }

  async get(id: number): Promise<Job | undefined> {
    const rows = await this.db.statement().rows<JobRow>('SELECT * FROM jobs WHERE id = @id', { id });
    return rows.length === 1 ? rowToJob(rows[0]) : undefined;
  }

  async list(query: ListJobsQuery = {}): Promise<JobPage> {
    const limit = Math.max(1, Math.min(500, Math.floor(query.limit ?? 50)));
    const where: string[] = [];
    if (query.state !== undefined) where.push('state = @state');
    if (query.studyInstanceUID !== undefined) where.push('study_uid = @studyUid');
    if (query.beforeId !== undefined) where.push('id < @beforeId');
    const rows = await this.db
      .statement()
      .rows<JobRow>(`SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`, {
        state: query.state,
        studyUid: query.studyInstanceUID,
        beforeId: query.beforeId,
        limit: limit + 1,
      });
    const jobs = rows.slice(0, limit).map(rowToJob);
    return rows.length > limit ? { jobs, nextBeforeId: jobs[jobs.length - 1].id } : { jobs };
  }

  async countByState(): Promise<Record<JobState, number>> {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const row of await this.db.statement().rows<{ state: JobState; n: number }>('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state')) {
      counts[row.state] = row.n;
    }
    return counts;
  }

  acquireFeedLease(owner: string, leaseMs: number): Promise<boolean> {
    return nodes.acquireFeedLease(this.db, owner, leaseMs);
  }

  renewFeedLease(owner: string, leaseMs: number): Promise<boolean> {
    return nodes.renewFeedLease(this.db, owner, leaseMs);
  }

  releaseFeedLease(owner: string): Promise<void> {
    return nodes.releaseFeedLease(this.db, owner);
  }

  getFeedLease(): Promise<FeedLease | undefined> {
    return nodes.getFeedLease(this.db);
  }

  nodeHeartbeat(node: NodeRegistration, ttlMs: number): Promise<void> {
    return nodes.nodeHeartbeat(this.db, node, ttlMs);
  }

  nodeStopped(nodeId: string, bootId: string): Promise<void> {
    return nodes.nodeStopped(this.db, nodeId, bootId);
  }

  listNodes(): Promise<NodeRecord[]> {
    return nodes.listNodes(this.db);
  }

  /** Readiness: writes in a transaction that is rolled back; rejects on a read-only database (a standby), missing rights or no connection. */
  checkWritable(): Promise<void> {
    return this.db.rolledBack(async (op) => {
      await op.run('UPDATE jobs SET state = state WHERE id = -1');
      await op.run('UPDATE change_cursor SET seq = seq WHERE id = -1');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.pool.end();
  }
}
