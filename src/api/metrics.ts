/**
 * The node's metrics and their Prometheus text exposition (format 0.0.4:
 * https://prometheus.io/docs/instrumenting/exposition_formats/), written by hand: a few counters,
 * one labelled histogram family, and gauges read from the job store at scrape time.
 *
 * What an administrator watches: jobs by state and the queue depth (is it keeping up?), attempts
 * by result (is it failing?), stage durations (where does the time go?), bytes retrieved, the
 * change-feed cursor (is it following Orthanc?), and which models are loaded. With several nodes
 * on one job store, every sample carries the node's id as the label `node`, and
 * `tsr_feed_follower` says whether this node follows the change feed.
 */
import type { JobState } from '../jobs/jobStore';
import type { AttemptResult } from '../jobs/worker';

/** Upper bounds of the duration buckets, in seconds: 10 ms to 10 min. */
export const DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

type Labels = Record<string, string>;

/** Label values escaped as the text format requires: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return '{' + entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',') + '}';
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let b = 0; b < this.buckets.length; b++) if (value <= this.buckets[b]) this.counts[b]++;
  }
}

/** The gauges read at scrape time. */
export interface MetricsSnapshot {
  jobsByState: Record<JobState, number>;
  changeCursor?: number;
  models?: Array<{ role: string; name: string; version: string; sha256: string }>;
  workerActive?: number;
  workerConcurrency?: number;
  /** Set while the worker waits for the PACS to answer (it claims nothing meanwhile). */
  waitingFor?: { name: string; since: string; message: string } | undefined;
  /** Whether this node follows Orthanc's change feed now (it holds the feed lease). */
  followsFeed?: boolean;
}

export class NodeMetrics {
  private readonly attempts = new Map<AttemptResult, number>();
  private readonly stages = new Map<string, Histogram>();
  private readonly jobDurations = new Map<AttemptResult, Histogram>();
  private bytesRetrieved = 0;
  private readonly intake = new Map<string, number>();
  private readonly preparedAhead = new Map<string, number>([
    ['used', 0],
    ['discarded', 0],
    ['failed', 0],
  ]);
  private readonly startedAt = Date.now();

  /** `nodeId`: the node's id (dataDir/node-id), the `node` label of every sample. */
  constructor(
    private readonly version: string,
    private readonly nodeId?: string,
  ) {}

  /** One job attempt ended (worker.onAttemptEnd). */
  attemptEnded(result: AttemptResult, durationMs: number): void {
    this.attempts.set(result, (this.attempts.get(result) ?? 0) + 1);
    let h = this.jobDurations.get(result);
    if (!h) this.jobDurations.set(result, (h = new Histogram(DURATION_BUCKETS_S)));
    h.observe(durationMs / 1000);
  }

  /** One pipeline stage ended. */
  stage(stage: string, ms: number): void {
    let h = this.stages.get(stage);
    if (!h) this.stages.set(stage, (h = new Histogram(DURATION_BUCKETS_S)));
    h.observe(ms / 1000);
  }

  addBytesRetrieved(bytes: number): void {
    this.bytesRetrieved += bytes;
  }

  /** A notification or manual request reached intake (source: webhook, manual; outcome: enqueued, recognised, ...). */
  intakeEvent(source: string, outcome: string): void {
    const key = `${source}\n${outcome}`;
    this.intake.set(key, (this.intake.get(key) ?? 0) + 1);
  }

  /** Prepared-ahead work ended (pipeline/prepareAhead.ts): used by its job, discarded, or failed. */
  preparedAheadEnded(outcome: 'used' | 'discarded' | 'failed'): void {
    this.preparedAhead.set(outcome, (this.preparedAhead.get(outcome) ?? 0) + 1);
  }

