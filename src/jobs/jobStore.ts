/**
 * The job store contract: everything the intake, the worker and the HTTP API need from durable
 * storage. SQLite (sqliteJobStore.ts) is the embedded default; a site that runs several nodes
 * on one PostgreSQL uses the second adapter (postgresJobStore.ts, claims with
 * `FOR UPDATE SKIP LOCKED`). Both pass the same conformance suite
 * (test/integration/jobStoreConformance.ts), two stores racing on one database included.
 *
 * Every method is one transaction. Methods that act on a claimed job take the claimer's `owner`
 * and do nothing (returning false) when that owner no longer holds the lease: a worker whose
 * lease expired and whose job was reclaimed elsewhere cannot overwrite the new attempt.
 *
 * Life of a job:
 *   queued --claim--> running --complete--> done
 *                        |  \--skip------> skipped      (AnalysisRefusedError: input cannot be analysed)
 *                        |  \--retry-----> queued       (with notBefore; transient trouble)
 *                        |  \--deadLetter> failed       (attempts exhausted, or a permanent error)
 *                        \--release------> queued       (graceful stop; the attempt is not counted)
 *   a running job whose lease expired can be claimed again (a crashed worker's job comes back);
 *   running --releaseEarlierLives--> queued   (a restarted node frees what its previous life held)
 *   done / skipped / failed --requeue--> queued          (manual retry or re-run)
 *
 * Time. One clock decides every lease: the store's own. A claim or heartbeat takes the lease's
 * length (`leaseMs`), never an end time, and the store adds it to its clock; whether a lease has
 * expired, and every createdAt / updatedAt / startedAt / finishedAt, are read from the same clock.
 * For the embedded SQLite store that is the node's clock (one machine, or processes on one
 * machine sharing the file). A store shared by several machines uses the database server's clock
 * (e.g. PostgreSQL's now()), so that nodes whose clocks disagree still agree on who holds a job.
 * The only absolute times a caller passes in are `notBefore` (enqueue, retry): the earliest claim
 * time, from the caller's clock; a skew between machines shifts a retry by that skew, no more.
 *
 * Several nodes on one store (PostgreSQL). Orthanc keeps no cursor per reader, so exactly one node
 * at a time follows /changes: the one that holds the feed lease (acquireFeedLease, renewed like a
 * job's lease, released at a graceful stop; when its holder dies another node takes it once it has
 * run out). Every node registers itself with a heartbeat (nodeHeartbeat) so that the status page
 * and GET /api/nodes list the nodes, which one follows the feed, and the jobs each one runs. Both
 * are timed by the store's clock, as the job leases are.
 *
 * Which store a node uses is configuration (createJobStore.ts).
 */

export type JobState = 'queued' | 'running' | 'done' | 'skipped' | 'failed';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'skipped', 'failed'];

/** How the study came in. */
export type IntakeSource = 'feed' | 'webhook' | 'manual';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JobReason {
  /** Stable kebab-case code (AnalysisRefusedError.code, or e.g. `pacs-unavailable`). */
  code: string;
  message: string;
}

export interface Job {
  id: number;
  studyInstanceUID: string;
  /** Content fingerprint of the study when it was enqueued (see orthanc/studyFingerprint.ts). */
  fingerprint: string;
  /** Orthanc's own study id, when the study came from Orthanc's change feed or webhook. */
  orthancStudyId?: string;
  source: IntakeSource;
  state: JobState;
  /** Attempts started (claims), including the running one. */
  attempts: number;
  /** ISO time before which a queued job is not claimed. */
  notBefore?: string;
  leaseOwner?: string;
  leaseExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
  /** Start of the latest attempt. */
  startedAt?: string;
  finishedAt?: string;
  /** Why the job was skipped or failed, or why its last attempt will be retried. */
  reason?: JobReason;
  /** The phase-selection explanation, as recorded by the pipeline. */
  selection?: JsonValue;
  /** Stage durations of the latest attempt, in ms. */
  timingsMs?: Record<string, number>;
  /** What the analysis concluded (done jobs). */
  outcome?: JsonValue;
  /** SOP Instance UIDs of the objects stored back into the PACS. */
  resultUids?: string[];
}

