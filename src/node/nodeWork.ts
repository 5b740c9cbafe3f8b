/**
 * The working part of `tsr-node serve`, wired from the configuration: the pipeline, the worker
 * and its job handler, the intake, the change feed and prepare-ahead, and the metrics they report
 * to. Nothing here starts: startNode (tsrNode.ts) starts the worker and the feed once the HTTP API
 * listens.
 */
import type { NodeMetrics } from '../api/metrics';
import type { Config } from '../config/schema';
import type { DicomWebClientHandle } from '../dicomweb/client';
import type { ModelSet } from '../inference/modelSet';
import type { JobStore } from '../jobs/jobStore';
import { Worker, type AttemptResult } from '../jobs/worker';
import type { Logger } from '../logging/logger';
import { ChangeFeed } from '../orthanc/changeFeed';
import { StudyIntake } from '../orthanc/intake';
import type { OrthancRestClient } from '../orthanc/orthancRest';
import type { StudyPipeline } from '../pipeline/analyseStudy';
import { PrepareAhead } from '../pipeline/prepareAhead';
import { PreparedResultCache } from '../pipeline/preparedResults';
import { createStudyJobHandler } from '../pipeline/studyJobHandler';
import { nodeDevice } from '../results/device';
import { VolumeBufferPool } from '../study/volumeBuffers';

export interface NodeWorkOptions {
  config: Config;
  store: JobStore;
  models: ModelSet;
  dicomWeb: DicomWebClientHandle;
  orthanc: OrthancRestClient;
  metrics: NodeMetrics;
  logger: Logger;
  /** Called after each job attempt (tests, benchmarks). */
  onAttemptEnd?: (jobId: number, result: AttemptResult, durationMs: number) => void;
  /** Worker poll interval when idle, in ms (default 1000). */
  workerPollIntervalMs?: number;
  /** The worker's lease owner (nodeIdentity.ts). */
  owner: string;
}

export interface NodeWork {
  pipeline: StudyPipeline;
  worker: Worker;
  intake: StudyIntake;
  /** Present unless feed.mode is `webhook`. */
  feed?: ChangeFeed;
  /** Present when feed.prepareAhead is on and the change feed runs. */
  prepareAhead?: PrepareAhead;
  /** Frees what the work holds (prepared results, volume buffers); after the worker stopped. */
  release(): Promise<void>;
}

function studyPipeline(options: NodeWorkOptions, volumeBuffers: VolumeBufferPool): StudyPipeline {
  const { config } = options;
  return {
    dicomWeb: options.dicomWeb,
    models: options.models,
    rules: config.selection,
    results: {
      store: config.results.store,
      srSeriesDescription: config.results.srSeriesDescription,
      scSeriesDescription: config.results.scSeriesDescription,
      device: nodeDevice(config.results.deviceName, config.results.institutionName),
    },
    logger: options.logger,
    volumeBuffers,
  };
}

/** Prepare-ahead needs the change feed: only /changes tells of instances still arriving. */
function createPrepareAhead(options: NodeWorkOptions, pipeline: StudyPipeline, feedRuns: boolean, isIdle: () => Promise<boolean>): PrepareAhead | undefined {
  const { config, logger } = options;
  if (!config.feed.prepareAhead.enabled) return undefined;
  if (!feedRuns) {
    logger.info('prepare-ahead is off: it needs the change feed (feed.mode poll or both)');
    return undefined;
  }
  return new PrepareAhead({
    pipeline,
    orthanc: options.orthanc,
    store: options.store,
    cache: new PreparedResultCache(),
    quietMs: config.feed.prepareAhead.quietSeconds * 1000,
    isIdle,
    logger,
    onOutcome: (outcome) => options.metrics.preparedAheadEnded(outcome),
  });
}

export function createNodeWork(options: NodeWorkOptions): NodeWork {
  const { config, store, metrics, logger } = options;
  // Two volumes per study in flight: reusing their memory spares the page faults of fresh memory.
  const volumeBuffers = new VolumeBufferPool({ maxKept: 2 * config.worker.concurrency });
  const pipeline = studyPipeline(options, volumeBuffers);
  const feedRuns = config.feed.mode !== 'webhook';
  // Called from timers only, once the worker below exists.
  const prepareAhead = createPrepareAhead(options, pipeline, feedRuns, async () => worker.active === 0 && (await store.countByState()).queued === 0);
  const worker: Worker = new Worker({
    store,
    handler: createStudyJobHandler({
      pipeline,
      store,
      observer: { stage: (stage, ms) => metrics.stage(stage, ms), bytesRetrieved: (bytes) => metrics.addBytesRetrieved(bytes) },
      ...(prepareAhead ? { prepareAhead } : {}),
      superseded: { mode: config.results.superseded, deleter: options.orthanc },
    }),
    concurrency: config.worker.concurrency,
    owner: options.owner,
    // A PACS outage is waited out: no job fails for it, and none spends an attempt on it.
    dependency: {
      name: 'the PACS',
      check: async () => {
        await options.orthanc.system();
      },
    },
    dependencyProbe: { maxDelayMs: config.worker.pacsProbeMaxIntervalMs, firstDelayMs: Math.min(2000, config.worker.pacsProbeMaxIntervalMs) },
    leaseMs: config.worker.leaseMs,
    maxAttempts: config.worker.maxAttempts,
    retryBaseDelayMs: config.worker.retryBaseDelayMs,
    retryMaxDelayMs: config.worker.retryMaxDelayMs,
    logger,
    ...(options.workerPollIntervalMs ? { pollIntervalMs: options.workerPollIntervalMs } : {}),
    onAttemptEnd: (job, result, ms) => {
      metrics.attemptEnded(result, ms);
      options.onAttemptEnd?.(job.id, result, ms);
      prepareAhead?.wake();
    },
  });
  const intake = new StudyIntake({
    store,
    orthanc: options.orthanc,
    dicomWeb: options.dicomWeb,
    logger,
    onEnqueued: (job) => {
      if (job.orthancStudyId) prepareAhead?.studyStable(job.orthancStudyId);
      worker.wake();
    },
  });
  const feed = feedRuns
    ? new ChangeFeed({
        store,
        orthanc: options.orthanc,
        intake,
        pollSchedule: config.feed.pollSchedule,
        pageSize: config.feed.pageSize,
        logger,
        onEnqueued: () => worker.wake(),
        // Of the nodes sharing the job store, the one holding the feed lease polls.
        lease: { owner: options.owner, leaseMs: config.feed.leaseMs },
        ...(prepareAhead ? { activity: prepareAhead } : {}),
      })
    : undefined;
  const release = async (): Promise<void> => {
    await prepareAhead?.stop();
    volumeBuffers.release();
  };
  return { pipeline, worker, intake, ...(feed ? { feed } : {}), ...(prepareAhead ? { prepareAhead } : {}), release };
}
