/**
 * The embedded job store: one SQLite file (better-sqlite3 v12) under the data directory, in WAL
 * mode with synchronous=FULL, so a committed transaction survives `kill -9` and power loss, and
 * an interrupted one leaves nothing behind. Every method is one transaction; claims take the
 * write lock first (BEGIN IMMEDIATE), so two processes sharing the file never claim the same job.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
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
import * as nodes from './sqliteNodes';
import { MAX_INTAKE_EVENTS, MIGRATIONS, rowToJob, type IntakeEventRow, type JobRow } from './sqliteSchema';

export const JOB_STORE_FILE = 'jobs.sqlite';

export interface SqliteJobStoreOptions {
  /** The database file (`.sqlite`, `.sqlite3`, `.db`), or a folder in which `jobs.sqlite` is kept (e.g. config.dataDir). */
  path: string;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

/** Thrown inside the readiness probe's transaction so that better-sqlite3 rolls it back. */
class RollbackProbe extends Error {}

export class SqliteJobStore implements JobStore {
  readonly file: string;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly now: () => Date;

  constructor(options: SqliteJobStoreOptions) {
    this.file = /\.(sqlite3?|db)$/i.test(options.path) ? options.path : path.join(options.path, JOB_STORE_FILE);
    mkdirSync(path.dirname(this.file), { recursive: true });
    this.description = `SQLite ${this.file}`;
    this.now = options.now ?? (() => new Date());
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    // Another process (a second node on the same file, or the CLI) may hold the write lock briefly.
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  /** Runs a synchronous database operation as a promise; an exception becomes a rejection. */
  private op<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => resolve(fn()));
  }

  private ms(): number {
    return this.now().getTime();
  }

  private row(id: number): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  private insertEvent(event: IntakeEvent, at: number): void {
    this.db
      .prepare(
        `INSERT INTO intake_events (at, source, outcome, orthanc_study_id, study_uid, job_id, message)
         VALUES (@at, @source, @outcome, @orthancStudyId, @studyUid, @jobId, @message)`,
      )
      .run({
        at,
        source: event.source,
        outcome: event.outcome,
        orthancStudyId: event.orthancStudyId ?? null,
        studyUid: event.studyInstanceUID ?? null,
        jobId: event.jobId ?? null,
        message: event.message ?? null,
      });
    this.db.prepare('DELETE FROM intake_events WHERE id <= (SELECT MAX(id) FROM intake_events) - ?').run(MAX_INTAKE_EVENTS);
  }

  /** Insert-or-recognise, inside the caller's transaction. */
  private enqueueInTransaction(request: EnqueueRequest, at: number): EnqueueResult {
    const existing = this.db.prepare('SELECT * FROM jobs WHERE study_uid = ? AND fingerprint = ?').get(request.studyInstanceUID, request.fingerprint) as JobRow | undefined;
    if (existing) {
      this.insertEvent(
        { source: request.source, outcome: 'recognised', orthancStudyId: request.orthancStudyId, studyInstanceUID: request.studyInstanceUID, jobId: existing.id },
        at,
      );
      return { job: rowToJob(existing), created: false };
    }
    const info = this.db
      .prepare(
        `INSERT INTO jobs (study_uid, fingerprint, orthanc_study_id, source, state, attempts, not_before, created_at, updated_at)
         VALUES (@studyUid, @fingerprint, @orthancStudyId, @source, 'queued', 0, @notBefore, @at, @at)`,
      )
      .run({
        studyUid: request.studyInstanceUID,
        fingerprint: request.fingerprint,
        orthancStudyId: request.orthancStudyId ?? null,
        source: request.source,
        notBefore: request.notBefore ? request.notBefore.getTime() : null,
        at,
      });
    const id = Number(info.lastInsertRowid);
    this.insertEvent({ source: request.source, outcome: 'enqueued', orthancStudyId: request.orthancStudyId, studyInstanceUID: request.studyInstanceUID, jobId: id }, at);
    return { job: rowToJob(this.row(id) as JobRow), created: true };
  }

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.op(() =>this.db.transaction(() => this.enqueueInTransaction(request, this.ms())).immediate());
  }

  commitChangesPage(page: ChangesPageCommit): Promise<EnqueueResult[]> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const at = this.ms();
          const results = page.enqueues.map((r) => this.enqueueInTransaction(r, at));
          for (const event of page.events) this.insertEvent(event, at);
          // Forward only, unless Orthanc's log restarted.
          const seq = page.restart ? '@seq' : 'MAX(seq, @seq)';
          this.db
            .prepare(`INSERT INTO change_cursor (id, seq, updated_at) VALUES (1, @seq, @at) ON CONFLICT (id) DO UPDATE SET seq = ${seq}, updated_at = @at`)
            .run({ seq: page.cursor, at });
          return results;
        })
        .immediate(),
    );
  }

  getChangeCursor(): Promise<number> {
    return this.op(() => (this.db.prepare('SELECT seq FROM change_cursor WHERE id = 1').get() as { seq: number } | undefined)?.seq ?? 0);
  }

  recordIntakeEvent(event: IntakeEvent): Promise<void> {
    return this.op(() => this.db.transaction(() => this.insertEvent(event, this.ms())).immediate());
  }

  listIntakeEvents(limit = 100): Promise<RecordedIntakeEvent[]> {
    return this.op(() => {
      const rows = this.db.prepare('SELECT * FROM intake_events ORDER BY id DESC LIMIT ?').all(Math.max(1, Math.min(1000, Math.floor(limit)))) as IntakeEventRow[];
      return rows.map((r) => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        source: r.source as IntakeEvent['source'],
        outcome: r.outcome as IntakeEvent['outcome'],
        ...(r.orthanc_study_id !== null ? { orthancStudyId: r.orthanc_study_id } : {}),
        ...(r.study_uid !== null ? { studyInstanceUID: r.study_uid } : {}),
        ...(r.job_id !== null ? { jobId: r.job_id } : {}),
        ...(r.message !== null ? { message: r.message } : {}),
      }));
    });
  }


  claim(options: ClaimOptions): Promise<Job | undefined> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const now = this.ms();
          const due = this.db
            .prepare(
              `SELECT id FROM jobs
               WHERE (state = 'queued' AND (not_before IS NULL OR not_before <= @now))
                  OR (state = 'running' AND lease_expires_at <= @now)
               ORDER BY COALESCE(not_before, created_at), id
               LIMIT 1`,
            )
            .get({ now }) as { id: number } | undefined;
          if (!due) return undefined;
          this.db
            .prepare(
              `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = @owner,
                 lease_expires_at = @expires, started_at = @now, finished_at = NULL, updated_at = @now
               WHERE id = @id`,
            )
            .run({ id: due.id, owner: options.owner, expires: now + options.leaseMs, now });
          return rowToJob(this.row(due.id) as JobRow);
        })
        .immediate(),
    );
  }

  /** Runs `sql` on the job only while `owner` holds its lease; true when a row changed. */
  private whileLeased(id: number, owner: string, sql: string, params: Record<string, unknown>): boolean {
    const info = this.db.prepare(`${sql} WHERE id = @id AND state = 'running' AND lease_owner = @owner`).run({ ...params, id, owner, now: this.ms() });
    return info.changes === 1;
  }

  heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.op(() =>this.whileLeased(id, owner, 'UPDATE jobs SET lease_expires_at = @now + @leaseMs, updated_at = @now', { leaseMs }));
  }

  recordProgress(id: number, owner: string, progress: { selection?: JsonValue; timingsMs?: Record<string, number> }): Promise<boolean> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const row = this.row(id);
          if (!row || row.state !== 'running' || row.lease_owner !== owner) return false;
          const timings = progress.timingsMs ? { ...(row.timings_json ? (JSON.parse(row.timings_json) as Record<string, number>) : {}), ...progress.timingsMs } : undefined;
          return this.whileLeased(
            id,
            owner,
            `UPDATE jobs SET selection_json = COALESCE(@selection, selection_json), timings_json = COALESCE(@timings, timings_json), updated_at = @now`,
            {
              selection: progress.selection === undefined ? null : JSON.stringify(progress.selection),
              timings: timings === undefined ? null : JSON.stringify(timings),
            },
          );
        })
        .immediate(),
    );
  }

  complete(id: number, owner: string, result: { outcome?: JsonValue; resultUids?: string[]; timingsMs?: Record<string, number> }): Promise<boolean> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const row = this.row(id);
          if (!row || row.state !== 'running' || row.lease_owner !== owner) return false;
          const timings = { ...(row.timings_json ? (JSON.parse(row.timings_json) as Record<string, number>) : {}), ...result.timingsMs };
          return this.whileLeased(
            id,
            owner,
            `UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, not_before = NULL, finished_at = @now, updated_at = @now,
               reason_code = NULL, reason_message = NULL, outcome_json = @outcome, result_uids_json = @resultUids, timings_json = @timings`,
            {
              outcome: result.outcome === undefined ? null : JSON.stringify(result.outcome),
              resultUids: JSON.stringify(result.resultUids ?? []),
              timings: JSON.stringify(timings),
            },
          );
        })
        .immediate(),
    );
  }

  markSuperseded(id: number, by: JsonValue): Promise<boolean> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const row = this.row(id);
          if (!row || row.state !== 'done' || row.outcome_json === null) return false;
          const outcome = JSON.parse(row.outcome_json) as { results?: Record<string, JsonValue> };
          const results = outcome.results;
          if (!results || typeof results !== 'object' || Array.isArray(results) || results.supersededBy !== undefined) return false;
          results.supersededBy = by;
          this.db.prepare('UPDATE jobs SET outcome_json = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(outcome), this.ms(), id);
          return true;
        })
        .immediate(),
    );
  }

  private finish(id: number, owner: string, state: 'skipped' | 'failed', reason: JobReason): boolean {
    return this.whileLeased(
      id,
      owner,
      `UPDATE jobs SET state = @state, lease_owner = NULL, lease_expires_at = NULL, not_before = NULL, finished_at = @now, updated_at = @now,
         reason_code = @code, reason_message = @message`,
      { state, code: reason.code, message: reason.message },
    );
  }

  skip(id: number, owner: string, reason: JobReason): Promise<boolean> {
    return this.op(() =>this.finish(id, owner, 'skipped', reason));
  }

  deadLetter(id: number, owner: string, reason: JobReason): Promise<boolean> {
    return this.op(() =>this.finish(id, owner, 'failed', reason));
  }

  retry(id: number, owner: string, reason: JobReason, notBefore: Date): Promise<boolean> {
    return this.op(() =>
      this.whileLeased(
        id,
        owner,
        `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, not_before = @notBefore, updated_at = @now,
           reason_code = @code, reason_message = @message`,
        { notBefore: notBefore.getTime(), code: reason.code, message: reason.message },
      ),
    );
  }

  release(id: number, owner: string): Promise<boolean> {
    return this.op(() =>
      this.whileLeased(
        id,
        owner,
        `UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL, updated_at = @now`,
        {},
      ),
    );
  }

  releaseEarlierLives(ownerPrefix: string, currentOwner: string, reason: JobReason): Promise<Job[]> {
    if (ownerPrefix.length === 0) return Promise.reject(new RangeError('ownerPrefix must not be empty'));
    return this.op(() => {
      const rows = this.db
        .prepare(
          `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, not_before = NULL, reason_code = @code, reason_message = @message, updated_at = @now
           WHERE state = 'running' AND substr(lease_owner, 1, length(@prefix)) = @prefix AND lease_owner <> @current
           RETURNING *`,
        )
        .all({ prefix: ownerPrefix, current: currentOwner, code: reason.code, message: reason.message, now: this.ms() }) as JobRow[];
      return rows.sort((a, b) => a.id - b.id).map(rowToJob);
    });
  }

  requeue(id: number): Promise<{ job: Job; requeued: boolean } | undefined> {
    return this.op(() =>
      this.db
        .transaction(() => {
          const row = this.row(id);
          if (!row) return undefined;
          if (row.state === 'queued' || row.state === 'running') return { job: rowToJob(row), requeued: false };
          this.db
            .prepare(
              `UPDATE jobs SET state = 'queued', attempts = 0, not_before = NULL, lease_owner = NULL, lease_expires_at = NULL,
                 started_at = NULL, finished_at = NULL, reason_code = NULL, reason_message = NULL,
                 selection_json = NULL, timings_json = NULL, outcome_json = NULL, result_uids_json = NULL, updated_at = @now
               WHERE id = @id`,
            )
            .run({ id, now: this.ms() });
          return { job: rowToJob(this.row(id) as JobRow), requeued: true };
        })
        .immediate(),
    );
  }

  get(id: number): Promise<Job | undefined> {
    return this.op(() => {
      const row = this.row(id);
      return row ? rowToJob(row) : undefined;
    });
  }

  list(query: ListJobsQuery = {}): Promise<JobPage> {
    return this.op(() => {
      const limit = Math.max(1, Math.min(500, Math.floor(query.limit ?? 50)));
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: limit + 1 };
      if (query.state !== undefined) {
        where.push('state = @state');
        params.state = query.state;
      }
      if (query.studyInstanceUID !== undefined) {
        where.push('study_uid = @studyUid');
        params.studyUid = query.studyInstanceUID;
      }
      if (query.beforeId !== undefined) {
        where.push('id < @beforeId');
        params.beforeId = query.beforeId;
      }
      const sql = `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`;
      const rows = this.db.prepare(sql).all(params) as JobRow[];
      const jobs = rows.slice(0, limit).map(rowToJob);
      return rows.length > limit ? { jobs, nextBeforeId: jobs[jobs.length - 1].id } : { jobs };
    });
  }


  checkWritable(): Promise<void> {
    return this.op(() => {
      // A real write inside a transaction that is rolled back: fails on a read-only file or a held lock.
      this.db.transaction(() => {
        this.db.prepare('UPDATE jobs SET id = id WHERE id = -1').run();
        this.db.prepare("INSERT INTO intake_events (at, source, outcome) VALUES (0, 'readiness', 'ignored')").run();
        throw new RollbackProbe();
      }).immediate();
    }).catch((err: unknown) => {
      if (!(err instanceof RollbackProbe)) throw err;
    });
  }

  countByState(): Promise<Record<JobState, number>> {
    return this.op(() => {
      const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
      for (const row of this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as Array<{ state: JobState; n: number }>) {
        counts[row.state] = row.n;
      }
      return counts;
    });
  }


  acquireFeedLease(owner: string, leaseMs: number): Promise<boolean> {
    return this.op(() => nodes.acquireFeedLease(this.db, owner, leaseMs, this.ms()));
  }

  renewFeedLease(owner: string, leaseMs: number): Promise<boolean> {
    return this.op(() => nodes.renewFeedLease(this.db, owner, leaseMs, this.ms()));
  }

  releaseFeedLease(owner: string): Promise<void> {
    return this.op(() => nodes.releaseFeedLease(this.db, owner));
  }

  getFeedLease(): Promise<FeedLease | undefined> {
    return this.op(() => nodes.getFeedLease(this.db, this.ms()));
  }

  nodeHeartbeat(node: NodeRegistration, ttlMs: number): Promise<void> {
    return this.op(() => nodes.nodeHeartbeat(this.db, node, ttlMs, this.ms()));
  }

  nodeStopped(nodeId: string, bootId: string): Promise<void> {
    return this.op(() => nodes.nodeStopped(this.db, nodeId, bootId, this.ms()));
  }

  listNodes(): Promise<NodeRecord[]> {
    return this.op(() => nodes.listNodes(this.db, this.ms()));
  }

  /** SQLite's own consistency check ("ok" when sound); for tests and `tsr-node` diagnostics. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): Promise<void> {
    return this.op(() => {
      if (this.db.open) this.db.close();
    });
  }
}