export interface EnqueueRequest {
  studyInstanceUID: string;
  fingerprint: string;
  orthancStudyId?: string;
  source: IntakeSource;
  /** Earliest claim time; default now. */
  notBefore?: Date;
}

export interface EnqueueResult {
  job: Job;
  /** true: new work. false: the same study content was already known (recognised, not re-queued). */
  created: boolean;
}

/** What happened to one notification or change; kept for administrators ("did it pick up my study?"). */
export interface IntakeEvent {
  source: IntakeSource;
  outcome: 'enqueued' | 'recognised' | 'study-deleted' | 'not-found' | 'ignored';
  orthancStudyId?: string;
  studyInstanceUID?: string;
  jobId?: number;
  message?: string;
}

export interface RecordedIntakeEvent extends IntakeEvent {
  id: number;
  at: string;
}

/** One page of Orthanc's /changes, applied atomically with the cursor that follows it. */
export interface ChangesPageCommit {
  /** Orthanc's `Last` of the page: the next poll asks `since` this. The cursor only moves forward: a smaller one is ignored. */
  cursor: number;
  /** Orthanc's change log started again (a new or restored Orthanc database): the cursor is set to `cursor` even if smaller. */
  restart?: boolean;
  enqueues: EnqueueRequest[];
  /** Changes that did not become work (deleted study, ...). */
  events: IntakeEvent[];
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
}

export interface ListJobsQuery {
  state?: JobState;
  studyInstanceUID?: string;
  /** Page size, 1..500; default 50. */
  limit?: number;
  /** Newest first; pass the previous page's `nextBeforeId` for the next page. */
  beforeId?: number;
}

export interface JobPage {
  jobs: Job[];
  /** Absent on the last page. */
  nextBeforeId?: number;
}

/** Who follows Orthanc's change feed now (an unexpired feed lease). */
export interface FeedLease {
  /** The holder, `<node id>/<boot id>` as in job leases. */
  owner: string;
  /** When this owner took the lease (renewals keep it). */
  since: string;
  expiresAt: string;
}

/** What a node says of itself on each heartbeat. */
export interface NodeRegistration {
  /** dataDir/node-id: the same across restarts. */
  nodeId: string;
  /** This life of the node (a new one at each start). */
  bootId: string;
  host: string;
  /** tsr-node's version. */
  version: string;
}

/** A registered node, as the store sees it now. */
export interface NodeRecord extends NodeRegistration {
  /** Start of the life named by bootId. */
  startedAt: string;
  lastHeartbeatAt: string;
  /** Set when the node stopped gracefully (nodeStopped). */
  stoppedAt?: string;
  /** Heard from within its time to live, and not stopped. */
  live: boolean;
  /** This life of the node holds the feed lease (and it has not run out). */
  followsFeed: boolean;
  /** Jobs whose lease this life of the node holds, oldest first. */
  runningJobIds: number[];
}

/** Nodes not heard from for this long are forgotten (pruned at the next heartbeat of any node). */
export const FORGET_NODES_AFTER_MS = 7 * 24 * 3600_000;

export interface JobStore {
  /** What an administrator reads in readiness and logs, e.g. `SQLite /var/lib/tsr-node/jobs.sqlite`; never a password. */
  readonly description: string;

  /**
   * Idempotent on (studyInstanceUID, fingerprint): the same content enqueued twice returns the
   * existing job with created=false, whatever its state. Records an intake event.
   */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>;

  /**
   * Enqueues a page of changes and advances the change cursor in one transaction, so a restart
   * resumes exactly after the last committed page. Results are in the order of `enqueues`. The
   * cursor never moves back, even when two writers race, unless the page says `restart`.
   */
  commitChangesPage(page: ChangesPageCommit): Promise<EnqueueResult[]>;

  /** The /changes cursor (Orthanc's `Last`), 0 before the first page. */
  getChangeCursor(): Promise<number>;

  /** Records an intake event on its own (e.g. a webhook for a study that no longer exists). */
  recordIntakeEvent(event: IntakeEvent): Promise<void>;

  /** Newest first. */
  listIntakeEvents(limit?: number): Promise<RecordedIntakeEvent[]>;