  /** The exposition, with the store's gauges taken just now. */
  render(snapshot: MetricsSnapshot): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    const nodeLabel: Labels = this.nodeId !== undefined ? { node: this.nodeId } : {};
    const sample = (name: string, labels: Labels, value: number): void => {
      out.push(`${name}${formatLabels({ ...nodeLabel, ...labels })} ${formatNumber(value)}`);
    };
    const histogram = (name: string, labelName: string, series: Map<string, Histogram>): void => {
      for (const [labelValue, h] of [...series.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        h.buckets.forEach((le, b) => sample(`${name}_bucket`, { [labelName]: labelValue, le: formatNumber(le) }, h.counts[b]));
        sample(`${name}_bucket`, { [labelName]: labelValue, le: '+Inf' }, h.count);
        sample(`${name}_sum`, { [labelName]: labelValue }, h.sum);
        sample(`${name}_count`, { [labelName]: labelValue }, h.count);
      }
    };

    family('tsr_build_info', 'gauge', 'tsr-node version (always 1).');
    sample('tsr_build_info', { version: this.version }, 1);
    family('tsr_process_start_time_seconds', 'gauge', 'Start time of the node process, Unix seconds.');
    sample('tsr_process_start_time_seconds', {}, Math.floor(this.startedAt / 1000));
    family('tsr_process_resident_memory_bytes', 'gauge', 'Resident set size of the node process.');
    sample('tsr_process_resident_memory_bytes', {}, process.memoryUsage.rss());

    family('tsr_jobs', 'gauge', 'Jobs in the store, by state.');
    for (const [state, n] of Object.entries(snapshot.jobsByState)) sample('tsr_jobs', { state }, n);
    family('tsr_queue_depth', 'gauge', 'Jobs waiting to be analysed (state queued, including those waiting for a retry).');
    sample('tsr_queue_depth', {}, snapshot.jobsByState.queued);
    if (snapshot.workerActive !== undefined) {
      family('tsr_worker_active_jobs', 'gauge', 'Jobs this node is analysing now.');
      sample('tsr_worker_active_jobs', {}, snapshot.workerActive);
    }
    if ('waitingFor' in snapshot) {
      family('tsr_worker_waiting_for_pacs', 'gauge', '1 while the worker waits for the PACS to answer: it claims nothing, and no attempt is counted.');
      sample('tsr_worker_waiting_for_pacs', {}, snapshot.waitingFor ? 1 : 0);
    }
    if (snapshot.workerConcurrency !== undefined) {
      family('tsr_worker_concurrency', 'gauge', 'Most jobs this node analyses at once (worker.concurrency).');
      sample('tsr_worker_concurrency', {}, snapshot.workerConcurrency);
    }
    if (snapshot.followsFeed !== undefined) {
      family('tsr_feed_follower', 'gauge', "1 while this node follows Orthanc's change feed (it holds the feed lease; one node of those sharing the job store does), else 0.");
      sample('tsr_feed_follower', {}, snapshot.followsFeed ? 1 : 0);
    }
    if (snapshot.changeCursor !== undefined) {
      family('tsr_change_cursor', 'gauge', "Last Orthanc /changes sequence number committed by the change feed.");
      sample('tsr_change_cursor', {}, snapshot.changeCursor);
    }

    family('tsr_job_attempts_total', 'counter', 'Job attempts ended since start, by result (done, skipped, retry, failed, released, lease-lost).');
    for (const [result, n] of [...this.attempts.entries()].sort(([a], [b]) => a.localeCompare(b))) sample('tsr_job_attempts_total', { result }, n);
    family('tsr_job_duration_seconds', 'histogram', 'Duration of job attempts, by result.');
    histogram('tsr_job_duration_seconds', 'result', this.jobDurations);
    family('tsr_stage_duration_seconds', 'histogram', 'Duration of pipeline stages (discover, select, imageEvidence, retrieve, localise, crop, classify, buildResults, store).');
    histogram('tsr_stage_duration_seconds', 'stage', this.stages);
    family('tsr_retrieved_bytes_total', 'counter', 'Bytes received by WADO-RS retrievals of series since start.');
    sample('tsr_retrieved_bytes_total', {}, this.bytesRetrieved);
    family('tsr_intake_total', 'counter', 'Webhook notifications and manual requests received since start, by source and outcome.');
    for (const [key, n] of [...this.intake.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const [source, outcome] = key.split('\n');
      sample('tsr_intake_total', { source, outcome }, n);
    }
    family('tsr_prepared_ahead_total', 'counter', 'Studies analysed ahead of StableStudy since start, by outcome: used by their job, discarded (content changed, aborted for a job, expired, replaced), failed (refused or PACS error).');
    for (const [outcome, n] of this.preparedAhead) sample('tsr_prepared_ahead_total', { outcome }, n);
    if (snapshot.models) {
      family('tsr_model_info', 'gauge', 'Models loaded and verified at start (always 1).');
      for (const m of snapshot.models) sample('tsr_model_info', { role: m.role, name: m.name, version: m.version, sha256: m.sha256 }, 1);
    }
    return out.join('\n') + '\n';
  }
}
