/**
 * The SQLite job store's schema (migrations, applied in order; PRAGMA user_version counts those
 * applied) and the mapping of its rows to the contract's types. Pure.
 */
import type { Job, JobState, JsonValue } from './jobStore';

/** Schema migrations, applied in order; PRAGMA user_version counts those applied. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE jobs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     study_uid TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     orthanc_study_id TEXT,
     source TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'skipped', 'failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     not_before INTEGER,
     lease_owner TEXT,
     lease_expires_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     reason_code TEXT,
     reason_message TEXT,
     selection_json TEXT,
     timings_json TEXT,
     outcome_json TEXT,
     result_uids_json TEXT,
     UNIQUE (study_uid, fingerprint),
     CHECK (state <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
   );
   CREATE INDEX jobs_by_state ON jobs (state, not_before, id);
   CREATE INDEX jobs_by_study ON jobs (study_uid, id);
   CREATE TABLE change_cursor (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     seq INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE intake_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     source TEXT NOT NULL,
     outcome TEXT NOT NULL,
     orthanc_study_id TEXT,
     study_uid TEXT,
     job_id INTEGER,
     message TEXT
   );`,
  // 2: several nodes: the change feed's lease (one follower) and the node registry.
  `CREATE TABLE feed_lease (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     owner TEXT NOT NULL,
     since INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE nodes (
     node_id TEXT PRIMARY KEY,
     boot_id TEXT NOT NULL,
     host TEXT NOT NULL,
     version TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     last_heartbeat_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     stopped_at INTEGER
   );`,
];

/** Intake events kept; older ones are pruned on insert. */
export const MAX_INTAKE_EVENTS = 10_000;

export interface JobRow {
  id: number;
  study_uid: string;
  fingerprint: string;
  orthanc_study_id: string | null;
  source: string;
  state: string;
  attempts: number;
  not_before: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  reason_code: string | null;
  reason_message: string | null;
  selection_json: string | null;
  timings_json: string | null;
  outcome_json: string | null;
  result_uids_json: string | null;
}

export interface IntakeEventRow {
  id: number;
  at: number;
  source: string;
  outcome: string;
  orthanc_study_id: string | null;
  study_uid: string | null;
  job_id: number | null;
  message: string | null;
}

const iso = (ms: number | null): string | undefined => (ms === null ? undefined : new Date(ms).toISOString());

export function rowToJob(row: JobRow): Job {
  const job: Job = {
    id: row.id,
    studyInstanceUID: row.study_uid,
    fingerprint: row.fingerprint,
    source: row.source as Job['source'],
    state: row.state as JobState,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.orthanc_study_id !== null) job.orthancStudyId = row.orthanc_study_id;
  if (row.not_before !== null) job.notBefore = iso(row.not_before);
  if (row.lease_owner !== null) job.leaseOwner = row.lease_owner;
  if (row.lease_expires_at !== null) job.leaseExpiresAt = iso(row.lease_expires_at);
  if (row.started_at !== null) job.startedAt = iso(row.started_at);
  if (row.finished_at !== null) job.finishedAt = iso(row.finished_at);
  if (row.reason_code !== null) job.reason = { code: row.reason_code, message: row.reason_message ?? '' };
  if (row.selection_json !== null) job.selection = JSON.parse(row.selection_json) as JsonValue;
  if (row.timings_json !== null) job.timingsMs = JSON.parse(row.timings_json) as Record<string, number>;
  if (row.outcome_json !== null) job.outcome = JSON.parse(row.outcome_json) as JsonValue;
  if (row.result_uids_json !== null) job.resultUids = JSON.parse(row.result_uids_json) as string[];
  return job;
}