  /**
   * Claims the next due job, oldest first: a queued job whose notBefore has passed, or a running
   * job whose lease has expired. Sets it running with a lease for `owner` and counts the attempt.
   */
  claim(options: ClaimOptions): Promise<Job | undefined>;

  /** Extends the lease; false when `owner` no longer holds it. */
  heartbeat(id: number, owner: string, leaseMs: number): Promise<boolean>;

  /** Stores the selection explanation and/or merges stage timings into the running job. */
  recordProgress(id: number, owner: string, progress: { selection?: JsonValue; timingsMs?: Record<string, number> }): Promise<boolean>;

  /** running -> done. */
  complete(id: number, owner: string, result: { outcome?: JsonValue; resultUids?: string[]; timingsMs?: Record<string, number> }): Promise<boolean>;

  /**
   * Records on a done job that a later result superseded its results: sets
   * `outcome.results.supersededBy` to `by`, unless the job already has one (the first record
   * stays). True when it was set; false when the job is not done, has no `outcome.results`, or
   * was marked already. Not leased: any node may mark any done job.
   */
  markSuperseded(id: number, by: JsonValue): Promise<boolean>;

  /** running -> skipped, for input that cannot be analysed. */
  skip(id: number, owner: string, reason: JobReason): Promise<boolean>;

  /** running -> queued, not claimable before `notBefore`; the reason is kept for display. */
  retry(id: number, owner: string, reason: JobReason, notBefore: Date): Promise<boolean>;

  /** running -> failed (dead letter). */
  deadLetter(id: number, owner: string, reason: JobReason): Promise<boolean>;

  /** running -> queued without counting the attempt (graceful stop). */
  release(id: number, owner: string): Promise<boolean>;

  /**
   * A node that starts again frees the jobs its earlier lives held: every running job whose lease
   * owner begins with `ownerPrefix` (the node's id and a separator) and is not `currentOwner` goes
   * back to the queue at once, due now, whatever its lease; its crashed attempt stays counted and
   * `reason` says what happened. Returns the jobs freed.
   */
  releaseEarlierLives(ownerPrefix: string, currentOwner: string, reason: JobReason): Promise<Job[]>;

  /**
   * done / skipped / failed -> queued, attempts reset (manual retry or re-run). Returns the
   * job, or undefined when it does not exist; a queued or running job is returned unchanged.
   */
  requeue(id: number): Promise<{ job: Job; requeued: boolean } | undefined>;

  get(id: number): Promise<Job | undefined>;

  list(query?: ListJobsQuery): Promise<JobPage>;

  /** Jobs per state, every state present (0 when none). */
  countByState(): Promise<Record<JobState, number>>;

  /**
   * Takes the change feed's lease for `owner` when nobody holds it, it has run out, or `owner`
   * holds it already (then it is extended); true when `owner` holds it now. Two nodes asking at
   * once: one gets it.
   */
  acquireFeedLease(owner: string, leaseMs: number): Promise<boolean>;

  /** Extends the feed lease while `owner` holds it; false when another owner took it (or none holds it). */
  renewFeedLease(owner: string, leaseMs: number): Promise<boolean>;

  /** Gives the feed lease up when `owner` holds it (graceful stop): another node may take it at once. */
  releaseFeedLease(owner: string): Promise<void>;

  /** The feed lease, when one is held and has not run out. */
  getFeedLease(): Promise<FeedLease | undefined>;

  /**
   * Registers this life of a node, or renews its registration: heard from now, live for `ttlMs`.
   * A new bootId for the same nodeId (a restart) starts its record again (startedAt now).
   */
  nodeHeartbeat(node: NodeRegistration, ttlMs: number): Promise<void>;

  /** Marks this life of the node stopped (graceful stop); nothing when another life has registered since. */
  nodeStopped(nodeId: string, bootId: string): Promise<void>;

  /** Registered nodes, by node id, with whether each is live, follows the feed, and its running jobs. */
  listNodes(): Promise<NodeRecord[]>;

  /** Readiness probe: takes the write lock and writes nothing (rolled back); rejects when the store cannot be written. Optional. */
  checkWritable?(): Promise<void>;

  close(): Promise<void>;
}
