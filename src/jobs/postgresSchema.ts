/**
 * The PostgreSQL job store's schema: versioned migrations, recorded one row per version in
 * `schema_version` and applied in one transaction under an advisory lock, so that two nodes
 * starting at once on an empty database do not both migrate; and the mapping of its rows to the
 * contract's types. Times are `timestamptz`; JSON is `jsonb` (read back as text, see
 * postgresJobStore.ts, so that a stored JSON null and SQL NULL stay apart).
 */
import type { PoolClient } from 'pg';
import type { IntakeEvent, Job, JobState, JsonValue, RecordedIntakeEvent } from './jobStore';

/** Schema migrations, applied in order; `schema_version` holds one row per migration applied (1, 2, ...). */
export const MIGRATIONS: string[] = [
  `CREATE TABLE jobs (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     study_uid text NOT NULL,
     fingerprint text NOT NULL,
     orthanc_study_id text,
     source text NOT NULL,
     state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'skipped', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     not_before timestamptz,
     lease_owner text,
     lease_expires_at timestamptz,
     created_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL,
     started_at timestamptz,
     finished_at timestamptz,
     reason_code text,
     reason_message text,
     selection jsonb,
     timings jsonb,
     outcome jsonb,
     result_uids jsonb,
     UNIQUE (study_uid, fingerprint),
     CHECK (state <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
   );
   -- The claim's search: due jobs in the claim's order; finished jobs are not in the index.
   CREATE INDEX jobs_due ON jobs ((COALESCE(not_before, created_at)), id) WHERE state IN ('queued', 'running');
   CREATE INDEX jobs_by_state ON jobs (state, id);
   CREATE INDEX jobs_by_study ON jobs (study_uid, id);
   CREATE TABLE change_cursor (
     id smallint PRIMARY KEY CHECK (id = 1),
     seq bigint NOT NULL,
     updated_at timestamptz NOT NULL
   );
   CREATE TABLE intake_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at timestamptz NOT NULL,
     source text NOT NULL,
     outcome text NOT NULL,
     orthanc_study_id text,
     study_uid text,
     job_id bigint,
     message text
   );`,
  // 2: several nodes: the change feed's lease (one follower) and the node registry.
  `CREATE TABLE feed_lease (
     id smallint PRIMARY KEY CHECK (id = 1),
     owner text NOT NULL,
     since timestamptz NOT NULL,
     expires_at timestamptz NOT NULL
   );
   CREATE TABLE nodes (
     node_id text PRIMARY KEY,
     boot_id text NOT NULL,
     host text NOT NULL,
     version text NOT NULL,
     started_at timestamptz NOT NULL,
     last_heartbeat_at timestamptz NOT NULL,
     expires_at timestamptz NOT NULL,
     stopped_at timestamptz
   );`,
];

/** Intake events kept; older ones are pruned on insert. */
export const MAX_INTAKE_EVENTS = 10_000;

/** Advisory lock keys (per database): the schema migration, and the commit of a change-feed page. */
export const MIGRATION_LOCK = 7_310_001;
export const CHANGES_PAGE_LOCK = 7_310_002;

/**
 * Brings the schema up to date, in one transaction under an advisory lock: a second node that
 * starts at the same moment waits, then finds nothing left to do. Refuses a database whose schema
 * is newer than this version of tsr-node knows.
 */
export async function migrate(client: PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_version');
    const current = rows[0].version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the job schema in this database is version ${current}, newer than this tsr-node knows (${MIGRATIONS.length}); run a newer tsr-node`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1]);
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A row of `jobs` as the store's pool reads it: bigint as number, jsonb as its text. */
export interface JobRow {
  id: number;
  study_uid: string;
  fingerprint: string;
  orthanc_study_id: string | null;
  source: string;
  state: string;
  attempts: number;
  not_before: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  reason_code: string | null;
  reason_message: string | null;
  selection: string | null;
  timings: string | null;
  outcome: string | null;
  result_uids: string | null;
}

export interface IntakeEventRow {
  id: number;
  at: Date;
  source: string;
  outcome: string;
  orthanc_study_id: string | null;
  study_uid: string | null;
  job_id: number | null;
  message: string | null;
}

export function rowToJob(row: JobRow): Job {
  const job: Job = {
    id: row.id,
    studyInstanceUID: row.study_uid,
    fingerprint: row.fingerprint,
    source: row.source as Job['source'],
    state: row.state as JobState,
    attempts: row.attempts,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
  if (row.orthanc_study_id !== null) job.orthancStudyId = row.orthanc_study_id;
  if (row.not_before !== null) job.notBefore = row.not_before.toISOString();
  if (row.lease_owner !== null) job.leaseOwner = row.lease_owner;
  if (row.lease_expires_at !== null) job.leaseExpiresAt = row.lease_expires_at.toISOString();
  if (row.started_at !== null) job.startedAt = row.started_at.toISOString();
  if (row.finished_at !== null) job.finishedAt = row.finished_at.toISOString();
  if (row.reason_code !== null) job.reason = { code: row.reason_code, message: row.reason_message ?? '' };
  if (row.selection !== null) job.selection = JSON.parse(row.selection) as JsonValue;
  if (row.timings !== null) job.timingsMs = JSON.parse(row.timings) as Record<string, number>;
  if (row.outcome !== null) job.outcome = JSON.parse(row.outcome) as JsonValue;
  if (row.result_uids !== null) job.resultUids = JSON.parse(row.result_uids) as string[];
  return job;
}

export function rowToIntakeEvent(row: IntakeEventRow): RecordedIntakeEvent {
  return {
    id: row.id,
    at: row.at.toISOString(),
    source: row.source as IntakeEvent['source'],
    outcome: row.outcome as IntakeEvent['outcome'],
    ...(row.orthanc_study_id !== null ? { orthancStudyId: row.orthanc_study_id } : {}),
    ...(row.study_uid !== null ? { studyInstanceUID: row.study_uid } : {}),
    ...(row.job_id !== null ? { jobId: row.job_id } : {}),
    ...(row.message !== null ? { message: row.message } : {}),
  };
}
